/**
 * One small async SQL interface over the embedded SQLite file and the shared PostgreSQL store.
 *
 * The operator's state (remediation list and its history, mitigations, complaints, subscriber
 * notices, walled-garden steps, the RDAP cache) is written once, as SQL both engines accept, and
 * held to one conformance suite on both (actions/actions-store-conformance.test.ts). With
 * `storage.postgres` every API process of a cluster reads and writes the same rows; without it
 * they live in one SQLite file beside the incident store, as before.
 *
 * SQL uses PostgreSQL's `$1, $2 …` placeholders; the SQLite side rewrites them to named
 * parameters and drops `FOR UPDATE` (its transactions take the write lock up front, which is
 * stronger). Aggregates use `COUNT(*) FILTER (WHERE …)`, which both have.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Logger } from 'pino';
import { classify, StoreUnavailableError } from './errors.js';
import { migrate } from './migrations.js';
import { checkoutClient, newPgPool } from './pg-pool.js';
import { migratePgSteps } from './pg-schema.js';

export type Dialect = 'sqlite' | 'pg';

export type SqlParam = string | number | boolean | null | undefined;

/** What queries run on: the database, or one transaction of it. */
export interface SqlRunner {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  /** Runs a statement; how many rows it changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
}

/** Schema steps of one component, per engine; step N runs once, in order (migrations.ts, pg-schema.ts). */
export interface SchemaSteps {
  sqlite: readonly string[];
  pg: readonly string[];
}

export interface SqlDb extends SqlRunner {
  /**
   * `fn` in one transaction, committed when it settles, rolled back when it throws. Rows read
   * `FOR UPDATE` stay locked until then (PostgreSQL); SQLite takes the write lock at BEGIN.
   * `fn` must await nothing but its queries: on SQLite another connection waiting for that lock
   * waits synchronously (busy_timeout), so a body waiting on I/O or a timer could stall it.
   */
  tx<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T>;
  /** Brings a component's tables up to date; queries wait for it. Throws (SQLite) or rejects them (PG) on failure. */
  migrate(component: string, steps: SchemaSteps): void;
  /** Settles when every migration asked for so far is done. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** `IN (…)` placeholders for `values`, numbered from `$first`. */
export function placeholders(count: number, first = 1): string {
  return Array.from({ length: count }, (_, i) => `$${first + i}`).join(', ');
}

const PLACEHOLDER = /\$(\d+)/g;
const FOR_UPDATE = /\s+FOR\s+UPDATE\b/gi;

function sqliteValue(v: SqlParam): string | number | null {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** The embedded default: a better-sqlite3 file (or `:memory:`). */
export function openSqliteDb(path: string): SqlDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // Processes of one box may share the file (storage.path): wait for another's lock, do not
  // fail. Set before the WAL switch, which itself needs the lock.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const statements = new Map<string, { stmt: Database.Statement; names: string[] }>();
  const prepare = (sql: string): { stmt: Database.Statement; names: string[] } => {
    let s = statements.get(sql);
    if (!s) {
      const names: string[] = [];
      const text = sql.replace(FOR_UPDATE, '').replace(PLACEHOLDER, (_, n: string) => {
        names[Number(n) - 1] = `p${n}`;
        return `@p${n}`;
      });
      s = { stmt: db.prepare(text), names };
      statements.set(sql, s);
    }
    return s;
  };
  const bind = (names: string[], params: readonly SqlParam[] = []): Record<string, unknown> => {
    if (params.length !== names.length) throw new Error(`SQL takes ${names.length} parameters, ${params.length} given`);
    const o: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) o[names[i]!] = sqliteValue(params[i]);
    return o;
  };
  const direct: SqlRunner = {
    dialect: 'sqlite',
    async all<T>(sql: string, params?: readonly SqlParam[]) {
      const { stmt, names } = prepare(sql);
      return (names.length ? stmt.all(bind(names, params)) : stmt.all()) as T[];
    },
    async get<T>(sql: string, params?: readonly SqlParam[]) {
      const { stmt, names } = prepare(sql);
      return (names.length ? stmt.get(bind(names, params)) : stmt.get()) as T | undefined;
    },
    async run(sql: string, params?: readonly SqlParam[]) {
      const { stmt, names } = prepare(sql);
      return (names.length ? stmt.run(bind(names, params)) : stmt.run()).changes;
    },
  };
  // While a transaction awaits between its statements, every other query waits for it, or it
  // would run inside that transaction (and roll back with it). The gate is shared by every
  // connection of this process to the file: one waiting for SQLite's write lock would wait
  // synchronously (busy_timeout) and so stall the transaction it waits for.
  const gate = gateOf(path);
  const outside = <T>(f: () => Promise<T>): Promise<T> => (gate.locked ? gate.lock.then(f, f) : f());
  return {
    dialect: 'sqlite',
    all: (sql, params) => outside(() => direct.all(sql, params)),
    get: (sql, params) => outside(() => direct.get(sql, params)),
    run: (sql, params) => outside(() => direct.run(sql, params)),
    tx<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
      const body = async (): Promise<T> => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const r = await fn(direct);
          db.exec('COMMIT');
          return r;
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        }
      };
      gate.locked = true;
      const p = gate.lock.then(body, body);
      const settled = p.then(
        () => undefined,
        () => undefined,
      );
      gate.lock = settled;
      void settled.then(() => {
        if (gate.lock === settled) gate.locked = false;
      });
      return p;
    },
    migrate(component, steps) {
      migrate(db, component, steps.sqlite);
    },
    ready: async () => undefined,
    async close() {
      await gate.lock;
      db.close();
      gate.release();
    },
  };
}

