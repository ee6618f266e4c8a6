import { Link as RouterLink } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import { QueryState } from '../components/QueryState';
import { useRuns } from './api';
import { RunTable } from './RunsPage';

/** A catalog entity's CI/CD tab: the latest runs of the hosted repository its catalog-info.yaml lives in. */
export default function EntityRuns({ repository }: { repository: string }) {
  const runs = useRuns({ repository });
  return (
    <Box component="section" aria-label="CI/CD">
      <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
        Pipeline runs of <strong>{repository}</strong>.{' '}
        <Link component={RouterLink} to={`/runs?repository=${encodeURIComponent(repository)}`}>
          All runs
        </Link>
      </Typography>
      <QueryState query={runs} label="runs">
        {(data) => {
          const items = data.pages[0]?.items ?? [];
          return items.length === 0 ? <Alert severity="info">No runs yet: push to {repository} to start one.</Alert> : <RunTable runs={items} label={`Runs of ${repository}`} />;
        }}
      </QueryState>
    </Box>
  );
}
