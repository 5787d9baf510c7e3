import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { TIME_INCRS, timeTickLabels } from '../format.js';
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
    plot.current?.setData(data);
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

/** The x axis of every time chart: whole-second steps, HH:MM:SS / HH:MM / date labels. */
export const TIME_AXIS: uPlot.Axis = {
  ...AXIS,
  incrs: TIME_INCRS,
  values: (_u, ticks, _axis, _space, incr) => timeTickLabels(ticks, incr),
};
