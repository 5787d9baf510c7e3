import { useMemo } from 'react';
import uPlotLib from 'uplot';
import type uPlot from 'uplot';
import { si, siTicks } from '../format.js';
import { AXIS, TIME_AXIS, UPlotChart } from './uplot-chart.js';

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
}

/** Time series on one scale, several lines: per-kind traffic, per-upstream trends. */
export function SeriesChart({ times, lines, unit = '', height = 240, stepped = false, testId }: SeriesChartProps) {
  const key = lines.map((l) => `${l.label}|${l.color}`).join(',');
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      scales: { x: { time: true } },
      series: [
        {},
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          fill: stepped ? `${l.color}33` : undefined,
          width: 1.5,
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : si(v, unit)),
          ...(stepped ? { paths: (u: uPlot, sidx: number, i0: number, i1: number) => stepPaths(u, sidx, i0, i1) } : {}),
        })),
      ],
      axes: [{ ...TIME_AXIS }, { ...AXIS, values: (_u, ticks) => siTicks(ticks, unit), size: 70 }],
    }),
    [key, unit, stepped],
  );
  const data = useMemo(
    () => [times.map((t) => t / 1000), ...lines.map((l) => [...l.values])] as unknown as uPlot.AlignedData,
    [times, lines],
  );
  if (times.length === 0) return <p className="empty">No data points in this range.</p>;
  return <UPlotChart options={options} data={data} height={height} testId={testId} />;
}

const stepBuilder = uPlotLib.paths.stepped!({ align: 1 });
function stepPaths(u: uPlot, sidx: number, i0: number, i1: number) {
  return stepBuilder(u, sidx, i0, i1);
}
