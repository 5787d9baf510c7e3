import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type {
  DetectionEvent,
  Incident,
  IncidentDetail,
  IncidentKind,
  IncidentListQuery,
  IncidentStatus,
  SourceEndpoint,
  TimelinePoint,
} from '@downstream/shared';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { IncidentEvents, IncidentManager, Store } from '../context.js';
import { RollupAccumulator } from './rollups.js';
import { maxSeverity, severityOf } from './severity.js';

/** Listed sources an incident keeps (the detail's call list / graph). */
const MAX_SOURCES = 10_000;
/** Sources carried by inbound incidents in lists, socket deltas and the store. */
const LIST_TOP_INBOUND = 100;
/** Persist an incident that only changed in numbers at most this often. */
const PERSIST_EVERY_MS = 5000;
/** After an operator resolves an incident, detections still in the detector's window for this long do not re-open it. */
const MANUAL_RESOLVE_GRACE_MS = 15_000;
/** At most one 'upsert' per incident this often from detections (operator actions always emit). */
const EMIT_EVERY_MS = 1000;
/** Resolved incidents kept in memory for re-opening and for `get` with timeline. */
const MAX_RECENT = 2000;
/**
 * A built-in detector "measures" an incident while it reported within this long: detectors
 * report every tick while firing and stay silent for at most 3 ticks of hold time.
 */
const BUILT_IN_FRESH_MS = 5000;

interface Live {
  inc: Incident;
  mergeKey: string;
  /** Every listed source, heaviest first (≤ MAX_SOURCES). */
  sources: Map<string, SourceEndpoint>;
  timeline: TimelinePoint[];
  /** Sum of the rates of the events of one second (a campaign is many endpoints' events). */
  secAt: string;
  secPps: number;
  secBps: number;
  lastEventMs: number;
  startedMs: number;
  lastPersistMs: number;
  resolvedMs?: number;
  manualResolvedMs?: number;
  dirty: boolean;
  lastEmitMs: number;
  /** Changed since the last 'upsert' was emitted (emits are at most one a second per incident). */
  pendingEmit: boolean;
  /** A built-in detector has reported this incident (its verdict and sources rule over feeds'). */
  builtIn: boolean;
  /** Last detection from a built-in detector (manager clock). */
  lastBuiltInMs: number;
  /** Second (`at`) last counted in the rollups, for incidents whose events each measure the whole attack. */
  rolledAt: string;
}

/**
 * Inbound kinds that all describe one thing — an attack on one of our addresses — seen by
 * detectors that draw the line between them differently (FastNetMon cannot tell fan-in from a
 * plain flood; a built-in detector may call a target volumetric before enough sources show).
 * They share ONE incident per target address; the kind is the verdict below.
 */
const TARGET_KINDS: ReadonlySet<IncidentKind> = new Set(['amplification', 'ddos-fan-in', 'volumetric', 'external']);

/**
 * How specific a verdict on one target is; the incident takes the most specific one seen.
 * Amplification names the reflection (source ports to filter, reflectors to report) and fan-in
 * the many-small-sources shape — what mitigation and the abuse reports need; volumetric only
 * says "far above baseline", which both of those are too; external says nothing of the shape.
 * Built-in verdicts beat every feed verdict (see `merge`): a feed's guess never relabels what
 * the flow detectors measured.
 */
const SPECIFICITY: Partial<Record<IncidentKind, number>> = {
  amplification: 3,
  'ddos-fan-in': 2,
  volumetric: 1,
  external: 0,
};

/** Feeds (FastNetMon, Suricata, webhooks) mark their detections with `evidence.feed`. */
export function isFeedDetection(e: DetectionEvent): boolean {
  return typeof e.evidence.feed === 'string';
}

/**
 * Which incident a detection belongs to — the one place the merge rule lives:
 * - inbound attacks on a target (amplification, ddos-fan-in, volumetric, external), from any
 *   detector or feed: one incident per target address, whatever each one calls it;
 * - spam-bot and scanner: one campaign per kind and customer, so twelve spamming PCs of one
 *   customer are one incident whose sources are the call list;
 * - anything else (ddos-participation by outside victim, outbound external): kind + key.
 */
