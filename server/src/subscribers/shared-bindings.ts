import type { SubscriberBinding, SubscriberContact } from '@downstream/shared';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { FOREVER, network, parseAddr, toBinding, type BindingRow } from '../store/subscriber-store.js';
import { placeholders, type SchemaSteps, type SqlDb } from '../store/sql-db.js';
import type { SubscriberContacts } from './contacts.js';
import type { SubscriberDirectory } from './types.js';

/*
 * Subscriber bindings for every API process of a cluster. The process that collects them (RADIUS
 * accounting, lease files: the `all` role) keeps its own SQLite intervals as before — the hot
 * path stays local and synchronous — and a BindingMirror copies each changed row, once a second,
 * into one PostgreSQL table keyed by (origin, id): `updated_ms` on every write is the cursor, so
 * nothing in the collector has to call it. API processes answer "who held this address then"
 * from that table (SharedSubscriberDirectory), with the same interval rules.
 */

export const SHARED_BINDINGS_SCHEMA: SchemaSteps = {
  sqlite: [
    `CREATE TABLE shared_subscriber_bindings (
       origin TEXT NOT NULL,
       local_id INTEGER NOT NULL,
       family INTEGER NOT NULL,
       net TEXT NOT NULL,
       plen INTEGER NOT NULL,
       subscriber TEXT NOT NULL,
       session TEXT,
       nas TEXT,
       source TEXT NOT NULL,
       from_ms INTEGER NOT NULL,
       to_ms INTEGER,
       updated_ms INTEGER NOT NULL,
       PRIMARY KEY (origin, local_id)
     );
     CREATE INDEX shared_subscriber_bindings_net ON shared_subscriber_bindings (net, plen, from_ms);
     CREATE INDEX shared_subscriber_bindings_subscriber ON shared_subscriber_bindings (subscriber, to_ms);`,
  ],
  pg: [
    `CREATE TABLE shared_subscriber_bindings (
       origin text NOT NULL,
       local_id bigint NOT NULL,
       family integer NOT NULL,
       net text NOT NULL,
       plen integer NOT NULL,
       subscriber text NOT NULL,
       session text,
       nas text,
       source text NOT NULL,
       from_ms bigint NOT NULL,
       to_ms bigint,
       updated_ms bigint NOT NULL,
       PRIMARY KEY (origin, local_id)
     );
     CREATE INDEX shared_subscriber_bindings_net ON shared_subscriber_bindings (net, plen, from_ms);
     CREATE INDEX shared_subscriber_bindings_subscriber ON shared_subscriber_bindings (subscriber, to_ms);`,
  ],
};

const COLUMNS = [
  'origin',
  'local_id',
  'family',
  'net',
  'plen',
  'subscriber',
  'session',
  'nas',
  'source',
  'from_ms',
  'to_ms',
  'updated_ms',
] as const;
/** Rows per statement and per flush: well inside both engines' parameter limits. */
const BATCH = 500;
const PER_FLUSH = 20_000;

export interface BindingMirrorOptions {
  /** The collector's database (the store's SQLite file, table subscriber_bindings). */
  local: Database.Database;
  shared: SqlDb;
  /** This collector's name in the shared table; stable across restarts (host and storage path). */
  origin: string;
  /** Bindings that ended before now − retentionMs are dropped from the shared table too. */
  retentionMs: number;
  logger: Logger;
  everyMs?: number;
  now?: () => number;
}

/** Copies the collector's changed binding rows into the shared table. */
export class BindingMirror {
  private cursor: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private lastPrune = 0;
  private readonly changed: Database.Statement<[number, number], BindingRow>;
  private readonly now: () => number;

