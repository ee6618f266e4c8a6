import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TablePagination from '@mui/material/TablePagination';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import type { Entity } from '../../../src/catalog/index.js';
import { entityNameOf, entityRoute, entityTitle, relationTargets, specString } from '../components/entity-refs';
import { AddCircleIcon } from '../components/icons';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useEntityList, type EntityQueryPage } from './api';
import { FilterBar } from './CatalogFilters';
import { EntityRefLink, LifecycleChip, TagList } from './EntityChips';
import { buildFilter, hasFacetSelection, pageSizes, readListState, writeListState, type CatalogListState } from './filters';

/** Every entity of the catalog, filtered by kind and facets, searched by text, paged by the server. */
export function CatalogPage() {
  const [params, setParams] = useSearchParams();
  const state = readListState(params);
  const filter = buildFilter(state);
  const list = useEntityList({ filter, text: state.text, limit: state.limit, cursor: state.cursor });

  /** A new filter or search starts again at the first page. */
  const update = (change: Partial<CatalogListState>, options: { replace?: boolean } = {}) =>
    setParams(writeListState({ ...state, cursor: undefined, page: 0, ...change }), { replace: options.replace });

  return (
    <>
      <PageHeader
        title="Catalog"
        subtitle="The services, websites, libraries, APIs, systems and teams of your organisation."
        actions={
          <Button variant="contained" startIcon={<AddCircleIcon />} component={RouterLink} to="/catalog/register">
            Register existing component
          </Button>
        }
      />
      <FilterBar state={state} update={update} />
      <QueryState query={list} label="entities">
        {(page) => (
          <EntityTable
            page={page}
            state={state}
            showKind={state.kind === ''}
            loading={list.isPlaceholderData}
            onPage={(cursor, pageIndex) => setParams(writeListState({ ...state, cursor, page: pageIndex }))}
            onLimit={(limit) => update({ limit })}
          />
        )}
      </QueryState>
    </>
  );
}

function EntityTable({
  page,
  state,
  showKind,
  loading,
  onPage,
  onLimit,
}: {
  page: EntityQueryPage;
  state: CatalogListState;
  showKind: boolean;
  loading: boolean;
  onPage: (cursor: string | undefined, page: number) => void;
  onLimit: (limit: number) => void;
}) {
  const columns = showKind ? 8 : 7;
  return (
    <Paper variant="outlined" sx={{ overflow: 'hidden', opacity: loading ? 0.6 : 1, transition: 'opacity 120ms' }}>
      <TableContainer>
        <Table aria-label="Entities" size="small" aria-busy={loading}>
          <TableHead>
            <TableRow>
              <TableCell>Name</TableCell>
              {showKind && <TableCell>Kind</TableCell>}
              <TableCell>System</TableCell>
              <TableCell>Owner</TableCell>
              <TableCell>Type</TableCell>
              <TableCell>Lifecycle</TableCell>
              <TableCell>Description</TableCell>
              <TableCell>Tags</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {page.items.length === 0 && (
              <TableRow>
                <TableCell colSpan={columns}>
                  <Typography variant="body2" color="text.secondary" sx={{ py: 4, textAlign: 'center' }}>
                    {state.text !== '' || hasFacetSelection(state)
                      ? 'No entities match these filters.'
                      : 'The catalog has no entities of this kind yet. Register a catalog-info.yaml to add some.'}
                  </Typography>
                </TableCell>
              </TableRow>
            )}
            {page.items.map((entity) => (
              <EntityRow key={entity.metadata.uid ?? entity.metadata.name} entity={entity} showKind={showKind} />
            ))}
          </TableBody>
        </Table>
      </TableContainer>
      <TablePagination
        component="div"
        count={page.totalItems}
        page={Math.min(state.page, Math.max(0, Math.ceil(page.totalItems / state.limit) - 1))}
        rowsPerPage={state.limit}
        rowsPerPageOptions={[...pageSizes]}
        labelRowsPerPage="Per page"
        onRowsPerPageChange={(event) => onLimit(Number(event.target.value))}
        onPageChange={(_event, next) => {
          if (next > state.page && page.pageInfo.nextCursor !== undefined) onPage(page.pageInfo.nextCursor, next);
          else if (next < state.page) onPage(next === 0 ? undefined : page.pageInfo.prevCursor, next);
        }}
        slotProps={{
          actions: {
            previousButton: { disabled: state.page === 0 },
            nextButton: { disabled: page.pageInfo.nextCursor === undefined },
          },
        }}
        sx={{ borderTop: 1, borderColor: 'divider' }}
      />
    </Paper>
  );
}

function EntityRow({ entity, showKind }: { entity: Entity; showKind: boolean }) {
  const title = entityTitle(entity);
  const owner = relationTargets(entity, 'ownedBy')[0];
  const system = relationTargets(entity, 'partOf')[0];
  return (
    <TableRow hover>
      <TableCell sx={{ minWidth: 170 }}>
        <Link component={RouterLink} to={entityRoute(entityNameOf(entity))} underline="hover" sx={{ fontWeight: 600 }}>
          {title}
        </Link>
        {title !== entity.metadata.name && (
          <Typography variant="caption" color="text.secondary" component="div">
            {entity.metadata.name}
          </Typography>
        )}
      </TableCell>
      {showKind && <TableCell>{entity.kind}</TableCell>}
      <TableCell sx={{ whiteSpace: 'nowrap' }}>
        <EntityRefLink entityRef={system} defaultKind="system" />
      </TableCell>
      <TableCell sx={{ whiteSpace: 'nowrap' }}>
        <EntityRefLink entityRef={owner} defaultKind="group" />
      </TableCell>
      <TableCell>{specString(entity, 'type') ?? '—'}</TableCell>
      <TableCell>
        <LifecycleChip lifecycle={specString(entity, 'lifecycle')} />
      </TableCell>
      <TableCell sx={{ minWidth: 220, maxWidth: 360 }}>
        <Typography
          variant="body2"
          color="text.secondary"
          title={entity.metadata.description}
          sx={{ display: '-webkit-box', WebkitLineClamp: 2, WebkitBoxOrient: 'vertical', overflow: 'hidden' }}
        >
          {entity.metadata.description ?? ''}
        </Typography>
      </TableCell>
      <TableCell sx={{ minWidth: 150 }}>
        <TagList tags={entity.metadata.tags} max={2} />
      </TableCell>
    </TableRow>
  );
}

