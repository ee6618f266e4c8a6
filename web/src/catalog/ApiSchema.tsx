import type { ReactNode } from 'react';
import Box from '@mui/material/Box';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import type { SchemaNode } from './api-schema';
import type { ApiContent, ApiParameter } from './api-spec';

/** The building blocks of the definition viewer: sections, parameter tables and schemas as trees. */

export const mono = '"JetBrains Mono", "SFMono-Regular", Menlo, Consolas, monospace';

export function DetailSection({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Box component="section" aria-label={title}>
      <Typography variant="overline" component="h4" color="text.secondary" sx={{ fontWeight: 700, lineHeight: 2 }}>
        {title}
      </Typography>
      {children}
    </Box>
  );
}

export function ParameterTable({ parameters }: { parameters: ApiParameter[] }) {
  return (
    <Table size="small" aria-label="Parameters">
      <TableHead>
        <TableRow>
          <TableCell>Name</TableCell>
          <TableCell>In</TableCell>
          <TableCell>Type</TableCell>
          <TableCell>Description</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {parameters.map((p) => (
          <TableRow key={`${p.in}:${p.name}`}>
            <TableCell sx={{ fontFamily: mono, fontSize: 13, whiteSpace: 'nowrap' }}>
              {p.name}
              {p.required && <RequiredMark />}
            </TableCell>
            <TableCell>{p.in}</TableCell>
            <TableCell sx={{ fontFamily: mono, fontSize: 13 }}>{p.schema === undefined ? '—' : typeLabel(p.schema)}</TableCell>
            <TableCell>
              <Typography variant="body2" color="text.secondary">
                {p.description ?? p.schema?.description ?? ''}
              </Typography>
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

function RequiredMark() {
  return (
    <Box component="span" title="required" sx={{ color: 'error.main', ml: 0.25 }}>
      *
    </Box>
  );
}

export function Contents({ contents }: { contents: ApiContent[] }) {
  return (
    <Box sx={{ display: 'grid', gap: 1 }}>
      {contents.map((content) => (
        <Box key={content.mediaType}>
          <Typography variant="caption" color="text.secondary" sx={{ fontFamily: mono }}>
            {content.mediaType}
          </Typography>
          {content.schema !== undefined && <SchemaTree node={content.schema} />}
        </Box>
      ))}
    </Box>
  );
}

export function typeLabel(node: SchemaNode): string {
  if (node.type === 'array' && node.items !== undefined) return `${typeLabel(node.items)}[]`;
  const base = node.refName ?? node.type;
  return node.format !== undefined ? `${base} (${node.format})` : base;
}

/** A schema as an indented list of properties with their types, requiredness, constraints and descriptions. */
export function SchemaTree({ node }: { node: SchemaNode }) {
  return (
    <Box sx={{ border: 1, borderColor: 'divider', borderRadius: 1, bgcolor: '#fbfcfe', p: 1.25, mt: 0.5, fontSize: 13 }}>
      <SchemaLine node={node} />
    </Box>
  );
}

function SchemaLine({ node, name, required }: { node: SchemaNode; name?: string; required?: boolean }) {
  const inner = node.type === 'array' && node.items !== undefined ? node.items : node;
  const children = inner.properties ?? [];
  const variants = inner.variants;
  return (
    <Box>
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'baseline' }}>
        {name !== undefined && (
          <Box component="span" sx={{ fontFamily: mono, fontWeight: 600, color: '#111827' }}>
            {name}
            {required && <RequiredMark />}
          </Box>
        )}
        <Box component="span" sx={{ fontFamily: mono, color: '#7c3aed' }}>
          {typeLabel(node)}
        </Box>
        {inner.enum !== undefined && (
          <Box component="span" sx={{ fontFamily: mono, color: '#0f766e' }}>
            {inner.enum.join(' | ')}
          </Box>
        )}
        {inner.notes.map((note) => (
          <Box key={note} component="span" sx={{ color: 'text.secondary', fontSize: 12, bgcolor: '#eef1f8', px: 0.75, borderRadius: 0.5 }}>
            {note}
          </Box>
        ))}
        {node.description !== undefined && (
          <Box component="span" sx={{ color: 'text.secondary' }}>
            {node.description}
          </Box>
        )}
        {inner.recursive && (
          <Box component="span" sx={{ color: 'text.secondary', fontStyle: 'italic' }}>
            (see above)
          </Box>
        )}
      </Box>
      {(children.length > 0 || variants !== undefined) && (
        <Box sx={{ pl: 2, ml: 0.5, mt: 0.5, borderLeft: 2, borderColor: '#e3e7ef', display: 'grid', gap: 0.5 }}>
          {children.map((child) => (
            <SchemaLine key={child.name} node={child.schema} name={child.name} required={child.required} />
          ))}
          {variants?.nodes.map((variant, i) => (
            <SchemaLine key={i} node={variant} name={`${variants.kind}[${i}]`} />
          ))}
        </Box>
      )}
    </Box>
  );
}
