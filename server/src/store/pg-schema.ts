import type { PoolClient } from 'pg';
import { DAY } from './constants.js';
import { ROLLUP_TABLES, type RollupTable } from './rollup-queries.js';

/**
 * PostgreSQL schema of the shared store, as versioned steps per component (like migrations.ts for
 * SQLite). Step N runs once, in order, in the transaction that records it, under an advisory lock:
 * several processes of a cluster may start at once against an empty database.
 */
const STEPS: readonly string[] = [
  `CREATE TABLE incidents (
     id text PRIMARY KEY,
     kind text NOT NULL,
     direction text NOT NULL,
     status text NOT NULL,
     severity text NOT NULL,
     first_seen bigint NOT NULL,
     last_seen bigint NOT NULL,
     target_ip text,
     json text NOT NULL,
     simulated boolean NOT NULL DEFAULT false,
     -- The change feed's cursor (incidentsChangedSince): from change_clock, strictly increasing.
     updated_at bigint NOT NULL
   );
   CREATE INDEX incidents_last_seen ON incidents (last_seen);
   CREATE INDEX incidents_status ON incidents (status, last_seen);
   CREATE INDEX incidents_kind ON incidents (kind, last_seen);
   CREATE INDEX incidents_updated ON incidents (updated_at);

   -- Which endpoints, ASNs, customers and upstream links an incident names: the drill-down indexes.
   CREATE TABLE incident_keys (
     dim text NOT NULL,
     key text NOT NULL,
     incident_id text NOT NULL,
     PRIMARY KEY (dim, key, incident_id)
   );
   CREATE INDEX incident_keys_incident ON incident_keys (incident_id);

   CREATE TABLE audit (
     seq bigserial PRIMARY KEY,
     at text NOT NULL,
     at_ms bigint NOT NULL,
     by text NOT NULL,
     action text NOT NULL,
     incident_id text,
     detail text
   );
   CREATE INDEX audit_incident ON audit (incident_id, seq);
   CREATE INDEX audit_at ON audit (at_ms);

   CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);

   -- One row: the last change stamp handed out. Taking it row-locks until commit, so stamps are
   -- committed in order across every writer and a poller's "> cursor" never skips a row.
   CREATE TABLE change_clock (id int PRIMARY KEY CHECK (id = 1), v bigint NOT NULL);
   INSERT INTO change_clock VALUES (1, 0);
   ${ROLLUP_TABLES.map(rollupTable).join('\n')}`,
];

// Primary key leads with (dim, key, t) so one key's series is a range read; the (dim, t) index
// serves "all keys in a window". Range-partitioned by t: retention drops whole partitions.
function rollupTable(t: RollupTable): string {
  return `CREATE TABLE ${t} (
     dim text NOT NULL,
     key text NOT NULL,
     t bigint NOT NULL,
     kind text NOT NULL,
     packets double precision NOT NULL,
     bytes double precision NOT NULL,
     flows double precision NOT NULL,
     simulated boolean NOT NULL DEFAULT false,
     PRIMARY KEY (dim, key, t, kind)
   ) PARTITION BY RANGE (t);
   CREATE INDEX ${t}_time ON ${t} (dim, t);`;
}

/** Span of one partition of each rollup table (aligned to multiples of it since the epoch). */
export const PARTITION_SPAN: Record<RollupTable, number> = {
  rollup_minute: DAY,
  rollup_hour: 7 * DAY,
  rollup_day: 70 * DAY,
};

export const partitionStart = (table: RollupTable, t: number): number =>
  Math.floor(t / PARTITION_SPAN[table]) * PARTITION_SPAN[table];
export const partitionName = (table: RollupTable, start: number): string => `${table}_p${start}`;
/** The start of a partition from its name, or undefined for a table that is not one of ours. */
export function partitionOf(table: RollupTable, name: string): number | undefined {
  const m = new RegExp(`^${table}_p(\\d+)$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

const LOCK_SCHEMA = 0x646f776e; // 'down'

export function migratePg(client: PoolClient): Promise<number> {
  return migratePgSteps(client, 'store', STEPS);
}

/** Runs a component's steps not yet recorded in schema_versions, under the schema advisory lock. */
export async function migratePgSteps(client: PoolClient, component: string, steps: readonly string[]): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_SCHEMA]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_versions (component text PRIMARY KEY, version int NOT NULL)');
    const r = await client.query<{ version: number }>('SELECT version FROM schema_versions WHERE component = $1', [
      component,
    ]);
    const current = r.rows[0]?.version ?? 0;
    if (current > steps.length) {
      throw new Error(
        `${component} schema is version ${current}, newer than this build knows (${steps.length}): refusing to run an older Downstream on it`,
      );
    }
    for (let v = current; v < steps.length; v++) {
      await client.query(steps[v]);
      await client.query(
        `INSERT INTO schema_versions (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
        [component, v + 1],
      );
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return steps.length;
}
