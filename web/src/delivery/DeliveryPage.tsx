import { useState, type FormEvent } from 'react';
import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { formatDateTime } from '../components/format';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useEnvironments, useReleases, useRollouts, type Environment, type RolloutView } from './api';
import { RolloutTable } from './RolloutTable';
import { describeStrategy, shortDigest } from './rollout-view';

const servicePattern = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Delivery: each environment with what runs there, the rollouts in progress, and the history (per service with ?service=). */
export function DeliveryPage() {
  const environments = useEnvironments();
  const active = useRollouts({ active: true, limit: 100 });
  return (
    <>
      <PageHeader title="Delivery" subtitle="Environments, what runs in them, and every rollout: canary steps, analysis, promotion and rollback." />
      <Stack spacing={3}>
        <Box component="section" aria-label="Active rollouts">
          <Typography variant="h6" component="h2" gutterBottom>
            Rollouts in progress
          </Typography>
          <QueryState query={active} label="active rollouts">
            {(items) => (items.length === 0 ? <Alert severity="info">No rollout in progress.</Alert> : <RolloutTable rollouts={items} label="Active rollouts" />)}
          </QueryState>
        </Box>
        <Box component="section" aria-label="Environments">
          <Typography variant="h6" component="h2" gutterBottom>
            Environments
          </Typography>
          <QueryState query={environments} label="environments">
            {(items) => (
              <Box sx={{ display: 'grid', gap: 2, gridTemplateColumns: { xs: '1fr', lg: '1fr 1fr' } }}>
                {items.map((env) => (
                  <EnvironmentCard key={env.name} environment={env} />
                ))}
              </Box>
            )}
          </QueryState>
        </Box>
        <History />
      </Stack>
    </>
  );
}

function EnvironmentCard({ environment }: { environment: Environment }) {
  const releases = useReleases(environment.name);
  return (
    <Paper variant="outlined" component="article" aria-label={`Environment ${environment.name}`} sx={{ p: 2 }}>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1 }}>
        <Typography variant="subtitle1" component="h3" sx={{ fontWeight: 600, flex: 1 }}>
          {environment.name}
        </Typography>
        {environment.builtin && <Chip size="small" variant="outlined" label="built in" />}
      </Box>
      <Typography variant="body2" color="text.secondary">
        {environment.description}
      </Typography>
      <Typography variant="body2" sx={{ mt: 0.5, mb: 1.5 }}>
        Strategy: {describeStrategy(environment.strategy)}
      </Typography>
      <QueryState query={releases} label={`releases in ${environment.name}`}>
        {(items) => {
          const running = items.filter((r) => r.phase === 'ready' || r.phase === 'starting');
          if (running.length === 0) return <Typography variant="body2" color="text.secondary">Nothing runs here yet.</Typography>;
          return (
            <Table size="small" aria-label={`Running in ${environment.name}`}>
              <TableHead>
                <TableRow>
                  <TableCell>Service</TableCell>
                  <TableCell>Version</TableCell>
                  <TableCell>Phase</TableCell>
                  <TableCell>Replicas</TableCell>
                  <TableCell>Artifact</TableCell>
                  <TableCell>Since</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {running.map((r) => (
                  <TableRow key={r.id}>
                    <TableCell>
                      <Link component={RouterLink} to={`/delivery?service=${encodeURIComponent(r.service)}`}>
                        {r.service}
                      </Link>
                    </TableCell>
                    <TableCell>{r.version}</TableCell>
                    <TableCell>
                      <Chip size="small" label={r.phase} color={r.phase === 'ready' ? 'success' : 'info'} />
                    </TableCell>
                    <TableCell>{r.replicas}</TableCell>
                    <TableCell sx={{ fontFamily: 'monospace' }} title={r.artifactDigest}>
                      {shortDigest(r.artifactDigest)}
                    </TableCell>
                    <TableCell>{formatDateTime(r.createdAt)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          );
        }}
      </QueryState>
    </Paper>
  );
}

/** Release history: every rollout, or one service's (the filter lives in the URL). */
function History() {
  const [params, setParams] = useSearchParams();
  const service = params.get('service') ?? '';
  const [draft, setDraft] = useState(service);
  const [error, setError] = useState<string | undefined>(undefined);
  const history = useRollouts({ service: service === '' ? undefined : service, limit: 50 });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    const value = draft.trim().toLowerCase();
    if (value !== '' && !servicePattern.test(value)) {
      setError('a service name is a DNS label: lower-case letters, digits and "-", starting with a letter');
      return;
    }
    setError(undefined);
    setParams(value === '' ? {} : { service: value }, { replace: true });
  };
  return (
    <Box component="section" aria-label="Release history">
      <Box sx={{ display: 'flex', alignItems: 'flex-start', gap: 2, mb: 1, flexWrap: 'wrap' }}>
        <Typography variant="h6" component="h2" sx={{ flex: 1 }}>
          Release history{service !== '' ? ` of ${service}` : ''}
        </Typography>
        <Box component="form" role="search" aria-label="Filter history" onSubmit={apply} sx={{ display: 'flex', gap: 1, alignItems: 'flex-start' }}>
          <TextField size="small" label="Service" value={draft} onChange={(e) => setDraft(e.target.value)} error={error !== undefined} helperText={error} />
          <Button type="submit" variant="outlined">
            Apply
          </Button>
        </Box>
      </Box>
      <QueryState query={history} label="the release history">
        {(items: RolloutView[]) => <RolloutTable rollouts={items} label="Rollout history" />}
      </QueryState>
    </Box>
  );
}
