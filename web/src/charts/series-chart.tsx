import { useMemo } from 'react';
import uPlotLib from 'uplot';
import type uPlot from 'uplot';
import { si, siTicks } from '../format.js';
import { AXIS, breakGaps, fitToLabels, legendValue, TIME_AXIS, TIME_SERIES, UPlotChart } from './uplot-chart.js';

export interface SeriesLine {
  label: string;
  color: string;
  values: readonly (number | null)[];
}

export interface SeriesChartProps {
  /** Bucket starts, ms since epoch. */
  times: readonly number[];
  lines: readonly SeriesLine[];
  unit?: string;
  height?: number;
  /** Draw as stepped bars per bucket (rollups) instead of lines. */
  stepped?: boolean;
  testId?: string;
  /** The selected range [from, to) in ms: the x axis spans it even where there is no data. */
  range?: { from: number; to: number };
  /** Break lines where buckets are missing (sparse rows); dense bucket series need not. */
  gaps?: boolean;
}

/** Time series on one scale, several lines: per-kind traffic, per-upstream trends. */
export function SeriesChart({
  times,
  lines,
  unit = '',
  height = 240,
  stepped = false,
  testId,
  range,
  gaps = false,
}: SeriesChartProps) {
  const rangeKey = range ? `${range.from}-${range.to}` : '';
  const key = lines.map((l) => `${l.label}|${l.color}`).join(',');
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      scales: {
        x: range
          ? { time: true, range: (): uPlot.Range.MinMax => [range.from / 1000, range.to / 1000] }
          : { time: true },
      },
      series: [
        TIME_SERIES,
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          fill: stepped ? `${l.color}33` : undefined,
          width: 1.5,
          value: legendValue((v) => si(v, unit)),
          ...(stepped ? { paths: (u: uPlot, sidx: number, i0: number, i1: number) => stepPaths(u, sidx, i0, i1) } : {}),
        })),
      ],
      axes: [{ ...TIME_AXIS }, { ...AXIS, values: (_u, ticks) => siTicks(ticks, unit), size: fitToLabels(70) }],
    }),
    [key, unit, stepped, rangeKey],
  );
  const data = useMemo(() => {
    const t = times.map((x) => x / 1000);
    const cols = lines.map((l) => [...l.values]);
    if (!gaps) return [t, ...cols] as unknown as uPlot.AlignedData;
    const g = breakGaps(t, cols);
    return [g.t, ...g.cols] as unknown as uPlot.AlignedData;
  }, [times, lines, gaps]);
  if (times.length === 0) return <p className="empty">No data points in this range.</p>;
  return <UPlotChart options={options} data={data} height={height} testId={testId} />;
}

const stepBuilder = uPlotLib.paths.stepped!({ align: 1 });
function stepPaths(u: uPlot, sidx: number, i0: number, i1: number) {
  return stepBuilder(u, sidx, i0, i1);
}
