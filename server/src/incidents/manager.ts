import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { STATUS_AUDIT_ACTION } from '@downstream/shared';
import type {
  AuditRecord,
  DetectionEvent,
  Incident,
  IncidentDetail,
  IncidentListQuery,
  IncidentStatus,
  TimelinePoint,
} from '@downstream/shared';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { IncidentEvents, IncidentManager } from './types.js';
import type { Store } from '../store/types.js';
import { mergeKeyOf, mergeKeyOfIncident, type MergeKey } from './merge-key.js';
import type { Live } from './live-incident.js';
import { mergeDetection, type MergeDeps } from './merge.js';
import { RollupAccumulator } from './rollups.js';
import { incidentView, sortedSources } from './view.js';

/** Persist an incident that only changed in numbers at most this often. */
const PERSIST_EVERY_MS = 5000;
/** After an operator resolves an incident, detections still in the detector's window for this long do not re-open it. */
const MANUAL_RESOLVE_GRACE_MS = 15_000;
/** At most one 'upsert' per incident this often from detections (operator actions always emit). */
const EMIT_EVERY_MS = 1000;
/** Resolved incidents kept in memory for re-opening and for `get` with timeline. */
const MAX_RECENT = 2000;

/** Built-in detectors that reported a stored incident: its detectors less the feeds. */
function hasBuiltIn(inc: Incident): boolean {
  const feeds = Array.isArray(inc.evidence.feeds) ? (inc.evidence.feeds as unknown[]) : [];
  return inc.detectors.some((d) => !feeds.includes(d));
}

function isCampaign(mergeKey: MergeKey): boolean {
  return mergeKey.rule === 'customer-campaign';
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
  /**
   * Load the store's unresolved incidents on start (default). Off where several processes
   * share the store (`serve --role detect`): each holds only the incidents it feeds, and
   * takes over another's through `adopt`.
   */
  loadOpen?: boolean;
  /**
   * Asked before a detection opens a new incident: an unresolved incident with this merge key
   * that another process opened (a detect process that died, whose keys this one now owns).
   * The detection then merges into it instead of opening a duplicate.
   */
  adopt?: (key: MergeKey) => Incident | undefined;
}

export class Incidents implements IncidentManager {
  private readonly emitter = new EventEmitter();
  /** Open incidents by merge key text. */
  private readonly openByKey = new Map<string, Live>();
  private readonly byId = new Map<string, Live>();
  /** Resolved, by merge key (latest), for re-opening. */
  private readonly recent = new Map<string, Live>();
  private readonly rollups = new RollupAccumulator();
  private mergeDeps?: MergeDeps;
  private readonly now: () => number;
  private readonly store: IncidentStore;
  private readonly logger: Logger;
  private readonly quietMs: number;
  private readonly reopenMs: number;
  private readonly timelinePoints: number;
  /** Resolves when the incidents left open by the last run are loaded back (see loadOpen). */
  readonly ready: Promise<void>;

  constructor(opts: IncidentManagerOptions) {
    this.store = opts.store;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    const ic = opts.config.detect.incidents;
    this.quietMs = ic.quietSeconds * 1000;
    this.reopenMs = ic.reopenSeconds * 1000;
    this.timelinePoints = ic.timelinePoints;
    this.emitter.setMaxListeners(100);
    this.adopt = opts.adopt;
    this.ready = opts.loadOpen === false ? Promise.resolve() : this.loadOpen();
  }

  private readonly adopt?: (key: MergeKey) => Incident | undefined;

  /** Restart survival: incidents that were not resolved come back, with a fresh quiet period. */
  private async loadOpen(): Promise<void> {
    const now = this.now();
    let n = 0;
    for (const status of ['open', 'acknowledged', 'mitigating'] as const) {
      let rows: Incident[];
      try {
        rows = await this.store.listIncidents({ status, limit: 1000 });
      } catch (e) {
        this.logger.error({ err: e }, 'could not load open incidents from the store');
        return;
      }
      for (const inc of rows) {
        const mergeKey = mergeKeyOfIncident(inc);
        if (this.openByKey.has(mergeKey.text)) continue;
        const live = this.newLive(inc, mergeKey, Math.max(Date.parse(inc.lastSeen) || now, now));
        live.startedMs = Date.parse(inc.firstSeen) || now;
        for (const s of inc.sources.top) live.sources.set(s.ip, s);
        this.openByKey.set(mergeKey.text, live);
        this.byId.set(inc.id, live);
        n++;
      }
    }
    if (n > 0) this.logger.info({ incidents: n }, 'loaded open incidents from the store');
  }

