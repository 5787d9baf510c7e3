import type uPlot from 'uplot';
import { describe, expect, it } from 'vitest';
import { breakGaps, fitToLabels, legendValue } from './uplot-chart.js';

describe('breakGaps', () => {
  it('inserts a null after a gap longer than 2.5 usual steps, and nothing elsewhere', () => {
    const t = [0, 1, 2, 3, 10, 11, 12];
    const g = breakGaps(t, [[5, 6, 7, 8, 9, 10, 11]]);
    expect(g.t).toEqual([0, 1, 2, 3, 4, 10, 11, 12]);
    expect(g.cols[0]).toEqual([5, 6, 7, 8, null, 9, 10, 11]);
    const dense = breakGaps([0, 1, 2, 3], [[1, 2, 3, 4]]);
    expect(dense.t).toEqual([0, 1, 2, 3]);
  });
});

describe('legendValue', () => {
  const fmt = legendValue((v) => `${v} pps`);
  const u = {
    data: [
      [1, 2, 3],
      [10, 20, null],
    ],
  } as unknown as uPlot;
  it('shows the latest non-null value when nothing is hovered, the hovered one otherwise', () => {
    expect(fmt(u, null, 1, null)).toBe('20 pps');
    expect(fmt(u, 10, 1, 0)).toBe('10 pps');
    expect(fmt(u, null, 1, 2)).toBe('–');
  });
});

describe('fitToLabels', () => {
  it('widens the axis for long tick labels and keeps the minimum for short ones', () => {
    const size = fitToLabels(60);
    const u = {} as never;
    expect(size(u, ['0', '1 k'], 1, 0)).toBe(60);
    const wide = size(u, ['300.25 k', '300.3 k', '300.35 k'], 1, 0);
    expect(wide).toBeGreaterThan(60);
    expect(wide).toBeGreaterThanOrEqual(8 * 7);
  });
});
