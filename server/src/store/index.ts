/**
 * store/: durable state behind the Store interface (types.ts).
 *
 * - sqlite-store.ts: the embedded default (one file under storage.path);
 * - pg-store.ts: PostgreSQL, shared by every process of a cluster (storage.postgres);
 * - rollup-queries.ts, retention.ts, incident-keys.ts, rollup-buffer.ts: what both share;
 * - sqlite-schema.ts, pg-schema.ts, migrations.ts: each database's schema and its migrations.
 */
export { DAY, FLUSH_INTERVAL_MS, HOUR, MINUTE, MINUTE_RETENTION_MS } from './constants.js';
export { incidentKeys } from './incident-keys.js';
export { DB_FILE, openSqliteFile, openStore, type SqliteStore, type StoreOptions } from './sqlite-store.js';
export { openPgStore, StoreUnavailableError, type PgStore, type PgStoreOptions } from './pg-store.js';
export { startPgLeadership, type Leadership } from './pg-leader.js';
export type { ChangedIncident, Store } from './types.js';
