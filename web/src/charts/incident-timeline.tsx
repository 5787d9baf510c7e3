import type { TimelinePoint } from '@downstream/shared';
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { si, siTicks } from '../format.js';
import { AXIS, breakGaps, fitToLabels, legendValue, TIME_AXIS, TIME_SERIES, UPlotChart } from './uplot-chart.js';

export interface IncidentTimelineProps {
  points: readonly TimelinePoint[];
  height?: number;
}

/** pps and bps on the left (each on its own scale), distinct sources on the right. */
export function IncidentTimeline({ points, height = 220 }: IncidentTimelineProps) {
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      scales: { x: { time: true }, pps: {}, bps: {}, src: {} },
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [
        TIME_SERIES,
        { label: 'pps', scale: 'pps', stroke: '#ff5252', width: 2, value: legendValue((v) => si(v, 'pps')) },
        {
          label: 'bps',
          scale: 'bps',
          stroke: '#4fc3f7',
          width: 1.5,
          value: legendValue((v) => si(v, 'bps')),
        },
        {
          label: 'sources',
          scale: 'src',
          stroke: '#ffd600',
          width: 1.5,
          dash: [6, 4],
          value: legendValue((v) => si(v)),
        },
      ],
      axes: [
        { ...TIME_AXIS },
        { ...AXIS, scale: 'pps', values: (_u, ticks) => siTicks(ticks), size: fitToLabels(60) },
        {
          ...AXIS,
          scale: 'src',
          side: 1,
          values: (_u, ticks) => siTicks(ticks),
          size: fitToLabels(60),
          grid: { show: false },
        },
      ],
    }),
    [],
  );
  const data = useMemo<uPlot.AlignedData>(() => {
    // Seconds without a point (quiet spells, a reconnect) break the lines instead of bridging them.
    const g = breakGaps(
      points.map((p) => Date.parse(p.t) / 1000),
      [points.map((p) => p.pps), points.map((p) => p.bps), points.map((p) => p.sources)],
    );
    return [g.t, ...g.cols] as unknown as uPlot.AlignedData;
  }, [points]);
  if (points.length === 0) return <p className="empty">No timeline yet: points appear as the detector reports.</p>;
  return <UPlotChart options={options} data={data} height={height} testId="incident-timeline" />;
}
