import type Database from 'better-sqlite3';
import { ROLLUP_TABLES, type RollupTable } from './rollup-queries.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  direction TEXT NOT NULL,
  status TEXT NOT NULL,
  severity TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  target_ip TEXT,
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents (last_seen);
CREATE INDEX IF NOT EXISTS incidents_status ON incidents (status, last_seen);
CREATE INDEX IF NOT EXISTS incidents_kind ON incidents (kind, last_seen);

-- Which endpoints, ASNs, customers and upstream links an incident names: the drill-down indexes.
CREATE TABLE IF NOT EXISTS incident_keys (
  dim TEXT NOT NULL,
  key TEXT NOT NULL,
  incident_id TEXT NOT NULL,
  PRIMARY KEY (dim, key, incident_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incident_keys_incident ON incident_keys (incident_id);

CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  by TEXT NOT NULL,
  action TEXT NOT NULL,
  incident_id TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_incident ON audit (incident_id, seq);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at_ms);

-- Store-wide facts, e.g. the span of the demo's simulated history.
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

// Primary key leads with (dim, key, t) so one key's series is a range read; the (dim, t) index
// serves "all keys in a window" (totals, top-N).
const rollupSchema = (t: RollupTable): string => `
CREATE TABLE IF NOT EXISTS ${t} (
  dim TEXT NOT NULL,
  key TEXT NOT NULL,
  t INTEGER NOT NULL,
  kind TEXT NOT NULL,
  packets REAL NOT NULL,
  bytes REAL NOT NULL,
  flows REAL NOT NULL,
  -- 1 for rows of the demo's backfilled (simulated) history, never mixed with observed rows.
  simulated INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (dim, key, t, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ${t}_time ON ${t} (dim, t);
`;

/** Creates the store's tables, and brings data dirs written by older builds up to date. */
export function createSqliteSchema(db: Database.Database): void {
  // One IMMEDIATE transaction: the column checks and the ALTERs below run under the write lock, so
  // two processes opening a fresh dir at once do not both find `simulated` missing and both add it
  // ("duplicate column name", the second process exited).
  db.transaction(() => {
    db.exec(SCHEMA);
    for (const t of ROLLUP_TABLES) db.exec(rollupSchema(t));
    const hasColumn = (table: string, name: string): boolean =>
      db
        .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
        .all()
        .some((c) => c.name === name);
    // Data dirs from before the simulated flag: existing rows are observed ones.
    for (const t of [...ROLLUP_TABLES, 'incidents']) {
      if (!hasColumn(t, 'simulated')) db.exec(`ALTER TABLE ${t} ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0`);
    }
    // The change feed (incidentsChangedSince): rows from before it count as changed when last seen.
    if (!hasColumn('incidents', 'updated_at')) {
      db.exec('ALTER TABLE incidents ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0');
      db.exec('UPDATE incidents SET updated_at = last_seen');
    }
    db.exec('CREATE INDEX IF NOT EXISTS incidents_updated ON incidents (updated_at)');
  }).immediate();
}
