import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe } from 'vitest';
import { MemoryStore } from '../incidents/memory-store.js';
import { POSTGRES_MISSING, postgresBinDir, sharedPostgres, type PgServer } from '../testing/postgres.js';
import { incidentStoreConformance, storeConformance } from '../testing/store-conformance.js';
import { openPgStore } from './pg-store.js';
import { openStore } from './sqlite-store.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('memory store', () => {
  incidentStoreConformance('memory', {
    fresh: async () => new MemoryStore(),
    open: async (loc) => loc as MemoryStore,
  });
});

describe('SQLite store', () => {
  storeConformance('sqlite', {
    fresh: async () => {
      const d = mkdtempSync(join(tmpdir(), 'ds-conf-'));
      dirs.push(d);
      return d;
    },
    open: async (loc, o) =>
      openStore({ path: loc as string, retentionDays: o.retentionDays ?? 90, logger, timers: false, now: o.now }),
  });
});

const bin = postgresBinDir();
if (!bin) console.warn(POSTGRES_MISSING);
describe.skipIf(!bin)('PostgreSQL store', () => {
  let server: PgServer | undefined;
  storeConformance('postgres', {
    // One database per test on the run's shared server.
    fresh: async () => (server ??= await sharedPostgres()).createDatabase('conf'),
    open: async (loc, o) =>
      openPgStore({ url: loc as string, retentionDays: o.retentionDays ?? 90, logger, timers: false, now: o.now }),
  });
});