  constructor(private readonly o: BindingMirrorOptions) {
    o.shared.migrate('shared-subscriber-bindings', SHARED_BINDINGS_SCHEMA);
    this.now = o.now ?? Date.now;
    this.changed = o.local.prepare(
      'SELECT * FROM subscriber_bindings WHERE updated_ms >= ? ORDER BY updated_ms, id LIMIT ?',
    );
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), this.o.everyMs ?? 1000);
    this.timer.unref();
  }

  /**
   * Copies what changed since the last flush (from where the shared table says this origin got
   * to, after a restart); how many rows. A failure is logged and retried from the same cursor.
   */
  flush(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<number> {
    try {
      if (this.cursor === undefined) {
        const r = await this.o.shared.get<{ m: number | null }>(
          'SELECT MAX(updated_ms) AS m FROM shared_subscriber_bindings WHERE origin = $1',
          [this.o.origin],
        );
        this.cursor = r?.m ?? 0;
      }
      // Rows updated in the cursor's own millisecond are read again: copying a row twice is harmless.
      const rows = this.changed.all(this.cursor, PER_FLUSH);
      if (rows.length > 0) {
        await this.o.shared.tx(async (q) => {
          for (let i = 0; i < rows.length; i += BATCH) {
            const slice = rows.slice(i, i + BATCH);
            const values = slice.map((_, k) => `(${placeholders(COLUMNS.length, k * COLUMNS.length + 1)})`).join(', ');
            await q.run(
              `INSERT INTO shared_subscriber_bindings (${COLUMNS.join(', ')}) VALUES ${values}
               ON CONFLICT (origin, local_id) DO UPDATE SET family = excluded.family, net = excluded.net,
               plen = excluded.plen, subscriber = excluded.subscriber, session = excluded.session, nas = excluded.nas,
               source = excluded.source, from_ms = excluded.from_ms, to_ms = excluded.to_ms,
               updated_ms = excluded.updated_ms`,
              slice.flatMap((r) => [
                this.o.origin,
                r.id,
                r.family,
                r.net,
                r.plen,
                r.subscriber,
                r.session,
                r.nas,
                r.source,
                r.from_ms,
                r.to_ms,
                r.updated_ms,
              ]),
            );
          }
        });
        this.cursor = rows[rows.length - 1]!.updated_ms;
      }
      const now = this.now();
      if (now - this.lastPrune >= 3_600_000) {
        this.lastPrune = now;
        await this.o.shared.run(
          'DELETE FROM shared_subscriber_bindings WHERE origin = $1 AND to_ms IS NOT NULL AND to_ms < $2',
          [this.o.origin, now - this.o.retentionMs],
        );
      }
      return rows.length;
    } catch (err) {
      this.o.logger.warn({ err }, 'could not copy subscriber bindings to the shared store (retried)');
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    // What changed since the last pass, so a clean shutdown leaves the shared table current.
    await this.flush().catch(() => undefined);
  }
}

/** How long the prefix lengths in the shared table are trusted before being read again. */
const PLENS_TTL_MS = 10_000;

/**
 * "Who held this address then" for a process that does not collect bindings: from the shared
 * table, every collector's rows together, with SubscriberStore's rules (longest prefix wins; the
 * holder at the end of an interval, else the last one during it).
 */
export class SharedSubscriberDirectory implements SubscriberDirectory {
  private plens: { at: number; byFamily: Map<number, number[]> } | undefined;
  private readonly now: () => number;

  constructor(private readonly o: { db: SqlDb; contacts?: SubscriberContacts; now?: () => number }) {
    o.db.migrate('shared-subscriber-bindings', SHARED_BINDINGS_SCHEMA);
    this.now = o.now ?? Date.now;
  }

  private async prefixLengths(family: number): Promise<number[]> {
    const t = this.now();
    if (!this.plens || t - this.plens.at > PLENS_TTL_MS) {
      const rows = await this.o.db.all<{ family: number; plen: number }>(
        'SELECT DISTINCT family, plen FROM shared_subscriber_bindings',
      );
      const byFamily = new Map<number, number[]>();
      for (const r of rows) byFamily.set(r.family, [...(byFamily.get(r.family) ?? []), r.plen]);
      for (const l of byFamily.values()) l.sort((a, b) => b - a);
      this.plens = { at: t, byFamily };
    }
    return this.plens.byFamily.get(family) ?? [];
  }

  private async keys(ip: string): Promise<{ net: string; plen: number }[]> {
    let addr: ReturnType<typeof parseAddr>;
    try {
      addr = parseAddr(ip);
    } catch {
      return [];
    }
    const plens = await this.prefixLengths(addr.kind() === 'ipv4' ? 4 : 6);
    return plens.map((plen) => ({ net: network(addr, plen), plen }));
  }

  private async at(ip: string, atMs: number): Promise<SubscriberBinding | undefined> {
    for (const k of await this.keys(ip)) {
      const r = await this.o.db.get<BindingRow>(
        `SELECT * FROM shared_subscriber_bindings WHERE net = $1 AND plen = $2 AND from_ms <= $3
         AND (to_ms IS NULL OR to_ms > $3) ORDER BY from_ms DESC LIMIT 1`,
        [k.net, k.plen, atMs],
      );
      if (r) return toBinding(r);
    }
    return undefined;
  }

  async holder(ip: string, fromMs: number, toMs: number): Promise<SubscriberBinding | undefined> {
    return (await this.at(ip, toMs)) ?? (await this.during(ip, fromMs, toMs + 1))[0];
  }

  async during(ip: string, fromMs: number, toMs: number): Promise<SubscriberBinding[]> {
    const out: BindingRow[] = [];
    for (const k of await this.keys(ip))
      out.push(
        ...(await this.o.db.all<BindingRow>(
          `SELECT * FROM shared_subscriber_bindings WHERE net = $1 AND plen = $2 AND from_ms < $3
           AND COALESCE(to_ms, ${FOREVER}) > $4 ORDER BY from_ms DESC LIMIT 100`,
          [k.net, k.plen, toMs, fromMs],
        )),
      );
    return out.sort((a, b) => b.from_ms - a.from_ms || b.plen - a.plen).map(toBinding);
  }

  async openSessions(subscriber: string): Promise<SubscriberBinding[]> {
    return (
      await this.o.db.all<BindingRow>(
        `SELECT * FROM shared_subscriber_bindings WHERE subscriber = $1 AND to_ms IS NULL AND session IS NOT NULL
         ORDER BY from_ms DESC LIMIT 20`,
        [subscriber],
      )
    ).map(toBinding);
  }

  async contact(subscriber: string): Promise<SubscriberContact | null> {
    return (await this.o.contacts?.lookup(subscriber)) ?? null;
  }

  /** For /api/subscribers/status: the bindings every collector copied here. */
  async status(): Promise<{ bindings: number; files: []; contacts: { csvErrors: string[] } }> {
    const r = await this.o.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM shared_subscriber_bindings');
    return { bindings: r?.n ?? 0, files: [], contacts: { csvErrors: [] } };
  }
}
