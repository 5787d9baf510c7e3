import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { openPgDb } from '../store/sql-db.js';
import type { Subscribers } from '../subscribers/index.js';
import { POSTGRES_MISSING, postgresBinDir, sharedPostgres } from '../testing/postgres.js';
import { startServer, type RunningServer } from './server.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const bin = postgresBinDir();
if (!bin) console.warn(POSTGRES_MISSING);

describe.skipIf(!bin)('an `all` process on storage.postgres', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ds-all-subs-'));
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the subscriber bindings it collects to PostgreSQL within seconds, and what ended on close', async () => {
    const url = await (await sharedPostgres()).createDatabase('all_subs');
    server = await startServer({
      config: parseConfig({ http: { host: '127.0.0.1', port: 0 }, storage: { path: dir, postgres: url } }),
      logger,
      version: 'test',
      tickMs: 0,
      threaded: false,
    });
    const subscribers = server.ctx.subscribers as Subscribers;
    const t0 = Date.now();
    subscribers.store.record({
      prefix: '198.51.100.7',
      subscriber: 'alice@isp.example',
      session: 'S1',
      nas: '192.0.2.10',
      source: 'radius',
      from: t0,
      to: null,
    });
    const db = openPgDb({ url, logger });
    try {
      // The table is made by the server's mirror: until then there is nothing to read.
      const rows = () =>
        db
          .all<{ subscriber: string; to_ms: number | null }>('SELECT subscriber, to_ms FROM shared_subscriber_bindings')
          .catch(() => []);
      const until = Date.now() + 10_000;
      while ((await rows()).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(await rows()).toEqual([{ subscriber: 'alice@isp.example', to_ms: null }]);
      // A Stop just before shutdown still reaches the shared table: the mirror flushes on close.
      subscribers.store.stopSession('radius', '192.0.2.10', 'S1', t0 + 1000);
      await server.close();
      server = undefined;
      expect(await rows()).toEqual([{ subscriber: 'alice@isp.example', to_ms: t0 + 1000 }]);
    } finally {
      await db.close();
    }
  }, 30_000);
});
