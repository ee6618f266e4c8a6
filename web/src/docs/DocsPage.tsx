import { Link as RouterLink, useParams } from 'react-router-dom';
import Box from '@mui/material/Box';
import Breadcrumbs from '@mui/material/Breadcrumbs';
import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import { entityRoute, type EntityName } from '../components/entity-refs';
import { CategoryIcon } from '../components/icons';
import { useDocsSite } from './api';
import { DocsViewer } from './DocsViewer';

/** `/docs/:namespace/:kind/:name/*`: an entity's docs on their own page, where search results lead. */
export function DocsPage() {
  const params = useParams();
  const entity: EntityName = { namespace: params.namespace ?? 'default', kind: params.kind ?? '', name: params.name ?? '' };
  const base = `/docs/${[entity.namespace, entity.kind, entity.name].map(encodeURIComponent).join('/')}`;
  const site = useDocsSite(entity);

  return (
    <>
      <Box sx={{ display: 'flex', alignItems: 'flex-end', justifyContent: 'space-between', gap: 2, flexWrap: 'wrap', mb: 3 }}>
        <Box>
          <Breadcrumbs aria-label="Breadcrumb" sx={{ mb: 0.5 }}>
            <Link component={RouterLink} to="/docs" underline="hover" color="text.secondary" variant="body2">
              Docs
            </Link>
            <Typography variant="body2" color="text.secondary">
              {entity.name}
            </Typography>
          </Breadcrumbs>
          <Typography variant="h4" component="h1">
            {site.data?.siteName ?? entity.name}
          </Typography>
        </Box>
        <Button variant="outlined" startIcon={<CategoryIcon />} component={RouterLink} to={entityRoute(entity)}>
          Open in the catalog
        </Button>
      </Box>
      <DocsViewer entity={entity} base={base} route={params['*'] ?? ''} />
    </>
  );
}
