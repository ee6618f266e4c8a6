import { Link as RouterLink } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import { formatDateTime } from '../components/format';
import { PageHeader } from '../components/PageHeader';
import { LoadMore } from '../components/LoadMore';
import { QueryState } from '../components/QueryState';
import { useRepositoryField, useUrlFilters } from '../components/url-filters';
import { useRuns, type Run, type RunStatus } from './api';
import { formatMs, refName, runDurationMs, runStatuses, runTone, shortSha } from './run-view';

/** Pipeline runs, newest first, filtered by repository and status (kept in the URL so a filtered list can be shared). */
export function RunsPage() {
  const { values, update } = useUrlFilters(['repository', 'status'] as const);
  const { repository } = values;
  const status = runStatuses.includes(values.status as RunStatus) ? (values.status as RunStatus) : undefined;
  const field = useRepositoryField(repository, (value) => update({ repository: value }), 'a repository is <owner>/<name>, e.g. team-a/payments');
  const runs = useRuns({ repository: repository === '' ? undefined : repository, status });

  return (
    <>
      <PageHeader title="Pipeline runs" subtitle="Every push to a hosted repository runs the standard pipeline; open a run for its stages, logs and tests." />
      <Box component="form" role="search" aria-label="Filter runs" onSubmit={field.submit} sx={{ display: 'flex', gap: 2, mb: 2, flexWrap: 'wrap', alignItems: 'flex-start' }}>
        <TextField
          size="small"
          label="Repository"
          placeholder="team-a/payments"
          value={field.draft}
          onChange={(e) => field.setDraft(e.target.value)}
          error={field.error !== undefined}
          helperText={field.error}
          sx={{ minWidth: 260 }}
        />
        <TextField
          select
          size="small"
          label="Status"
          value={status ?? ''}
          onChange={(e) => update({ status: e.target.value })}
          slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }}
          sx={{ minWidth: 160 }}
        >
          <MenuItem value="">Any status</MenuItem>
          {runStatuses.map((s) => (
            <MenuItem key={s} value={s}>
              {s}
            </MenuItem>
          ))}
        </TextField>
        <Button type="submit" variant="outlined">
          Apply
        </Button>
      </Box>
      <QueryState query={runs} label="runs">
        {(data) => {
          const items = data.pages.flatMap((p) => p.items);
          if (items.length === 0) return <Alert severity="info">No runs{repository !== '' || status !== undefined ? ' match these filters' : ' yet; push to a hosted repository to start one'}.</Alert>;
          return (
            <>
              <RunTable runs={items} />
              <LoadMore query={runs} />
            </>
          );
        }}
      </QueryState>
    </>
  );
}

/** A table of runs; also used by a catalog entity's CI/CD tab. */
export function RunTable({ runs, label = 'Runs' }: { runs: Run[]; label?: string }) {
  const now = Date.now();
  return (
    <TableContainer component={Paper} variant="outlined">
      <Table size="small" aria-label={label}>
        <TableHead>
          <TableRow>
            <TableCell>Run</TableCell>
            <TableCell>Repository</TableCell>
            <TableCell>Ref</TableCell>
            <TableCell>Commit</TableCell>
            <TableCell>Status</TableCell>
            <TableCell>Trigger</TableCell>
            <TableCell>Started</TableCell>
            <TableCell align="right">Duration</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {runs.map((run) => (
            <TableRow key={run.id} hover>
              <TableCell>
                <Link component={RouterLink} to={`/runs/${encodeURIComponent(run.id)}`} sx={{ fontFamily: 'monospace' }} aria-label={`Run ${run.id.slice(0, 8)} of ${run.repository}`}>
                  {run.id.slice(0, 8)}
                </Link>
              </TableCell>
              <TableCell>{run.repository}</TableCell>
              <TableCell>{refName(run.ref)}</TableCell>
              <TableCell sx={{ fontFamily: 'monospace' }} title={run.sha}>
                {shortSha(run.sha)}
              </TableCell>
              <TableCell>
                <Chip size="small" label={run.status} color={runTone[run.status]} />
              </TableCell>
              <TableCell>
                {run.trigger}
                {run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}
              </TableCell>
              <TableCell>{formatDateTime(run.startedAt ?? run.createdAt)}</TableCell>
              <TableCell align="right">{formatMs(runDurationMs(run, now))}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
