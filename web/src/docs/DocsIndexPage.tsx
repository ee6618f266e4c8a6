import { useState } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardActionArea from '@mui/material/CardActionArea';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import InputAdornment from '@mui/material/InputAdornment';
import Paper from '@mui/material/Paper';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { Entity } from '../../../src/catalog/index.js';
import { entityNameOf, entityTitle, humanizeEntityRef, relationTargets, specString } from '../components/entity-refs';
import { MenuBookIcon, SearchIcon } from '../components/icons';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useDocumentedEntities } from './api';

/** `/docs`: every entity whose documentation lives next to its code. */
export function DocsIndexPage() {
  const entities = useDocumentedEntities();
  const [text, setText] = useState('');

  return (
    <>
      <PageHeader title="Documentation" subtitle="Docs written next to the code, for every service, website and library that has them." />
      <TextField
        type="search"
        label="Filter documentation"
        placeholder="Name, title, owner or description"
        value={text}
        onChange={(event) => setText(event.target.value)}
        sx={{ mb: 3, width: { xs: '100%', sm: 420 }, bgcolor: 'background.paper' }}
        slotProps={{
          inputLabel: { shrink: true },
          input: {
            startAdornment: (
              <InputAdornment position="start">
                <SearchIcon fontSize="small" />
              </InputAdornment>
            ),
          },
        }}
      />
      <QueryState query={entities} label="documentation">
        {(items) => {
          const shown = items.filter((entity) => matches(entity, text));
          if (shown.length === 0) {
            return (
              <Paper variant="outlined" sx={{ p: 4, textAlign: 'center' }}>
                <Typography color="text.secondary">
                  {items.length === 0
                    ? 'No entity has docs yet. Add the backstage.io/techdocs-ref annotation and an mkdocs.yml next to its catalog-info.yaml.'
                    : 'No documentation matches this filter.'}
                </Typography>
              </Paper>
            );
          }
          return (
            <Box
              component="ul"
              aria-label="Documented entities"
              sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 2, gridTemplateColumns: { xs: '1fr', sm: '1fr 1fr', lg: '1fr 1fr 1fr' } }}
            >
              {shown.map((entity) => (
                <li key={entity.metadata.uid ?? entity.metadata.name}>
                  <DocsCard entity={entity} />
                </li>
              ))}
            </Box>
          );
        }}
      </QueryState>
    </>
  );
}

function DocsCard({ entity }: { entity: Entity }) {
  const { namespace, kind, name } = entityNameOf(entity);
  const owner = relationTargets(entity, 'ownedBy')[0];
  const type = specString(entity, 'type');
  return (
    <Card sx={{ height: '100%' }}>
      <CardActionArea
        component={RouterLink}
        to={`/docs/${[namespace, kind.toLowerCase(), name].map(encodeURIComponent).join('/')}`}
        sx={{ height: '100%', alignItems: 'flex-start', display: 'flex' }}
      >
        <CardContent sx={{ width: '100%' }}>
          <Box sx={{ display: 'flex', gap: 1.25, alignItems: 'center', mb: 1 }}>
            <MenuBookIcon color="primary" fontSize="small" />
            <Typography variant="subtitle1" component="h2" sx={{ fontWeight: 650 }}>
              {entityTitle(entity)}
            </Typography>
          </Box>
          <Typography variant="body2" color="text.secondary" sx={{ mb: 1.5, minHeight: 40 }}>
            {entity.metadata.description ?? ''}
          </Typography>
          <Box sx={{ display: 'flex', gap: 0.75, flexWrap: 'wrap' }}>
            <Chip size="small" label={type === undefined ? entity.kind : `${entity.kind} · ${type}`} />
            {owner !== undefined && <Chip size="small" variant="outlined" label={humanizeEntityRef(owner, { defaultKind: 'group' })} />}
          </Box>
        </CardContent>
      </CardActionArea>
    </Card>
  );
}

function matches(entity: Entity, text: string): boolean {
  const needle = text.trim().toLowerCase();
  if (needle === '') return true;
  const owner = relationTargets(entity, 'ownedBy')[0] ?? '';
  return [entity.metadata.name, entity.metadata.title ?? '', entity.metadata.description ?? '', owner].some((field) => field.toLowerCase().includes(needle));
}
