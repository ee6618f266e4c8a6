import { useState } from 'react';
import { Link as RouterLink, useNavigate, useParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import LinearProgress from '@mui/material/LinearProgress';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useMe } from '../app/auth';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { formatDateTime } from '../components/format';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { canSteer, useRollout, useRolloutCommand, useRollouts, useUndo, type RolloutCommand, type RolloutView } from './api';
import { AnalysisPanel, TrafficPanel } from './RolloutAnalysis';
import { RolloutTable } from './RolloutTable';
import { availableCommands, describeStrategy, isTerminalPhase, phaseTone, readStrategy, shortDigest, stepLabel } from './rollout-view';

/** A rollout, live: weight, step and phase, canary-vs-stable analysis over time, the gates, and the service's history here. */
export function RolloutPage() {
  const { id = '' } = useParams();
  return <RolloutScreen key={id} id={id} />;
}

function RolloutScreen({ id }: { id: string }) {
  const rollout = useRollout(id);
  return <QueryState query={rollout} label="the rollout">{(view) => <RolloutDetail view={view} />}</QueryState>;
}

function RolloutDetail({ view }: { view: RolloutView }) {
  const me = useMe();
  const allowed = canSteer(me, view.ownerRef);
  const live = !isTerminalPhase(view.phase);
  const history = useRollouts({ service: view.service, environment: view.environment, limit: 20 });
  // Undo goes back from the last promotion, and only when nothing is rolling out (it would abort that instead).
  const lastPromoted = history.data?.find((r) => r.phase === 'succeeded');
  const canUndo = lastPromoted?.id === view.id && view.previousReleaseId !== null && history.data?.every((r) => isTerminalPhase(r.phase)) === true;
  return (
    <>
      <PageHeader
        title={`${view.service} ${view.version} → ${view.environment}`}
        subtitle={
          <>
            <Link component={RouterLink} to="/delivery">
              Delivery
            </Link>{' '}
            · rollout {view.id.slice(0, 8)} started {formatDateTime(view.createdAt, true)} by {view.createdBy} · {describeStrategy(view.strategy)}
          </>
        }
        actions={allowed ? <RolloutActions view={view} canUndo={canUndo} /> : undefined}
      />
      <Stack spacing={2}>
        <RolloutStatus view={view} />
        <AnalysisPanel view={view} />
        <TrafficPanel view={view} live={live} />
        <Paper variant="outlined" component="section" aria-label="History" sx={{ p: 2 }}>
          <Typography variant="h6" component="h2" gutterBottom>
            History of {view.service} in {view.environment}
          </Typography>
          <QueryState query={history} label="the history">
            {(items) => <RolloutTable rollouts={items} label={`Rollouts of ${view.service} in ${view.environment}`} current={view.id} />}
          </QueryState>
        </Paper>
      </Stack>
    </>
  );
}

