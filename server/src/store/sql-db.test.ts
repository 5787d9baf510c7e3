import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ACTIONS_ENGINES } from '../testing/actions-db.js';
import { POSTGRES_MISSING, postgresBinDir, startPostgres } from '../testing/postgres.js';
import { StoreUnavailableError } from './errors.js';
import { openPgDb, placeholders, type SchemaSteps } from './sql-db.js';

const COUNTERS: SchemaSteps = {
  sqlite: ['CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL)'],
  pg: ['CREATE TABLE counters (name text PRIMARY KEY, n bigint NOT NULL)'],
};

for (const engine of ACTIONS_ENGINES) {
  describe(`SqlDb (${engine.name})`, () => {
    it('binds $n placeholders (repeated, out of order, null, boolean) and says when the count is wrong', async () => {
      const { db } = await engine.fresh();
      try {
        db.migrate('counters', COUNTERS);
        expect(await db.run('INSERT INTO counters (name, n) VALUES ($2, $1)', [3, 'a'])).toBe(1);
        expect(await db.get('SELECT name, n, n + $1 AS m FROM counters WHERE name = $2 AND n = $1', [3, 'a'])).toEqual({
          name: 'a',
          n: 3,
          m: 6,
        });
        expect(await db.all(`SELECT name FROM counters WHERE name IN (${placeholders(3)})`, ['x', 'a', null])).toEqual([
          { name: 'a' },
        ]);
        expect(await db.get('SELECT name FROM counters WHERE name = $1', ['nope'])).toBeUndefined();
        await expect(db.get('SELECT name FROM counters WHERE name = $1 AND n = $2', ['a'])).rejects.toThrow();
      } finally {
        await db.close();
      }
    });

    it('commits a transaction when it settles and rolls all of it back when it throws', async () => {
      const { db } = await engine.fresh();
      try {
        db.migrate('counters', COUNTERS);
        await db.tx(async (q) => {
          await q.run('INSERT INTO counters (name, n) VALUES ($1, $2)', ['kept', 1]);
        });
        await expect(
          db.tx(async (q) => {
            await q.run('INSERT INTO counters (name, n) VALUES ($1, $2)', ['lost', 1]);
            await q.run('UPDATE counters SET n = 99 WHERE name = $1', ['kept']);
            throw new Error('changed my mind');
          }),
        ).rejects.toThrow('changed my mind');
        expect(await db.all('SELECT name, n FROM counters ORDER BY name')).toEqual([{ name: 'kept', n: 1 }]);
      } finally {
        await db.close();
      }
    });

    it('keeps a query made while a transaction awaits out of that transaction', async () => {
      const { db } = await engine.fresh();
      try {
        db.migrate('counters', COUNTERS);
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        const tx = db.tx(async (q) => {
          await q.run('INSERT INTO counters (name, n) VALUES ($1, $2)', ['inside', 1]);
          await held;
          throw new Error('roll back');
        });
        await new Promise((r) => setTimeout(r, 50));
        // Made from outside while the transaction is open: must not be rolled back with it.
        const outside = db.run('INSERT INTO counters (name, n) VALUES ($1, $2)', ['outside', 1]);
        release();
        await expect(tx).rejects.toThrow('roll back');
        await outside;
        expect(await db.all('SELECT name FROM counters ORDER BY name')).toEqual([{ name: 'outside' }]);
      } finally {
        await db.close();
      }
    });

    it('serialises read-modify-write transactions from two connections (FOR UPDATE): no lost update', async () => {
      const h = await engine.fresh();
      const other = await h.reopen();
      try {
        h.db.migrate('counters', COUNTERS);
        other.migrate('counters', COUNTERS);
        await h.db.run('INSERT INTO counters (name, n) VALUES ($1, 0)', ['c']);
        const bump = (db: typeof other) =>
          db.tx(async (q) => {
            const r = (await q.get<{ n: number }>('SELECT n FROM counters WHERE name = $1 FOR UPDATE', ['c']))!;
            // A pause between read and write, where the two could interleave. On SQLite the two
            // connections of this process queue on one gate instead of SQLite's busy wait, which
            // would block the thread the pausing transaction needs to finish.
            await new Promise((res) => setTimeout(res, 2));
            await q.run('UPDATE counters SET n = $1 WHERE name = $2', [r.n + 1, 'c']);
          });
        await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? h.db : other)));
        expect(await h.db.get('SELECT n FROM counters WHERE name = $1', ['c'])).toEqual({ n: 20 });
      } finally {
        await other.close();
        await h.db.close();
      }
    });

    it('runs each schema step once and refuses a database newer than this build', async () => {
      const h = await engine.fresh();
      try {
        const two: SchemaSteps = {
          sqlite: [...COUNTERS.sqlite, "INSERT INTO counters (name, n) VALUES ('step2', 2)"],
          pg: [...COUNTERS.pg, "INSERT INTO counters (name, n) VALUES ('step2', 2)"],
        };
        h.db.migrate('counters', two);
        await h.db.ready();
        const again = await h.reopen();
        again.migrate('counters', two);
        expect(await again.all('SELECT name FROM counters')).toEqual([{ name: 'step2' }]);
        await again.close();
        const older = await h.reopen();
        const migrated = (async () => {
          older.migrate('counters', COUNTERS);
          await older.ready();
        })();
        await expect(migrated).rejects.toThrow(/counters schema is version 2, newer than this build knows \(1\)/);
        await older.close();
      } finally {
        await h.db.close();
      }
    });
  });
}

const bin = postgresBinDir();
if (!bin) console.warn(POSTGRES_MISSING);
describe.skipIf(!bin)('SqlDb on PostgreSQL that goes away', () => {
  it('fails queries and transactions with StoreUnavailableError while down, and works again when it is back', async () => {
    // Its own server: stopping the run's shared one would fail other files' queries.
    const server = await startPostgres({ fsync: false });
    const db = openPgDb({ url: await server.createDatabase('gone'), logger: pino({ level: 'silent' }) });
    try {
      db.migrate('counters', COUNTERS);
      await db.run('INSERT INTO counters (name, n) VALUES ($1, 1)', ['a']);
      await server.stop('immediate');
      await expect(db.get('SELECT n FROM counters')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(db.tx((q) => q.run('UPDATE counters SET n = 2 WHERE name = $1', ['a']))).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await server.start();
      await db.tx((q) => q.run('UPDATE counters SET n = 3 WHERE name = $1', ['a']));
      expect(await db.get('SELECT n FROM counters WHERE name = $1', ['a'])).toEqual({ n: 3 });
    } finally {
      await db.close();
      await server.destroy();
    }
  }, 60_000);
});
