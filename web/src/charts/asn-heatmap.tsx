import { useMemo, useRef, useState } from 'react';
import type uPlot from 'uplot';
import { si } from '../format.js';
import { logRange, ramp } from './color-scale.js';

/** Colour key: the log ramp from the smallest to the largest cell value. */
function HeatmapLegend({ min, max, unit, fontPx }: { min: number; max: number; unit: string; fontPx: number }) {
  if (!(max > 0)) return null;
  const stops = Array.from({ length: 9 }, (_, k) => {
    const [r, g, b] = ramp(0.15 + (0.85 * k) / 8);
    return `rgb(${r | 0},${g | 0},${b | 0}) ${(k / 8) * 100}%`;
  });
  const mid = min > 0 ? Math.sqrt(min * max) : max / 2;
  return (
    <div className="heatmap-legend" data-testid="heatmap-legend" style={{ fontSize: fontPx }}>
      <span>{si(min, unit)}</span>
      <span
        className="heatmap-legend-bar"
        style={{ background: `linear-gradient(to right, ${stops.join(', ')})` }}
        title={`per cell, log scale; middle ≈ ${si(mid, unit)}`}
      />
      <span>{si(max, unit)}</span>
      <span className="sub">per cell · log scale</span>
    </div>
  );
}
import { AXIS, TIME_AXIS, UPlotChart } from './uplot-chart.js';

export interface HeatmapRow {
  asn: number;
  name: string;
  /** One value per bucket. */
  values: readonly number[];
}

export interface AsnHeatmapProps {
  /** Bucket starts, ms since epoch. */
  buckets: readonly number[];
  stepMs: number;
  rows: readonly HeatmapRow[];
  /** Unit for the tooltip, e.g. "B". */
  unit?: string;
  height: number;
  /** Click on a row. */
  onSelect?: (asn: number) => void;
  /** Label font size in px (the wall scales it with the screen); default 12. */
  fontPx?: number;
}

/**
 * Source ASN × time as a uPlot chart with a heatmap plugin: uPlot gives the time axis, cursor
 * and resizing; the plugin paints one rectangle per cell on uPlot's canvas in its draw hook.
 */
export function AsnHeatmap({ buckets, stepMs, rows, unit = 'B', height, onSelect, fontPx = 12 }: AsnHeatmapProps) {
  const [hover, setHover] = useState<{ left: number; top: number; row: number; bucket: number }>();
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;

  const [min, max] = useMemo(() => {
    let lo = Infinity;
    let hi = 0;
    for (const r of rows)
      for (const v of r.values)
        if (v > 0) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
    return [Number.isFinite(lo) ? lo : 0, hi];
  }, [rows]);
  const rangeRef = useRef([min, max]);
  rangeRef.current = [min, max];

  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(() => {
    const n = () => rowsRef.current.length;
    const heatmapPlugin: uPlot.Plugin = {
      hooks: {
        draw: (u) => {
          const ctx = u.ctx;
          const t = u.data[0] as unknown as ArrayLike<number>;
          const rs = rowsRef.current;
          const step = stepMs / 1000;
          ctx.save();
          ctx.beginPath();
          ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
          ctx.clip();
          for (let r = 0; r < rs.length; r++) {
            const y0 = u.valToPos(r, 'y', true);
            const y1 = u.valToPos(r + 1, 'y', true);
            const vals = rs[r]!.values;
            for (let b = 0; b < t.length; b++) {
              const v = vals[b] ?? 0;
              if (v <= 0) continue;
              const x0 = u.valToPos(t[b]!, 'x', true);
              const x1 = u.valToPos(t[b]! + step, 'x', true);
              const [cr, cg, cb] = ramp(0.15 + 0.85 * logRange(v, rangeRef.current[0]!, rangeRef.current[1]!));
              ctx.fillStyle = `rgb(${cr | 0},${cg | 0},${cb | 0})`;
              ctx.fillRect(x0, Math.min(y0, y1) + 0.5, Math.max(1, x1 - x0 - 0.5), Math.abs(y1 - y0) - 1);
            }
          }
          ctx.restore();
        },
        setCursor: (u) => {
          const { left, top, idx } = u.cursor;
          if (left === undefined || top === undefined || left < 0 || idx == null) return setHover(undefined);
          const row = Math.floor(u.posToVal(top, 'y'));
          if (row < 0 || row >= n()) return setHover(undefined);
          setHover({ left, top, row, bucket: idx });
        },
      },
      opts: (_u, o) => o,
    };
    return {
      plugins: [heatmapPlugin],
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: false, y: false }, y: false },
      scales: {
        // The data are bucket starts: without a step of room the last bucket (the running
        // minute, which the store now has every 10 s) would sit past the edge, clipped.
        x: { time: true, range: (_u, lo, hi) => [lo, hi + stepMs / 1000] },
        y: { auto: false, range: () => [0, Math.max(1, n())], dir: -1, ori: 1 },
      },
      series: [{}, { scale: 'y', show: false }],
      axes: [
        // Tick spacing grows with the font so 4K labels do not run together.
        { ...TIME_AXIS, font: `${fontPx}px sans-serif`, size: fontPx * 3.2, space: fontPx * 7 },
        {
          ...AXIS,
          scale: 'y',
          grid: { show: false },
          size: fontPx * 17,
          font: `${fontPx}px sans-serif`,
          splits: () => rowsRef.current.map((_r, i) => i + 0.5),
          values: (_u, splits) =>
            splits.map((s) => {
              const r = rowsRef.current[Math.floor(s)];
              return r ? `${r.name ? r.name.slice(0, 26) : `AS${r.asn}`}` : '';
            }),
        },
      ],
    };
  }, [stepMs, fontPx]);

  const data = useMemo<uPlot.AlignedData>(
    () => [buckets.map((b) => b / 1000), buckets.map(() => null)] as unknown as uPlot.AlignedData,
    [buckets],
  );

  const cell = hover ? rows[hover.row] : undefined;
  return (
    <div
      className="heatmap"
      data-testid="asn-heatmap"
      data-rows={rows.length}
      onClick={() => cell && onSelect?.(cell.asn)}
      style={{ cursor: onSelect && cell ? 'pointer' : undefined, position: 'relative' }}
      onMouseLeave={() => setHover(undefined)}
    >
      <UPlotChart options={options} data={data} height={height} />
      <HeatmapLegend min={min} max={max} unit={unit} fontPx={fontPx} />
      {cell && hover && (
        <div className="graph-tooltip" style={{ left: hover.left + fontPx * 18, top: hover.top + 10 }}>
          <div className="tt-title">
            AS{cell.asn} {cell.name}
          </div>
          <div>{new Date(buckets[hover.bucket] ?? 0).toLocaleString('en-GB', { hour12: false })}</div>
          <div>{si(cell.values[hover.bucket] ?? 0, unit)}</div>
        </div>
      )}
    </div>
  );
}