function RolloutStatus({ view }: { view: RolloutView }) {
  const strategy = readStrategy(view.strategy);
  const steps = strategy.kind === 'canary' ? strategy.weights : [];
  return (
    <Paper variant="outlined" sx={{ p: 2 }}>
      <Box sx={{ display: 'flex', gap: 3, alignItems: 'center', flexWrap: 'wrap' }}>
        <Box role="status" aria-label="Rollout phase">
          <Chip label={view.phase} color={phaseTone[view.phase]} />
        </Box>
        {view.pendingCommand !== null && <Chip variant="outlined" label={`${view.pendingCommand} pending`} />}
        <Box sx={{ flex: '1 1 280px' }}>
          <Box sx={{ display: 'flex', justifyContent: 'space-between', mb: 0.5 }}>
            <Typography variant="body2">
              New release <strong aria-label="Current weight">{view.weightPercent}%</strong> of traffic
            </Typography>
            <Typography variant="body2" color="text.secondary" aria-label="Current step">
              {stepLabel(view)}
            </Typography>
          </Box>
          <LinearProgress variant="determinate" value={view.weightPercent} aria-label="Canary weight" sx={{ height: 10, borderRadius: 5 }} color={view.phase === 'rolled-back' || view.phase === 'failed' ? 'error' : 'primary'} />
        </Box>
        <Box>
          <Typography variant="caption" color="text.secondary" component="div">
            Artifact
          </Typography>
          <Typography variant="body2" sx={{ fontFamily: 'monospace' }} title={view.artifactDigest}>
            {shortDigest(view.artifactDigest)}
          </Typography>
        </Box>
        {view.commit !== null && (
          <Box>
            <Typography variant="caption" color="text.secondary" component="div">
              Commit
            </Typography>
            <Typography variant="body2" sx={{ fontFamily: 'monospace' }} title={view.commit}>
              {view.commit.slice(0, 7)}
            </Typography>
          </Box>
        )}
      </Box>
      {steps.length > 0 && (
        <Box component="ol" aria-label="Canary steps" sx={{ display: 'flex', gap: 1, listStyle: 'none', p: 0, m: 0, mt: 2, flexWrap: 'wrap' }}>
          {[...steps, 100].map((weight, i) => {
            const done = view.phase === 'succeeded' || i < view.stepIndex;
            const current = !isTerminalPhase(view.phase) && i === view.stepIndex;
            return (
              <li key={i}>
                <Chip size="small" label={`${weight}%`} color={current ? 'primary' : done ? 'success' : 'default'} variant={current || done ? 'filled' : 'outlined'} aria-current={current ? 'step' : undefined} />
              </li>
            );
          })}
        </Box>
      )}
      {view.message !== null && (
        <Alert severity={view.phase === 'rolled-back' || view.phase === 'failed' ? 'error' : view.phase === 'succeeded' ? 'success' : 'info'} sx={{ mt: 2 }}>
          {view.message}
        </Alert>
      )}
      {view.approvals.length > 0 && (
        <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }}>
          {view.approvals.map((a) => `step ${a.step + 1} approved by ${a.by} at ${formatDateTime(a.at, true)}`).join('; ')}
        </Typography>
      )}
    </Paper>
  );
}

const commandLabels: Record<RolloutCommand, string> = { promote: 'Promote', abort: 'Abort', pause: 'Pause', resume: 'Resume', approve: 'Approve' };

function RolloutActions({ view, canUndo }: { view: RolloutView; canUndo: boolean }) {
  const command = useRolloutCommand(view.id);
  const undo = useUndo(view.service, view.environment);
  const navigate = useNavigate();
  const [confirm, setConfirm] = useState<'abort' | 'undo' | undefined>(undefined);
  const available = availableCommands(view.phase);
  const run = (name: RolloutCommand) => command.mutate(name, { onSuccess: () => setConfirm(undefined) });
  const buttons = (['approve', 'promote', 'pause', 'resume'] as const).filter((name) => available[name]);
  return (
    <>
      {buttons.map((name) => (
        <Button key={name} variant={name === 'promote' || name === 'approve' ? 'contained' : 'outlined'} onClick={() => run(name)} loading={command.isPending && command.variables === name} disabled={view.pendingCommand !== null}>
          {commandLabels[name]}
        </Button>
      ))}
      {available.abort && (
        <Button color="error" variant="outlined" onClick={() => setConfirm('abort')} disabled={view.pendingCommand !== null}>
          Abort
        </Button>
      )}
      {canUndo && (
        <Button color="error" variant="outlined" onClick={() => setConfirm('undo')}>
          Roll back
        </Button>
      )}
      {command.isError && confirm === undefined && (
        <Alert severity="error" sx={{ width: '100%' }}>
          {command.error.message}
        </Alert>
      )}
      <ConfirmDialog
        open={confirm === 'abort'}
        title={`Abort ${view.service} ${view.version}?`}
        confirmLabel="Abort rollout"
        pending={command.isPending}
        error={confirm === 'abort' ? command.error : null}
        onConfirm={() => run('abort')}
        onClose={() => setConfirm(undefined)}
      >
        All traffic goes back to the stable release and {view.version} stops.
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === 'undo'}
        title={`Roll back ${view.service} in ${view.environment}?`}
        confirmLabel="Roll back"
        pending={undo.isPending}
        error={undo.error}
        onConfirm={() => undo.mutate(undefined, { onSuccess: (created) => { setConfirm(undefined); void navigate(`/delivery/rollouts/${encodeURIComponent(created.id)}`); } })}
        onClose={() => setConfirm(undefined)}
      >
        The release that was stable before {view.version} is deployed again at once, without a canary.
      </ConfirmDialog>
    </>
  );
}
