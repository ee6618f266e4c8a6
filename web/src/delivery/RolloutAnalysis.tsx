import { lazy, Suspense } from 'react';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import { useTheme } from '@mui/material/styles';
import { QueryState } from '../components/QueryState';
import { formatDateTime } from '../components/format';
import { useRolloutAnalyses, useTraffic, type AnalysisRecord, type RolloutView, type TrafficView } from './api';
import { chartSummary, rolloutCharts } from './charts';
import { isTerminalPhase, readAnalysis } from './rollout-view';

// ECharts is the biggest library of the portal: it loads with the first chart, not with the delivery pages.
const EChart = lazy(() => import('./EChart').then((m) => ({ default: m.EChart })));

const verdictTone = { pass: 'success', fail: 'error', inconclusive: 'warning', skipped: 'default' } as const;

/** The last analysis (each check with value, threshold and p-value) and canary-vs-stable charts over every analysis of the rollout. */
export function AnalysisPanel({ view }: { view: RolloutView }) {
  const analysis = readAnalysis(view.lastAnalysis);
  const history = useRolloutAnalyses(view.id, !isTerminalPhase(view.phase));
  return (
    <Paper variant="outlined" component="section" aria-label="Analysis" sx={{ p: 2 }}>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, mb: 1 }}>
        <Typography variant="h6" component="h2" sx={{ flex: 1 }}>
          Analysis: canary vs stable
        </Typography>
        {analysis !== null && <Chip size="small" label={analysis.verdict} color={verdictTone[analysis.verdict]} aria-label={`Last verdict: ${analysis.verdict}`} />}
      </Box>
      {analysis === null ? (
        <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
          No analysis in this step yet: the canary is judged on live gateway traffic once its step begins.
        </Typography>
      ) : (
        <>
          <Typography variant="body2" sx={{ mb: 1 }}>
            {analysis.summary} <Typography component="span" variant="caption" color="text.secondary">({formatDateTime(analysis.at, true)})</Typography>
          </Typography>
          <TableContainer sx={{ mb: 2 }}>
            <Table size="small" aria-label="Analysis checks">
              <TableHead>
                <TableRow>
                  <TableCell>Check</TableCell>
                  <TableCell>Verdict</TableCell>
                  <TableCell align="right">Value</TableCell>
                  <TableCell align="right">Threshold</TableCell>
                  <TableCell align="right">p-value</TableCell>
                  <TableCell>Detail</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {analysis.checks.map((check) => (
                  <TableRow key={check.name}>
                    <TableCell>{check.name}</TableCell>
                    <TableCell>
                      <Chip size="small" label={check.verdict} color={verdictTone[check.verdict]} />
                    </TableCell>
                    <TableCell align="right">{check.value ?? '—'}</TableCell>
                    <TableCell align="right">{check.threshold ?? '—'}</TableCell>
                    <TableCell align="right">{check.pValue === null ? '—' : check.pValue.toPrecision(3)}</TableCell>
                    <TableCell sx={{ fontSize: 12.5 }}>{check.detail}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </TableContainer>
        </>
      )}
      <QueryState query={history} label="the analysis history">
        {(items) => <AnalysisCharts history={items} view={view} />}
      </QueryState>
      <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 1 }}>
        Each point is one analysis the controller stored (older ones thinned past 2,000); the window restarts at every step. Dashed lines: the
        strategy's limits, and where each step began.
      </Typography>
    </Paper>
  );
}

function AnalysisCharts({ history, view }: { history: AnalysisRecord[]; view: RolloutView }) {
  const theme = useTheme();
  const colors = { canary: theme.palette.warning.main, stable: theme.palette.primary.main, threshold: theme.palette.error.main, text: theme.palette.text.secondary, grid: theme.palette.divider };
  const charts = rolloutCharts(history, view, colors);
  return (
    <Box sx={{ display: 'grid', gap: 3, gridTemplateColumns: 'repeat(auto-fit, minmax(300px, 1fr))' }}>
      <Suspense fallback={<Typography variant="body2" color="text.secondary">Loading charts…</Typography>}>
        <EChart title="5xx rate" summary={chartSummary('5xx rate', charts.errorRate, ' %')} option={charts.errorRate} />
        <EChart title="p99 latency" summary={chartSummary('p99 latency', charts.p99, ' ms')} option={charts.p99} />
        <EChart title="Traffic weight" summary={chartSummary('Traffic weight', charts.weight, ' %')} option={charts.weight} />
      </Suspense>
    </Box>
  );
}

/** The gateway's split and counters per release (since the gateway started): what analysis reads. */
export function TrafficPanel({ view, live }: { view: RolloutView; live: boolean }) {
  const traffic = useTraffic(view.service, view.environment, view.phase, live);
  return (
    <Paper variant="outlined" component="section" aria-label="Traffic" sx={{ p: 2 }}>
      <Typography variant="h6" component="h2" gutterBottom>
        Traffic through the gateway
      </Typography>
      <QueryState query={traffic} label="traffic">
        {(data) => <TrafficTable data={data} view={view} />}
      </QueryState>
    </Paper>
  );
}

function roleOf(releaseId: string, data: TrafficView, view: RolloutView): string {
  const roles = [data.split?.stable === releaseId ? 'stable' : null, data.split?.canary === releaseId ? `canary ${data.split.canaryWeightPercent}%` : null].filter(Boolean);
  const which = releaseId === view.releaseId ? `${view.version} (this rollout)` : releaseId === view.previousReleaseId ? 'previous stable' : '';
  return [which, roles.length > 0 ? roles.join(', ') : 'no traffic'].filter(Boolean).join(' · ');
}

function TrafficTable({ data, view }: { data: TrafficView; view: RolloutView }) {
  if (data.stats.length === 0) return <Typography variant="body2" color="text.secondary">No requests through the gateway yet for {view.service}.{view.environment}.localhost.</Typography>;
  return (
    <TableContainer>
      <Table size="small" aria-label="Requests per release">
        <TableHead>
          <TableRow>
            <TableCell>Release</TableCell>
            <TableCell>Role</TableCell>
            <TableCell align="right">Requests</TableCell>
            <TableCell align="right">5xx</TableCell>
            <TableCell align="right">Mean latency</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {data.stats.map((s) => (
            <TableRow key={s.releaseId}>
              <TableCell sx={{ fontFamily: 'monospace' }}>{s.releaseId.slice(0, 8)}</TableCell>
              <TableCell>{roleOf(s.releaseId, data, view)}</TableCell>
              <TableCell align="right">{s.requests}</TableCell>
              <TableCell align="right">{s.statusClasses['5xx'] ?? 0}</TableCell>
              <TableCell align="right">{s.requests === 0 ? '—' : `${(s.latency.sumMs / s.requests).toFixed(1)} ms`}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
