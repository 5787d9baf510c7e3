import {
  Incident as IncidentSchema,
  STATUS_AUDIT_ACTION,
  type Incident,
  type IncidentDetail,
  type IncidentListQuery,
  type IncidentStatus,
  type TimelinePoint,
} from '@downstream/shared';
import type { IncidentEvents, IncidentManager, Store } from '../context.js';
import type { IncidentChangeFeed } from '../realtime/change-feed.js';

const MINUTE = 60_000;
/** How old a served timeline may get before realtime frames start a fresh read. */
const TIMELINE_REFRESH_MS = 15_000;

export interface StoreIncidentsOptions {
  feed: IncidentChangeFeed;
  store: Pick<Store, 'getIncident' | 'listIncidents' | 'upsertIncident' | 'appendAudit' | 'abuseRows'>;
  /** Points per series (detect.incidents.timelinePoints). */
  timelinePoints: number;
  /** After an operator action is written: tell the other API processes (realtime notifyPeers). */
  onWrite?: () => void;
  now?: () => number;
}

/**
 * The incident manager of the api role: no detectors feed it. Open incidents and their changes
 * come from the shared store through the change feed; lists and details are read from the store;
 * operator actions are written to it (and to the audit trail) at once, shown to this process's
 * clients at once, and reach the other API processes through their feeds.
 */
export class StoreIncidents implements IncidentManager {
  private readonly now: () => number;
  private readonly timelines = new Map<string, { at: number; points: TimelinePoint[] }>();
  private readonly loading = new Set<string>();
  onWrite?: () => void;

  constructor(private readonly o: StoreIncidentsOptions) {
    this.now = o.now ?? Date.now;
    this.onWrite = o.onWrite;
    o.feed.on('resolved', (inc) => this.timelines.delete(inc.id));
  }

  ingest(): void {
    throw new Error('the api role runs no detectors: detection events go to a detect (or all) process');
  }

  tick(): void {}

  list(query: IncidentListQuery): Promise<Incident[]> {
    return this.o.store.listIncidents(query);
  }

  active(): Incident[] {
    return this.o.feed.active();
  }

  private async find(id: string): Promise<Incident | undefined> {
    return this.o.feed.get(id) ?? (await this.o.store.getIncident(id));
  }

  /** The stored incident with what a drill-down needs, built from what the store holds. */
  async get(id: string): Promise<IncidentDetail | undefined> {
    const inc = await this.find(id);
    if (!inc) return undefined;
    return this.detail(inc, await this.loadTimeline(inc));
  }

  /** Open incidents only (what the feed holds), with the last timeline read for them. */
  peek(id: string): IncidentDetail | undefined {
    const inc = this.o.feed.get(id);
    return inc ? this.detail(inc, this.series(id)) : undefined;
  }

  /**
   * Realtime frames cannot wait for the store: the last timeline read is served, and a fresh
   * read is started when it is older than TIMELINE_REFRESH_MS (the rollups it comes from change
   * once a minute).
   */
  series(id: string): TimelinePoint[] {
    const cached = this.timelines.get(id);
    const inc = this.o.feed.get(id);
    if (inc && (!cached || this.now() - cached.at > TIMELINE_REFRESH_MS) && !this.loading.has(id)) {
      this.loading.add(id);
      void this.loadTimeline(inc)
        .catch(() => undefined)
        .finally(() => this.loading.delete(id));
    }
    return cached?.points ?? [];
  }

  private detail(inc: Incident, timeline: TimelinePoint[]): IncidentDetail {
    // Sources carry packets over the incident's life: the same mean rate the live graph shows.
    const secs = Math.max(1, (Date.parse(inc.lastSeen) - Date.parse(inc.firstSeen)) / 1000 + 1);
    return {
      ...inc,
      timeline,
      graph: {
        nodes: inc.sources.top.map((s) => ({
          ip: s.ip,
          asn: s.asn,
          country: s.country,
          ...(s.customer ? { customer: s.customer } : {}),
          pps: Math.round(s.packets / secs) || 0,
        })),
      },
    };
  }

  /**
   * The store keeps no per-second timeline, only per-minute abuse rollups (written as each
   * minute closes): the incident's series is its key's rows of its kind over its lifetime —
   * the target for inbound kinds, the top offending endpoint (or its customer network, for a
   * campaign of many) for outbound ones.
   */
  private async loadTimeline(inc: Incident): Promise<TimelinePoint[]> {
    const top = inc.sources.top[0];
    const [dimension, key] =
      inc.direction === 'inbound' || !top
        ? (['endpoint', inc.target?.ip] as const)
        : inc.sources.distinct > 1 && top.customer
          ? (['customer', top.customer] as const)
          : (['endpoint', top.ip] as const);
    if (!key) return [];
    const from = Math.floor(Date.parse(inc.firstSeen) / MINUTE) * MINUTE;
    const to = Math.floor(Date.parse(inc.lastSeen) / MINUTE) * MINUTE + MINUTE;
    if (!(to > from)) return [];
    const rows = (await this.o.store.abuseRows({ dimension, key, from, to, limit: this.o.timelinePoints * 8 }))
      .filter((r) => r.kind === inc.kind)
      .reverse();
    const points = rows.slice(-this.o.timelinePoints).map((r) => {
      const secs = (r.resolution === 'hour' ? 60 : 1) * 60;
      return {
        t: new Date(r.minute).toISOString(),
        pps: r.packets / secs,
        bps: (r.bytes * 8) / secs,
        sources: inc.sources.distinct,
      };
    });
    if (this.o.feed.get(inc.id)) this.timelines.set(inc.id, { at: this.now(), points });
    return points;
  }

  async setStatus(id: string, status: IncidentStatus, by: string, note?: string): Promise<Incident | undefined> {
    const inc = await this.find(id);
    if (!inc) return undefined;
    const at = new Date(this.now()).toISOString();
    const was = inc.status;
    await this.o.store.appendAudit({
      at,
      by,
      action: STATUS_AUDIT_ACTION[status],
      incidentId: id,
      detail: note ? `${was} → ${status}: ${note}` : `${was} → ${status}`,
    });
    return this.write({ ...inc, status, notes: note ? [...inc.notes, { at, by, text: note }] : [...inc.notes] });
  }

  async addNote(id: string, by: string, text: string): Promise<Incident | undefined> {
    const inc = await this.find(id);
    if (!inc) return undefined;
    const at = new Date(this.now()).toISOString();
    await this.o.store.appendAudit({ at, by, action: 'note', incidentId: id, detail: text });
    return this.write({ ...inc, notes: [...inc.notes, { at, by, text }] });
  }

  private async write(next: Incident): Promise<Incident> {
    // Parsed as the feed will read it back, so its next poll sees the same version, not a change.
    const inc = IncidentSchema.parse(next);
    await this.o.store.upsertIncident(inc);
    this.o.feed.apply(inc);
    this.onWrite?.();
    return inc;
  }

  on<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.o.feed.on(event, listener);
  }

  off<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.o.feed.off(event, listener);
  }
}
