import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import { useTheme } from '@mui/material/styles';
import { chartGeometry, type ChartSeries } from './charts';

// A small SVG line chart. The style guide's charting library is ECharts; until it is a dependency of
// the portal this draws the same geometry the pure functions in charts.ts compute.

const width = 420;
const height = 160;

export function LineChart({ title, unit, times, series, minMax = 1 }: { title: string; unit: string; times: number[]; series: ChartSeries[]; minMax?: number }) {
  const theme = useTheme();
  const colors = [theme.palette.warning.main, theme.palette.primary.main, theme.palette.success.main];
  const geometry = chartGeometry(times, series, { width, height, minMax });
  const latest = series.map((s) => {
    const value = [...s.values].reverse().find((v) => v !== null);
    return `${s.name} ${value === undefined || value === null ? 'no data' : `${value}${unit}`}`;
  });
  const { plot } = geometry;
  return (
    <Box component="figure" sx={{ m: 0, minWidth: 0 }}>
      <Typography variant="subtitle2" component="figcaption" gutterBottom>
        {title}
      </Typography>
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={`${title}: ${times.length} points; latest ${latest.join(', ')}`} style={{ display: 'block' }}>
        {geometry.yTicks.map((tick) => (
          <g key={tick.label}>
            <line x1={plot.left} x2={plot.right} y1={tick.y} y2={tick.y} stroke={theme.palette.divider} strokeWidth={1} />
            <text x={plot.left - 6} y={tick.y + 4} textAnchor="end" fontSize={10} fill={theme.palette.text.secondary}>
              {tick.label}
            </text>
          </g>
        ))}
        {times.length === 0 && (
          <text x={(plot.left + plot.right) / 2} y={(plot.top + plot.bottom) / 2} textAnchor="middle" fontSize={12} fill={theme.palette.text.secondary}>
            no data yet
          </text>
        )}
        {geometry.paths.map((path, i) => (
          <g key={path.name}>
            <path d={path.d} fill="none" stroke={colors[i % colors.length]} strokeWidth={2} strokeLinejoin="round" />
            {path.points.length <= 40 && path.points.map((p, j) => <circle key={j} cx={p.x} cy={p.y} r={2.5} fill={colors[i % colors.length]} />)}
          </g>
        ))}
      </svg>
      <Box sx={{ display: 'flex', gap: 2, mt: 0.5 }}>
        {series.map((s, i) => (
          <Box key={s.name} sx={{ display: 'flex', alignItems: 'center', gap: 0.75 }}>
            <Box aria-hidden sx={{ width: 12, height: 3, bgcolor: colors[i % colors.length] }} />
            <Typography variant="caption">{s.name}</Typography>
          </Box>
        ))}
        <Typography variant="caption" color="text.secondary" sx={{ ml: 'auto' }}>
          {unit.trim()}
        </Typography>
      </Box>
    </Box>
  );
}
