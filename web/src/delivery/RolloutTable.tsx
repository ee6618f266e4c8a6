import { Link as RouterLink } from 'react-router-dom';
import Chip from '@mui/material/Chip';
import LinearProgress from '@mui/material/LinearProgress';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import { formatDateTime } from '../components/format';
import type { RolloutView } from './api';
import { phaseTone, stepLabel } from './rollout-view';

/** Rollouts as rows: service, environment, version, phase, step and weight, started and finished. */
export function RolloutTable({ rollouts, label, current }: { rollouts: RolloutView[]; label: string; current?: string }) {
  if (rollouts.length === 0) return <Typography variant="body2" color="text.secondary">No rollouts.</Typography>;
  return (
    <TableContainer component={Paper} variant="outlined">
      <Table size="small" aria-label={label}>
        <TableHead>
          <TableRow>
            <TableCell>Service</TableCell>
            <TableCell>Environment</TableCell>
            <TableCell>Version</TableCell>
            <TableCell>Phase</TableCell>
            <TableCell>Step</TableCell>
            <TableCell sx={{ minWidth: 120 }}>Weight</TableCell>
            <TableCell>Started</TableCell>
            <TableCell>Finished</TableCell>
            <TableCell>By</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {rollouts.map((r) => (
            <TableRow key={r.id} hover selected={r.id === current}>
              <TableCell>{r.service}</TableCell>
              <TableCell>{r.environment}</TableCell>
              <TableCell>
                <Link component={RouterLink} to={`/delivery/rollouts/${encodeURIComponent(r.id)}`} aria-current={r.id === current ? 'page' : undefined}>
                  {r.version}
                </Link>
              </TableCell>
              <TableCell>
                <Chip size="small" label={r.phase} color={phaseTone[r.phase]} />
              </TableCell>
              <TableCell>{stepLabel(r)}</TableCell>
              <TableCell>
                <LinearProgress variant="determinate" value={r.weightPercent} aria-label={`Weight of ${r.service} ${r.version}`} sx={{ height: 6, borderRadius: 3 }} />
                <Typography variant="caption">{r.weightPercent}%</Typography>
              </TableCell>
              <TableCell>{formatDateTime(r.createdAt)}</TableCell>
              <TableCell>{formatDateTime(r.finishedAt)}</TableCell>
              <TableCell>{r.createdBy}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
