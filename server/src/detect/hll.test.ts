import { describe, expect, it } from 'vitest';
import { hashWords } from './hash.js';
import { estimateDistinct } from './events.js';
import { HllPool } from './hll.js';

function addRange(h: HllPool, slot: number, from: number, n: number): void {
  const w = new Uint32Array(4);
  w[2] = 0xffff;
  for (let i = 0; i < n; i++) {
    w[3] = from + i;
    h.add(slot, hashWords(w, 0));
  }
}

describe('HllPool', () => {
  it.each([10, 1000, 50_000, 1_000_000])('estimates %i distinct addresses within 3 standard errors (p = 10)', (n) => {
    const h = new HllPool(10, 1);
    addRange(h, 0, 0x0a000000, n);
    const err = Math.abs(h.estimate(0) - n) / n;
    expect(err).toBeLessThan(3 * (1.04 / Math.sqrt(1024)));
  });

  it('ignores repeats', () => {
    const h = new HllPool(10, 1);
    for (let k = 0; k < 5; k++) addRange(h, 0, 1, 300);
    expect(Math.abs(h.estimate(0) - 300)).toBeLessThan(15);
  });

  it('estimates the union of two sketches and keeps slots apart', () => {
    const h = new HllPool(10, 3);
    addRange(h, 0, 0, 20_000);
    addRange(h, 1, 10_000, 20_000); // overlaps half
    addRange(h, 2, 5, 10);
    expect(Math.abs(h.estimate(0, 1) - 30_000) / 30_000).toBeLessThan(0.1);
    expect(Math.abs(h.estimate(2) - 10)).toBeLessThanOrEqual(1);
    h.clear(0);
    expect(h.estimate(0)).toBe(0);
    expect(Math.abs(h.estimate(1) - 20_000) / 20_000).toBeLessThan(0.1);
  });

  it('rejects a precision outside 4..16', () => {
    expect(() => new HllPool(3, 1)).toThrow(/precision/);
  });
});

describe('estimateDistinct (sources behind packet sampling)', () => {
  it('recovers the number of equally active sources from distinct-among-samples', () => {
    for (const [k, n] of [
      [3000, 3000],
      [500, 2000],
      [20_000, 5000],
    ] as const) {
      // Expected distinct seen when n samples fall on k equally likely sources.
      const observed = Math.round(k * (1 - Math.exp(-n / k)));
      const est = estimateDistinct(observed, n, 1000);
      expect(Math.abs(est - k) / k, `${k} sources, ${n} samples`).toBeLessThan(0.15);
    }
  });

  it('is the observed count when unsampled, and bounded by samples × rate when nothing repeats', () => {
    expect(estimateDistinct(1234, 99_999, 1)).toBe(1234);
    const est = estimateDistinct(100, 100, 100);
    expect(est).toBeGreaterThan(100);
    expect(est).toBeLessThanOrEqual(100 * 100);
  });
});
