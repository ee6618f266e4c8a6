import { Link as RouterLink } from 'react-router-dom';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import type { Entity } from '../../../src/catalog/index.js';
import { entityRoute, entityTitle, parseEntityRef, relationTargets, specString } from '../components/entity-refs';
import { QueryState } from '../components/QueryState';
import { useEntitiesByRefs } from './api';
import { EntityRefLink, LifecycleChip } from './EntityChips';

const roles = [
  { type: 'providesApi', label: 'Provides', color: 'primary' },
  { type: 'consumesApi', label: 'Consumes', color: 'warning' },
  { type: 'hasPart', label: 'Part of this system', color: 'default' },
] as const;

/** The APIs a component provides and consumes (a system: the APIs that are part of it), linking to their definitions. */
export function EntityApis({ entity }: { entity: Entity }) {
  const rows = roles.flatMap((role) =>
    relationTargets(entity, role.type)
      .filter((ref) => parseEntityRef(ref).kind.toLowerCase() === 'api')
      .map((ref) => ({ ref, role })),
  );
  const apis = useEntitiesByRefs(rows.map((row) => row.ref));

  if (rows.length === 0) {
    return (
      <Paper variant="outlined" sx={{ p: 4, textAlign: 'center' }}>
        <Typography color="text.secondary">{entityTitle(entity)} neither provides nor consumes an API registered in the catalog.</Typography>
      </Paper>
    );
  }
  return (
    <QueryState query={apis} label="APIs">
      {(byRef) => (
        <TableContainer component={Paper} variant="outlined">
          <Table size="small" aria-label="APIs">
            <TableHead>
              <TableRow>
                <TableCell>API</TableCell>
                <TableCell>Relation</TableCell>
                <TableCell>Type</TableCell>
                <TableCell>Owner</TableCell>
                <TableCell>Lifecycle</TableCell>
                <TableCell>Description</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {rows.map(({ ref, role }) => {
                const api = byRef.get(ref) ?? null;
                return (
                  <TableRow key={`${role.type}-${ref}`} hover>
                    <TableCell sx={{ whiteSpace: 'nowrap' }}>
                      <Link component={RouterLink} to={`${entityRoute(ref)}/api`} underline="hover" sx={{ fontWeight: 600 }}>
                        {api === null ? parseEntityRef(ref).name : entityTitle(api)}
                      </Link>
                    </TableCell>
                    <TableCell>
                      <Chip size="small" variant="outlined" color={role.color} label={role.label} />
                    </TableCell>
                    <TableCell>{api === null ? '—' : (specString(api, 'type') ?? '—')}</TableCell>
                    <TableCell sx={{ whiteSpace: 'nowrap' }}>
                      <EntityRefLink entityRef={api === null ? undefined : relationTargets(api, 'ownedBy')[0]} defaultKind="group" />
                    </TableCell>
                    <TableCell>
                      <LifecycleChip lifecycle={api === null ? undefined : specString(api, 'lifecycle')} />
                    </TableCell>
                    <TableCell>
                      <Typography variant="body2" color="text.secondary">
                        {api === null ? 'Not in the catalog' : (api.metadata.description ?? '')}
                      </Typography>
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        </TableContainer>
      )}
    </QueryState>
  );
}