  private adoptStored(mk: MergeKey, now: number): Live | undefined {
    let inc: Incident | undefined;
    try {
      inc = this.adopt?.(mk);
    } catch (err) {
      this.logger.error({ err }, 'could not look up an open incident to adopt');
    }
    if (!inc || inc.status === 'resolved' || this.byId.has(inc.id)) return undefined;
    const live = this.newLive(inc, mk, now);
    live.startedMs = Date.parse(inc.firstSeen) || now;
    for (const s of inc.sources.top) live.sources.set(s.ip, s);
    this.byId.set(inc.id, live);
    this.logger.info({ id: inc.id, kind: inc.kind }, 'incident adopted from the store (opened by another process)');
    return live;
  }

  private newLive(inc: Incident, mergeKey: MergeKey, nowMs: number): Live {
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
    let live = this.openByKey.get(mk.text);
    let changedStatus = false;
    let adopted: Live | undefined;
    if (!live) {
      const prev = this.recent.get(mk.text);
      if (prev?.manualResolvedMs !== undefined && now - prev.manualResolvedMs < MANUAL_RESOLVE_GRACE_MS) return;
      if (prev && prev.resolvedMs !== undefined && now - prev.resolvedMs <= this.reopenMs) {
        live = prev;
        this.recent.delete(mk.text);
        live.inc.status = 'open';
        live.resolvedMs = undefined;
        live.manualResolvedMs = undefined;
        this.audit({ by: 'system', action: 'reopen', incidentId: live.inc.id, detail: `${e.detector} fired again` });
      } else if ((adopted = this.adoptStored(mk, now))) {
        live = adopted;
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
      this.openByKey.set(mk.text, live);
      changedStatus = true;
    }
    mergeDetection(
      live,
      e,
      now,
      (this.mergeDeps ??= { rollups: this.rollups, timelinePoints: this.timelinePoints, logger: this.logger }),
    );
    if (changedStatus || now - live.lastPersistMs >= PERSIST_EVERY_MS) this.persist(live, now);
    // A campaign gets one event per endpoint per second: the first goes out at once (latency),
    // the rest are folded into one upsert at the next tick.
    if (changedStatus || now - live.lastEmitMs >= EMIT_EVERY_MS) this.emitUpsert(live, now);
    else live.pendingEmit = true;
  }

  private emitUpsert(live: Live, now: number): void {
    live.lastEmitMs = now;
    live.pendingEmit = false;
    this.emitter.emit('upsert', incidentView(live));
  }

  /**
   * Hands the incident to the store. Detection never waits for it: the store queues refreshes
   * (latest per id, in order) and counts and logs a write it could not make; operator actions
   * await the returned promise.
   */
  private persist(live: Live, now: number): Promise<void> {
    live.lastPersistMs = now;
    live.dirty = false;
    const id = live.inc.id;
    const p = this.store.upsertIncident(incidentView(live));
    p.catch((err: unknown) => {
      // Written again at its next refresh (PERSIST_EVERY_MS), or with the next operator action.
      live.dirty = true;
      this.logger.error({ err, id }, 'could not persist incident');
    });
    return p;
  }

  /** A system entry (re-open): not awaited by detection; a failure is logged. */
  private audit(entry: Omit<AuditRecord, 'at'>): void {
    this.store.appendAudit({ at: new Date(this.now()).toISOString(), ...entry }).catch((err: unknown) => {
      this.logger.error({ err, entry }, 'could not write audit entry');
    });
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

  private resolve(live: Live, nowMs: number, manual = false): Promise<void> {
    live.inc.status = 'resolved';
    live.resolvedMs = nowMs;
    if (manual) live.manualResolvedMs = nowMs;
    this.remember(live);
    const written = this.persist(live, nowMs);
    this.logger.info({ id: live.inc.id, kind: live.inc.kind, manual }, 'incident resolved');
    this.emitter.emit('resolved', incidentView(live));
    return written;
  }

  private remember(live: Live): void {
    this.recent.delete(live.mergeKey.text);
    this.recent.set(live.mergeKey.text, live);
    while (this.recent.size > MAX_RECENT) {
      const [k, old] = this.recent.entries().next().value as [string, Live];
      this.recent.delete(k);
      if (this.byId.get(old.inc.id) === old) this.byId.delete(old.inc.id);
    }
  }

  async list(query: Partial<IncidentListQuery>): Promise<Incident[]> {
    const limit = query.limit ?? 100;
    const match = (i: Incident) =>
      (!query.status || i.status === query.status) &&
      (!query.kind || i.kind === query.kind) &&
      (!query.direction || i.direction === query.direction) &&
      (!query.since || i.lastSeen >= query.since);
    const byId = new Map<string, Incident>();
    let stored: Incident[] = [];
    try {
      stored = await this.store.listIncidents({ ...query, limit } as IncidentListQuery);
    } catch (err) {
      this.logger.error({ err }, 'could not list incidents from the store');
    }
    for (const i of stored) byId.set(i.id, i);
    // Memory is fresher than the (throttled) store for anything live or recently resolved.
    for (const live of this.byId.values()) if (match(live.inc)) byId.set(live.inc.id, incidentView(live));
    for (const [id, i] of byId) if (!match(i)) byId.delete(id);
    return [...byId.values()]
      .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0))
      .slice(0, limit);
  }

