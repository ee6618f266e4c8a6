import { useState, type MouseEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import type { Entity } from '../../../src/catalog/index.js';
import { entityRoute, entityTitle, humanizeEntityRef, parseEntityRef } from '../components/entity-refs';
import { QueryState } from '../components/QueryState';
import { useEntitiesByRefs } from './api';
import { labelHeight, labelWidth, layoutRelationsGraph, maxLabelChars, type GraphGroupInput } from './graph-layout';
import { groupRelations, relatedRefs, relationColor } from './relations';

/** The entity in the centre and every entity it relates to around it, grouped and coloured by relation type. */
export function RelationsGraph({ entity }: { entity: Entity }) {
  const related = useEntitiesByRefs(relatedRefs(entity));
  const groups = groupRelations(entity);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());

  if (groups.length === 0) {
    return (
      <Paper variant="outlined" sx={{ p: 4, textAlign: 'center' }}>
        <Typography color="text.secondary">{entityTitle(entity)} has no relations to other entities.</Typography>
      </Paper>
    );
  }

  const toggle = (type: string) =>
    setHidden((current) => {
      const next = new Set(current);
      if (next.has(type)) next.delete(type);
      else next.add(type);
      return next;
    });

  return (
    <Paper variant="outlined" sx={{ p: 2 }}>
      <Box
        role="group"
        aria-label="Relation types"
        sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'center', mb: 1.5 }}
      >
        <Typography variant="body2" color="text.secondary" sx={{ mr: 0.5 }}>
          Show:
        </Typography>
        {groups.map((group) => {
          const shown = !hidden.has(group.type);
          const color = relationColor(group.type);
          return (
            <Chip
              key={group.type}
              size="small"
              clickable
              aria-pressed={shown}
              onClick={() => toggle(group.type)}
              label={`${group.label} (${group.targetRefs.length})`}
              variant="outlined"
              icon={<Box component="span" sx={{ width: 10, height: 10, borderRadius: '50%', bgcolor: shown ? color : 'transparent', border: `2px solid ${color}`, ml: '8px !important' }} />}
              sx={{
                bgcolor: shown ? `${color}14` : 'transparent',
                color: shown ? color : 'text.secondary',
                borderColor: shown ? `${color}66` : 'divider',
                fontWeight: 600,
                textDecoration: shown ? undefined : 'line-through',
              }}
            />
          );
        })}
      </Box>
      <QueryState query={related} label="related entities">
        {(byRef) => (
          <GraphDrawing
            entity={entity}
            groups={groups
              .filter((g) => !hidden.has(g.type))
              .map((g) => ({
                type: g.type,
                label: g.label,
                color: relationColor(g.type),
                nodes: g.targetRefs.map((ref) => {
                  const target = byRef.get(ref);
                  return {
                    ref,
                    label: target ? entityTitle(target) : parseEntityRef(ref).name,
                    kind: target?.kind ?? parseEntityRef(ref).kind,
                  };
                }),
              }))}
          />
        )}
      </QueryState>
    </Paper>
  );
}

