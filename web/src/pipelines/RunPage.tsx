import { useState, type ReactNode } from 'react';
import { Link as RouterLink, useNavigate, useParams } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useMe } from '../app/auth';
import { useEventStream } from '../components/event-stream';
import { formatDateTime } from '../components/format';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { canOperateRun, runKey, runLogStreamUrl, useCancelRun, useRerun, useRun, type RunDetail } from './api';
import { RunArtifacts, TestResults } from './RunResults';
import { RunLogs } from './RunLogs';
import { StageGraph } from './StageGraph';
import { appendLogLine, emptyRunLog, formatMs, isTerminalRunStatus, parseLogLine, refName, runArtifacts, runDurationMs, runTone, shortSha, type RunLog } from './run-view';

const logEvents = ['line', 'end'] as const;

/** A run: its stage graph, live logs, tests, artifacts and durations, with re-run and cancel. */
export function RunPage() {
  const { id = '' } = useParams();
  // A new run id (after a re-run) starts with an empty log and a fresh stream.
  return <RunScreen key={id} id={id} />;
}

function RunScreen({ id }: { id: string }) {
  const run = useRun(id);
  const queryClient = useQueryClient();
  const [log, setLog] = useState<RunLog>(emptyRunLog);
  const [following, setFollowing] = useState(true);
  const [selectedStep, setSelectedStep] = useState<string | undefined>(undefined);
  const [autoScroll, setAutoScroll] = useState(true);
  // The stream sends the stored lines, then live ones, then `end` once the run is over and every line is out.
  const { connected } = useEventStream(following && run.data !== undefined ? runLogStreamUrl(id) : undefined, {
    eventTypes: logEvents,
    closeOn: 'end',
    onMessage: (message) => {
      if (message.type === 'end') {
        setFollowing(false);
        void queryClient.invalidateQueries({ queryKey: runKey(id) });
        return;
      }
      const line = parseLogLine(message.data);
      if (line !== undefined) setLog((current) => appendLogLine(current, line));
    },
  });
  return (
    <QueryState query={run} label="the run">
      {(data) => (
        <RunView
          run={data}
          log={log}
          live={following && connected && !isTerminalRunStatus(data.status)}
          selectedStep={selectedStep}
          onSelectStep={setSelectedStep}
          autoScroll={autoScroll}
          onAutoScroll={setAutoScroll}
        />
      )}
    </QueryState>
  );
}

function RunView(props: { run: RunDetail; log: RunLog; live: boolean; selectedStep: string | undefined; onSelectStep: (s: string | undefined) => void; autoScroll: boolean; onAutoScroll: (on: boolean) => void }) {
  const { run, log, live, selectedStep, onSelectStep } = props;
  const me = useMe();
  const navigate = useNavigate();
  const rerun = useRerun(run.id);
  const cancel = useCancelRun(run.id);
  const allowed = canOperateRun(me, run.ownerRef);
  const running = !isTerminalRunStatus(run.status);
  const steps = run.stages.flatMap((s) => s.steps.map((step) => step.name));
  const failed = run.stages.flatMap((s) => s.steps).filter((s) => s.status === 'failed' || s.status === 'timed-out');
  const notInstalled = run.stages.filter((s) => s.status === 'not-installed').map((s) => s.name);
  return (
    <>
      <PageHeader
        title={`${run.repository} · ${shortSha(run.sha)}`}
        subtitle={
          <>
            <Link component={RouterLink} to={`/runs?repository=${encodeURIComponent(run.repository)}`}>
              All runs of {run.repository}
            </Link>{' '}
            · {refName(run.ref)} · attempt {run.attempt} ({run.trigger}) by {run.createdBy} · {run.definitionVersion}
          </>
        }
        actions={
          allowed ? (
            <>
              {running && (
                <Button color="error" variant="outlined" onClick={() => cancel.mutate()} loading={cancel.isPending}>
                  Cancel
                </Button>
              )}
              <Button variant="contained" onClick={() => rerun.mutate(undefined, { onSuccess: (created) => void navigate(`/runs/${encodeURIComponent(created.id)}`) })} loading={rerun.isPending}>
                Re-run
              </Button>
            </>
          ) : undefined
        }
      />
      <Stack spacing={2}>
        <Paper variant="outlined" sx={{ p: 2, display: 'flex', gap: 3, flexWrap: 'wrap', alignItems: 'center' }}>
          <Box role="status" aria-label="Run status">
            <Chip label={run.status} color={runTone[run.status]} />
          </Box>
          <Fact label="Commit" value={<span title={run.sha}>{shortSha(run.sha)}</span>} mono />
          <Fact label="Attempt" value={String(run.attempt)} />
          <Fact label="Queued" value={formatDateTime(run.createdAt, true)} />
          <Fact label="Started" value={formatDateTime(run.startedAt, true)} />
          <Fact label="Runner" value={run.runner ?? '—'} mono />
          <Fact label="Duration" value={formatMs(runDurationMs(run, Date.now()))} />
        </Paper>
        {rerun.isError && <Alert severity="error">{rerun.error.message}</Alert>}
        {cancel.isError && <Alert severity="error">{cancel.error.message}</Alert>}
        {failed.length > 0 && !running && (
          <Alert severity="error">
            {failed.map((s) => `${s.name}: ${s.message ?? s.status}`).join('; ')}
          </Alert>
        )}
        {run.status === 'incomplete' && (
          <Alert severity="warning">Nothing failed, but {notInstalled.join(', ')} {notInstalled.length === 1 ? 'is' : 'are'} not installed on this platform, so this run proves less than the standard pipeline asks.</Alert>
        )}
        <StageGraph run={run} selectedStep={selectedStep} onSelectStep={onSelectStep} />
        <RunLogs runId={run.id} log={log} steps={steps} selectedStep={selectedStep} onSelectStep={onSelectStep} live={live} autoScroll={props.autoScroll} onAutoScroll={props.onAutoScroll} />
        <TestResults tests={run.tests} />
        <RunArtifacts artifacts={runArtifacts(run)} />
      </Stack>
    </>
  );
}

function Fact({ label, value, mono = false }: { label: string; value: ReactNode; mono?: boolean }) {
  return (
    <Box>
      <Typography variant="caption" color="text.secondary" component="div">
        {label}
      </Typography>
      <Typography variant="body2" sx={mono ? { fontFamily: 'monospace' } : undefined}>
        {value}
      </Typography>
    </Box>
  );
}
