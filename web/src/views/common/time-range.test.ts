import { describe, expect, it } from 'vitest';
import { parseTimeRange, rangeParams, timeRangeQuery, withTimeRange } from './time-range.js';

const NOW = Date.parse('2026-12-03T06:00:30Z');

describe('time range in the URL', () => {
  it('reads a preset, falling back when absent or unknown', () => {
    const r = parseTimeRange(new URLSearchParams('range=6h'), '24h', NOW);
    expect(r.key).toBe('6h');
    expect(r.from).toBe(Date.parse('2026-12-03T00:00:00Z'));
    expect(r.step).toBe('5m');
    expect(parseTimeRange(new URLSearchParams('range=13w'), '24h', NOW).key).toBe('24h');
    // The older /trends name.
    expect(parseTimeRange(new URLSearchParams('period=30d'), '7d', NOW).key).toBe('30d');
  });

  it('reads absolute from/to as ISO or epoch ms, with a step that fits the span', () => {
    const r = parseTimeRange(new URLSearchParams('from=2026-12-01T00:00:00Z&to=1796169600000&range=7d'), '24h', NOW);
    expect(r.key).toBeUndefined();
    expect(r.from).toBe(Date.parse('2026-12-01T00:00:00Z'));
    expect(r.to).toBe(1796169600000);
    expect(r.step).toBe('15m');
    expect(timeRangeQuery(r).toString()).toBe(`from=${r.from}&step=15m&to=1796169600000`);
    // to before from is not a range: the preset applies.
    expect(parseTimeRange(new URLSearchParams('from=2000&to=1000'), '24h', NOW).key).toBe('24h');
  });

  it('keeps filters when the range changes, and carries only the range into other links', () => {
    const p = new URLSearchParams('kind=scanner&status=open&period=7d');
    const a = withTimeRange(p, '30d');
    expect(a.get('range')).toBe('30d');
    expect(a.get('kind')).toBe('scanner');
    expect(a.get('status')).toBe('open');
    expect(a.has('period')).toBe(false);
    const b = withTimeRange(a, { from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-11-02T00:00:00Z') });
    expect(b.has('range')).toBe(false);
    expect(b.get('from')).toBe('2026-11-01T00:00:00.000Z');
    expect(b.get('kind')).toBe('scanner');
    expect(rangeParams(b).toString()).toBe('from=2026-11-01T00%3A00%3A00.000Z&to=2026-11-02T00%3A00%3A00.000Z');
    expect(rangeParams(p).toString()).toBe('range=7d');
  });
});
