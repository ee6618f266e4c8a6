import { useState } from 'react';
import Accordion from '@mui/material/Accordion';
import AccordionDetails from '@mui/material/AccordionDetails';
import AccordionSummary from '@mui/material/AccordionSummary';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import Paper from '@mui/material/Paper';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import Typography from '@mui/material/Typography';
import type { Entity } from '../../../src/catalog/index.js';
import { specString } from '../components/entity-refs';
import { ExpandMoreIcon } from '../components/icons';
import { summarizeApiDefinition, type ApiOperation, type ApiSummary } from './api-spec';
import { Contents, DetailSection, mono, ParameterTable } from './ApiSchema';
import { Channels } from './AsyncApiChannels';
import { CodeBlock } from './CodeBlock';

/** An API entity's definition: a readable summary for OpenAPI and AsyncAPI, the text for others, and the raw text. */
export function ApiDefinition({ entity }: { entity: Entity }) {
  const type = (specString(entity, 'type') ?? 'unknown').toLowerCase();
  const definition = specString(entity, 'definition') ?? '';
  const [tab, setTab] = useState<'summary' | 'raw'>('summary');

  if (definition === '') return <Alert severity="info">This API entity has no definition.</Alert>;
  // GraphQL SDL, protobuf and other formats read best as they are written.
  if (type !== 'openapi' && type !== 'asyncapi') return <CodeBlock text={definition} label={labelForType(type)} />;

  return (
    <Box>
      <Tabs value={tab} onChange={(_e, value: 'summary' | 'raw') => setTab(value)} aria-label="Definition views" sx={{ mb: 2, minHeight: 40 }}>
        <Tab value="summary" label="Summary" sx={{ minHeight: 40 }} />
        <Tab value="raw" label="Raw" sx={{ minHeight: 40 }} />
      </Tabs>
      {tab === 'raw' ? <CodeBlock text={definition} label={`${type} definition`} /> : <SummaryOrError definition={definition} />}
    </Box>
  );
}

function labelForType(type: string): string {
  if (type === 'graphql') return 'GraphQL schema';
  if (type === 'grpc') return 'Protocol buffers';
  return `${type} definition`;
}

function SummaryOrError({ definition }: { definition: string }) {
  let summary: ApiSummary;
  try {
    summary = summarizeApiDefinition(definition);
  } catch (error) {
    return (
      <Alert severity="warning">
        The definition could not be read: {error instanceof Error ? error.message : String(error)}. The Raw tab shows it as written.
      </Alert>
    );
  }
  return <ApiSummaryView summary={summary} />;
}

function ApiSummaryView({ summary }: { summary: ApiSummary }) {
  return (
    <Box sx={{ display: 'grid', gap: 2.5 }}>
      <Paper variant="outlined" sx={{ p: 2.5 }}>
        <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap' }}>
          <Typography variant="h6" component="h3">
            {summary.title ?? 'Untitled API'}
          </Typography>
          {summary.version !== undefined && <Chip size="small" label={`v${summary.version}`} />}
          <Chip size="small" variant="outlined" label={`${summary.format === 'openapi' ? 'OpenAPI' : 'AsyncAPI'} ${summary.specVersion}`} />
        </Box>
        {summary.description !== undefined && (
          <Typography variant="body2" color="text.secondary" sx={{ mt: 1, whiteSpace: 'pre-wrap' }}>
            {summary.description.trim()}
          </Typography>
        )}
        {summary.servers.length > 0 && (
          <Box component="section" aria-label="Servers" sx={{ mt: 2 }}>
            <Typography variant="subtitle2" component="h4" sx={{ mb: 0.5 }}>
              Servers
            </Typography>
            <Box component="ul" sx={{ m: 0, pl: 2.5 }}>
              {summary.servers.map((server) => (
                <li key={`${server.name ?? ''}${server.url}`}>
                  <Typography variant="body2" component="span" sx={{ fontFamily: mono, fontSize: 13 }}>
                    {server.url}
                  </Typography>
                  {server.name !== undefined && <Chip size="small" label={server.name} sx={{ ml: 1, height: 20 }} />}
                  {server.protocol !== undefined && <Chip size="small" variant="outlined" label={server.protocol} sx={{ ml: 0.5, height: 20 }} />}
                  {server.description !== undefined && (
                    <Typography variant="body2" color="text.secondary" component="span" sx={{ ml: 1 }}>
                      {server.description}
                    </Typography>
                  )}
                </li>
              ))}
            </Box>
          </Box>
        )}
      </Paper>
      {summary.format === 'openapi' ? <Operations operations={summary.operations} /> : <Channels channels={summary.channels} />}
    </Box>
  );
}

