import { describe, expect, it } from 'vitest';
import { age, si, siTicks, sourceCounts, TIME_INCRS, timeTickLabels } from './format.js';

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

describe('time axis labels', () => {
  const at = (h: number, m: number, sec: number, day = 24) => new Date(2026, 10, day, h, m, sec).getTime() / 1000;

  it('never steps below a second, so a young incident reads in whole seconds', () => {
    expect(Math.min(...TIME_INCRS)).toBe(1);
    expect(timeTickLabels([at(13, 5, 51), at(13, 5, 52)], 1)).toEqual(['13:05:51', '13:05:52']);
  });

  it('drops seconds from a minute step up and shows dates for day steps and at midnight', () => {
    expect(timeTickLabels([at(23, 30, 0), at(0, 0, 0, 25), at(0, 30, 0, 25)], 30 * 60)).toEqual([
      '23:30',
      '25 Nov',
      '00:30',
    ]);
    expect(timeTickLabels([at(0, 0, 0, 24), at(0, 0, 0, 25)], 86_400)).toEqual(['24 Nov', '25 Nov']);
  });
});

describe('sourceCounts', () => {
  const inc = (distinct: number, listed: number, peakSources?: number) => ({
    sources: { distinct, top: Array.from({ length: listed }, () => ({})) },
    evidence: peakSources === undefined ? {} : { peakSources },
  });

  it('never says total below now or peak: a capped list is not all the sources', () => {
    // The detector estimates 3,097 sources now; it keeps at most 3,000 by name.
    expect(sourceCounts(inc(3097, 3000))).toEqual({ now: 3097, peak: 3097, total: 3097, listed: 3000 });
    expect(sourceCounts(inc(1200, 3000, 5000), 2500)).toEqual({ now: 1200, peak: 5000, total: 5000, listed: 2500 });
  });

  it('total is the listed sources when more were listed over the incident than were ever seen at once', () => {
    expect(sourceCounts(inc(40, 12, 90), 400)).toEqual({ now: 40, peak: 90, total: 400, listed: 400 });
  });
});
