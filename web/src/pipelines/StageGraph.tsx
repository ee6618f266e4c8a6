import Box from '@mui/material/Box';
import ButtonBase from '@mui/material/ButtonBase';
import Chip from '@mui/material/Chip';
import Paper from '@mui/material/Paper';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { ChevronRightIcon } from '../components/icons';
import type { RunDetail } from './api';
import { formatMs, stageDurationMs, stageTone, stepTone, type Tone } from './run-view';

type Stage = RunDetail['stages'][number];
type Step = Stage['steps'][number];

const toneColor: Record<Tone, string> = { default: 'text.disabled', info: 'info.main', success: 'success.main', error: 'error.main', warning: 'warning.main' };

/**
 * The run's stages left to right, each with its steps. A step's colour is its status; skipped and
 * not-installed steps are grey and amber, never green. Clicking a step filters the log to it.
 */
export function StageGraph({ run, selectedStep, onSelectStep }: { run: RunDetail; selectedStep: string | undefined; onSelectStep: (step: string | undefined) => void }) {
  return (
    <Box component="ol" aria-label="Stage graph" sx={{ display: 'flex', alignItems: 'stretch', flexWrap: 'wrap', gap: 0.5, rowGap: 1.5, listStyle: 'none', p: 0, m: 0 }}>
      {run.stages.map((stage, i) => (
        <Box component="li" key={stage.name} sx={{ display: 'flex', alignItems: 'center', gap: 0.5 }}>
          {i > 0 && <ChevronRightIcon color="action" />}
          <StageColumn stage={stage} selectedStep={selectedStep} onSelectStep={onSelectStep} />
        </Box>
      ))}
    </Box>
  );
}

function StageColumn({ stage, selectedStep, onSelectStep }: { stage: Stage; selectedStep: string | undefined; onSelectStep: (step: string | undefined) => void }) {
  const duration = stageDurationMs(stage.steps);
  return (
    <Paper
      variant="outlined"
      role="group"
      aria-label={`Stage ${stage.name}: ${stage.status}`}
      sx={{ p: 1.25, width: 200, height: '100%', borderTop: 4, borderTopColor: toneColor[stageTone[stage.status]] }}
    >
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, mb: 1 }}>
        <Typography variant="subtitle2" sx={{ flex: 1 }}>
          {stage.name}
        </Typography>
        <Chip size="small" label={stage.status} color={stageTone[stage.status]} variant={stage.status === 'pending' ? 'outlined' : 'filled'} />
      </Box>
      {duration !== null && (
        <Typography variant="caption" color="text.secondary" component="div" sx={{ mb: 0.5 }}>
          {formatMs(duration)}
        </Typography>
      )}
      <Box component="ul" sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 0.5 }}>
        {stage.steps.map((step) => (
          <li key={step.name}>
            <StepButton step={step} selected={selectedStep === step.name} onSelect={() => onSelectStep(selectedStep === step.name ? undefined : step.name)} />
          </li>
        ))}
      </Box>
    </Paper>
  );
}

function StepButton({ step, selected, onSelect }: { step: Step; selected: boolean; onSelect: () => void }) {
  const tone = stepTone[step.status];
  const detail = [step.command, step.message, step.attempts > 1 ? `${step.attempts} attempts` : null, step.exitCode !== null ? `exit ${step.exitCode}` : null].filter(Boolean).join(' · ');
  return (
    <Tooltip title={detail} placement="bottom-start" disableInteractive>
      <ButtonBase
        onClick={onSelect}
        aria-pressed={selected}
        aria-label={`Step ${step.name}: ${step.status}`}
        sx={{
          width: '100%', justifyContent: 'flex-start', gap: 1, px: 1, py: 0.5, borderRadius: 1, textAlign: 'left',
          bgcolor: selected ? 'action.selected' : 'transparent', '&:hover': { bgcolor: 'action.hover' },
        }}
      >
        <Box aria-hidden sx={{ width: 10, height: 10, borderRadius: '50%', flexShrink: 0, bgcolor: toneColor[tone], ...(step.status === 'running' ? { animation: 'plinth-pulse 1s ease-in-out infinite alternate', '@keyframes plinth-pulse': { from: { opacity: 1 }, to: { opacity: 0.3 } } } : {}) }} />
        <Typography variant="body2" sx={{ flex: 1 }}>
          {step.name}
        </Typography>
        <Typography variant="caption" color={tone === 'default' ? 'text.secondary' : `${tone}.main`} sx={{ whiteSpace: 'nowrap' }}>
          {step.status === 'passed' || step.status === 'failed' || step.status === 'timed-out' ? formatMs(step.durationMs) : step.status}
        </Typography>
      </ButtonBase>
    </Tooltip>
  );
}