export function mergeKeyOf(e: Pick<DetectionEvent, 'kind' | 'direction' | 'key' | 'sources' | 'target'>): string {
  if (e.direction === 'inbound' && TARGET_KINDS.has(e.kind)) return `inbound|${e.key}`;
  if ((e.kind === 'spam-bot' || e.kind === 'scanner') && e.direction === 'outbound') {
    const customer = e.sources.top[0]?.customer ?? e.target?.customer;
    if (customer) return `${e.kind}|customer:${customer}`;
  }
  return `${e.kind}|${e.direction}|${e.key}`;
}

/** The merge key of a stored incident (also those stored before the per-target inbound rule). */
function mergeKeyOfIncident(inc: Incident): string {
  if (inc.direction === 'inbound' && TARGET_KINDS.has(inc.kind) && inc.target) return `inbound|${inc.target.ip}`;
  return typeof inc.evidence.incidentKey === 'string'
    ? inc.evidence.incidentKey
    : `${inc.kind}|${inc.direction}|${inc.target?.ip ?? inc.id}`;
}

/** Built-in detectors that reported a stored incident: its detectors less the feeds. */
function hasBuiltIn(inc: Incident): boolean {
  const feeds = Array.isArray(inc.evidence.feeds) ? (inc.evidence.feeds as unknown[]) : [];
  return inc.detectors.some((d) => !feeds.includes(d));
}

function isCampaign(mergeKey: string): boolean {
  return mergeKey.includes('|customer:');
}

/** The part of the Store the incident manager uses (any full Store fits). */
export type IncidentStore = Pick<
  Store,
  'upsertIncident' | 'getIncident' | 'listIncidents' | 'appendAudit' | 'recordAbuse'
>;

export interface IncidentManagerOptions {
  store: IncidentStore;
  logger: Logger;
  config: Config;
  now?: () => number;
}

export class Incidents implements IncidentManager {
  private readonly emitter = new EventEmitter();
  private readonly openByKey = new Map<string, Live>();
  private readonly byId = new Map<string, Live>();
  /** Resolved, by merge key (latest), for re-opening. */
  private readonly recent = new Map<string, Live>();
  private readonly rollups = new RollupAccumulator();
  private readonly now: () => number;
  private readonly store: IncidentStore;
  private readonly logger: Logger;
  private readonly quietMs: number;
  private readonly reopenMs: number;
  private readonly timelinePoints: number;

  constructor(opts: IncidentManagerOptions) {
    this.store = opts.store;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    const ic = opts.config.detect.incidents;
    this.quietMs = ic.quietSeconds * 1000;
    this.reopenMs = ic.reopenSeconds * 1000;
    this.timelinePoints = ic.timelinePoints;
    this.emitter.setMaxListeners(100);
    this.loadOpen();
  }

  /** Restart survival: incidents that were not resolved come back, with a fresh quiet period. */
  private loadOpen(): void {
    const now = this.now();
    let n = 0;
    for (const status of ['open', 'acknowledged', 'mitigating'] as const) {
      let rows: Incident[];
      try {
        rows = this.store.listIncidents({ status, limit: 1000 });
      } catch (e) {
        this.logger.error({ err: e }, 'could not load open incidents from the store');
        return;
      }
      for (const inc of rows) {
        const mergeKey = mergeKeyOfIncident(inc);
        if (this.openByKey.has(mergeKey)) continue;
        const live = this.newLive(inc, mergeKey, Math.max(Date.parse(inc.lastSeen) || now, now));
        live.startedMs = Date.parse(inc.firstSeen) || now;
        for (const s of inc.sources.top) live.sources.set(s.ip, s);
        this.openByKey.set(mergeKey, live);
        this.byId.set(inc.id, live);
        n++;
      }
    }
    if (n > 0) this.logger.info({ incidents: n }, 'loaded open incidents from the store');
  }

  private newLive(inc: Incident, mergeKey: string, nowMs: number): Live {
    return {
      inc,
      mergeKey,
      sources: new Map(),
      timeline: [],
      secAt: '',
      secPps: 0,
      secBps: 0,
      lastEventMs: nowMs,
      startedMs: nowMs,
      lastPersistMs: 0,
      dirty: true,
      lastEmitMs: -Infinity,
      pendingEmit: false,
      builtIn: hasBuiltIn(inc),
      lastBuiltInMs: -Infinity,
      rolledAt: '',
    };
  }

