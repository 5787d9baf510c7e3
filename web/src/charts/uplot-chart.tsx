import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { TIME_INCRS, time, timeTickLabels } from '../format.js';
import { useSize } from './use-size.js';

export interface UPlotChartProps {
  /** uPlot options without width/height: the chart fills its container. */
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  /** CSS height of the chart area; width follows the container. */
  height: number;
  testId?: string;
}

/** A thin React wrapper: creates uPlot once per options object, then only swaps data or size. */
export function UPlotChart({ options, data, height, testId }: UPlotChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { width } = useSize(ref);
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    if (!ref.current || width <= 0) return;
    const p = new uPlot({ ...options, width, height }, dataRef.current, ref.current);
    plot.current = p;
    return () => {
      p.destroy();
      plot.current = null;
    };
    // Size changes are applied below without rebuilding.
  }, [options, width > 0]);

  useEffect(() => {
    const p = plot.current;
    if (!p) return;
    p.setData(data);
    // Not hovering: refresh the legend's "latest" values for the new data.
    if (p.cursor.idx == null) p.setLegend({ idx: null as unknown as number });
  }, [data]);

  useEffect(() => {
    if (width > 0) plot.current?.setSize({ width, height });
  }, [width, height]);

  return <div ref={ref} className="uplot-chart" data-testid={testId} style={{ minHeight: height }} />;
}

/** Axis and grid colours for the dark theme. */
export const AXIS: uPlot.Axis = {
  stroke: '#7d8fa1',
  grid: { stroke: 'rgba(125,143,161,0.12)', width: 1 },
  ticks: { stroke: 'rgba(125,143,161,0.25)', width: 1 },
};

/**
 * A y axis as wide as its longest tick label: a fixed width clipped labels such as "300.35 k"
 * (ticks close together on a large value) to "00.35 k". Sized for uPlot's 12 px axis font.
 */
export function fitToLabels(
  min = 40,
): (u: uPlot, values: string[] | null, axisIdx: number, cycleNum: number) => number {
  return (_u, values) => {
    const longest = Math.max(0, ...(values ?? []).map((v) => String(v).length));
    return Math.max(min, Math.ceil(longest * 7.5 + 20));
  };
}

/** The x axis of every time chart: whole-second steps, HH:MM:SS / HH:MM / date labels. */
export const TIME_AXIS: uPlot.Axis = {
  ...AXIS,
  incrs: TIME_INCRS,
  values: (_u, ticks, _axis, _space, incr) => timeTickLabels(ticks, incr),
};

/**
 * A legend value formatter that shows the latest value while nothing is hovered (uPlot's
 * default is "--"), and the hovered value otherwise.
 */
export function legendValue(fmt: (v: number) => string) {
  return (u: uPlot, v: number | null, sidx: number, idx: number | null): string => {
    if (idx == null) {
      const d = u.data[sidx] as ArrayLike<number | null> | undefined;
      if (d) for (let i = d.length - 1; i >= 0; i--) if (d[i] != null) return fmt(d[i] as number);
      return '–';
    }
    return v == null ? '–' : fmt(v);
  };
}

/** The x series' legend: "latest" while nothing is hovered, else the hovered time. */
export const TIME_SERIES: uPlot.Series = {
  label: 'Time',
  value: (u, v, _s, idx) => {
    if (idx == null) {
      const d = u.data[0];
      return d && d.length > 0 ? `latest ${time(new Date(d[d.length - 1]! * 1000).toISOString())}` : '–';
    }
    return v == null ? '–' : time(new Date(v * 1000).toISOString());
  },
};

/**
 * Inserts a null after any point followed by a gap longer than `factor` times the usual spacing
 * (missing minutes, a resolved period), so uPlot breaks the line instead of drawing across it.
 */
export function breakGaps(t: readonly number[], cols: readonly (readonly (number | null)[])[], factor = 2.5) {
  if (t.length < 3) return { t: [...t], cols: cols.map((c) => [...c]) };
  const d: number[] = [];
  for (let i = 1; i < t.length; i++) d.push(t[i]! - t[i - 1]!);
  const sorted = [...d].sort((a, b) => a - b);
  const usual = sorted[Math.floor(sorted.length / 2)]!;
  const outT: number[] = [t[0]!];
  const out = cols.map((c) => [c[0] ?? null]);
  for (let i = 1; i < t.length; i++) {
    if (usual > 0 && t[i]! - t[i - 1]! > usual * factor) {
      outT.push(t[i - 1]! + usual);
      out.forEach((c) => c.push(null));
    }
    outT.push(t[i]!);
    out.forEach((c, k) => c.push(cols[k]![i] ?? null));
  }
  return { t: outT, cols: out };
}