interface Gate {
  lock: Promise<unknown>;
  locked: boolean;
  release(): void;
}
const gates = new Map<string, Gate & { users: number }>();

/** The transaction gate of a file, shared by this process's connections to it (`:memory:`: its own). */
function gateOf(path: string): Gate {
  if (path === ':memory:') return { lock: Promise.resolve(), locked: false, release: () => undefined };
  const key = resolve(path);
  let g = gates.get(key);
  if (!g) {
    const made: Gate & { users: number } = {
      lock: Promise.resolve(),
      locked: false,
      users: 0,
      release: () => {
        if (--made.users === 0) gates.delete(key);
      },
    };
    gates.set(key, (g = made));
  }
  g.users++;
  return g;
}

/** The shared store's PostgreSQL database (storage.postgres), on a pool of its own. */
export function openPgDb(o: { url: string; logger: Logger; maxConnections?: number }): SqlDb {
  const pool = newPgPool({ url: o.url, max: o.maxConnections ?? 4, name: 'downstream actions', log: o.logger });
  const migrations: Promise<void>[] = [];
  const ready = (): Promise<void> => Promise.all(migrations).then(() => undefined);
  const fail = (err: unknown): never => {
    throw classify('PostgreSQL query', err);
  };
  const on = (q: pg.Pool | pg.PoolClient): SqlRunner => ({
    dialect: 'pg',
    async all<T>(sql: string, params?: readonly SqlParam[]) {
      const r = await q.query(sql, params as unknown[] | undefined).catch(fail);
      return r.rows as T[];
    },
    async get<T>(sql: string, params?: readonly SqlParam[]) {
      const r = await q.query(sql, params as unknown[] | undefined).catch(fail);
      return r.rows[0] as T | undefined;
    },
    async run(sql: string, params?: readonly SqlParam[]) {
      const r = await q.query(sql, params as unknown[] | undefined).catch(fail);
      return r.rowCount ?? 0;
    },
  });
  const direct = on(pool);
  const checkout = async (): Promise<pg.PoolClient> => {
    return checkoutClient(pool, o.logger).catch((err: unknown) => {
      throw new StoreUnavailableError('connecting to PostgreSQL', err);
    });
  };
  return {
    dialect: 'pg',
    all: async (sql, params) => (await ready(), direct.all(sql, params)),
    get: async (sql, params) => (await ready(), direct.get(sql, params)),
    run: async (sql, params) => (await ready(), direct.run(sql, params)),
    async tx<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
      await ready();
      const c = await checkout();
      let broken: Error | undefined;
      try {
        await c.query('BEGIN').catch(fail);
        const r = await fn(on(c));
        await c.query('COMMIT').catch(fail);
        return r;
      } catch (e) {
        await c.query('ROLLBACK').catch((err: Error) => (broken = err));
        throw e;
      } finally {
        // A connection that could not even roll back is not given to the next query.
        c.release(broken);
      }
    },
    migrate(component, steps) {
      const m = (async () => {
        const c = await checkout();
        try {
          await migratePgSteps(c, component, steps.pg);
        } finally {
          c.release();
        }
      })();
      // A failed migration fails every later query with its error (no unhandled rejection here).
      m.catch(() => undefined);
      migrations.push(m);
    },
    ready,
    async close() {
      await Promise.allSettled(migrations);
      await pool.end();
    },
  };
}
