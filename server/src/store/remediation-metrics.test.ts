import { describe, expect, it } from 'vitest';
import { casesOf, groupMetrics, metricsOf, type HistoryEvent } from './remediation-metrics.js';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const st = (at: number, from: string | null, to: string): HistoryEvent => ({ at, kind: 'status', from, to });

describe('remediation metrics', () => {
  it('splits an entry into cases: notify and remediate times, recurred within the watch, verified after', () => {
    const events = [
      st(T0, null, 'open'),
      st(T0 + 2 * H, 'open', 'notified'),
      st(T0 + 30 * H, 'notified', 'remediated'),
      st(T0 + 3 * D, 'remediated', 'open'), // 42 h after: within a 7-day watch
      { at: T0 + 3 * D, kind: 'recurrence', from: 'remediated', to: 'open' } as HistoryEvent,
      st(T0 + 4 * D, 'open', 'remediated'),
      st(T0 + 20 * D, 'remediated', 'open'), // 16 days after: the watch had ended
      st(T0 + 21 * D, 'open', 'notified'),
    ];
    expect(casesOf(events, 7 * D, T0 + 22 * D)).toEqual([
      { start: T0, notifiedAt: T0 + 2 * H, remediatedAt: T0 + 30 * H, outcome: 'recurred' },
      { start: T0 + 3 * D, remediatedAt: T0 + 4 * D, outcome: 'verified' },
      { start: T0 + 20 * D, notifiedAt: T0 + 21 * D, outcome: 'open' },
    ]);
  });

  it('a remediation still inside its watch is watching, then verified once the watch has passed', () => {
    const events = [st(T0, null, 'open'), st(T0 + D, 'open', 'remediated')];
    expect(casesOf(events, 7 * D, T0 + 3 * D)[0]!.outcome).toBe('watching');
    expect(casesOf(events, 7 * D, T0 + 8 * D)[0]!.outcome).toBe('verified');
  });

  it('medians, p90 and the recurrence rate over the cases that began in the range', () => {
    const cases = [
      { start: T0, notifiedAt: T0 + 1 * H, remediatedAt: T0 + 10 * H, outcome: 'recurred' as const },
      { start: T0 + H, notifiedAt: T0 + 3 * H, remediatedAt: T0 + 21 * H, outcome: 'verified' as const },
      { start: T0 + 2 * H, notifiedAt: T0 + 7 * H, remediatedAt: T0 + 32 * H, outcome: 'verified' as const },
      { start: T0 + 3 * H, remediatedAt: T0 + 4 * H, outcome: 'watching' as const },
      { start: T0 + 4 * H, outcome: 'open' as const },
      { start: T0 - D, remediatedAt: T0, outcome: 'recurred' as const }, // before the range
    ];
    const m = metricsOf('Residential pool A', cases, T0, T0 + D);
    expect(m).toEqual({
      name: 'Residential pool A',
      cases: 5,
      notified: 3,
      remediated: 4,
      timeToNotify: { n: 3, median: 2 * H, p90: 5 * H },
      timeToRemediate: { n: 4, median: 10 * H, p90: 30 * H },
      recurrences: 1,
      verified: 2,
      watching: 1,
      recurrenceRate: 1 / 3,
    });
    expect(metricsOf('x', [], T0, T0 + D)).toMatchObject({
      cases: 0,
      timeToNotify: { n: 0, median: null, p90: null },
      recurrenceRate: null,
    });
  });

  it('groups per customer network and per downstream; customers without a downstream are in none', () => {
    const remediated = (start: number, hours: number) => [
      st(start, null, 'open'),
      st(start + hours * H, 'open', 'remediated'),
    ];
    const g = groupMetrics({
      entries: [
        { id: 1, customer: 'Pool A', events: remediated(T0, 4) },
        { id: 2, customer: 'Pool A', events: remediated(T0, 8) },
        { id: 3, customer: 'Pool B', events: remediated(T0, 20) },
        { id: 4, customer: 'Legacy', events: remediated(T0, 1) },
        { id: 5, customer: 'Hosting', events: remediated(T0, 2) },
      ],
      watchMs: 7 * D,
      now: T0 + 30 * D,
      from: T0 - D,
      to: T0 + D,
      customers: [
        { name: 'Pool A', downstream: 'Reseller X' },
        { name: 'Pool B', downstream: 'Reseller X' },
        { name: 'Hosting' },
        { name: 'Quiet pool', downstream: 'Business Y' },
      ],
    });
    expect(g.total).toMatchObject({ cases: 5, remediated: 5, verified: 5, recurrenceRate: 0 });
    expect(g.customers.map((c) => [c.name, c.downstream, c.cases, c.timeToRemediate.median])).toEqual([
      ['Pool A', 'Reseller X', 2, 4 * H],
      ['Hosting', null, 1, 2 * H],
      ['Legacy', null, 1, 1 * H],
      ['Pool B', 'Reseller X', 1, 20 * H],
      ['Quiet pool', 'Business Y', 0, null],
    ]);
    expect(g.downstreams.map((d) => [d.name, d.customers, d.cases, d.timeToRemediate])).toEqual([
      ['Reseller X', ['Pool A', 'Pool B'], 3, { n: 3, median: 8 * H, p90: 20 * H }],
      ['Business Y', ['Quiet pool'], 0, { n: 0, median: null, p90: null }],
    ]);
  });
});