function GraphDrawing({ entity, groups }: { entity: Entity; groups: GraphGroupInput[] }) {
  const navigate = useNavigate();
  const title = entityTitle(entity);
  const layout = layoutRelationsGraph({ ref: '', label: title, kind: entity.kind }, groups);
  const open = (event: MouseEvent, ref: string) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    void navigate(entityRoute(ref));
  };
  const colors = [...new Set(groups.map((g) => g.color))];

  return (
    <Box sx={{ overflowX: 'auto' }}>
      <Box
        component="svg"
        role="group"
        aria-label={`Relations graph of ${title}`}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        // Natural size at most (small graphs are not blown up), shrunk to fit, scrolled below 900 units.
        sx={{ display: 'block', width: '100%', maxWidth: layout.width, minWidth: Math.min(layout.width, 900), height: 'auto', mx: 'auto' }}
        style={{ aspectRatio: `${layout.width} / ${layout.height}` }}
      >
        <defs>
          {colors.map((color) => (
            <marker key={color} id={arrowId(color)} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" fill={color} />
            </marker>
          ))}
        </defs>
        <g aria-hidden="true">
          {layout.groups.map((group) => (
            <g key={group.type}>
              <rect x={group.x} y={group.y} width={group.width} height={group.height} rx={10} fill={`${group.color}0d`} stroke={group.color} strokeOpacity={0.35} />
              <text x={group.x + 12} y={group.y + 22} fontSize={12} fontWeight={700} fill={group.color}>
                {`${group.label} · ${group.count}`}
              </text>
            </g>
          ))}
          {layout.edges.map((edge, i) => (
            <path
              key={i}
              d={edge.d}
              fill="none"
              stroke={edge.color}
              strokeOpacity={0.55}
              strokeWidth={1.5}
              markerEnd={`url(#${arrowId(edge.color)})`}
            />
          ))}
          {layout.edges.map((edge, i) =>
            edge.label === undefined ? null : <EdgeLabel key={`label-${i}`} {...edge.label} color={edge.color} />,
          )}
        </g>
        <g>
          <rect
            x={layout.center.x}
            y={layout.center.y}
            width={layout.center.width}
            height={layout.center.height}
            rx={10}
            fill="#3454d1"
          />
          <text x={layout.center.x + layout.center.width / 2} y={layout.center.y + 22} textAnchor="middle" fontSize={11} fill="#dbe3ff">
            {layout.center.kind}
          </text>
          <text
            x={layout.center.x + layout.center.width / 2}
            y={layout.center.y + 41}
            textAnchor="middle"
            fontSize={14}
            fontWeight={700}
            fill="#ffffff"
          >
            {truncate(layout.center.label, 26)}
          </text>
        </g>
        {layout.nodes.map((node) => (
          <a
            key={`${node.type}-${node.ref}`}
            href={entityRoute(node.ref)}
            aria-label={`${node.label} (${node.kind.toLowerCase()}, ${humanizeEntityRef(node.ref)})`}
            onClick={(event) => open(event, node.ref)}
            className="graph-node"
          >
            <title>{`${node.label}\n${humanizeEntityRef(node.ref)}`}</title>
            <rect x={node.x} y={node.y} width={node.width} height={node.height} rx={8} fill="#ffffff" stroke={node.color} strokeWidth={1.5} />
            <rect x={node.x} y={node.y} width={5} height={node.height} rx={2} fill={node.color} />
            <text x={node.x + 14} y={node.y + 18} fontSize={10.5} fill="#6b7280">
              {node.kind.toLowerCase()}
            </text>
            <text x={node.x + 14} y={node.y + 35} fontSize={13} fontWeight={600} fill="#111827">
              {truncate(node.label, maxLabelChars)}
            </text>
          </a>
        ))}
      </Box>
      <Box
        component="style"
        // Focus and hover for the node links; SVG has no MUI styling hooks.
        dangerouslySetInnerHTML={{
          __html:
            '.graph-node{cursor:pointer;outline:none}.graph-node:hover rect:first-of-type,.graph-node:focus-visible rect:first-of-type{fill:#eef2fd;stroke-width:2.5}',
        }}
      />
    </Box>
  );
}

function EdgeLabel({ text, x, y, color }: { text: string; x: number; y: number; color: string }) {
  const width = labelWidth(text);
  return (
    <g>
      <rect x={x - width / 2} y={y - labelHeight / 2} width={width} height={labelHeight} rx={labelHeight / 2} fill="#ffffff" stroke={color} strokeOpacity={0.6} />
      <text x={x} y={y + 4} textAnchor="middle" fontSize={11} fontWeight={600} fill={color}>
        {text}
      </text>
    </g>
  );
}

function arrowId(color: string): string {
  return `arrow-${color.replace('#', '')}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
