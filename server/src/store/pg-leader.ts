/**
 * One process of a cluster does what must happen once (outbound webhooks, automatic
 * mitigation): the one holding a PostgreSQL session-level advisory lock on the shared store.
 * The lock is the database's, so it needs nothing besides the store the cluster already has,
 * and it goes with the session: a process that dies (kill -9 included) or loses its connection
 * releases it, and another takes it at its next try (every `pollMs`).
 */
import pg from 'pg';
import type { Logger } from 'pino';

export interface Leadership {
  /** Whether this process holds the lock now. */
  readonly isLeader: boolean;
  stop(): Promise<void>;
}

export function startPgLeadership(o: {
  url: string;
  /** What the lock is for; every process of the cluster must use the same name. */
  name: string;
  logger: Logger;
  pollMs?: number;
}): Leadership {
  const pollMs = o.pollMs ?? 2000;
  let client: pg.Client | undefined;
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const lose = (why: string, err?: unknown): void => {
    if (leader) o.logger.warn({ err, lock: o.name }, `no longer the leader: ${why}`);
    leader = false;
    const c = client;
    client = undefined;
    void c?.end().catch(() => undefined);
  };
  const round = async (): Promise<void> => {
    try {
      if (!client) {
        const c = new pg.Client({ connectionString: o.url, application_name: `downstream ${o.name}` });
        // A broken session must not crash the process: the next round reconnects.
        c.on('error', (err) => lose('connection error', err));
        await c.connect();
        client = c;
      }
      if (leader) {
        // Still connected means still holding it: the lock lives as long as the session.
        await client.query('SELECT 1');
        return;
      }
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [o.name]);
      if (r.rows[0]?.ok) {
        leader = true;
        o.logger.info({ lock: o.name }, 'leader: this process runs the cluster-wide actions');
      }
    } catch (err) {
      lose('database unreachable', err);
    }
  };
  const loop = async (): Promise<void> => {
    await round();
    if (!stopped) timer = setTimeout(() => void loop(), pollMs);
  };
  void loop();
  return {
    get isLeader() {
      return leader;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      leader = false;
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
