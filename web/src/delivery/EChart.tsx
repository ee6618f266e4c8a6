import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import ReactECharts from 'echarts-for-react/esm/core';
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { LineChartOption } from './charts';

// ECharts, tree-shaken to what the rollout charts draw (STYLE §9: the options come from charts.ts).
// The SVG renderer keeps the charts crisp at any zoom and lets a browser test read what is drawn.
echarts.use([LineChart, GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, SVGRenderer]);

/** A titled chart; `summary` names it for assistive tech (and tests): what it shows and its latest values. */
export function EChart({ title, summary, option, height = 200 }: { title: string; summary: string; option: LineChartOption; height?: number }) {
  const points = option.series[0]?.data.length ?? 0;
  return (
    <Box component="figure" sx={{ m: 0, minWidth: 0 }}>
      <Typography variant="subtitle2" component="figcaption" gutterBottom>
        {title}
      </Typography>
      <Box role="img" aria-label={summary} data-points={points} sx={{ position: 'relative' }}>
        <ReactECharts echarts={echarts} option={option} notMerge opts={{ renderer: 'svg' }} style={{ height, width: '100%' }} />
        {points === 0 && (
          <Typography variant="caption" color="text.secondary" sx={{ position: 'absolute', inset: 0, display: 'grid', placeItems: 'center', pointerEvents: 'none' }}>
            no analysis yet
          </Typography>
        )}
      </Box>
    </Box>
  );
}
