import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { MITIGATIONS_SCHEMA } from '../actions/mitigation.js';
import { RDAP_SCHEMA } from '../actions/rdap.js';
import { actionsSqlitePath, REMEDIATION_SCHEMA } from '../actions/remediation.js';
import { SUBSCRIBER_ACTIONS_SCHEMA } from '../actions/subscriber-actions.js';
import type { Config } from '../config/config.js';
import { COMPLAINTS_SCHEMA } from '../feeds/complaint-desk.js';
import { openPgDb, openSqliteDb, placeholders, type SchemaSteps, type SqlDb, type SqlParam } from '../store/sql-db.js';

/**
 * `downstream import-actions`: the actions database of a box that moves onto `storage.postgres`
 * (its actions.sqlite: remediation list and history, mitigations, complaints, notices,
 * walled-garden steps, RDAP cache) copied into that PostgreSQL database, once, into empty tables.
 *
 * The file is read from a snapshot (SQLite's online backup: consistent even with the WAL of a
 * process that still has it open, though what that process writes later is not copied) brought
 * up to this build's schema by the same migrations the server runs, so a file from an older
 * Downstream arrives as that server would have read it (history and complaint links filled in);
 * the file itself is not changed. Every row goes over in one PostgreSQL transaction with its id,
 * and the identity sequences are moved past the copied ids.
 */

/** The components of the actions database, each migrating its own tables (same names as their classes use). */
export const ACTIONS_COMPONENTS: readonly { component: string; steps: SchemaSteps }[] = [
  { component: 'remediation', steps: REMEDIATION_SCHEMA },
  { component: 'mitigations', steps: MITIGATIONS_SCHEMA },
  { component: 'complaints', steps: COMPLAINTS_SCHEMA },
  { component: 'subscriber-actions', steps: SUBSCRIBER_ACTIONS_SCHEMA },
  { component: 'rdap', steps: RDAP_SCHEMA },
];

/** Every table of the actions database, in copy order; `identity`: its id column (an identity in PostgreSQL). */
export const ACTIONS_TABLES: readonly { table: string; identity?: string }[] = [
  { table: 'remediation', identity: 'id' },
  { table: 'remediation_events', identity: 'seq' },
  { table: 'mitigations', identity: 'id' },
  { table: 'complaints', identity: 'id' },
  { table: 'complaint_incidents' },
  { table: 'complaint_remediation' },
  { table: 'subscriber_notices', identity: 'id' },
  { table: 'walled_garden_steps', identity: 'id' },
  { table: 'rdap_contacts' },
];

/** What the import refused or failed on; nothing was written to PostgreSQL. */
export class ImportActionsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImportActionsError';
  }
}

export interface ImportedTable {
  table: string;
  rows: number;
  /** The file had no such table (an older Downstream): nothing to copy. */
  missing: boolean;
}

export interface ImportActionsOptions {
  config: Pick<Config, 'storage'> & { actions: { remediation: { path?: string } } };
  /** The SQLite actions file; default where the server keeps it without storage.postgres. */
  from?: string;
  logger: Logger;
}