  ingest(e: DetectionEvent): void {
    const now = this.now();
    const mk = mergeKeyOf(e);
    let live = this.openByKey.get(mk);
    let changedStatus = false;
    if (!live) {
      const prev = this.recent.get(mk);
      if (prev?.manualResolvedMs !== undefined && now - prev.manualResolvedMs < MANUAL_RESOLVE_GRACE_MS) return;
      if (prev && prev.resolvedMs !== undefined && now - prev.resolvedMs <= this.reopenMs) {
        live = prev;
        this.recent.delete(mk);
        live.inc.status = 'open';
        live.resolvedMs = undefined;
        live.manualResolvedMs = undefined;
        this.audit({ by: 'system', action: 'reopen', incidentId: live.inc.id, detail: `${e.detector} fired again` });
      } else {
        const inc: Incident = {
          id: randomUUID(),
          kind: e.kind,
          direction: e.direction,
          severity: 'low',
          status: 'open',
          firstSeen: e.at,
          lastSeen: e.at,
          ...(e.target && !isCampaign(mk) ? { target: e.target } : {}),
          sources: { distinct: 0, top: [], asns: [] },
          upstreams: [],
          peak: { pps: 0, bps: 0 },
          evidence: { kindBy: e.detector },
          detectors: [],
          notes: [],
        };
        live = this.newLive(inc, mk, now);
        this.byId.set(inc.id, live);
        this.logger.info({ id: inc.id, kind: e.kind, key: e.key }, 'incident opened');
      }
      this.openByKey.set(mk, live);
      changedStatus = true;
    }
    this.merge(live, e, now);
    if (changedStatus || now - live.lastPersistMs >= PERSIST_EVERY_MS) this.persist(live, now);
    // A campaign gets one event per endpoint per second: the first goes out at once (latency),
    // the rest are folded into one upsert at the next tick.
    if (changedStatus || now - live.lastEmitMs >= EMIT_EVERY_MS) this.emitUpsert(live, now);
    else live.pendingEmit = true;
  }

  private emitUpsert(live: Live, now: number): void {
    live.lastEmitMs = now;
    live.pendingEmit = false;
    this.emitter.emit('upsert', this.view(live));
  }

