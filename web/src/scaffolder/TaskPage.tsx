import { useState } from 'react';
import { Link as RouterLink, useParams } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import Accordion from '@mui/material/Accordion';
import AccordionDetails from '@mui/material/AccordionDetails';
import AccordionSummary from '@mui/material/AccordionSummary';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useEventStream } from '../components/event-stream';
import { entityRoute } from '../components/entity-refs';
import { formatDateTime } from '../components/format';
import { ExpandMoreIcon, LinkIcon, OpenInNewIcon } from '../components/icons';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { isTaskFinished, taskEventStreamUrl, taskKey, useCancelTask, useRetryTask, useTask, type Task } from './api';
import { applyTaskEvent, emptyTaskLog, parseTaskEvent, type TaskLog } from './task-log';

type StepStatus = Task['steps'][number]['status'];

export const statusColor: Record<StepStatus, 'default' | 'info' | 'success' | 'error' | 'warning'> = {
  open: 'default',
  processing: 'info',
  completed: 'success',
  failed: 'error',
  skipped: 'default',
  cancelled: 'warning',
};

const eventTypes = ['log', 'completion', 'cancelled'] as const;

/** "0.4 s", "12.0 s", "3 min 5 s": step durations are mostly short. */
function formatElapsed(startedAt: string | undefined, endedAt: string | undefined): string | undefined {
  if (startedAt === undefined || endedAt === undefined) return undefined;
  const ms = Date.parse(endedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A task: its steps live from the event stream, with logs, cancel and retry, and its output when done. */
export function TaskPage() {
  const { id = '' } = useParams();
  const task = useTask(id);
  const queryClient = useQueryClient();
  const [log, setLog] = useState<TaskLog>(emptyTaskLog);
  // The stream replays every event from the start, so a reload shows the same logs; it stops at the
  // completion event and starts again after a retry.
  const [following, setFollowing] = useState(true);
  useEventStream(following && task.data !== undefined ? taskEventStreamUrl(id) : undefined, {
    eventTypes,
    closeOn: 'completion',
    onMessage: (message) => {
      const event = parseTaskEvent(message.data);
      if (event === undefined) return;
      setLog((current) => applyTaskEvent(current, event));
      if (event.type !== 'log' || typeof event.body.status === 'string') void queryClient.invalidateQueries({ queryKey: taskKey(id) });
      if (event.type === 'completion') setFollowing(false);
    },
  });
  return (
    <QueryState query={task} label="the task">
      {(data) => <TaskView task={data} log={log} onRetried={() => setFollowing(true)} />}
    </QueryState>
  );
}

function TaskView({ task, log, onRetried }: { task: Task; log: TaskLog; onRetried: () => void }) {
  const cancel = useCancelTask(task.id);
  const retry = useRetryTask(task.id);
  const running = !isTaskFinished(task.status);
  const template = task.spec.templateInfo.entityRef;
  const taskLines = log.lines[''] ?? [];
  return (
    <>
      <PageHeader
        title={`Task ${task.id.slice(0, 8)}`}
        subtitle={
          <>
            {template} · started {formatDateTime(task.createdAt, true)} by {task.createdBy}
          </>
        }
        actions={
          <>
            {running && (
              <Button color="error" variant="outlined" onClick={() => cancel.mutate()} loading={cancel.isPending}>
                Cancel
              </Button>
            )}
            {task.status === 'failed' && (
              <Button variant="contained" onClick={() => retry.mutate(undefined, { onSuccess: onRetried })} loading={retry.isPending}>
                Retry
              </Button>
            )}
          </>
        }
      />
      <Stack spacing={2}>
        <Box role="status" aria-label="Task status">
          <Chip label={task.status} color={statusColor[task.status]} />
        </Box>
        {cancel.isError && <Alert severity="error">{cancel.error.message}</Alert>}
        {retry.isError && <Alert severity="error">{retry.error.message}</Alert>}
        {task.status === 'failed' && task.error !== null && <Alert severity="error">{task.error}</Alert>}
        {task.status === 'cancelled' && <Alert severity="warning">The task was cancelled; later steps did not run.</Alert>}
        <Box component="ol" aria-label="Steps" sx={{ listStyle: 'none', p: 0, m: 0 }}>
          {task.steps.map((step) => (
            <li key={step.id}>
              <StepPanel step={step} lines={log.lines[step.id] ?? []} />
            </li>
          ))}
        </Box>
        {taskLines.length > 0 && (
          <Accordion disableGutters variant="outlined">
            <AccordionSummary expandIcon={<ExpandMoreIcon />} aria-controls="task-log" id="task-log-header">
              <Typography>Task log</Typography>
            </AccordionSummary>
            <AccordionDetails id="task-log">
              <LogLines label="Task log lines" lines={taskLines} />
            </AccordionDetails>
          </Accordion>
        )}
        {task.status === 'completed' && task.output !== null && <TaskOutput output={task.output} />}
      </Stack>
    </>
  );
}

function StepPanel({ step, lines }: { step: Task['steps'][number]; lines: string[] }) {
  const [expanded, setExpanded] = useState<boolean | undefined>(undefined);
  // Open by default while it runs or when it failed; the user's own choice wins once made.
  const open = expanded ?? (step.status === 'processing' || step.status === 'failed');
  const elapsed = formatElapsed(step.startedAt, step.endedAt);
  const panelId = `step-${step.id}`;
  return (
    <Accordion disableGutters variant="outlined" expanded={open} onChange={(_e, value) => setExpanded(value)} aria-label={`Step ${step.name}: ${step.status}`}>
      <AccordionSummary expandIcon={<ExpandMoreIcon />} aria-controls={`${panelId}-log`} id={`${panelId}-header`}>
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, width: '100%' }}>
          <Chip size="small" label={step.status} color={statusColor[step.status]} variant={step.status === 'open' ? 'outlined' : 'filled'} sx={{ minWidth: 96 }} />
          <Typography sx={{ flex: 1 }}>{step.name}</Typography>
          <Typography variant="body2" color="text.secondary" sx={{ fontFamily: 'monospace' }}>
            {step.action}
          </Typography>
          {elapsed !== undefined && (
            <Typography variant="body2" color="text.secondary" sx={{ minWidth: 64, textAlign: 'right' }}>
              {elapsed}
            </Typography>
          )}
        </Box>
      </AccordionSummary>
      <AccordionDetails id={`${panelId}-log`}>
        {lines.length === 0 ? <Typography variant="body2" color="text.secondary">No log lines yet.</Typography> : <LogLines label={`Log of ${step.name}`} lines={lines} />}
      </AccordionDetails>
    </Accordion>
  );
}