/** Rows per INSERT: well inside PostgreSQL's 65535 parameters of one statement. */
const MAX_PARAMS = 30_000;
const MAX_ROWS = 1000;

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Copies the SQLite actions file into the (empty) actions tables of storage.postgres; rows per table. */
export async function importActions(o: ImportActionsOptions): Promise<ImportedTable[]> {
  const url = o.config.storage.postgres;
  if (!url)
    throw new ImportActionsError(
      'the config has no storage.postgres: there is no PostgreSQL database to import the actions database into',
    );
  const from = resolve(
    o.from ?? actionsSqlitePath({ path: o.config.actions.remediation.path, storagePath: o.config.storage.path }),
  );
  if (!existsSync(from)) throw new ImportActionsError(`no actions database to import: ${from} does not exist`);

  const dir = mkdtempSync(join(tmpdir(), 'ds-import-actions-'));
  let source: SqlDb | undefined;
  let target: SqlDb | undefined;
  try {
    const snapshot = join(dir, 'actions.sqlite');
    const present = await snapshotOf(from, snapshot);
    if (!ACTIONS_TABLES.some((t) => present.has(t.table)))
      throw new ImportActionsError(
        `${from} holds none of the actions tables (${ACTIONS_TABLES.map((t) => t.table).join(', ')}): is it an actions database?`,
      );
    source = openSqliteDb(snapshot);
    try {
      for (const c of ACTIONS_COMPONENTS) source.migrate(c.component, c.steps);
    } catch (err) {
      throw new ImportActionsError(`${from}: ${(err as Error).message}`, { cause: err });
    }
    target = openPgDb({ url, logger: o.logger.child({ module: 'import-actions' }), maxConnections: 2 });
    for (const c of ACTIONS_COMPONENTS) target.migrate(c.component, c.steps);
    return await copy(source, target, present);
  } finally {
    await source?.close();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A consistent copy of `from` at `to` (the WAL included); the tables `from` has. */
async function snapshotOf(from: string, to: string): Promise<Set<string>> {
  let db: Database.Database;
  try {
    db = new Database(from, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new ImportActionsError(`cannot open ${from}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    await db.backup(to);
    return new Set(tables.map((t) => t.name));
  } catch (err) {
    throw new ImportActionsError(`cannot read ${from} as an SQLite actions database: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    db.close();
  }
}

async function copy(source: SqlDb, target: SqlDb, present: Set<string>): Promise<ImportedTable[]> {
  const names = ACTIONS_TABLES.map((t) => quote(t.table)).join(', ');
  return target.tx(async (q) => {
    // No process of the cluster writes while the copy runs; each waits for the commit.
    await q.run(`LOCK TABLE ${names} IN EXCLUSIVE MODE`);
    const busy: string[] = [];
    for (const { table } of ACTIONS_TABLES) {
      const r = await q.get<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${quote(table)}`);
      if (r && r.n > 0) busy.push(`${table} (${plural(r.n, 'row')})`);
    }
    if (busy.length)
      throw new ImportActionsError(
        `PostgreSQL already holds actions rows: ${busy.join(', ')}. import-actions only fills empty tables; it never merges into or overwrites a live list`,
      );
    // The history is copied as it is: the trigger would add a second "created" event per entry.
    await q.run('ALTER TABLE remediation DISABLE TRIGGER remediation_history');
    const done: ImportedTable[] = [];
    for (const { table, identity } of ACTIONS_TABLES) {
      try {
        const cols = (await source.all<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)).map(
          (c) => c.name,
        );
        const pgCols = new Set(
          (
            await q.all<{ column_name: string }>(
              `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
              [table],
            )
          ).map((c) => c.column_name),
        );
        const lost = cols.filter((c) => !pgCols.has(c));
        if (lost.length)
          throw new ImportActionsError(
            `column ${lost.join(', ')} of the file has no place in PostgreSQL: is the file from a newer Downstream?`,
          );
        const rows = await source.all<Record<string, SqlParam>>(
          `SELECT ${cols.map(quote).join(', ')} FROM ${quote(table)} ORDER BY ${identity ? quote(identity) : 'rowid'}`,
        );
        const per = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / cols.length)));
        let copied = 0;
        for (let i = 0; i < rows.length; i += per) {
          const batch = rows.slice(i, i + per);
          const values = batch.map((_, r) => `(${placeholders(cols.length, r * cols.length + 1)})`).join(', ');
          copied += await q.run(
            `INSERT INTO ${quote(table)} (${cols.map(quote).join(', ')})${identity ? ' OVERRIDING SYSTEM VALUE' : ''} VALUES ${values}`,
            batch.flatMap((row) => cols.map((c) => row[c])),
          );
        }
        if (copied !== rows.length) throw new ImportActionsError(`${rows.length} rows read, ${copied} written`);
        // New rows made after the import get ids above the copied ones.
        if (identity && copied > 0)
          await q.run(
            `SELECT setval(pg_get_serial_sequence($1, $2), (SELECT MAX(${quote(identity)}) FROM ${quote(table)}))`,
            [table, identity],
          );
        done.push({ table, rows: copied, missing: !present.has(table) });
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new ImportActionsError(`copying ${table}: ${why}; nothing was imported`, { cause: err });
      }
    }
    await q.run('ALTER TABLE remediation ENABLE TRIGGER remediation_history');
    return done;
  });
}

/** The CLI's line for one table. */
export function importedLine(t: ImportedTable): string {
  const why = !t.missing
    ? ''
    : t.rows
      ? " (not in the file: made by this build's migrations)"
      : ' (no such table in the file)';
  return `${t.table}: ${plural(t.rows, 'row')} copied${why}`;
}
