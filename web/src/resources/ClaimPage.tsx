import type { ReactNode } from 'react';
import { Link as RouterLink, useParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import { useMe } from '../app/auth';
import { isApiError } from '../app/http';
import { formatDateTime } from '../components/format';
import { FactList } from '../components/FactList';
import { PageHeader } from '../components/PageHeader';
import { ErrorNotice, Loading } from '../components/QueryState';
import { useClaim, useClaimBackups, useClaimHistory, useClaimOperations, type ClaimView } from './api';
import { ClaimActions, RestoreButton } from './ClaimActions';
import { canManage, describeInputs, formatMonthly, hasBackups, isSecretRef, phaseTone, teamName } from './view';

/** /resources/claims/:id: status and history, outputs, drift, backups and operations, and the owner's actions. */
export function ClaimPage() {
  const { id = '' } = useParams();
  const claim = useClaim(id);
  if (claim.error !== null && isApiError(claim.error, 404)) {
    return (
      <>
        <PageHeader title="Resource claim" />
        <Alert severity="info" role="status">
          Claim {id} does not exist (any more): a deleted claim goes once its final backup is taken. <Link component={RouterLink} to="/resources/mine">My resources</Link>
        </Alert>
      </>
    );
  }
  if (claim.data === undefined) return claim.error !== null ? <ErrorNotice error={claim.error} onRetry={() => void claim.refetch()} /> : <Loading label="Loading the claim" />;
  return <ClaimDetail claim={claim.data} />;
}

function ClaimDetail({ claim }: { claim: ClaimView }) {
  const me = useMe();
  const manage = canManage(me, claim);
  const live = claim.phase === 'ready' || claim.phase === 'failed';
  return (
    <>
      <PageHeader
        title={`${claim.name} in ${claim.environment}`}
        subtitle={
          <>
            {claim.module}@{claim.version}, preset {claim.preset}, owned by {teamName(claim.owner)}. <Link component={RouterLink} to="/resources/mine">My resources</Link>
          </>
        }
      />
      <Box sx={{ display: 'flex', gap: 1, mb: 2, flexWrap: 'wrap', alignItems: 'center' }}>
        <Chip label={claim.phase} color={phaseTone[claim.phase]} aria-label={`Status: ${claim.phase}`} />
        <Chip label={claim.drift === null ? 'no drift' : 'drifted'} color={claim.drift === null ? 'default' : 'warning'} variant="outlined" aria-label={claim.drift === null ? 'Drift: none' : 'Drift: drifted'} />
        <Chip label={formatMonthly(claim.cost.monthly, claim.cost.currency)} variant="outlined" />
      </Box>
      <Status claim={claim} />
      {manage && live && <ClaimActions claim={claim} />}
      <Box sx={{ display: 'grid', gap: 3, gridTemplateColumns: { xs: '1fr', lg: '1fr 1fr' }, mt: 2 }}>
        <Section title="Details">
          <Facts claim={claim} />
        </Section>
        <Section title="Outputs">
          <Outputs claim={claim} />
        </Section>
        <Section title="Drift">
          <Drift claim={claim} />
        </Section>
        <Section title="History">
          <History claim={claim} />
        </Section>
      </Box>
      {hasBackups(claim.provider) && (
        <Section title="Backups">
          <Backups claim={claim} canRestore={manage && claim.phase === 'ready'} />
        </Section>
      )}
      <Section title="Operations">
        <Operations claim={claim} />
      </Section>
    </>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Box component="section" aria-label={title} sx={{ mt: 2, minWidth: 0 }}>
      <Typography variant="h6" component="h2" sx={{ mb: 1 }}>
        {title}
      </Typography>
      {children}
    </Box>
  );
}

function Status({ claim }: { claim: ClaimView }) {
  if (claim.phase === 'provisioning') return <Alert severity="info" role="status">Provisioning{claim.step !== null ? `: done ${claim.step}` : ''}…</Alert>;
  if (claim.phase === 'deleting') return <Alert severity="warning" role="status">Deleting: taking the final backup, then removing it{claim.step !== null ? ` (done ${claim.step})` : ''}…</Alert>;
  if (claim.phase === 'failed') return <Alert severity="error" role="status">Failed{claim.step !== null ? ` after ${claim.step}` : ''}: {claim.lastError ?? 'no reason recorded'}. Delete it or claim again.</Alert>;
  return (
    <Alert severity="success" role="status">
      Ready{claim.provisionMs !== null ? ` (provisioned in ${claim.provisionMs} ms)` : ''}.
    </Alert>
  );
}

function Facts({ claim }: { claim: ClaimView }) {
  const rows: [string, string][] = [
    ['Claim id', claim.id],
    ['Module', `${claim.module}@${claim.version} (${claim.provider})`],
    ['Preset', claim.preset],
    ['Inputs', describeInputs(claim.inputs)],
    ['Owner', claim.owner],
    ['Tags', Object.entries(claim.tags).map(([k, v]) => `${k}=${v}`).join(', ')],
    ['Monthly cost', formatMonthly(claim.cost.monthly, claim.cost.currency)],
    ['Created', `${formatDateTime(claim.createdAt, true)} by ${claim.createdBy}`],
    ['Ready', formatDateTime(claim.readyAt, true)],
    ['Last step', claim.step ?? '—'],
  ];
  if (claim.lastError !== null) rows.push(['Last error', claim.lastError]);
  return <FactList rows={rows} />;
}

/** Output values as the server gives them; credentials are secret references (`…Ref`), never values. */
function Outputs({ claim }: { claim: ClaimView }) {
  const entries = Object.entries(claim.outputs);
  if (entries.length === 0) return <Typography variant="body2">{claim.phase === 'provisioning' ? 'Outputs appear when it is ready.' : 'No outputs.'}</Typography>;
  return (
    <TableContainer component={Paper} variant="outlined">
      <Table size="small" aria-label="Outputs">
        <TableBody>
          {entries.map(([key, value]) => (
            <TableRow key={key}>
              <TableCell component="th" scope="row" sx={{ width: 140, fontWeight: 500 }}>
                {key}
              </TableCell>
              <TableCell sx={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>{value}</TableCell>
              <TableCell sx={{ width: 130 }}>{isSecretRef(key) ? <Chip size="small" label="secret reference" variant="outlined" /> : null}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}

function Drift({ claim }: { claim: ClaimView }) {
  if (claim.drift === null) return <Typography variant="body2">No drift found: the server matches the claim as of the last check.</Typography>;
  return (
    <Alert severity="warning">
      Drift detected {formatDateTime(claim.drift.detectedAt, true)}:
      <Box component="ul" sx={{ m: 0, pl: 2 }}>
        {claim.drift.problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </Box>
    </Alert>
  );
}

function History({ claim }: { claim: ClaimView }) {
  const history = useClaimHistory(claim);
  if (history.error !== null) return <ErrorNotice error={history.error} onRetry={() => void history.refetch()} />;
  if (history.data === undefined) return <Loading label="Loading the history" />;
  if (history.data.length === 0) return <Typography variant="body2">Nothing recorded yet.</Typography>;
  return (
    <TableContainer component={Paper} variant="outlined" sx={{ maxHeight: 320 }}>
      <Table size="small" stickyHeader aria-label="History">
        <TableHead>
          <TableRow>
            <TableCell>When</TableCell>
            <TableCell>Event</TableCell>
            <TableCell>By</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {history.data.map((e) => (
            <TableRow key={e.seq}>
              <TableCell sx={{ whiteSpace: 'nowrap' }}>{formatDateTime(e.time, true)}</TableCell>
              <TableCell>{e.kind.replace(/^resources\./, '')}</TableCell>
              <TableCell>{e.actor ?? '—'}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}

function Backups({ claim, canRestore }: { claim: ClaimView; canRestore: boolean }) {
  const backups = useClaimBackups(claim.id, true);
  if (backups.error !== null) return <ErrorNotice error={backups.error} onRetry={() => void backups.refetch()} />;
  if (backups.data === undefined) return <Loading label="Loading the backups" />;
  if (backups.data.length === 0) return <Typography variant="body2">No backups yet{claim.phase === 'ready' ? ': take one now, or wait for the schedule' : ''}.</Typography>;
  return (
    <TableContainer component={Paper} variant="outlined">
      <Table size="small" aria-label="Backups">
        <TableHead>
          <TableRow>
            <TableCell>Backup</TableCell>
            <TableCell>Kind</TableCell>
            <TableCell align="right">Size</TableCell>
            <TableCell>Taken</TableCell>
            <TableCell>Kept until</TableCell>
            {canRestore && <TableCell />}
          </TableRow>
        </TableHead>
        <TableBody>
          {backups.data.map((b) => (
            <TableRow key={b.id}>
              <TableCell sx={{ fontFamily: 'monospace' }}>{b.id}</TableCell>
              <TableCell>{b.kind}</TableCell>
              <TableCell align="right">{formatBytes(b.bytes)}</TableCell>
              <TableCell>{formatDateTime(b.createdAt)}</TableCell>
              <TableCell>{formatDateTime(b.expiresAt)}</TableCell>
              {canRestore && (
                <TableCell align="right">
                  <RestoreButton claim={claim} backupId={b.id} />
                </TableCell>
              )}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function Operations({ claim }: { claim: ClaimView }) {
  const operations = useClaimOperations(claim.id, true);
  if (operations.error !== null) return <ErrorNotice error={operations.error} onRetry={() => void operations.refetch()} />;
  if (operations.data === undefined) return <Loading label="Loading the operations" />;
  if (operations.data.length === 0) return <Typography variant="body2">No backups, restores or rotations requested yet.</Typography>;
  return (
    <TableContainer component={Paper} variant="outlined">
      <Table size="small" aria-label="Operations">
        <TableHead>
          <TableRow>
            <TableCell>Operation</TableCell>
            <TableCell>Status</TableCell>
            <TableCell>Backup</TableCell>
            <TableCell>Detail</TableCell>
            <TableCell>Requested</TableCell>
            <TableCell>Finished</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {operations.data.map((op) => (
            <TableRow key={op.id}>
              <TableCell>{op.kind}</TableCell>
              <TableCell>
                <Chip size="small" label={op.phase} color={op.phase === 'succeeded' ? 'success' : op.phase === 'failed' ? 'error' : 'info'} />
              </TableCell>
              <TableCell sx={{ fontFamily: 'monospace' }}>{op.backupId ?? '—'}</TableCell>
              <TableCell>{op.error ?? op.detail ?? '—'}</TableCell>
              <TableCell>
                {formatDateTime(op.createdAt)} by {op.createdBy}
              </TableCell>
              <TableCell>{formatDateTime(op.finishedAt)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
