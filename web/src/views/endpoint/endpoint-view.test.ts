import { describe, expect, it } from 'vitest';
import { rollupLines, stepMs } from './endpoint-view.js';

describe('endpoint rollupLines', () => {
  it('spans the whole selected range in fixed buckets, zero where nothing was recorded', () => {
    const H = 3_600_000;
    const from = Date.parse('2026-12-01T00:00:00Z');
    const to = from + 24 * H;
    const row = (h: number, kind: 'spam-bot' | 'scanner', bytes: number) => ({
      t: new Date(from + h * H + 60_000).toISOString(),
      resolution: 'minute' as const,
      kind,
      packets: 1,
      bytes,
      flows: 1,
    });
    const r = rollupLines(
      [row(2, 'spam-bot', 10), row(2, 'spam-bot', 5), row(20, 'scanner', 7)],
      from,
      to,
      stepMs('6h'),
    );
    expect(r.times).toEqual([0, 1, 2, 3].map((k) => from + k * 6 * H));
    const spam = r.lines.find((l) => l.label === 'Spam bot')!;
    expect(spam.values).toEqual([15, 0, 0, 0]);
    expect(r.lines.find((l) => l.label !== 'Spam bot')!.values).toEqual([0, 0, 0, 7]);
    expect(stepMs('15m')).toBe(900_000);
    expect(stepMs('1d')).toBe(86_400_000);
  });
});
