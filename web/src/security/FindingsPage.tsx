import { Link as RouterLink } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import FormControlLabel from '@mui/material/FormControlLabel';
import Link from '@mui/material/Link';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import Switch from '@mui/material/Switch';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { formatDate, formatDateTime } from '../components/format';
import { PageHeader } from '../components/PageHeader';
import { LoadMore } from '../components/LoadMore';
import { QueryState } from '../components/QueryState';
import { useRepositoryField, useUrlFilters } from '../components/url-filters';
import { useFindings, useOverview, type Overview, type TrackedFinding } from './api';
import { findingLocation, severities, severityTone, statuses, statusTone, teamName } from './view';

/** The organisation's security overview, then its tracked findings filtered by service, severity, status and overdue (kept in the URL). */
export function FindingsPage() {
  const { values, update } = useUrlFilters(['service', 'severity', 'status', 'overdue'] as const);
  const { service } = values;
  const severity = severities.find((s) => s === values.severity);
  const status = statuses.find((s) => s === values.status);
  const overdue = values.overdue === 'true';
  const field = useRepositoryField(service, (value) => update({ service: value }), 'a service is its repository, <owner>/<name>, e.g. team-a/payments');
  const overview = useOverview();
  const findings = useFindings({ service: service === '' ? undefined : service, severity, status, overdue: overdue ? true : undefined });

  return (
    <>
      <PageHeader title="Security" subtitle="What the pipeline's scans found, tracked across runs: critical findings fail the run, high ones are due within their SLA, medium and low are recorded." />
      <QueryState query={overview} label="security overview">
        {(data) => <OverviewPanel overview={data} />}
      </QueryState>
      <Typography variant="h6" component="h2" sx={{ mt: 3, mb: 1 }}>
        Findings
      </Typography>
      <Box component="form" role="search" aria-label="Filter findings" onSubmit={field.submit} sx={{ display: 'flex', gap: 2, mb: 2, flexWrap: 'wrap', alignItems: 'flex-start' }}>
        <TextField size="small" label="Service" placeholder="team-a/payments" value={field.draft} onChange={(e) => field.setDraft(e.target.value)} error={field.error !== undefined} helperText={field.error} sx={{ minWidth: 240 }} />
        <TextField select size="small" label="Severity" value={severity ?? ''} onChange={(e) => update({ severity: e.target.value })} slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }} sx={{ minWidth: 140 }}>
          <MenuItem value="">Any severity</MenuItem>
          {severities.map((s) => <MenuItem key={s} value={s}>{s}</MenuItem>)}
        </TextField>
        <TextField select size="small" label="Status" value={status ?? ''} onChange={(e) => update({ status: e.target.value })} slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }} sx={{ minWidth: 140 }}>
          <MenuItem value="">Any status</MenuItem>
          {statuses.map((s) => <MenuItem key={s} value={s}>{s}</MenuItem>)}
        </TextField>
        <FormControlLabel control={<Switch checked={overdue} onChange={(e) => update({ overdue: e.target.checked ? 'true' : '' })} />} label="Overdue only" />
        <Button type="submit" variant="outlined">
          Apply
        </Button>
      </Box>
      <QueryState query={findings} label="findings">
        {(data) => {
          const items = data.pages.flatMap((p) => p.items);
          if (items.length === 0) return <Alert severity="info">No findings{service !== '' || severity !== undefined || status !== undefined || overdue ? ' match these filters' : ' yet: they appear when a pipeline run scans a repository'}.</Alert>;
          return (
            <>
              <FindingTable findings={items} />
              <LoadMore query={findings} />
            </>
          );
        }}
      </QueryState>
    </>
  );
}

function Figure({ label, value, tone }: { label: string; value: number; tone?: 'error.main' | 'warning.main' }) {
  return (
    <Paper variant="outlined" sx={{ px: 2, py: 1.5, minWidth: 120 }} role="group" aria-label={`${label}: ${value}`}>
      <Typography variant="h5" component="p" color={value > 0 ? tone : undefined}>
        {value}
      </Typography>
      <Typography variant="body2" color="text.secondary">
        {label}
      </Typography>
    </Paper>
  );
}

function OverviewPanel({ overview }: { overview: Overview }) {
  return (
    <>
      <Box sx={{ display: 'flex', gap: 2, flexWrap: 'wrap' }}>
        <Figure label="open critical" value={overview.open.critical} tone="error.main" />
        <Figure label="open high" value={overview.open.high} tone="warning.main" />
        <Figure label="open medium" value={overview.open.medium} />
        <Figure label="open low" value={overview.open.low} />
        <Figure label="overdue" value={overview.overdue} tone="error.main" />
        <Figure label="accepted" value={overview.accepted} />
        <Figure label="fixed in 30 days" value={overview.fixedLast30Days} />
      </Box>
      {overview.teams.length > 0 && (
        <TableContainer component={Paper} variant="outlined" sx={{ mt: 2 }}>
          <Table size="small" aria-label="Open findings by team">
            <TableHead>
              <TableRow>
                <TableCell>Team</TableCell>
                {severities.map((s) => <TableCell key={s} align="right">{s}</TableCell>)}
                <TableCell align="right">overdue</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {overview.teams.map((team) => (
                <TableRow key={team.owner}>
                  <TableCell>{teamName(team.owner)}</TableCell>
                  {severities.map((s) => <TableCell key={s} align="right">{team.open[s]}</TableCell>)}
                  <TableCell align="right">{team.overdue}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </TableContainer>
      )}
    </>
  );
}

/** A table of findings; a row links to the finding's page. */
export function FindingTable({ findings, label = 'Findings' }: { findings: TrackedFinding[]; label?: string }) {
  return (
    <TableContainer component={Paper} variant="outlined">
      <Table size="small" aria-label={label}>
        <TableHead>
          <TableRow>
            <TableCell>Severity</TableCell>
            <TableCell>Rule</TableCell>
            <TableCell>Scanner</TableCell>
            <TableCell>Service</TableCell>
            <TableCell>Where</TableCell>
            <TableCell>Fix</TableCell>
            <TableCell>Status</TableCell>
            <TableCell>Due</TableCell>
            <TableCell>Last seen</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {findings.map((f) => (
            <TableRow key={f.id} hover>
              <TableCell>
                <Chip size="small" label={f.severity} color={severityTone[f.severity]} />
              </TableCell>
              <TableCell>
                <Link component={RouterLink} to={`/security/findings/${encodeURIComponent(f.id)}`} aria-label={`Finding ${f.rule} in ${f.repository}`}>
                  {f.rule}
                </Link>
              </TableCell>
              <TableCell>{f.scanner}</TableCell>
              <TableCell>{f.repository}</TableCell>
              <TableCell sx={{ fontFamily: 'monospace' }}>{findingLocation(f)}</TableCell>
              <TableCell>{f.package?.fixVersion ?? '—'}</TableCell>
              <TableCell>
                <Chip size="small" label={f.overdue ? `${f.status}, overdue` : f.status} color={f.overdue ? 'error' : statusTone[f.status]} variant={f.status === 'open' && !f.overdue ? 'outlined' : 'filled'} />
              </TableCell>
              <TableCell>{f.dueAt !== null && f.status === 'open' ? formatDate(f.dueAt) : '—'}</TableCell>
              <TableCell>{formatDateTime(f.lastSeenAt)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
