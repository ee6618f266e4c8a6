import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActions from '@mui/material/CardActions';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import InputAdornment from '@mui/material/InputAdornment';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { Entity } from '../../../src/catalog/index.js';
import { entityTitle, humanizeEntityRef, specString } from '../components/entity-refs';
import { HistoryIcon, SearchIcon } from '../components/icons';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useTemplates } from './api';

/** Whether a template matches the search text (title, name, description, tags) and the chosen tag. */
export function matchesTemplate(entity: Entity, text: string, tag: string): boolean {
  const tags = entity.metadata.tags ?? [];
  if (tag !== '' && !tags.includes(tag)) return false;
  const needle = text.trim().toLowerCase();
  if (needle === '') return true;
  return [entityTitle(entity), entity.metadata.name, entity.metadata.description ?? '', ...tags].some((s) => s.toLowerCase().includes(needle));
}

/** The golden paths: every Template in the catalog as a card, searchable and filtered by tag. */
export function TemplateGalleryPage() {
  const [params, setParams] = useSearchParams();
  const text = params.get('q') ?? '';
  const tag = params.get('tag') ?? '';
  const templates = useTemplates();
  const update = (change: { q?: string; tag?: string }) => {
    const next = { q: text, tag, ...change };
    setParams(Object.fromEntries(Object.entries(next).filter(([, v]) => v !== '')), { replace: true });
  };
  return (
    <>
      <PageHeader
        title="Create"
        subtitle="Start a new service, website or library from a golden path: repository, pipeline, docs and catalog entry included."
        actions={
          <Button variant="outlined" startIcon={<HistoryIcon />} component={RouterLink} to="/create/tasks">
            Task history
          </Button>
        }
      />
      <QueryState query={templates} label="templates">
        {(items) => {
          const allTags = [...new Set(items.flatMap((e) => e.metadata.tags ?? []))].sort();
          const shown = items.filter((e) => matchesTemplate(e, text, tag));
          return (
            <>
              <Box sx={{ display: 'flex', gap: 2, mb: 3, flexWrap: 'wrap' }}>
                <TextField
                  size="small"
                  label="Search templates"
                  value={text}
                  onChange={(e) => update({ q: e.target.value })}
                  sx={{ minWidth: 280 }}
                  slotProps={{ input: { startAdornment: <InputAdornment position="start"><SearchIcon fontSize="small" /></InputAdornment> } }}
                />
                <TextField select size="small" label="Tag" value={tag} onChange={(e) => update({ tag: e.target.value })} sx={{ minWidth: 180 }}>
                  <MenuItem value="">All tags</MenuItem>
                  {allTags.map((t) => (
                    <MenuItem key={t} value={t}>{t}</MenuItem>
                  ))}
                </TextField>
              </Box>
              {items.length === 0 ? (
                <Alert severity="info">No templates in the catalog yet. Register a template.yaml (kind Template) to offer a golden path.</Alert>
              ) : shown.length === 0 ? (
                <Alert severity="info">No template matches; clear the search or the tag.</Alert>
              ) : (
                <Box component="ul" aria-label="Templates" sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 2, gridTemplateColumns: 'repeat(auto-fill, minmax(300px, 1fr))' }}>
                  {shown.map((entity) => (
                    <li key={`${entity.metadata.namespace ?? 'default'}/${entity.metadata.name}`}>
                      <TemplateCard entity={entity} onTag={(t) => update({ tag: t })} />
                    </li>
                  ))}
                </Box>
              )}
            </>
          );
        }}
      </QueryState>
    </>
  );
}

function TemplateCard({ entity, onTag }: { entity: Entity; onTag: (tag: string) => void }) {
  const title = entityTitle(entity);
  const owner = specString(entity, 'owner');
  const type = specString(entity, 'type');
  const namespace = entity.metadata.namespace ?? 'default';
  return (
    <Card variant="outlined" component="article" aria-label={title} sx={{ height: '100%', display: 'flex', flexDirection: 'column' }}>
      <CardContent sx={{ flex: 1 }}>
        {type !== undefined && (
          <Typography variant="overline" color="text.secondary">
            {type}
          </Typography>
        )}
        <Typography variant="h6" component="h2" gutterBottom>
          {title}
        </Typography>
        {entity.metadata.description !== undefined && (
          <Typography variant="body2" color="text.secondary" sx={{ mb: 1.5 }}>
            {entity.metadata.description}
          </Typography>
        )}
        <Box sx={{ display: 'flex', gap: 0.5, flexWrap: 'wrap' }}>
          {(entity.metadata.tags ?? []).map((t) => (
            <Chip key={t} size="small" label={t} onClick={() => onTag(t)} aria-label={`Filter by tag ${t}`} />
          ))}
        </Box>
      </CardContent>
      <CardActions sx={{ justifyContent: 'space-between', px: 2, pb: 2 }}>
        <Typography variant="body2" color="text.secondary">
          {owner !== undefined ? `Owner: ${humanizeEntityRef(owner, { defaultKind: 'group' })}` : ''}
        </Typography>
        <Button variant="contained" component={RouterLink} to={`/create/templates/${encodeURIComponent(namespace)}/${encodeURIComponent(entity.metadata.name)}`} aria-label={`Choose ${title}`}>
          Choose
        </Button>
      </CardActions>
    </Card>
  );
}
