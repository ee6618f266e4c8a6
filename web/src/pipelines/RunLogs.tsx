import { useEffect, useRef, type KeyboardEvent, type WheelEvent } from 'react';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import FormControlLabel from '@mui/material/FormControlLabel';
import Link from '@mui/material/Link';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { linesOfStep, maxKeptLines, type RunLog } from './run-view';

/**
 * The run's log as it arrives: every step's lines, or one step's. With auto-scroll on, the view follows
 * the newest line; scrolling up to read (wheel or keys) turns it off, and switching it back on jumps to the end.
 */
export function RunLogs({
  runId,
  log,
  steps,
  selectedStep,
  onSelectStep,
  live,
  autoScroll,
  onAutoScroll,
}: {
  runId: string;
  log: RunLog;
  steps: string[];
  selectedStep: string | undefined;
  onSelectStep: (step: string | undefined) => void;
  live: boolean;
  autoScroll: boolean;
  onAutoScroll: (on: boolean) => void;
}) {
  const box = useRef<HTMLPreElement>(null);
  const lines = linesOfStep(log, selectedStep);
  const count = lines.length;

  useEffect(() => {
    const el = box.current;
    if (autoScroll && el !== null) el.scrollTop = el.scrollHeight;
  }, [autoScroll, count, selectedStep]);

  // Only the reader scrolling up turns following off: content changing under a filter also fires scroll events.
  const onWheel = (event: WheelEvent<HTMLPreElement>) => {
    if (autoScroll && event.deltaY < 0) onAutoScroll(false);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLPreElement>) => {
    if (autoScroll && ['ArrowUp', 'PageUp', 'Home'].includes(event.key)) onAutoScroll(false);
  };

  const textUrl = `/api/pipelines/runs/${encodeURIComponent(runId)}/logs${selectedStep === undefined ? '' : `?step=${encodeURIComponent(selectedStep)}`}`;
  return (
    <Paper variant="outlined" component="section" aria-label="Logs" sx={{ p: 2 }}>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mb: 1.5, flexWrap: 'wrap' }}>
        <Typography variant="h6" component="h2" sx={{ flex: 1 }}>
          Logs
        </Typography>
        {live && <Chip size="small" color="info" label="live" aria-label="Following live" />}
        <TextField
          select
          size="small"
          label="Step"
          value={selectedStep ?? ''}
          onChange={(e) => onSelectStep(e.target.value === '' ? undefined : e.target.value)}
          slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }}
          sx={{ minWidth: 180 }}
        >
          <MenuItem value="">All steps</MenuItem>
          {steps.map((s) => (
            <MenuItem key={s} value={s}>
              {s}
            </MenuItem>
          ))}
        </TextField>
        <FormControlLabel control={<Switch checked={autoScroll} onChange={(e) => onAutoScroll(e.target.checked)} />} label="Auto-scroll" />
      </Box>
      <Box
        component="pre"
        ref={box}
        onWheel={onWheel}
        onKeyDown={onKeyDown}
        tabIndex={0}
        aria-label="Log lines"
        aria-live="off"
        sx={{ m: 0, p: 1.5, bgcolor: 'grey.900', color: 'grey.100', borderRadius: 1, overflow: 'auto', height: 380, fontSize: 12.5, lineHeight: 1.5, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
      >
        {count === 0 ? (
          <Box component="span" sx={{ color: 'grey.500' }}>
            {live ? 'Waiting for log lines…' : 'No log lines.'}
          </Box>
        ) : (
          lines.map((line) => (
            <Box component="span" key={line.seq} sx={{ display: 'block', color: line.stream === 'stderr' ? 'warning.light' : line.stream === 'system' ? 'info.light' : undefined }}>
              <Box component="span" sx={{ color: 'grey.500' }}>
                {line.time.slice(11, 19)}{' '}
              </Box>
              {selectedStep === undefined && (
                <Box component="span" sx={{ color: 'grey.400' }}>
                  [{line.step}]{' '}
                </Box>
              )}
              {line.text}
            </Box>
          ))
        )}
      </Box>
      <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 1 }}>
        {log.lines.length >= maxKeptLines ? `Showing the last ${maxKeptLines} lines. ` : ''}
        <Link href={textUrl} target="_blank" rel="noreferrer">
          Open the stored log as JSON
        </Link>
      </Typography>
    </Paper>
  );
}