  private merge(live: Live, e: DetectionEvent, now: number): void {
    const inc = live.inc;
    const campaign = isCampaign(live.mergeKey);
    const feed = isFeedDetection(e);
    live.lastEventMs = now;
    if (e.at > inc.lastSeen) inc.lastSeen = e.at;
    if (e.at < inc.firstSeen) inc.firstSeen = e.at;
    if (!inc.detectors.includes(e.detector)) inc.detectors.push(e.detector);
    const feeds = new Set(Array.isArray(inc.evidence.feeds) ? (inc.evidence.feeds as string[]) : []);
    if (feed) feeds.add(e.detector);
    // Built-in detectors measure the flows themselves: what they say is the incident, and a feed
    // that reports the same attack corroborates it — listed, its view filed under its own name,
    // but its 20-flow sample, summary and kind guess do not replace the flow detectors' view.
    const corroborating = feed && live.builtIn;
    // …nor is its rate counted again while a built-in detector measures the same traffic.
    const measured = !feed || now - live.lastBuiltInMs > BUILT_IN_FRESH_MS;
    if (!feed) {
      if (!live.builtIn && inc.detectors.length > 1) {
        // The first flow detector on an incident only feeds had reported: their samples and
        // evidence step aside (kept under each feed's name) for the full view.
        live.sources.clear();
        inc.evidence = Object.fromEntries(Object.entries(inc.evidence).filter(([k]) => feeds.has(k)));
      }
      if (!live.builtIn || moreSpecific(e.kind, inc.kind)) this.setKind(inc, e);
      live.builtIn = true;
      live.lastBuiltInMs = now;
    } else if (!live.builtIn && moreSpecific(e.kind, inc.kind)) this.setKind(inc, e);

    if (!corroborating) {
      if (e.target && !campaign) inc.target = e.target;
      // Sources: a union, latest figures winning. Detectors send their whole list every few
      // seconds and the heaviest in between; campaigns add endpoints from many events.
      if (e.sources.top.length > 0) {
        for (const s of e.sources.top) live.sources.set(s.ip, s);
        if (live.sources.size > MAX_SOURCES) {
          const kept = [...live.sources.values()].sort((a, b) => b.packets - a.packets).slice(0, MAX_SOURCES);
          live.sources = new Map(kept.map((s) => [s.ip, s]));
        }
      }
    }
    // Distinct sources now (the detector's window), and the most seen at once in the evidence.
    const distinct = corroborating
      ? inc.sources.distinct
      : campaign
        ? live.sources.size
        : Math.max(e.sources.distinct, e.sources.top.length);
    inc.sources.distinct = distinct;
    const peakSources = Math.max(distinct, typeof inc.evidence.peakSources === 'number' ? inc.evidence.peakSources : 0);
    if (!corroborating) {
      if (campaign) inc.sources.asns = asnSharesOf(live.sources);
      else if (e.sources.asns.length > 0) inc.sources.asns = e.sources.asns;
      if (e.upstreams.length > 0) inc.upstreams = e.upstreams;
    }
    if (measured) {
      // Rates of one second: a campaign's events add up (one per endpoint); any other incident's
      // events each measure the whole attack, so two detectors in one second do not add.
      if (e.at === live.secAt) {
        live.secPps = campaign ? live.secPps + e.rate.pps : Math.max(live.secPps, e.rate.pps);
        live.secBps = campaign ? live.secBps + e.rate.bps : Math.max(live.secBps, e.rate.bps);
      } else {
        live.secAt = e.at;
        live.secPps = e.rate.pps;
        live.secBps = e.rate.bps;
      }
      inc.peak = { pps: Math.max(inc.peak.pps, live.secPps), bps: Math.max(inc.peak.bps, live.secBps) };
      // Per-minute rollups (trends, heatmaps) count each second of abuse once, under the
      // incident's kind.
      if (campaign || live.rolledAt !== e.at) {
        live.rolledAt = e.at;
        this.rollups.add(e, Date.parse(e.at) || now, 1, inc.kind);
      }
    }
    const feedView = feed ? feedEvidence(e) : undefined;
    const prevOnset = inc.evidence.onset;
    inc.evidence = {
      ...inc.evidence,
      ...(corroborating ? {} : e.evidence),
      ...(feedView ? { [e.detector]: feedView } : {}),
      incidentKey: live.mergeKey,
      peakSources,
      ...(feeds.size > 0 ? { feeds: [...feeds] } : {}),
    };
    delete inc.evidence.feed;
    // When the abuse began: the earliest onset any detection stated (time to detect = firstSeen − onset).
    const onset = earliestOnset(prevOnset, e.evidence.onset);
    if (onset) inc.evidence.onset = onset;
    else delete inc.evidence.onset;
    if (campaign) {
      inc.evidence.endpoints = live.sources.size;
      const customer = e.sources.top[0]?.customer;
      if (customer) inc.evidence.customer = customer;
      inc.evidence.summary = `${live.sources.size} customer endpoint${live.sources.size === 1 ? '' : 's'}${customer ? ` of ${customer}` : ''}: ${e.evidence.summary ?? e.kind}`;
    }
    if (measured) {
      const last = live.timeline[live.timeline.length - 1];
      const point: TimelinePoint = { t: e.at, pps: live.secPps, bps: live.secBps, sources: distinct };
      if (last && last.t === e.at)
        live.timeline[live.timeline.length - 1] = { ...point, sources: Math.max(last.sources, distinct) };
      else {
        live.timeline.push(point);
        if (live.timeline.length > this.timelinePoints)
          live.timeline.splice(0, live.timeline.length - this.timelinePoints);
      }
    }
    inc.severity = maxSeverity(
      inc.severity,
      severityOf({ ...inc, sources: { ...inc.sources, top: this.sortedSources(live) } }),
    );
    live.dirty = true;
  }

  private setKind(inc: Incident, e: DetectionEvent): void {
    if (inc.kind !== e.kind)
      this.logger.info({ id: inc.id, from: inc.kind, to: e.kind, detector: e.detector }, 'incident kind refined');
    inc.kind = e.kind;
    inc.evidence.kindBy = e.detector;
  }

  private sortedSources(live: Live, limit = MAX_SOURCES): SourceEndpoint[] {
    const all = [...live.sources.values()];
    all.sort((a, b) => b.packets - a.packets);
    return all.length > limit ? all.slice(0, limit) : all;
  }

  /** The incident as lists, deltas and the store carry it: inbound source lists trimmed. */
  private view(live: Live): Incident {
    const limit = live.inc.direction === 'inbound' ? LIST_TOP_INBOUND : MAX_SOURCES;
    return {
      ...live.inc,
      sources: { ...live.inc.sources, top: this.sortedSources(live, limit) },
      notes: [...live.inc.notes],
    };
  }

