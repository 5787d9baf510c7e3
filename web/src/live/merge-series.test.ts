import { describe, expect, it } from 'vitest';
import { mergeSeries } from './use-incident-room.js';

const p = (s: number, pps: number) => ({ t: new Date(s * 1000).toISOString(), pps, bps: pps * 8, sources: 1 });

describe('mergeSeries', () => {
  it('merges increments and whole series by timestamp, newer values winning, in time order', () => {
    const a = mergeSeries([], [p(2, 20), p(1, 10)]);
    expect(a.map((x) => x.pps)).toEqual([10, 20]);
    const b = mergeSeries(a, [p(2, 25), p(3, 30)]);
    expect(b.map((x) => x.pps)).toEqual([10, 25, 30]);
  });
});
