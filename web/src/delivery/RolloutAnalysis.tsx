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
import { QueryState } from '../components/QueryState';
import { formatDateTime } from '../components/format';
import { useTraffic, type RolloutView, type TrafficView } from './api';
import { analysisSeries, type AnalysisSample } from './charts';
import { LineChart } from './LineChart';
import { readAnalysis } from './rollout-view';

const verdictTone = { pass: 'success', fail: 'error', inconclusive: 'warning', skipped: 'default' } as const;

/** The last analysis (each check with value, threshold and p-value) and canary-vs-stable charts over the looks seen on this page. */
export function AnalysisPanel({ view, samples }: { view: RolloutView; samples: AnalysisSample[] }) {
  const analysis = readAnalysis(view.lastAnalysis);
  const series = analysisSeries(samples);
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
      <Box sx={{ display: 'grid', gap: 3, gridTemplateColumns: 'repeat(auto-fit, minmax(260px, 1fr))' }}>
        <LineChart title="5xx rate" unit=" %" times={series.times} series={series.errorRate} minMax={1} />
        <LineChart title="p99 latency" unit=" ms" times={series.times} series={series.p99} minMax={10} />
        <LineChart title="Traffic weight" unit=" %" times={series.weightTimes} series={series.weight} minMax={100} />
      </Box>
      <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 1 }}>
        Each point is one analysis the controller recorded while this page was open; the window restarts at every step.
      </Typography>
    </Paper>
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
