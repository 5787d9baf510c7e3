import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Store } from '../context.js';
import { openPgStore, openSqliteFile, openStore } from '../store/index.js';

export interface ConfiguredStore {
  /** The shared store: PostgreSQL when `storage.postgres` is set, else the SQLite file. */
  store: Store;
  /**
   * This process's own SQLite file (`storage.path`): subscriber bindings and the actions
   * database stay local even when the store is PostgreSQL.
   */
  localDb: Database.Database;
  close(): Promise<void>;
}

/**
 * One place that reads `storage` for every role, so `all`, `detect` and `api` processes given
 * the same config open the same store.
 */
export async function openConfiguredStore(
  config: Config,
  opts: { logger: Logger; registry?: Registry; timers?: boolean },
): Promise<ConfiguredStore> {
  const { logger, registry } = opts;
  if (config.storage.postgres) {
    const store = await openPgStore({
      url: config.storage.postgres,
      retentionDays: config.storage.retention_days,
      logger,
      registry,
      ...(opts.timers === false ? { timers: false } : {}),
    });
    const local = openSqliteFile(config.storage.path);
    return {
      store,
      localDb: local.db,
      close: async () => {
        await store.close();
        local.db.close();
      },
    };
  }
  const sqlite = openStore({
    path: config.storage.path,
    retentionDays: config.storage.retention_days,
    logger,
    registry,
    ...(opts.timers === false ? { timers: false } : {}),
  });
  return { store: sqlite, localDb: sqlite.db, close: async () => sqlite.close() };
}
