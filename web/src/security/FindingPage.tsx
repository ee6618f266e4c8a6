import { useState, type FormEvent } from 'react';
import { Link as RouterLink, useParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { formatDate, formatDateTime } from '../components/format';
import { FactList } from '../components/FactList';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useAcceptFinding, useFinding, type FindingDetail } from './api';
import { daysFrom, findingLocation, severityTone, statusTone, teamName } from './view';

/** One finding: where it is, its fix, SLA, acceptance, the runs that saw it, and accepting its risk. */
export function FindingPage() {
  const { id = '' } = useParams();
  const finding = useFinding(id);
  return (
    <QueryState query={finding} label="finding">
      {(f) => (
        <>
          <PageHeader title={`${f.rule} in ${f.repository}`} subtitle={f.title} />
          <Box sx={{ display: 'flex', gap: 1, mb: 2, flexWrap: 'wrap' }}>
            <Chip label={f.severity} color={severityTone[f.severity]} />
            <Chip label={f.overdue ? `${f.status}, overdue` : f.status} color={f.overdue ? 'error' : statusTone[f.status]} />
            <Chip label={f.scanner} variant="outlined" />
          </Box>
          <Facts finding={f} />
          {f.status !== 'fixed' && <AcceptForm finding={f} />}
          <Typography variant="h6" component="h2" sx={{ mt: 3, mb: 1 }}>
            History
          </Typography>
          <TableContainer component={Paper} variant="outlined">
            <Table size="small" aria-label="Runs that saw this finding">
              <TableHead>
                <TableRow>
                  <TableCell>Seen</TableCell>
                  <TableCell>Run</TableCell>
                  <TableCell>Branch</TableCell>
                  <TableCell>Commit</TableCell>
                  <TableCell>Severity</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {f.history.map((h) => (
                  <TableRow key={h.runId}>
                    <TableCell>{formatDateTime(h.seenAt)}</TableCell>
                    <TableCell>
                      <Link component={RouterLink} to={`/runs/${encodeURIComponent(h.runId)}`} sx={{ fontFamily: 'monospace' }}>
                        {h.runId.slice(0, 8)}
                      </Link>
                    </TableCell>
                    <TableCell>{h.branch}</TableCell>
                    <TableCell sx={{ fontFamily: 'monospace' }}>{h.sha.slice(0, 10)}</TableCell>
                    <TableCell>{h.severity}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </TableContainer>
        </>
      )}
    </QueryState>
  );
}

function Facts({ finding: f }: { finding: FindingDetail }) {
  const rows: [string, string][] = [
    ['Where', `${findingLocation(f)}${f.package !== null ? ` (${f.file}${f.line !== null ? `:${f.line}` : ''})` : ''}`],
    ['Fix', f.package === null ? '—' : f.package.fixVersion !== null ? `upgrade to ${f.package.fixVersion}` : 'no fixed version known'],
    ['Owner', teamName(f.owner)],
    ['First seen', formatDateTime(f.firstSeenAt)],
    ['Last seen', formatDateTime(f.lastSeenAt)],
    ['Due', f.dueAt !== null ? formatDate(f.dueAt) : 'no SLA for this severity'],
    ['Fixed', f.fixedAt !== null ? formatDateTime(f.fixedAt) : '—'],
    ['Present on', f.branches.length > 0 ? f.branches.join(', ') : '—'],
  ];
  if (f.acceptance !== null) rows.push(['Accepted', `by ${f.acceptance.by} until ${formatDate(f.acceptance.until)}: ${f.acceptance.reason}`]);
  return <FactList rows={rows} variant="body1" />;
}

/** The owning team (an admin for a critical finding) accepts the risk for some days; the server says who may. */
function AcceptForm({ finding }: { finding: FindingDetail }) {
  const accept = useAcceptFinding(finding.id);
  const [reason, setReason] = useState('');
  const [days, setDays] = useState('30');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    accept.mutate({ reason: reason.trim(), expiresAt: daysFrom(new Date(), Number(days)) });
  };
  const daysValid = /^\d{1,3}$/.test(days) && Number(days) >= 1 && Number(days) <= 366;
  return (
    <Box component="form" aria-label="Accept the risk" onSubmit={submit} sx={{ mt: 3, display: 'flex', gap: 2, flexWrap: 'wrap', alignItems: 'flex-start' }}>
      <TextField size="small" label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} sx={{ minWidth: 320 }} required />
      <TextField size="small" label="For days" value={days} onChange={(e) => setDays(e.target.value)} error={!daysValid} helperText={daysValid ? undefined : '1 to 366 days'} sx={{ width: 120 }} />
      <Button type="submit" variant="outlined" disabled={!daysValid || reason.trim().length < 3} loading={accept.isPending}>
        Accept risk
      </Button>
      {accept.error !== null && <Alert severity="error" sx={{ flexBasis: '100%' }}>{accept.error.message}</Alert>}
      {accept.isSuccess && <Alert severity="success" sx={{ flexBasis: '100%' }}>Accepted until {formatDate(accept.data.acceptance?.until)}.</Alert>}
    </Box>
  );
}
