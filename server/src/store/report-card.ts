/**
 * The downstream report card: per customer network and per downstream, the abuse it sent
 * upstream per day, its endpoints on the remediation list, how fast they were cleaned and the
 * complaints other networks sent about it. Pure: the API gathers the inputs (rollups, remediation
 * list, complaints), this adds them up, and writes the CSV an executive forwards.
 */
import type { IncidentKind, RemediationStatus, ReportCard, ReportCardRow } from '@downstream/shared';
import type { GroupedMetrics } from './remediation-metrics.js';

/** Kinds that are abuse our customers send (DESIGN "Incident": direction outbound). */
export const OUTBOUND_KINDS: IncidentKind[] = ['spam-bot', 'scanner', 'ddos-participation'];

export interface ReportCardInput {
  from: number;
  to: number;
  /** UTC day starts covering [from, to). */
  days: number[];
  customers: readonly { name: string; downstream?: string }[];
  /** Outbound abusive bytes per customer: per day (aligned to `days`) and per kind. */
  abuse: Map<string, { perDay: number[]; byKind: Partial<Record<IncidentKind, number>> }>;
  /** Current remediation status of each entry. */
  entries: readonly { customer: string; status: RemediationStatus }[];
  /** Entries moved to remediated within [from, to), per customer. */
  remediatedInRange: Map<string, number>;
  metrics: GroupedMetrics;
  complaints: Map<string, number>;
}

const emptyRow = (name: string, days: number): ReportCardRow => ({
  name,
  downstream: null,
  customers: [],
  abusePerDay: new Array<number>(days).fill(0),
  abuseBytes: 0,
  abuseByKind: {},
  endpoints: { open: 0, notified: 0, remediated: 0 },
  remediatedInRange: 0,
  timeToRemediate: { n: 0, median: null, p90: null },
  recurrenceRate: null,
  complaints: 0,
});

function add(into: ReportCardRow, from: ReportCardRow): void {
  from.abusePerDay.forEach((v, i) => (into.abusePerDay[i] = (into.abusePerDay[i] ?? 0) + v));
  into.abuseBytes += from.abuseBytes;
  for (const [k, v] of Object.entries(from.abuseByKind) as [IncidentKind, number][])
    into.abuseByKind[k] = (into.abuseByKind[k] ?? 0) + v;
  into.endpoints.open += from.endpoints.open;
  into.endpoints.notified += from.endpoints.notified;
  into.endpoints.remediated += from.endpoints.remediated;
  into.remediatedInRange += from.remediatedInRange;
  into.complaints += from.complaints;
}

export function buildReportCard(q: ReportCardInput): ReportCard {
  const n = q.days.length;
  const rows = new Map<string, ReportCardRow>();
  const downstreamOf = new Map(q.customers.map((c) => [c.name, c.downstream ?? null]));
  const row = (name: string): ReportCardRow => {
    let r = rows.get(name);
    if (!r) {
      r = { ...emptyRow(name, n), downstream: downstreamOf.get(name) ?? null, customers: [name] };
      rows.set(name, r);
    }
    return r;
  };
  for (const c of q.customers) row(c.name);
  for (const [name, a] of q.abuse) {
    const r = row(name);
    a.perDay.forEach((v, i) => (r.abusePerDay[i] = v));
    r.abuseBytes = a.perDay.reduce((s, v) => s + v, 0);
    r.abuseByKind = { ...a.byKind };
  }
  for (const e of q.entries) row(e.customer).endpoints[e.status]++;
  for (const [name, k] of q.remediatedInRange) row(name).remediatedInRange = k;
  for (const [name, k] of q.complaints) row(name).complaints = k;
  for (const m of q.metrics.customers) {
    const r = row(m.name);
    r.timeToRemediate = m.timeToRemediate;
    r.recurrenceRate = m.recurrenceRate;
  }
  const downstreams = new Map<string, ReportCardRow>();
  for (const r of rows.values()) {
    if (!r.downstream) continue;
    let d = downstreams.get(r.downstream);
    if (!d) downstreams.set(r.downstream, (d = emptyRow(r.downstream, n)));
    d.customers.push(r.name);
    add(d, r);
  }
  for (const m of q.metrics.downstreams) {
    const d = downstreams.get(m.name);
    if (!d) continue;
    d.timeToRemediate = m.timeToRemediate;
    d.recurrenceRate = m.recurrenceRate;
  }
  // Worst first: most abuse sent, then most endpoints still open.
  const worst = (a: ReportCardRow, b: ReportCardRow) =>
    b.abuseBytes - a.abuseBytes || b.endpoints.open - a.endpoints.open || a.name.localeCompare(b.name);
  for (const d of downstreams.values()) d.customers.sort();
  return {
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    days: q.days.map((d) => new Date(d).toISOString()),
    kinds: OUTBOUND_KINDS,
    customers: [...rows.values()].sort(worst),
    downstreams: [...downstreams.values()].sort(worst),
  };
}

const hours = (ms: number | null): string => (ms === null ? '' : (ms / 3_600_000).toFixed(1));

/** RFC 4180 CSV; a cell starting with = + - @ is quoted with ' so a spreadsheet never runs it. */
function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  const safe = typeof v === 'string' && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The report card as one CSV: a summary table (one line per downstream, then per customer
 * network), then abuse bytes per day for each. Hours to remediate as decimals, rates 0..1.
 */
export function reportCardCsv(card: ReportCard): string {
  const lines: (string | number | null)[][] = [];
  lines.push(['# Downstream report card', `${card.from} to ${card.to}`]);
  lines.push([
    'level',
    'name',
    'downstream',
    'customer networks',
    'abuse sent upstream (bytes)',
    ...card.kinds.map((k) => `bytes ${k}`),
    'open endpoints',
    'notified endpoints',
    'remediated endpoints',
    'remediated in period',
    'median hours to remediate',
    'p90 hours to remediate',
    'recurrence rate',
    'complaints received',
  ]);
  const line = (level: string, r: ReportCardRow) =>
    lines.push([
      level,
      r.name,
      r.downstream,
      r.customers.join('; '),
      Math.round(r.abuseBytes),
      ...card.kinds.map((k) => Math.round(r.abuseByKind[k] ?? 0)),
      r.endpoints.open,
      r.endpoints.notified,
      r.endpoints.remediated,
      r.remediatedInRange,
      hours(r.timeToRemediate.median),
      hours(r.timeToRemediate.p90),
      r.recurrenceRate === null ? '' : r.recurrenceRate.toFixed(3),
      r.complaints,
    ]);
  for (const r of card.downstreams) line('downstream', r);
  for (const r of card.customers) line('customer', r);
  lines.push([]);
  lines.push(['# abuse sent upstream per day (bytes)']);
  lines.push(['day', ...card.downstreams.map((r) => `downstream ${r.name}`), ...card.customers.map((r) => r.name)]);
  card.days.forEach((d, i) =>
    lines.push([
      d.slice(0, 10),
      ...card.downstreams.map((r) => Math.round(r.abusePerDay[i] ?? 0)),
      ...card.customers.map((r) => Math.round(r.abusePerDay[i] ?? 0)),
    ]),
  );
  return `${lines.map((l) => l.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
