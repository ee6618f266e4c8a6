import { Link as RouterLink } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import { QueryState } from '../components/QueryState';
import { useFindings } from './api';
import { FindingTable } from './FindingsPage';

/**
 * A catalog entity's Security tab: the tracked findings of the hosted repository its catalog-info.yaml
 * lives in (a service is its repository), most severe first — security stage and artifact scan alike.
 */
export default function EntityFindings({ repository }: { repository: string }) {
  const findings = useFindings({ service: repository });
  return (
    <Box component="section" aria-label="Security findings">
      <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
        Tracked findings of <strong>{repository}</strong>.{' '}
        <Link component={RouterLink} to={`/security?service=${encodeURIComponent(repository)}`}>
          All findings
        </Link>
      </Typography>
      <QueryState query={findings} label="findings">
        {(data) => {
          const items = data.pages[0]?.items ?? [];
          return items.length === 0
            ? <Alert severity="info">No findings: the security stage and the artifact scan of {repository} found nothing yet.</Alert>
            : <FindingTable findings={items} label={`Findings of ${repository}`} />;
        }}
      </QueryState>
    </Box>
  );
}