function LogLines({ label, lines }: { label: string; lines: string[] }) {
  return (
    <Box component="pre" aria-label={label} sx={{ m: 0, p: 1.5, bgcolor: 'action.hover', borderRadius: 1, overflow: 'auto', maxHeight: 360, fontSize: 12.5, whiteSpace: 'pre-wrap' }}>
      {lines.join('\n')}
    </Box>
  );
}

/** An output link: to an entity's page in the portal, or to a URL (the repository). */
type OutputLink = { title: string; entityRef: string } | { title: string; url: string };

function readLinks(value: unknown): OutputLink[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown): OutputLink[] => {
    if (typeof item !== 'object' || item === null) return [];
    const { title, url, entityRef } = item as Record<string, unknown>;
    const name = (fallback: string) => (typeof title === 'string' && title !== '' ? title : fallback);
    if (typeof entityRef === 'string' && entityRef !== '') return [{ title: name(entityRef), entityRef }];
    if (typeof url === 'string' && url !== '') return [{ title: name(url), url }];
    return [];
  });
}

function readTexts(value: unknown): { title: string; content: string }[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const { title, content } = item as Record<string, unknown>;
    return typeof content === 'string' ? [{ title: typeof title === 'string' ? title : 'Output', content }] : [];
  });
}

function TaskOutput({ output }: { output: Record<string, unknown> }) {
  const links = readLinks(output.links);
  const texts = readTexts(output.text);
  if (links.length === 0 && texts.length === 0) return null;
  return (
    <Paper variant="outlined" component="section" aria-label="Output" sx={{ p: 2 }}>
      <Typography variant="h6" component="h2" gutterBottom>
        Output
      </Typography>
      {links.length > 0 && (
        <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', mb: texts.length > 0 ? 2 : 0 }}>
          {links.map((link) =>
            'entityRef' in link ? (
              <Button key={link.title} variant="contained" startIcon={<LinkIcon />} component={RouterLink} to={entityRoute(link.entityRef)}>
                {link.title}
              </Button>
            ) : (
              <Button key={link.title} variant="outlined" startIcon={<OpenInNewIcon />} href={link.url} target="_blank" rel="noreferrer">
                {link.title}
              </Button>
            ),
          )}
        </Box>
      )}
      {texts.map((text) => (
        <Box key={text.title} sx={{ mb: 1 }}>
          <Typography variant="subtitle2">{text.title}</Typography>
          <Typography variant="body2" sx={{ whiteSpace: 'pre-wrap' }}>
            {text.content}
          </Typography>
        </Box>
      ))}
    </Paper>
  );
}
