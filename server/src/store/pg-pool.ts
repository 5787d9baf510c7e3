import pg from 'pg';
import type { Logger } from 'pino';

/** bigint (int8) columns as JS numbers: ids, ms since epoch and counts, all far below 2^53. */
export const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * A client of `pool` with an 'error' listener until it is released: a checked-out client has
 * no pool listener, and a server that goes away while it is out emits 'error' on it (besides
 * failing its query), which unhandled would take the process down.
 */
export async function checkoutClient(pool: pg.Pool, log: Logger): Promise<pg.PoolClient> {
  const c = await pool.connect();
  const onError = (err: Error): void => log.warn({ err }, 'PostgreSQL connection lost while in use');
  c.on('error', onError);
  const release = c.release.bind(c);
  c.release = (err?: Error | boolean) => {
    c.removeListener('error', onError);
    release(err);
  };
  return c;
}

/**
 * A pool for one of Downstream's PostgreSQL users (the store, the actions database), with an
 * idle-connection error listener: a connection broken by a server restart errors while idle, the
 * pool drops it and the next query connects afresh; unhandled, the error would end the process.
 */
export function newPgPool(o: { url: string; max: number; name: string; log: Logger }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.max,
    connectionTimeoutMillis: 5000,
    // A request never hangs on a database that stopped answering: it fails, and says so.
    query_timeout: 30_000,
    // A server that vanished without closing the socket (host down, network cut) is noticed.
    keepAlive: true,
    application_name: o.name,
    types: pgTypes,
  });
  pool.on('error', (err) => o.log.warn({ err }, 'PostgreSQL connection lost (reconnects on next use)'));
  return pool;
}
