import type Database from 'better-sqlite3';

/**
 * Versioned schema changes per component, so modules that share the store's SQLite file can each
 * add tables without racing for one global `PRAGMA user_version`. Step N runs once, in order, in
 * the same transaction that records it: a crash mid-migration leaves the previous version.
 */
export function migrate(db: Database.Database, component: string, steps: readonly string[]): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const get = db.prepare<[string], { version: number }>('SELECT version FROM schema_versions WHERE component = ?');
  const set = db.prepare(
    'INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version',
  );
  // IMMEDIATE: the version is read under the write lock, so processes opening one file at once
  // (an api and a detect process on a fresh dir) run each step once, one after the other; read
  // outside it, both saw version 0 and the second ran step 1 again.
  db.transaction(() => {
    const current = get.get(component)?.version ?? 0;
    if (current > steps.length) {
      throw new Error(
        `${component} schema is version ${current}, newer than this build knows (${steps.length}): refusing to run an older Downstream on it`,
      );
    }
    for (let v = current; v < steps.length; v++) {
      db.exec(steps[v]);
      set.run(component, v + 1);
    }
  }).immediate();
  return steps.length;
}
