import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { openPgDb, openSqliteDb, type SqlDb } from '../store/sql-db.js';
import { POSTGRES_MISSING, postgresBinDir, sharedPostgres } from './postgres.js';

/**
 * The engines the actions database runs on, for suites that hold both to the same behaviour:
 * SQLite in a temp file, PostgreSQL on the run's shared server (one new database per `open`),
 * left out with a warning where Debian's postgresql is not installed.
 */
export interface ActionsEngine {
  name: 'sqlite' | 'postgres';
  /** A new, empty actions database. */
  fresh(): Promise<ActionsDbHandle>;
}

export interface ActionsDbHandle {
  db: SqlDb;
  /** The same database, opened again (a restart). */
  reopen(): Promise<SqlDb>;
}

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const dirs: string[] = [];
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sqlite: ActionsEngine = {
  name: 'sqlite',
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'ds-actions-'));
    dirs.push(dir);
    const path = join(dir, 'sub', 'actions.sqlite');
    return { db: openSqliteDb(path), reopen: async () => openSqliteDb(path) };
  },
};

const postgres: ActionsEngine = {
  name: 'postgres',
  async fresh() {
    const url = await (await sharedPostgres()).createDatabase('act');
    return { db: openPgDb({ url, logger }), reopen: async () => openPgDb({ url, logger }) };
  },
};

const havePostgres = postgresBinDir() !== undefined;
if (!havePostgres) console.warn(POSTGRES_MISSING);

export const ACTIONS_ENGINES: readonly ActionsEngine[] = havePostgres ? [sqlite, postgres] : [sqlite];

/** Registers an afterEach that closes every db given to the returned function (each once: a test may close one itself to reopen it). */
export function closingAfterEach(): (db: SqlDb) => SqlDb {
  const opened: SqlDb[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
  });
  return (db) => {
    const close = db.close.bind(db);
    let closing: Promise<void> | undefined;
    db.close = () => (closing ??= close());
    opened.push(db);
    return db;
  };
}
