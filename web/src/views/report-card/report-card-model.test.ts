import { describe, expect, it } from 'vitest';
import { cardRange, durationText, rateText, sparkBars } from './report-card-model.js';

describe('report card model', () => {
  it('formats durations and rates, with a dash where nothing is known', () => {
    expect(durationText({ n: 0, median: null, p90: null })).toEqual({ text: '–', title: 'no case in this period' });
    const d = durationText({ n: 4, median: 3 * 3_600_000, p90: 30 * 3_600_000 });
    expect(d.title).toMatch(/^median of 4 cases; 90 % within /);
    expect(d.text).not.toBe('–');
    expect(rateText(null)).toBe('–');
    expect(rateText(1 / 3)).toBe('33 %');
  });

  it('draws one bar per non-zero day, scaled to the largest', () => {
    expect(sparkBars([0, 0], 100, 20)).toBe('');
    const p = sparkBars([10, 0, 5], 30, 20);
    expect(p.match(/M/g)).toHaveLength(2);
    expect(p.startsWith('M0.00 0.00h9.00v20.00')).toBe(true);
    expect(p).toContain('M20.00 10.00h9.00v10.00');
  });

  it('periods are whole UTC days ending with today', () => {
    const now = Date.parse('2026-12-03T06:50:00Z');
    expect(cardRange('7d', now)).toEqual({
      from: Date.parse('2026-11-27T00:00:00Z'),
      to: Date.parse('2026-12-04T00:00:00Z'),
    });
  });
});
