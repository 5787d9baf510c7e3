import { EventEmitter } from 'node:events';
import type { Incident, IncidentListQuery, IncidentStatus } from '@downstream/shared';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { IncidentEvents } from '../incidents/types.js';

/** What the change feed reads from the shared store (a Store, SQLite or PostgreSQL, is one). */
export interface IncidentChangeSource {
  /**
   * Incidents written after `sinceMs` (the store's change stamps, ms since epoch), oldest change
   * first, each with its stamp: the feed's cursor is the last stamp it read, never its own clock.
   */
  incidentsChangedSince(sinceMs: number, limit?: number): Promise<(Incident & { changedAt: number })[]>;
  listIncidents(query: IncidentListQuery): Incident[] | Promise<Incident[]>;
}

export interface IncidentChangeFeedOptions {
  source: IncidentChangeSource;
  logger: Logger;
  /** How often the store is asked for changes. */
  pollMs?: number;
  /**
   * Each poll reaches back this far before the previous one started: a change stamped before
   * its transaction committed (PostgreSQL), or by a writer whose clock is a little behind ours,
   * is still seen. Versions already seen are not emitted again.
   */
  overlapMs?: number;
  /** How often the whole open set is re-read and compared: repairs anything a poll missed. */
  reconcileMs?: number;
  /** Most open incidents held; more are ignored (and counted). */
  maxIncidents?: number;
  registry?: Registry;
  now?: () => number;
}

const OPEN: readonly IncidentStatus[] = ['open', 'acknowledged', 'mitigating'];
/** Changes read per query; a busier second takes several. */
const CHANGES_PAGE = 500;

/**
 * The api role's view of the incidents detect processes write: the open ones, kept current by
 * polling the shared store, with the same `upsert` / `resolved` events as the incident manager
 * so the live layer (live.ts) serves them unchanged. Every API process runs its own feed over
 * the same store, so whichever one a client reconnects to has every open incident and none
 * that has since been resolved, within one poll.
 */
export class IncidentChangeFeed {
  private readonly open = new Map<string, { inc: Incident; sig: string }>();
  private readonly emitter = new EventEmitter();
  private readonly o: Required<Omit<IncidentChangeFeedOptions, 'registry' | 'now'>>;
  private readonly now: () => number;
  private cursor = 0;
  private lastReconcile = 0;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private lastErrorLog = 0;
  private readonly metrics?: { polls: Counter; changes: Counter; errors: Counter; overCap: Counter; open: Gauge };

  constructor(opts: IncidentChangeFeedOptions) {
    this.o = { pollMs: 1000, overlapMs: 5000, reconcileMs: 30_000, maxIncidents: 10_000, ...opts };
    this.now = opts.now ?? Date.now;
    this.emitter.setMaxListeners(100);
    if (opts.registry) {
      const registers = [opts.registry];
      this.metrics = {
        polls: new Counter({
          name: 'downstream_change_feed_polls_total',
          help: 'Polls of the shared store for changed incidents (api role)',
          registers,
        }),
        changes: new Counter({
          name: 'downstream_change_feed_changes_total',
          help: 'Incident changes read from the shared store and sent to clients, by event',
          labelNames: ['event'],
          registers,
        }),
        errors: new Counter({
          name: 'downstream_change_feed_errors_total',
          help: 'Failed polls of the shared store (retried at the next poll, from the same point)',
          registers,
        }),
        overCap: new Counter({
          name: 'downstream_change_feed_over_cap_total',
          help: 'Open incidents not held because the feed holds its maximum',
          registers,
        }),
        open: new Gauge({
          name: 'downstream_change_feed_open_incidents',
          help: 'Open incidents held by the change feed',
          registers,
        }),
      };
    }
  }

  /** Seeds the open set from the store (before any client connects), then polls. */
  async start(): Promise<void> {
    await this.run(true);
    this.timer = setInterval(() => void this.poll(), this.o.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads the changes now (a peer said it wrote some); also what the timer calls. */
  poll(): Promise<void> {
    return this.run(false);
  }

  /** One read at a time; a poll asked for during one runs right after it. */
  private run(reconcile: boolean): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.read(reconcile || this.now() - this.lastReconcile >= this.o.reconcileMs);
          reconcile = false;
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async read(reconcile: boolean): Promise<void> {
    const startedAt = this.now();
    try {
      if (reconcile) {
        const rows: Incident[] = [];
        for (const status of OPEN)
          rows.push(...(await this.o.source.listIncidents({ status, limit: this.o.maxIncidents })));
        const seen = new Set(rows.map((i) => i.id));
        for (const id of [...this.open.keys()]) if (!seen.has(id)) this.drop(id);
        for (const inc of rows) this.apply(inc);
        this.lastReconcile = startedAt;
        // Changes from here on are the polls' (the list is at least as new as startedAt; a write
        // stamped in that very millisecond is read again, not missed).
        if (this.cursor === 0) this.cursor = startedAt - 1;
      } else {
        this.metrics?.polls.inc();
        // The cursor is the newest stamp read: a wall-clock cursor would skip a change stamped
        // in the millisecond the poll started, and every change past a full page.
        let since = this.cursor - this.o.overlapMs;
        for (;;) {
          const rows = await this.o.source.incidentsChangedSince(since, CHANGES_PAGE);
          for (const inc of rows) {
            this.apply(inc);
            if (inc.changedAt > this.cursor) this.cursor = inc.changedAt;
          }
          if (rows.length < CHANGES_PAGE) break;
          // A full page: go on from the newest stamp seen (past the overlap's re-reads).
          since = Math.max(this.cursor, rows[rows.length - 1]!.changedAt);
        }
      }
    } catch (err) {
      this.metrics?.errors.inc();
      if (startedAt - this.lastErrorLog >= 10_000) {
        this.lastErrorLog = startedAt;
        this.o.logger.error({ err }, 'could not read incident changes from the store; retrying');
      }
      if (this.cursor === 0) throw err;
    }
    this.metrics?.open.set(this.open.size);
  }

  /** A version of an incident as written: emits when it differs from the one held. */
  apply(inc: Incident): void {
    const held = this.open.get(inc.id);
    if (inc.status === 'resolved') {
      if (held) this.drop(inc.id, inc);
      return;
    }
    const sig = JSON.stringify(inc);
    if (held?.sig === sig) return;
    if (!held && this.open.size >= this.o.maxIncidents) {
      this.metrics?.overCap.inc();
      return;
    }
    this.open.set(inc.id, { inc, sig });
    this.metrics?.changes.inc({ event: 'upsert' });
    this.emitter.emit('upsert', inc);
  }

  private drop(id: string, resolved?: Incident): void {
    const held = this.open.get(id);
    if (!held) return;
    this.open.delete(id);
    this.metrics?.changes.inc({ event: 'resolved' });
    this.emitter.emit('resolved', resolved ?? { ...held.inc, status: 'resolved' });
  }

  active(): Incident[] {
    return [...this.open.values()].map((h) => h.inc);
  }

  get(id: string): Incident | undefined {
    return this.open.get(id)?.inc;
  }

  on<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.emitter.on(event, listener);
  }

  off<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.emitter.off(event, listener);
  }
}
