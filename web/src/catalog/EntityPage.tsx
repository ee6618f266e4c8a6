import { lazy, Suspense, useState, type ReactNode } from 'react';
import { Link as RouterLink, useParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Breadcrumbs from '@mui/material/Breadcrumbs';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Collapse from '@mui/material/Collapse';
import Link from '@mui/material/Link';
import Snackbar from '@mui/material/Snackbar';
import Tab from '@mui/material/Tab';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableRow from '@mui/material/TableRow';
import Tabs from '@mui/material/Tabs';
import Typography from '@mui/material/Typography';
import { stringify as toYaml } from 'yaml';
import type { Entity } from '../../../src/catalog/index.js';
import { isApiError } from '../app/http';
import { entityNameOf, entityRoute, entityTitle, humanizeEntityRef, relationTargets, specString, type EntityName } from '../components/entity-refs';
import { CodeIcon, ExpandMoreIcon, LinkIcon, RefreshIcon } from '../components/icons';
import { Loading, QueryState } from '../components/QueryState';
import { DocsViewer } from '../docs/DocsViewer';
import { hostedRepositoryOf } from '../pipelines/run-view';
import { useEntity, useRefreshEntity } from './api';
import { ApiDefinition } from './ApiDefinition';
import { CodeBlock } from './CodeBlock';
import { EntityApis } from './EntityApis';
import { EntityRefLink, LifecycleChip, TagList } from './EntityChips';
import { EntityOverview } from './EntityOverview';
import { RelationsGraph } from './RelationsGraph';

const techdocsAnnotation = 'backstage.io/techdocs-ref';
const sourceAnnotation = 'backstage.io/source-location';

/** Kinds whose spec requires an owner: a missing one is worth showing as "—". */
const ownedKinds = new Set(['component', 'api', 'resource', 'system', 'domain', 'template']);

type TabId = 'overview' | 'relations' | 'api' | 'docs' | 'ci' | 'security' | 'yaml';

// The pipeline pages' code loads only when a CI/CD tab is opened.
const EntityRuns = lazy(() => import('../pipelines/EntityRuns'));
const EntityFindings = lazy(() => import('../security/EntityFindings'));

/** `/catalog/:namespace/:kind/:name/*`: one entity, its header and tabs; each tab has its own URL. */
export function EntityPage() {
  const params = useParams();
  const name: EntityName = { namespace: params.namespace ?? 'default', kind: params.kind ?? '', name: params.name ?? '' };
  const entity = useEntity(name);

  if (entity.data === undefined && entity.error !== null && isApiError(entity.error, 404)) {
    return (
      <Alert severity="warning" action={<Button color="inherit" size="small" component={RouterLink} to="/catalog">Back to the catalog</Button>}>
        <AlertTitle>Entity not found</AlertTitle>
        {entity.error.message}
      </Alert>
    );
  }
  return (
    <QueryState query={entity} label="entity">
      {(data) => <EntityView entity={data} rest={params['*'] ?? ''} />}
    </QueryState>
  );
}

function tabsOf(entity: Entity): { id: TabId; label: string }[] {
  const kind = entity.kind.toLowerCase();
  const hasApis = kind === 'api' || ['providesApi', 'consumesApi'].some((type) => relationTargets(entity, type).length > 0) || kind === 'component';
  const hasDocs = entity.metadata.annotations?.[techdocsAnnotation] !== undefined;
  return [
    { id: 'overview', label: 'Overview' },
    { id: 'relations', label: 'Relations' },
    ...(hasApis ? [{ id: 'api' as const, label: kind === 'api' ? 'Definition' : 'APIs' }] : []),
    ...(hasDocs ? [{ id: 'docs' as const, label: 'Docs' }] : []),
    ...(kind === 'component' && hostedRepositoryOf(entity.metadata.annotations) !== undefined ? [{ id: 'ci' as const, label: 'CI/CD' }, { id: 'security' as const, label: 'Security' }] : []),
    { id: 'yaml', label: 'YAML' },
  ];
}

function EntityView({ entity, rest }: { entity: Entity; rest: string }) {
  const base = entityRoute(entityNameOf(entity));
  const tabs = tabsOf(entity);
  const [first, ...remaining] = rest.split('/');
  const tab: TabId = tabs.find((t) => t.id === first && first !== 'overview')?.id ?? 'overview';

  return (
    <>
      <EntityHeader entity={entity} />
      <Tabs value={tab} aria-label="Entity views" sx={{ borderBottom: 1, borderColor: 'divider', mb: 3 }} variant="scrollable" scrollButtons="auto">
        {tabs.map((t) => (
          <Tab key={t.id} value={t.id} label={t.label} component={RouterLink} to={t.id === 'overview' ? base : `${base}/${t.id}`} />
        ))}
      </Tabs>
      {tab === 'overview' && <EntityOverview entity={entity} />}
      {tab === 'relations' && <RelationsGraph entity={entity} />}
      {tab === 'api' && (entity.kind.toLowerCase() === 'api' ? <ApiDefinition entity={entity} /> : <EntityApis entity={entity} />)}
      {tab === 'docs' && <DocsViewer entity={entityNameOf(entity)} base={`${base}/docs`} route={remaining.join('/')} />}
      {tab === 'ci' && <Suspense fallback={<Loading label="Loading runs" />}><EntityRuns repository={hostedRepositoryOf(entity.metadata.annotations)!} /></Suspense>}
      {tab === 'security' && <Suspense fallback={<Loading label="Loading findings" />}><EntityFindings repository={hostedRepositoryOf(entity.metadata.annotations)!} /></Suspense>}
      {tab === 'yaml' && <CodeBlock text={toYaml(withoutRelations(entity))} label="Entity YAML" maxHeight={900} />}
    </>
  );
}

/** The YAML tab shows what was written (and what the catalog added), not the relations it computed. */
function withoutRelations(entity: Entity): Omit<Entity, 'relations'> {
  const { relations: _relations, ...rest } = entity;
  return rest;
}

/** A `url:` source location as a link target; file locations (`file:/…`) have no page to open. */
export function sourceUrl(entity: Entity): string | undefined {
  const location = entity.metadata.annotations?.[sourceAnnotation];
  if (location === undefined || !location.startsWith('url:')) return undefined;
  const url = location.slice('url:'.length);
  return /^https?:\/\//i.test(url) ? url : undefined;
}

function EntityHeader({ entity }: { entity: Entity }) {
  const name = entityNameOf(entity);
  const refresh = useRefreshEntity(name);
  const [showAnnotations, setShowAnnotations] = useState(false);
  const title = entityTitle(entity);
  const type = specString(entity, 'type');
  const owner = relationTargets(entity, 'ownedBy')[0];
  const system = relationTargets(entity, 'partOf')[0];
  const source = sourceUrl(entity);
  const annotations = Object.entries(entity.metadata.annotations ?? {});
  const problems = (entity.status?.items ?? []).filter((item) => item.level === 'error' || item.level === 'warning');
  const links = entity.metadata.links ?? [];
  const showOwner = owner !== undefined || ownedKinds.has(entity.kind.toLowerCase());
  const hasFacts = showOwner || system !== undefined || specString(entity, 'lifecycle') !== undefined || (entity.metadata.tags ?? []).length > 0;

  return (
    <Box component="header" sx={{ mb: 2 }}>
      <Breadcrumbs aria-label="Breadcrumb" sx={{ mb: 1 }}>
        <Link component={RouterLink} to="/catalog" underline="hover" color="text.secondary" variant="body2">
          Catalog
        </Link>
        <Link component={RouterLink} to={`/catalog?kind=${encodeURIComponent(entity.kind.toLowerCase())}`} underline="hover" color="text.secondary" variant="body2">
          {entity.kind}
        </Link>
        <Typography variant="body2" color="text.secondary">
          {name.namespace === 'default' ? name.name : `${name.namespace}/${name.name}`}
        </Typography>
      </Breadcrumbs>

      <Box sx={{ display: 'flex', alignItems: 'flex-start', gap: 2, flexWrap: 'wrap' }}>
        <Box sx={{ flex: 1, minWidth: 280 }}>
          <Box sx={{ display: 'flex', alignItems: 'center', gap: 1.25, flexWrap: 'wrap' }}>
            <Typography variant="h4" component="h1">
              {title}
            </Typography>
            <Chip size="small" color="primary" label={type === undefined ? entity.kind : `${entity.kind} · ${type}`} />
          </Box>
          {title !== entity.metadata.name && (
            <Typography variant="body2" color="text.secondary" sx={{ fontFamily: 'monospace', mt: 0.25 }}>
              {entity.metadata.name}
            </Typography>
          )}
          {entity.metadata.description !== undefined && (
            <Typography color="text.secondary" sx={{ mt: 1, maxWidth: 820 }}>
              {entity.metadata.description}
            </Typography>
          )}
        </Box>
        <Box sx={{ display: 'flex', gap: 1 }}>
          {source !== undefined && (
            <Button variant="outlined" startIcon={<CodeIcon />} href={source} target="_blank" rel="noopener noreferrer">
              View source
            </Button>
          )}
          <Button variant="outlined" startIcon={<RefreshIcon />} loading={refresh.isPending} onClick={() => refresh.mutate()}>
            Refresh
          </Button>
        </Box>
      </Box>

      {hasFacts && (
        <Box component="dl" sx={{ display: 'flex', flexWrap: 'wrap', columnGap: 4, rowGap: 1, alignItems: 'center', m: 0, mt: 2 }}>
          {showOwner && (
            <HeaderFact label="Owner">
              {owner === undefined ? '—' : <Chip size="small" variant="outlined" clickable component={RouterLink} to={entityRoute(owner)} label={humanizeEntityRef(owner, { defaultKind: 'group' })} />}
            </HeaderFact>
          )}
          {system !== undefined && (
            <HeaderFact label={system.startsWith('domain:') ? 'Domain' : 'System'}>
              <EntityRefLink entityRef={system} defaultKind={system.startsWith('domain:') ? 'domain' : 'system'} />
            </HeaderFact>
          )}
          {specString(entity, 'lifecycle') !== undefined && (
            <HeaderFact label="Lifecycle">
              <LifecycleChip lifecycle={specString(entity, 'lifecycle')} />
            </HeaderFact>
          )}
          {(entity.metadata.tags ?? []).length > 0 && (
            <HeaderFact label="Tags">
              <TagList tags={entity.metadata.tags} max={8} />
            </HeaderFact>
          )}
        </Box>
      )}

      {(links.length > 0 || annotations.length > 0) && (
        <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'center', mt: 1.5 }}>
          {links.length > 0 && (
            <Box component="ul" aria-label="Links" sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', listStyle: 'none', p: 0, m: 0 }}>
              {links.map((link) => (
                <li key={link.url}>
                  <Button size="small" startIcon={<LinkIcon />} href={link.url} target="_blank" rel="noopener noreferrer" sx={{ bgcolor: '#eef2fd' }}>
                    {link.title ?? link.url}
                  </Button>
                </li>
              ))}
            </Box>
          )}
          {annotations.length > 0 && (
            <Button
              size="small"
              color="inherit"
              aria-expanded={showAnnotations}
              onClick={() => setShowAnnotations((open) => !open)}
              endIcon={<ExpandMoreIcon sx={{ transform: showAnnotations ? 'rotate(180deg)' : undefined, transition: 'transform 150ms' }} />}
              sx={{ color: 'text.secondary' }}
            >
              Annotations ({annotations.length})
            </Button>
          )}
        </Box>
      )}
      <Collapse in={showAnnotations} unmountOnExit>
        <Table size="small" aria-label="Annotations" sx={{ mt: 1, bgcolor: 'background.paper', border: 1, borderColor: 'divider' }}>
          <TableBody>
            {annotations.map(([key, value]) => (
              <TableRow key={key}>
                <TableCell sx={{ fontFamily: 'monospace', fontSize: 12.5, whiteSpace: 'nowrap', width: '1%' }}>{key}</TableCell>
                <TableCell sx={{ fontFamily: 'monospace', fontSize: 12.5, wordBreak: 'break-all' }}>{value}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </Collapse>

      {problems.map((problem, i) => (
        <Alert key={i} severity={problem.level === 'error' ? 'error' : 'warning'} sx={{ mt: 2 }}>
          <AlertTitle>{problem.type}</AlertTitle>
          {problem.message}
        </Alert>
      ))}
      {refresh.isError && (
        <Alert severity="error" sx={{ mt: 2 }} onClose={() => refresh.reset()}>
          Refresh failed: {refresh.error.message}
        </Alert>
      )}
      <Snackbar
        open={refresh.isSuccess}
        autoHideDuration={4000}
        onClose={() => refresh.reset()}
        message={`${title} was re-read from its location`}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
      />
    </Box>
  );
}

function HeaderFact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 1 }}>
      <Typography component="dt" variant="body2" color="text.secondary">
        {label}
      </Typography>
      <Box component="dd" sx={{ m: 0, fontSize: 14 }}>
        {children}
      </Box>
    </Box>
  );
}