  private persist(live: Live, now: number): void {
    live.lastPersistMs = now;
    live.dirty = false;
    try {
      this.store.upsertIncident(this.view(live));
    } catch (err) {
      this.logger.error({ err, id: live.inc.id }, 'could not persist incident');
    }
  }

  private audit(entry: { by: string; action: string; incidentId?: string; detail?: string }): void {
    this.store.appendAudit({ at: new Date(this.now()).toISOString(), ...entry });
  }

  tick(nowMs: number): void {
    for (const [mk, live] of this.openByKey) {
      if (nowMs - live.lastEventMs >= this.quietMs) {
        this.openByKey.delete(mk);
        this.resolve(live, nowMs);
      } else {
        if (live.pendingEmit) this.emitUpsert(live, nowMs);
        if (live.dirty && nowMs - live.lastPersistMs >= PERSIST_EVERY_MS) this.persist(live, nowMs);
      }
    }
    const rows = this.rollups.take(nowMs);
    if (rows.length > 0) {
      try {
        this.store.recordAbuse(rows);
      } catch (err) {
        this.logger.error({ err }, 'could not record abuse rollups');
      }
    }
  }

  private resolve(live: Live, nowMs: number, manual = false): void {
    live.inc.status = 'resolved';
    live.resolvedMs = nowMs;
    if (manual) live.manualResolvedMs = nowMs;
    this.remember(live);
    this.persist(live, nowMs);
    this.logger.info({ id: live.inc.id, kind: live.inc.kind, manual }, 'incident resolved');
    this.emitter.emit('resolved', this.view(live));
  }

  private remember(live: Live): void {
    this.recent.delete(live.mergeKey);
    this.recent.set(live.mergeKey, live);
    while (this.recent.size > MAX_RECENT) {
      const [k, old] = this.recent.entries().next().value as [string, Live];
      this.recent.delete(k);
      if (this.byId.get(old.inc.id) === old) this.byId.delete(old.inc.id);
    }
  }

