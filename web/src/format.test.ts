import { describe, expect, it } from 'vitest';
import { age, si, siTicks } from './format.js';

describe('format', () => {
  it('si', () => {
    expect(si(0)).toBe('0');
    expect(si(1234, 'pps')).toBe('1.23 kpps');
    expect(si(301_000)).toBe('301 k');
    expect(si(2.5e9, 'bps')).toBe('2.50 Gbps');
  });
  it('siTicks adds digits only when labels would repeat', () => {
    expect(siTicks([0, 1000, 2000])).toEqual(['0', '1.00 k', '2.00 k']);
    const close = siTicks([300_200, 300_400, 300_600]);
    expect(new Set(close).size).toBe(3);
    expect(close[0]).toBe('300.2 k');
  });
  it('age', () => {
    expect(age(42_000)).toBe('42 s');
    expect(age(7 * 60_000)).toBe('7 min');
    expect(age(3 * 3600_000 + 5 * 60_000)).toBe('3 h 05 min');
    expect(age(3 * 86400_000)).toBe('3 d');
  });
});
