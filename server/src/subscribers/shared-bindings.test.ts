import Database from 'better-sqlite3';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SubscriberStore, type BindingInput } from '../store/subscriber-store.js';
import { ACTIONS_ENGINES, closingAfterEach } from '../testing/actions-db.js';
import { BindingMirror, SharedSubscriberDirectory } from './shared-bindings.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
const logger = pino({ level: 'silent' });
const track = closingAfterEach();

const radius = (over: Partial<BindingInput>): BindingInput => ({
  prefix: '198.51.100.7',
  subscriber: 'alice',
  session: 'S1',
  nas: '192.0.2.10',
  source: 'radius',
  from: T0,
  to: null,
  ...over,
});

/** What a question gets from the collector's own store and from the shared copy, side by side. */
async function sameAnswers(local: SubscriberStore, shared: SharedSubscriberDirectory, ip: string, times: number[]) {
  for (const t of times) {
    expect(await shared.holder(ip, t - 5 * MIN, t), `holder of ${ip} at +${(t - T0) / MIN} min`).toEqual(
      local.holderDuring(ip, t - 5 * MIN, t),
    );
  }
  expect(await shared.during(ip, T0 - DAY, T0 + DAY)).toEqual(local.during(ip, T0 - DAY, T0 + DAY));
}

describe.each(ACTIONS_ENGINES)('subscriber bindings shared on $name', (engine) => {
  it('answers an API process as the collector would: re-assignment, a lost Stop, prefixes, open sessions', async () => {
    let now = T0;
    const localDb = new Database(':memory:');
    const local = new SubscriberStore(localDb, () => now);
    const { db } = await engine.fresh();
    track(db);
    const mirror = new BindingMirror({
      local: localDb,
      shared: db,
      origin: 'bng-collector',
      retentionMs: 90 * DAY,
      logger,
    });
    const dir = new SharedSubscriberDirectory({ db, now: () => now });

    // Written as they would arrive, a moment apart (updated_ms is the mirror's cursor).
    const at = (f: () => void) => {
      now += 10;
      f();
    };
    at(() => local.record(radius({})));
    at(() => local.record(radius({ to: T0 + 30 * MIN })));
    at(() => local.record(radius({ subscriber: 'bob', session: 'S2', from: T0 + 40 * MIN })));
    // A delegated IPv6 prefix and a DHCP lease of another address.
    at(() =>
      local.record(radius({ prefix: '2001:db8:40::/56', subscriber: 'carol', session: 'S3', from: T0 + 5 * MIN })),
    );
    now += 10;
    local.record({
      prefix: '198.51.100.20',
      subscriber: '01:08:00:27:25:d3:f4',
      session: null,
      nas: null,
      source: 'kea',
      from: T0,
      to: T0 + 60 * MIN,
    });
    now += 1000;
    expect(await mirror.flush()).toBe(4);
    // Nothing changed: only the row of the cursor's own millisecond is read again.
    now += 1000;
    expect(await mirror.flush()).toBe(1);

    await sameAnswers(local, dir, '198.51.100.7', [T0 + 5 * MIN, T0 + 35 * MIN, T0 + 45 * MIN]);
    await sameAnswers(local, dir, '2001:db8:40:0:1::9', [T0 + 10 * MIN]);
    await sameAnswers(local, dir, '198.51.100.20', [T0 + 10 * MIN, T0 + 70 * MIN]);
    expect((await dir.holder('198.51.100.7', T0 + 41 * MIN, T0 + 45 * MIN))?.subscriber).toBe('bob');
    expect(await dir.holder('198.51.100.99', T0, T0 + 45 * MIN)).toBeUndefined();
    expect(await dir.holder('not an address', T0, T0)).toBeUndefined();
    expect((await dir.openSessions('bob')).map((b) => b.session)).toEqual(['S2']);

    // bob's Stop reaches the collector: the next flush carries it.
    now += 1000;
    local.stopSession('radius', '192.0.2.10', 'S2', T0 + 50 * MIN);
    expect(await mirror.flush()).toBeGreaterThanOrEqual(1);
    expect(await dir.openSessions('bob')).toEqual([]);
    await sameAnswers(local, dir, '198.51.100.7', [T0 + 45 * MIN, T0 + 55 * MIN]);
    expect(await dir.status()).toMatchObject({ bindings: 4 });
    localDb.close();
  });

  it('picks up after a restart where the shared table says it got to, and keeps each collector apart', async () => {
    let now = T0;
    const { db } = await engine.fresh();
    track(db);
    const aDb = new Database(':memory:');
    const a = new SubscriberStore(aDb, () => now);
    a.record(radius({}));
    now += 1000;
    expect(
      await new BindingMirror({
        local: aDb,
        shared: db,
        origin: 'a',
        retentionMs: DAY,
        logger,
        now: () => now,
      }).flush(),
    ).toBe(1);
    // A second BNG's collector, its own ids: the same local id 1 must not overwrite a's row.
    const bDb = new Database(':memory:');
    const b = new SubscriberStore(bDb, () => now);
    b.record(radius({ prefix: '198.51.100.8', subscriber: 'dave', session: 'D1' }));
    now += 1000;
    await new BindingMirror({ local: bDb, shared: db, origin: 'b', retentionMs: DAY, logger, now: () => now }).flush();
    const dir = new SharedSubscriberDirectory({ db, now: () => now });
    expect((await dir.holder('198.51.100.7', T0, T0 + MIN))?.subscriber).toBe('alice');
    expect((await dir.holder('198.51.100.8', T0, T0 + MIN))?.subscriber).toBe('dave');

    // a restarts: its new mirror starts from its newest copied row, not from the beginning.
    now += 1000;
    a.record(radius({ to: T0 + 20 * MIN }));
    const again = new BindingMirror({ local: aDb, shared: db, origin: 'a', retentionMs: DAY, logger, now: () => now });
    expect(await again.flush()).toBe(1);
    expect((await dir.during('198.51.100.7', T0, T0 + DAY))[0]?.to).toBe(new Date(T0 + 20 * MIN).toISOString());

    // Retention: a's ended binding is dropped from the shared table a day after it ended; b's open one stays.
    const later = T0 + 2 * DAY;
    const pruning = new BindingMirror({
      local: aDb,
      shared: db,
      origin: 'a',
      retentionMs: DAY,
      logger,
      now: () => later,
    });
    await pruning.flush();
    expect(await dir.holder('198.51.100.7', T0, T0 + MIN)).toBeUndefined();
    expect((await dir.holder('198.51.100.8', T0, T0 + MIN))?.subscriber).toBe('dave');
    aDb.close();
    bDb.close();
  });
});
