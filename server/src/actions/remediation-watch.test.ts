import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../context.js';
import { ACTIONS_ENGINES, closingAfterEach } from '../testing/actions-db.js';
import { outboundIncident } from '../testing/recording-context.js';
import { RemediationList } from './remediation.js';
import { DAY_MS, RemediationWatch } from './remediation-watch.js';

const T0 = Date.parse('2026-11-24T21:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const track = closingAfterEach();

type Engine = (typeof ACTIONS_ENGINES)[number];

async function setup(engine: Engine, watchDays = 14) {
  const db = track((await engine.fresh()).db);
  const list = new RemediationList(db);
  const audit: AuditEntry[] = [];
  let now = T0;
  const watch = new RemediationWatch({
    list,
    watchMs: watchDays * DAY_MS,
    audit: (e) => void audit.push(e),
    now: () => now,
  });
  const clock = (ms: number) => (now = ms);
  const idOf = async (ip: string) => (await list.list()).find((e) => e.ip === ip)!.id;
  return { db, list, watch, audit, clock, idOf };
}

/** A spam-bot incident from 198.51.100.23 at `at` (and 198.51.100.24, another customer). */
const spamAt = (id: string, at: number) => outboundIncident({ id, firstSeen: iso(at), lastSeen: iso(at + 60_000) });

describe.each(ACTIONS_ENGINES)('RemediationWatch on $name', (engine) => {
  it('reopens an endpoint with abuse inside the watch as a recurrence: audited, counted, in its history', async () => {
    const { list, watch, audit, clock, idOf } = await setup(engine, 14);
    await watch.recordIncident(spamAt('inc-1', T0));
    const id = await idOf('198.51.100.23');
    await list.setStatus(id, 'notified', 'alice', 'mailed the subscriber', T0 + 2 * 3_600_000);
    await list.setStatus(id, 'remediated', 'alice', 'customer reinstalled', T0 + DAY_MS);
    clock(T0 + 3 * DAY_MS);
    expect((await watch.decorate(await list.list())).find((e) => e.id === id)).toMatchObject({
      status: 'remediated',
      recurrences: 0,
      watch: { state: 'watching', until: iso(T0 + 15 * DAY_MS) },
    });

    // Five days after the remediation the same PC spams again.
    clock(T0 + 6 * DAY_MS);
    await watch.recordIncident(spamAt('inc-2', T0 + 6 * DAY_MS));
    const e = (await watch.decorate(await list.list())).find((x) => x.id === id)!;
    expect(e).toMatchObject({ status: 'open', recurred: true, recurrences: 1, watch: null });
    expect(audit).toEqual([
      expect.objectContaining({
        by: 'system',
        action: 'remediation.recurrence',
        incidentId: 'inc-2',
        detail: expect.stringMatching(
          /^Residential pool A 198\.51\.100\.23: spam-bot incident 5\.0 d after it was marked remediated \(watch 14\.0 d\)/,
        ),
      }),
    ]);
    const h = await watch.history(id);
    expect(h.map((x) => [x.kind, x.from, x.to, x.by])).toEqual([
      ['status', null, 'open', 'system'],
      ['status', 'open', 'notified', 'alice'],
      ['status', 'notified', 'remediated', 'alice'],
      ['status', 'remediated', 'open', 'system (seen again)'],
      ['recurrence', 'remediated', 'open', 'system'],
    ]);
    expect(h[1]!.detail).toBe('mailed the subscriber');
    expect(h[4]).toMatchObject({ at: T0 + 6 * DAY_MS + 60_000, incidentId: 'inc-2' });
    // The other customer's endpoint was never remediated: nothing recurs there.
    expect((await watch.decorate(await list.list())).find((x) => x.ip === '198.51.100.24')!.recurrences).toBe(0);
  });

  it('counts every recurrence, and abuse after the watch ended is a new case, not a recurrence', async () => {
    const { list, watch, audit, clock, idOf } = await setup(engine, 7);
    await watch.recordIncident(spamAt('inc-1', T0));
    const id = await idOf('198.51.100.23');
    await list.setStatus(id, 'remediated', 'bob', undefined, T0 + DAY_MS);
    await watch.recordIncident(spamAt('inc-2', T0 + 2 * DAY_MS)); // recurrence 1
    await list.setStatus(id, 'remediated', 'bob', undefined, T0 + 3 * DAY_MS);
    await watch.recordIncident(spamAt('inc-3', T0 + 4 * DAY_MS)); // recurrence 2
    await list.setStatus(id, 'remediated', 'bob', undefined, T0 + 5 * DAY_MS);
    clock(T0 + 13 * DAY_MS);
    expect((await watch.decorate([(await list.get(id))!]))[0]!.watch).toEqual({
      state: 'verified',
      until: iso(T0 + 12 * DAY_MS),
    });
    await watch.recordIncident(spamAt('inc-4', T0 + 30 * DAY_MS)); // 25 days later: a new infection
    expect((await watch.decorate([(await list.get(id))!]))[0]).toMatchObject({ status: 'open', recurrences: 2 });
    expect(audit.map((a) => a.action)).toEqual([
      'remediation.recurrence',
      'remediation.recurrence',
      'remediation.reopen',
    ]);
    expect(audit[2]!.detail).toContain('after the watch ended: a new case');
  });

  it('an incident that only updates without newer traffic does not reopen; a complaint after the remediation does', async () => {
    const { list, watch, audit, idOf } = await setup(engine, 14);
    await watch.recordIncident(spamAt('inc-1', T0));
    const id = await idOf('198.51.100.23');
    await list.setStatus(id, 'remediated', 'alice', undefined, T0 + DAY_MS);
    await watch.recordIncident(spamAt('inc-1', T0)); // same incident, old traffic
    expect((await list.get(id))!.status).toBe('remediated');
    // A complaint about abuse before the remediation changes nothing…
    expect(await watch.abuseReported(id, T0 + 3_600_000, 'system (complaint)', 'spam complaint')).toBe('none');
    expect((await list.get(id))!.status).toBe('remediated');
    // …one about abuse two days after it is a recurrence.
    expect(await watch.abuseReported(id, T0 + 3 * DAY_MS, 'system (complaint)', 'spam complaint')).toBe('recurrence');
    expect(await list.get(id)).toMatchObject({ status: 'open', recurred: true, statusBy: 'system (complaint)' });
    expect(audit.map((a) => a.action)).toEqual(['remediation.recurrence']);
    expect(audit[0]!.incidentId).toBeUndefined();
  });

  // Only SQLite files predate the history (its schema step 1 adopts them and backfills);
  // PostgreSQL databases were made with the history from the start, so there is nothing to backfill.
  it.skipIf(engine.name !== 'sqlite')('backfills a history for entries that existed before it', async () => {
    const h = await engine.fresh();
    const db = track(h.db);
    const list = new RemediationList(db);
    // A file from before the history: its entries were written without the triggers, and its
    // schema version was never recorded.
    await db.run('DROP TRIGGER IF EXISTS remediation_history_insert');
    await db.run('DROP TRIGGER IF EXISTS remediation_history_status');
    await list.recordIncident(spamAt('inc-1', T0));
    const id = (await list.list({ customer: 'Residential pool A' }))[0]!.id;
    await list.setStatus(id, 'remediated', 'alice', undefined, T0 + DAY_MS);
    await db.run("DELETE FROM schema_versions WHERE component = 'remediation'");
    await db.close();
    const list2 = new RemediationList(track(await h.reopen()));
    const watch = new RemediationWatch({ list: list2, watchMs: DAY_MS, now: () => T0 });
    expect((await watch.history(id)).map((e) => [e.at, e.from, e.to])).toEqual([
      [T0, null, 'open'],
      [T0 + DAY_MS, 'open', 'remediated'],
    ]);
  });
});

describe.each(ACTIONS_ENGINES)('RemediationWatch.verifyEnded on $name', (engine) => {
  it('verifies an entry clean once its watch ends without abuse: history and audit, once per remediation', async () => {
    const { list, watch, audit, clock, idOf } = await setup(engine, 7);
    await watch.recordIncident(spamAt('inc-1', T0));
    const id = await idOf('198.51.100.23');
    await list.setStatus(id, 'remediated', 'alice', 'cleaned', T0 + DAY_MS);
    clock(T0 + 5 * DAY_MS);
    expect(await watch.verifyEnded()).toBe(0); // still watching
    clock(T0 + 9 * DAY_MS);
    expect(await watch.verifyEnded()).toBe(1);
    expect(await watch.verifyEnded()).toBe(0); // once
    const v = (await watch.history(id)).filter((e) => e.kind === 'verified');
    expect(v).toEqual([
      expect.objectContaining({
        at: T0 + 8 * DAY_MS,
        by: 'system',
        detail: expect.stringMatching(/no abuse .* 7\.0 d/),
      }),
    ]);
    expect(audit.map((a) => [a.action, a.detail])).toEqual([
      ['remediation.verified', expect.stringMatching(/^Residential pool A 198\.51\.100\.23: no abuse/)],
    ]);
    // Abuse long after: a new case; remediated again and quiet again, it is verified again.
    await watch.recordIncident(spamAt('inc-2', T0 + 20 * DAY_MS));
    await list.setStatus(id, 'remediated', 'alice', 'cleaned again', T0 + 21 * DAY_MS);
    clock(T0 + 29 * DAY_MS);
    expect(await watch.verifyEnded()).toBe(1);
    expect((await watch.history(id)).filter((e) => e.kind === 'verified')).toHaveLength(2);
  });

  it('an entry that recurred within its watch is not verified', async () => {
    const { list, watch, clock, idOf } = await setup(engine, 7);
    await watch.recordIncident(spamAt('inc-1', T0));
    const id = await idOf('198.51.100.23');
    await list.setStatus(id, 'remediated', 'alice', 'cleaned', T0 + DAY_MS);
    clock(T0 + 3 * DAY_MS);
    await watch.recordIncident(spamAt('inc-2', T0 + 3 * DAY_MS));
    clock(T0 + 30 * DAY_MS);
    expect(await watch.verifyEnded()).toBe(0);
    expect((await list.get(id))!.status).toBe('open');
  });
});
