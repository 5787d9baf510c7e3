import type { IncidentKind, RemediationStatus, ReportCard } from '@downstream/shared';
import type { AppContext } from '../context.js';
import { DAY } from '../store/index.js';
import { groupMetrics, type EntryHistory, type GroupedMetrics } from '../store/remediation-metrics.js';
import { buildReportCard, OUTBOUND_KINDS } from '../store/report-card.js';
import type { ApiServices } from './services.js';

/*
 * What the remediation trends (history API) and the report card read: the remediation list, its
 * history, the outbound rollups per customer and the complaints, put together per request.
 */

/** Every remediation entry's history, for the metrics. */
async function entryHistories({ actions }: Pick<ApiServices, 'actions'>): Promise<{
  entries: EntryHistory[];
  customerOf: Map<number, string>;
}> {
  const customerOf = new Map((await actions.remediation.list({ limit: 1_000_000 })).map((e) => [e.id, e.customer]));
  const byId = new Map<number, EntryHistory>();
  for (const ev of await actions.watch.allEvents()) {
    const customer = customerOf.get(ev.entryId);
    if (customer === undefined) continue;
    let h = byId.get(ev.entryId);
    if (!h) byId.set(ev.entryId, (h = { id: ev.entryId, customer, events: [] }));
    h.events.push(ev);
  }
  return { entries: [...byId.values()], customerOf };
}

/** Time to notify, time to remediate and recurrence rate per customer and downstream, [from, to). */
export async function remediationMetricsFor(
  ctx: AppContext,
  services: Pick<ApiServices, 'actions'>,
  from: number,
  to: number,
  now = Date.now(),
): Promise<GroupedMetrics> {
  return groupMetrics({
    entries: (await entryHistories(services)).entries,
    watchMs: services.actions.watch.watchMs,
    now,
    from,
    to,
    customers: ctx.config.network.customers,
  });
}

export async function reportCardFor(
  ctx: AppContext,
  services: Pick<ApiServices, 'actions' | 'complaints'>,
  from: number,
  to: number,
  now = Date.now(),
): Promise<ReportCard> {
  const { actions } = services;
  const first = Math.floor(from / DAY) * DAY;
  const days: number[] = [];
  for (let t = first; t < to; t += DAY) days.push(t);
  const entries = await actions.remediation.list({ limit: 1_000_000 });
  const names = [...new Set([...ctx.config.network.customers.map((c) => c.name), ...entries.map((e) => e.customer)])];
  const abuse = new Map<string, { perDay: number[]; byKind: Partial<Record<IncidentKind, number>> }>();
  for (const kind of OUTBOUND_KINDS) {
    const s = await ctx.store.abuseSeries({ dimension: 'customer', from: first, to, stepMs: DAY, kind, keys: names });
    for (const r of s.series) {
      if (r.bytes === 0) continue;
      let a = abuse.get(r.key);
      if (!a) abuse.set(r.key, (a = { perDay: new Array<number>(days.length).fill(0), byKind: {} }));
      r.bytesSeries.forEach((v, i) => (a.perDay[i] = (a.perDay[i] ?? 0) + v));
      a.byKind[kind] = (a.byKind[kind] ?? 0) + r.bytes;
    }
  }
  const { entries: histories, customerOf } = await entryHistories(services);
  const remediated = new Map<string, Set<number>>();
  for (const h of histories)
    for (const e of h.events) {
      if (e.kind !== 'status' || e.to !== 'remediated' || e.at < from || e.at >= to) continue;
      const c = customerOf.get(h.id)!;
      if (!remediated.has(c)) remediated.set(c, new Set());
      remediated.get(c)!.add(h.id);
    }
  return buildReportCard({
    from,
    to,
    days,
    customers: ctx.config.network.customers,
    abuse,
    entries: entries.map((e) => ({ customer: e.customer, status: e.status as RemediationStatus })),
    remediatedInRange: new Map([...remediated].map(([c, s]) => [c, s.size])),
    metrics: groupMetrics({
      entries: histories,
      watchMs: actions.watch.watchMs,
      now,
      from,
      to,
      customers: ctx.config.network.customers,
    }),
    complaints: await services.complaints.desk.countsByCustomer(from, to),
  });
}
