import { describe, expect, it } from 'vitest';
import { groupMetrics } from './remediation-metrics.js';
import { buildReportCard, reportCardCsv } from './report-card.js';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const days = [T0, T0 + D, T0 + 2 * D];
const customers = [
  { name: 'Pool A', downstream: 'Reseller X' },
  { name: 'Pool B', downstream: 'Reseller X' },
  { name: '=HYPERLINK("http://evil")', downstream: 'Business Y' },
  { name: 'Own hosting' },
];

function card() {
  const metrics = groupMetrics({
    entries: [
      {
        id: 1,
        customer: 'Pool A',
        events: [
          { at: T0, kind: 'status', from: null, to: 'open' },
          { at: T0 + 6 * H, kind: 'status', from: 'open', to: 'remediated' },
        ],
      },
      {
        id: 2,
        customer: 'Pool B',
        events: [
          { at: T0 + D, kind: 'status', from: null, to: 'open' },
          { at: T0 + D + 10 * H, kind: 'status', from: 'open', to: 'remediated' },
        ],
      },
    ],
    watchMs: 14 * D,
    now: T0 + 3 * D,
    from: T0,
    to: T0 + 3 * D,
    customers,
  });
  return buildReportCard({
    from: T0,
    to: T0 + 3 * D,
    days,
    customers,
    abuse: new Map([
      ['Pool A', { perDay: [100, 0, 50], byKind: { 'spam-bot': 150 } }],
      ['Pool B', { perDay: [0, 1000, 0], byKind: { scanner: 400, 'ddos-participation': 600 } }],
    ]),
    entries: [
      { customer: 'Pool A', status: 'remediated' },
      { customer: 'Pool A', status: 'open' },
      { customer: 'Pool B', status: 'remediated' },
      { customer: 'Own hosting', status: 'notified' },
    ],
    remediatedInRange: new Map([
      ['Pool A', 1],
      ['Pool B', 1],
    ]),
    metrics,
    complaints: new Map([['Pool A', 3]]),
  });
}

describe('report card', () => {
  it('adds customer networks up per downstream, worst (most abuse) first', () => {
    const c = card();
    expect(c.days).toEqual(days.map((d) => new Date(d).toISOString()));
    expect(c.customers.map((r) => r.name)).toEqual(['Pool B', 'Pool A', '=HYPERLINK("http://evil")', 'Own hosting']);
    expect(c.customers[1]).toEqual({
      name: 'Pool A',
      downstream: 'Reseller X',
      customers: ['Pool A'],
      abusePerDay: [100, 0, 50],
      abuseBytes: 150,
      abuseByKind: { 'spam-bot': 150 },
      endpoints: { open: 1, notified: 0, remediated: 1 },
      remediatedInRange: 1,
      timeToRemediate: { n: 1, median: 6 * H, p90: 6 * H },
      recurrenceRate: null,
      complaints: 3,
    });
    expect(c.downstreams.map((d) => [d.name, d.customers, d.abusePerDay, d.abuseBytes, d.complaints])).toEqual([
      ['Reseller X', ['Pool A', 'Pool B'], [100, 1000, 50], 1150, 3],
      ['Business Y', ['=HYPERLINK("http://evil")'], [0, 0, 0], 0, 0],
    ]);
    // Grouped cases, not an average of medians: median of 6 h and 10 h by nearest rank.
    expect(c.downstreams[0]!.timeToRemediate).toEqual({ n: 2, median: 6 * H, p90: 10 * H });
    expect(c.downstreams[0]!.endpoints).toEqual({ open: 1, notified: 0, remediated: 2 });
    expect(c.downstreams[0]!.abuseByKind).toEqual({ 'spam-bot': 150, scanner: 400, 'ddos-participation': 600 });
  });

  it('writes a CSV a spreadsheet opens safely: summary lines, then bytes per day', () => {
    const lines = reportCardCsv(card()).split('\r\n');
    expect(lines[0]).toBe('# Downstream report card,2026-11-01T00:00:00.000Z to 2026-11-04T00:00:00.000Z');
    expect(lines[1]).toBe(
      'level,name,downstream,customer networks,abuse sent upstream (bytes),bytes spam-bot,bytes scanner,bytes ddos-participation,' +
        'open endpoints,notified endpoints,remediated endpoints,remediated in period,median hours to remediate,' +
        'p90 hours to remediate,recurrence rate,complaints received',
    );
    expect(lines[2]).toBe('downstream,Reseller X,,Pool A; Pool B,1150,150,400,600,1,0,2,2,6.0,10.0,,3');
    expect(lines[3]).toBe(`downstream,Business Y,,"'=HYPERLINK(""http://evil"")",0,0,0,0,0,0,0,0,,,,0`);
    expect(lines[4]).toBe('customer,Pool B,Reseller X,Pool B,1000,0,400,600,0,0,1,1,10.0,10.0,,0');
    expect(lines).toContain('# abuse sent upstream per day (bytes)');
    expect(lines).toContain('2026-11-02,1000,0,1000,0,0,0');
    expect(lines.at(-1)).toBe('');
  });
});
