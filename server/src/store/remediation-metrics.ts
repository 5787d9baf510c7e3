/**
 * Remediation metrics from the remediation entries' status history: time to notify, time to
 * remediate, recurrence rate — per customer network and per downstream (network.customers[].downstream).
 * Pure functions over the events, so the model is tested without a database.
 */
import type { DurationStats, RemediationMetrics } from '@downstream/shared';

export interface HistoryEvent {
  at: number;
  kind: 'status' | 'recurrence' | 'reopen' | 'complaint' | 'verified';
  from: string | null;
  to: string | null;
}

/**
 * One case: an endpoint opened (first abuse), optionally notified, optionally remediated, then
 * either verified (the watch ended quietly), recurred (abuse within the watch), or still watched.
 */
export interface RemediationCase {
  start: number;
  notifiedAt?: number;
  remediatedAt?: number;
  outcome: 'open' | 'watching' | 'verified' | 'recurred';
}

/** Cases of one entry, from its status events (sorted by time). */
export function casesOf(events: readonly HistoryEvent[], watchMs: number, now: number): RemediationCase[] {
  const out: RemediationCase[] = [];
  let cur: RemediationCase | undefined;
  for (const e of events) {
    if (e.kind !== 'status') continue;
    if (e.to === 'open') {
      if (cur?.remediatedAt !== undefined) {
        // Abuse again (or an operator reopening it): within the watch the cure did not hold.
        cur.outcome = e.at - cur.remediatedAt <= watchMs ? 'recurred' : 'verified';
        cur = undefined;
      }
      if (!cur) {
        cur = { start: e.at, outcome: 'open' };
        out.push(cur);
      }
    } else if (e.to === 'notified') {
      if (!cur) out.push((cur = { start: e.at, outcome: 'open' }));
      cur.notifiedAt ??= e.at;
    } else if (e.to === 'remediated') {
      if (!cur) out.push((cur = { start: e.at, outcome: 'open' }));
      cur.remediatedAt = e.at;
    }
  }
  if (cur?.remediatedAt !== undefined) cur.outcome = now - cur.remediatedAt < watchMs ? 'watching' : 'verified';
  return out;
}

/** Nearest-rank quantile (the web's trends use the same rule). */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export function durationStats(values: readonly number[]): DurationStats {
  return { n: values.length, median: quantile(values, 0.5), p90: quantile(values, 0.9) };
}

/** Metrics of the cases that began in [from, to). */
export function metricsOf(
  name: string,
  cases: readonly RemediationCase[],
  from: number,
  to: number,
): RemediationMetrics {
  const inRange = cases.filter((c) => c.start >= from && c.start < to);
  const notify: number[] = [];
  const remediate: number[] = [];
  let recurrences = 0;
  let verified = 0;
  let watching = 0;
  for (const c of inRange) {
    if (c.notifiedAt !== undefined) notify.push(Math.max(0, c.notifiedAt - c.start));
    if (c.remediatedAt !== undefined) remediate.push(Math.max(0, c.remediatedAt - c.start));
    if (c.outcome === 'recurred') recurrences++;
    else if (c.outcome === 'verified') verified++;
    else if (c.outcome === 'watching') watching++;
  }
  return {
    name,
    cases: inRange.length,
    notified: notify.length,
    remediated: remediate.length,
    timeToNotify: durationStats(notify),
    timeToRemediate: durationStats(remediate),
    recurrences,
    verified,
    watching,
    recurrenceRate: recurrences + verified > 0 ? recurrences / (recurrences + verified) : null,
  };
}

export interface EntryHistory {
  id: number;
  customer: string;
  events: HistoryEvent[];
}

export interface GroupedMetrics {
  total: RemediationMetrics;
  customers: (RemediationMetrics & { downstream: string | null })[];
  downstreams: (RemediationMetrics & { customers: string[] })[];
}

/**
 * Per customer network (every configured one, plus any only known from stored entries) and per
 * downstream (customers without a `downstream` are not in any), busiest first.
 */
export function groupMetrics(q: {
  entries: readonly EntryHistory[];
  watchMs: number;
  now: number;
  from: number;
  to: number;
  customers: readonly { name: string; downstream?: string }[];
}): GroupedMetrics {
  const downstreamOf = new Map(q.customers.map((c) => [c.name, c.downstream ?? null]));
  const byCustomer = new Map<string, RemediationCase[]>(q.customers.map((c) => [c.name, []]));
  const all: RemediationCase[] = [];
  for (const e of q.entries) {
    const cases = casesOf(e.events, q.watchMs, q.now);
    let list = byCustomer.get(e.customer);
    if (!list) byCustomer.set(e.customer, (list = []));
    list.push(...cases);
    all.push(...cases);
  }
  const byDownstream = new Map<string, { customers: string[]; cases: RemediationCase[] }>();
  for (const [customer, cases] of byCustomer) {
    const d = downstreamOf.get(customer);
    if (!d) continue;
    let g = byDownstream.get(d);
    if (!g) byDownstream.set(d, (g = { customers: [], cases: [] }));
    g.customers.push(customer);
    g.cases.push(...cases);
  }
  const busiest = (a: RemediationMetrics, b: RemediationMetrics) => b.cases - a.cases || a.name.localeCompare(b.name);
  return {
    total: metricsOf('all', all, q.from, q.to),
    customers: [...byCustomer]
      .map(([name, cases]) => ({ ...metricsOf(name, cases, q.from, q.to), downstream: downstreamOf.get(name) ?? null }))
      .sort(busiest),
    downstreams: [...byDownstream]
      .map(([name, g]) => ({ ...metricsOf(name, g.cases, q.from, q.to), customers: g.customers.sort() }))
      .sort(busiest),
  };
}