const methodColor: Record<string, string> = {
  GET: '#0f766e',
  POST: '#3454d1',
  PUT: '#b45309',
  PATCH: '#7c3aed',
  DELETE: '#b91c1c',
};

function MethodChip({ method }: { method: string }) {
  const color = methodColor[method] ?? '#4b5563';
  return (
    <Box
      component="span"
      sx={{ display: 'inline-block', minWidth: 64, textAlign: 'center', px: 1, py: 0.25, borderRadius: 1, bgcolor: color, color: '#fff', fontSize: 12, fontWeight: 700, fontFamily: mono }}
    >
      {method}
    </Box>
  );
}

function Operations({ operations }: { operations: ApiOperation[] }) {
  if (operations.length === 0) return <Alert severity="info">The definition declares no paths.</Alert>;
  return (
    <Box component="section" aria-label="Paths">
      <Typography variant="subtitle1" component="h3" sx={{ fontWeight: 600, mb: 1 }}>
        Paths ({operations.length} operations)
      </Typography>
      {operations.map((op) => (
        <Accordion key={`${op.method} ${op.path}`} disableGutters variant="outlined" sx={{ '&:before': { display: 'none' }, mb: 1, borderRadius: 1 }}>
          <AccordionSummary
            expandIcon={<ExpandMoreIcon />}
            aria-label={[op.method, op.path, op.summary ?? op.operationId].filter(Boolean).join(' ')}
            sx={{ '& .MuiAccordionSummary-content': { alignItems: 'center', gap: 1.5, minWidth: 0 } }}
          >
            <MethodChip method={op.method} />
            <Typography component="span" sx={{ fontFamily: mono, fontSize: 14, fontWeight: 600, textDecoration: op.deprecated ? 'line-through' : undefined }}>
              {op.path}
            </Typography>
            <Typography component="span" variant="body2" color="text.secondary" noWrap>
              {op.summary ?? op.operationId ?? ''}
            </Typography>
          </AccordionSummary>
          <AccordionDetails sx={{ display: 'grid', gap: 2, borderTop: 1, borderColor: 'divider', pt: 2 }}>
            <OperationDetails op={op} />
          </AccordionDetails>
        </Accordion>
      ))}
    </Box>
  );
}

function OperationDetails({ op }: { op: ApiOperation }) {
  return (
    <>
      {(op.description !== undefined || op.operationId !== undefined || op.tags.length > 0) && (
        <Box>
          {op.description !== undefined && (
            <Typography variant="body2" sx={{ whiteSpace: 'pre-wrap', mb: 1 }}>
              {op.description.trim()}
            </Typography>
          )}
          <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'center' }}>
            {op.operationId !== undefined && (
              <Typography variant="caption" color="text.secondary">
                operationId <code>{op.operationId}</code>
              </Typography>
            )}
            {op.tags.map((tag) => (
              <Chip key={tag} size="small" label={tag} sx={{ height: 20 }} />
            ))}
            {op.deprecated && <Chip size="small" color="warning" label="deprecated" sx={{ height: 20 }} />}
          </Box>
        </Box>
      )}
      {op.parameters.length > 0 && (
        <DetailSection title="Parameters">
          <ParameterTable parameters={op.parameters} />
        </DetailSection>
      )}
      {op.requestBody !== undefined && (
        <DetailSection title={`Request body${op.requestBody.required ? ' (required)' : ''}`}>
          {op.requestBody.description !== undefined && (
            <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
              {op.requestBody.description}
            </Typography>
          )}
          <Contents contents={op.requestBody.contents} />
        </DetailSection>
      )}
      {op.responses.length > 0 && (
        <DetailSection title="Responses">
          <Box sx={{ display: 'grid', gap: 1.5 }}>
            {op.responses.map((response) => (
              <Box key={response.status}>
                <Box sx={{ display: 'flex', gap: 1, alignItems: 'center' }}>
                  <Chip size="small" label={response.status} color={statusColor(response.status)} sx={{ fontFamily: mono, fontWeight: 700, height: 22 }} />
                  <Typography variant="body2">{response.description ?? ''}</Typography>
                </Box>
                {response.contents.length > 0 && (
                  <Box sx={{ mt: 1, ml: 1 }}>
                    <Contents contents={response.contents} />
                  </Box>
                )}
              </Box>
            ))}
          </Box>
        </DetailSection>
      )}
    </>
  );
}

function statusColor(status: string): 'success' | 'warning' | 'error' | 'default' {
  if (status.startsWith('2')) return 'success';
  if (status.startsWith('4')) return 'warning';
  if (status.startsWith('5')) return 'error';
  return 'default';
}

