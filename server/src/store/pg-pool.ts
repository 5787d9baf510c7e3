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