  active(): Incident[] {
    return [...this.openByKey.values()].map((l) => incidentView(l));
  }

  async get(id: string): Promise<IncidentDetail | undefined> {
    const mem = this.peek(id);
    if (mem) return mem;
    const inc = await this.store.getIncident(id);
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

  peek(id: string): IncidentDetail | undefined {
    const live = this.byId.get(id);
    if (live) {
      const top = sortedSources(live);
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
    return undefined;
  }

  private async liveFor(id: string): Promise<Live | undefined> {
    let live = this.byId.get(id);
    if (live) return live;
    const inc = await this.store.getIncident(id);
    if (!inc) return undefined;
    // Another call may have loaded it while this one read the store.
    live = this.byId.get(id);
    if (live) return live;
    const mk = mergeKeyOfIncident(inc);
    live = this.newLive(inc, mk, Date.parse(inc.lastSeen) || this.now());
    for (const s of inc.sources.top) live.sources.set(s.ip, s);
    if (inc.status === 'resolved') live.resolvedMs = Date.parse(inc.lastSeen) || this.now();
    this.byId.set(id, live);
    return live;
  }

  async setStatus(id: string, status: IncidentStatus, by: string, note?: string): Promise<Incident | undefined> {
    const live = await this.liveFor(id);
    if (!live) return undefined;
    const now = this.now();
    const at = new Date(now).toISOString();
    const was = live.inc.status;
    // The audit entry first: if the store refuses it the action fails as a whole (the caller
    // answers an error) and nothing changed here.
    await this.store.appendAudit({
      at,
      by,
      action: STATUS_AUDIT_ACTION[status],
      incidentId: id,
      detail: note ? `${was} → ${status}: ${note}` : `${was} → ${status}`,
    });
    if (note) live.inc.notes.push({ at, by, text: note });
    if (status === 'resolved') {
      if (was !== 'resolved') {
        this.openByKey.delete(live.mergeKey.text);
        await this.resolve(live, now, true);
      } else await this.persist(live, now);
      return incidentView(live);
    }
    live.inc.status = status;
    if (was === 'resolved') {
      // Re-opened by hand: it is live again and gets a fresh quiet period.
      this.recent.delete(live.mergeKey.text);
      const other = this.openByKey.get(live.mergeKey.text);
      if (!other) this.openByKey.set(live.mergeKey.text, live);
      live.resolvedMs = undefined;
      live.manualResolvedMs = undefined;
      live.lastEventMs = now;
    }
    const written = this.persist(live, now);
    this.emitUpsert(live, now);
    await written;
    return incidentView(live);
  }

  async addNote(id: string, by: string, text: string): Promise<Incident | undefined> {
    const live = await this.liveFor(id);
    if (!live) return undefined;
    const now = this.now();
    const at = new Date(now).toISOString();
    await this.store.appendAudit({ at, by, action: 'note', incidentId: id, detail: text });
    live.inc.notes.push({ at, by, text });
    const written = this.persist(live, now);
    this.emitUpsert(live, now);
    await written;
    return incidentView(live);
  }

  series(id: string): TimelinePoint[] {
    return [...(this.byId.get(id)?.timeline ?? [])];
  }

  /**
   * Let go of the open incidents whose merge key `matches`, without resolving them: another
   * process feeds them from now on (a detect process whose partition moved) and adopts them from
   * the store. Persisted first, so the store has their latest state. Returns how many.
   */
  handOver(matches: (key: MergeKey) => boolean): number {
    const now = this.now();
    let n = 0;
    for (const [k, live] of this.openByKey) {
      if (!matches(live.mergeKey)) continue;
      this.persist(live, now);
      this.openByKey.delete(k);
      this.byId.delete(live.inc.id);
      n++;
    }
    return n;
  }

  /** Hand every pending rollup and dirty incident to the store (shutdown). */
  async flush(): Promise<void> {
    const now = this.now();
    const writes: Promise<void>[] = [];
    for (const live of this.openByKey.values()) if (live.dirty) writes.push(this.persist(live, now));
    const rows = this.rollups.take(now, true);
    if (rows.length > 0) this.store.recordAbuse(rows);
    await Promise.allSettled(writes);
  }

  on<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.emitter.on(event, listener);
  }

  off<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.emitter.off(event, listener);
  }
}