  list(query: Partial<IncidentListQuery>): Incident[] {
    const limit = query.limit ?? 100;
    const match = (i: Incident) =>
      (!query.status || i.status === query.status) &&
      (!query.kind || i.kind === query.kind) &&
      (!query.direction || i.direction === query.direction) &&
      (!query.since || i.lastSeen >= query.since);
    const byId = new Map<string, Incident>();
    let stored: Incident[] = [];
    try {
      stored = this.store.listIncidents({ ...query, limit } as IncidentListQuery);
    } catch (err) {
      this.logger.error({ err }, 'could not list incidents from the store');
    }
    for (const i of stored) byId.set(i.id, i);
    // Memory is fresher than the (throttled) store for anything live or recently resolved.
    for (const live of this.byId.values()) if (match(live.inc)) byId.set(live.inc.id, this.view(live));
    for (const [id, i] of byId) if (!match(i)) byId.delete(id);
    return [...byId.values()]
      .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0))
      .slice(0, limit);
  }

  active(): Incident[] {
    return [...this.openByKey.values()].map((l) => this.view(l));
  }

  get(id: string): IncidentDetail | undefined {
    const live = this.byId.get(id);
    if (live) {
      const top = this.sortedSources(live);
      const secs = Math.max(1, (live.lastEventMs - live.startedMs) / 1000 + 1);
      return {
        ...live.inc,
        notes: [...live.inc.notes],
        sources: { ...live.inc.sources, top },
        timeline: [...live.timeline],
        graph: {
          nodes: top.map((s) => ({
            ip: s.ip,
            asn: s.asn,
            country: s.country,
            ...(s.customer ? { customer: s.customer } : {}),
            pps: Math.round(s.packets / secs),
          })),
        },
      };
    }
    const inc = this.store.getIncident(id);
    if (!inc) return undefined;
    return {
      ...inc,
      timeline: [],
      graph: {
        nodes: inc.sources.top.map((s) => ({
          ip: s.ip,
          asn: s.asn,
          country: s.country,
          ...(s.customer ? { customer: s.customer } : {}),
          pps: 0,
        })),
      },
    };
  }

  private liveFor(id: string): Live | undefined {
    let live = this.byId.get(id);
    if (live) return live;
    const inc = this.store.getIncident(id);
    if (!inc) return undefined;
    const mk = mergeKeyOfIncident(inc);
    live = this.newLive(inc, mk, Date.parse(inc.lastSeen) || this.now());
    for (const s of inc.sources.top) live.sources.set(s.ip, s);
    if (inc.status === 'resolved') live.resolvedMs = Date.parse(inc.lastSeen) || this.now();
    this.byId.set(id, live);
    return live;
  }

  setStatus(id: string, status: IncidentStatus, by: string, note?: string): Incident | undefined {
    const live = this.liveFor(id);
    if (!live) return undefined;
    const now = this.now();
    const at = new Date(now).toISOString();
    const was = live.inc.status;
    if (note) live.inc.notes.push({ at, by, text: note });
    const action =
      status === 'acknowledged'
        ? 'ack'
        : status === 'mitigating'
          ? 'mitigate'
          : status === 'resolved'
            ? 'resolve'
            : 'reopen';
    this.store.appendAudit({
      at,
      by,
      action,
      incidentId: id,
      detail: note ? `${was} → ${status}: ${note}` : `${was} → ${status}`,
    });
    if (status === 'resolved') {
      if (was !== 'resolved') {
        this.openByKey.delete(live.mergeKey);
        this.resolve(live, now, true);
      } else this.persist(live, now);
      return this.view(live);
    }
    live.inc.status = status;
    if (was === 'resolved') {
      // Re-opened by hand: it is live again and gets a fresh quiet period.
      this.recent.delete(live.mergeKey);
      const other = this.openByKey.get(live.mergeKey);
      if (!other) this.openByKey.set(live.mergeKey, live);
      live.resolvedMs = undefined;
      live.manualResolvedMs = undefined;
      live.lastEventMs = now;
    }
    this.persist(live, now);
    this.emitUpsert(live, now);
    return this.view(live);
  }

  addNote(id: string, by: string, text: string): Incident | undefined {
    const live = this.liveFor(id);
    if (!live) return undefined;
    const now = this.now();
    const at = new Date(now).toISOString();
    live.inc.notes.push({ at, by, text });
    this.store.appendAudit({ at, by, action: 'note', incidentId: id, detail: text });
    this.persist(live, now);
    this.emitUpsert(live, now);
    return this.view(live);
  }

  series(id: string): TimelinePoint[] {
    return [...(this.byId.get(id)?.timeline ?? [])];
  }

  /** Hand every pending rollup and dirty incident to the store (shutdown). */
  flush(): void {
    const now = this.now();
    for (const live of this.openByKey.values()) if (live.dirty) this.persist(live, now);
    const rows = this.rollups.take(now, true);
    if (rows.length > 0) this.store.recordAbuse(rows);
  }

  on<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.emitter.on(event, listener);
  }

  off<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.emitter.off(event, listener);
  }
}

/** True when `a` is a more specific verdict on a target than `b` (kinds outside the ranking never are). */
function moreSpecific(a: IncidentKind, b: IncidentKind): boolean {
  const ra = SPECIFICITY[a];
  const rb = SPECIFICITY[b];
  return ra !== undefined && rb !== undefined && ra > rb;
}

/** The earlier of two ISO onsets, ignoring anything that is not a valid timestamp. */
function earliestOnset(a: unknown, b: unknown): string | undefined {
  const ta = typeof a === 'string' ? Date.parse(a) : NaN;
  const tb = typeof b === 'string' ? Date.parse(b) : NaN;
  if (Number.isNaN(ta)) return Number.isNaN(tb) ? undefined : new Date(tb).toISOString();
  if (Number.isNaN(tb) || ta <= tb) return new Date(ta).toISOString();
  return new Date(tb).toISOString();
}

/** What a feed said, filed under its name in the incident's evidence. */
function feedEvidence(e: DetectionEvent): Record<string, unknown> {
  const { feed: _feed, ...rest } = e.evidence;
  return { ...rest, kind: e.kind, sources: e.sources.distinct, pps: e.rate.pps, bps: e.rate.bps };
}

function asnSharesOf(sources: Map<string, SourceEndpoint>): Incident['sources']['asns'] {
  const by = new Map<number, { name: string; bytes: number }>();
  let total = 0;
  for (const s of sources.values()) {
    const r = by.get(s.asn) ?? { name: s.asName, bytes: 0 };
    r.bytes += s.bytes;
    total += s.bytes;
    by.set(s.asn, r);
  }
  if (total <= 0) return [];
  return [...by.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, 20)
    .map(([asn, r]) => ({ asn, name: r.name, share: Math.round((r.bytes / total) * 1000) / 1000 }));
}
