/**
 * Two API processes on one PostgreSQL store: a new incident (written by a detect process)
 * reaches both, and its webhook is sent once, by the one holding the store's advisory lock;
 * when that process goes, the other takes over. The remediation list is one list in the shared
 * store: every API process records the same incidents into it, once, and sees every operator's change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import Database from 'better-sqlite3';
import { openPgStore, type PgStore } from '../store/index.js';
import { openPgDb } from '../store/sql-db.js';
import { SubscriberStore } from '../store/subscriber-store.js';
import { BindingMirror } from '../subscribers/shared-bindings.js';
import { makeIncident } from '../testing/make-incident.js';
import { POSTGRES_MISSING, postgresBinDir, sharedPostgres } from '../testing/postgres.js';
import { startApiRole, type RunningApi } from './role-api.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const bin = postgresBinDir();
if (!bin) console.warn(POSTGRES_MISSING);

const until = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.skipIf(!bin)('cluster-wide actions: one leader among API processes (PostgreSQL advisory lock)', () => {
  const dirs: string[] = [];
  const apis: RunningApi[] = [];
  let receiver: Server | undefined;
  let writer: PgStore | undefined;
  afterAll(async () => {
    for (const a of apis) await a.close().catch(() => undefined);
    await writer?.close().catch(() => undefined);
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('sends each webhook once across two API processes, and the survivor takes over when the leader goes', async () => {
    const hooks: string[] = [];
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        hooks.push((JSON.parse(body) as { text: string }).text);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const url = await (await sharedPostgres()).createDatabase('leader');
    const config = () => {
      const dir = mkdtempSync(join(tmpdir(), 'ds-leader-'));
      dirs.push(dir);
      return parseConfig({
        http: { host: '127.0.0.1', port: 0 },
        storage: { path: dir, postgres: url },
        actions: { webhooks: [{ url: hookUrl, retries: 0 }] },
      });
    };
    const [a, b] = await Promise.all(
      [config(), config()].map((c) => startApiRole(c, { logger, version: 'test', feed: { pollMs: 100 } })),
    );
    apis.push(a!, b!);
    await until(() => a!.leadership!.isLeader !== b!.leadership!.isLeader, 10_000, 'one leader');
    const [leader, other] = a!.leadership!.isLeader ? [a!, b!] : [b!, a!];

    // A detect process writes incidents to the shared store; both API processes see them.
    writer = await openPgStore({ url, retentionDays: 90, logger, timers: false });
    await writer.upsertIncident(makeIncident('first', { target: { ip: '198.51.100.7' } }));
    await writer.flush();
    await until(() => apis.every((x) => x.ctx.incidents.active().some((i) => i.id === 'first')), 10_000, 'both');
    await until(() => hooks.length >= 1, 10_000, 'the webhook');
    await new Promise((r) => setTimeout(r, 1000));
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatch(/^New HIGH incident/);

    await leader.close();
    await until(() => other.leadership!.isLeader, 10_000, 'the survivor to lead');
    await writer.upsertIncident(makeIncident('second', { target: { ip: '198.51.100.8' } }));
    await writer.flush();
    await until(() => hooks.length >= 2, 10_000, 'the survivor’s webhook');
    await new Promise((r) => setTimeout(r, 500));
    // The first incident is not announced again by the new leader: it had seen it.
    expect(hooks).toHaveLength(2);
    expect(hooks[1]).toContain('198.51.100.8');
  }, 60_000);

  it('keeps one remediation list for both API processes: recorded once, changed on one, seen on the other, one recurrence', async () => {
    const url = await (await sharedPostgres()).createDatabase('shared_rem');
    const config = () => {
      const dir = mkdtempSync(join(tmpdir(), 'ds-shared-rem-'));
      dirs.push(dir);
      return parseConfig({ http: { host: '127.0.0.1', port: 0 }, storage: { path: dir, postgres: url } });
    };
    const [a, b] = await Promise.all(
      [config(), config()].map((c) => startApiRole(c, { logger, version: 'test', feed: { pollMs: 100 } })),
    );
    apis.push(a!, b!);
    type Entry = { id: number; ip: string; status: string; packets: number; recurrences: number };
    const entries = async (api: RunningApi): Promise<Entry[]> =>
      ((await (await fetch(`${api.url}/api/remediation`)).json()) as { entries: Entry[] }).entries;

    const store = await openPgStore({ url, retentionDays: 90, logger, timers: false });
    try {
      const t0 = Date.now();
      // A botnet participation by two customer hosts (100 and 50 packets), seen by both API processes.
      await store.upsertIncident(
        makeIncident('bots', { firstSeen: new Date(t0 - 60_000).toISOString(), lastSeen: new Date(t0).toISOString() }),
      );
      await store.flush();
      let seen: Entry[][] = [];
      for (let i = 0; i < 100 && !(seen.length === 2 && seen.every((l) => l.length === 2)); i++) {
        seen = await Promise.all([entries(a!), entries(b!)]);
        await new Promise((r) => setTimeout(r, 100));
      }
      await Promise.all([a!, b!].map((x) => x.services.actions.settled()));
      seen = await Promise.all([entries(a!), entries(b!)]);
      expect(seen[0]).toEqual(seen[1]);
      // Recorded by both processes, counted once.
      expect(seen[0]!.map((e) => [e.ip, e.packets]).sort()).toEqual([
        ['198.51.100.10', 100],
        ['198.51.100.11', 50],
      ]);

      // The operator on A marks one remediated; B shows it at once.
      const id = seen[0]!.find((e) => e.ip === '198.51.100.10')!.id;
      const r = await fetch(`${a!.url}/api/remediation/${id}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: a!.url },
        body: JSON.stringify({ status: 'remediated', note: 'reinstalled' }),
      });
      expect(r.status).toBe(200);
      expect((await entries(b!)).find((e) => e.id === id)).toMatchObject({ status: 'remediated' });

      // The same host attacks again an hour later: both processes see the incident, one reopens the entry.
      await store.upsertIncident(
        makeIncident('bots-again', {
          firstSeen: new Date(Date.now() + 3_600_000 - 60_000).toISOString(),
          lastSeen: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
      await store.flush();
      await until(
        () => [a!, b!].every((x) => x.ctx.incidents.active().some((i) => i.id === 'bots-again')),
        10_000,
        'the second incident on both',
      );
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all([a!, b!].map((x) => x.services.actions.settled()));
      const after = await entries(b!);
      expect(after.find((e) => e.id === id)).toMatchObject({ status: 'open', recurrences: 1 });
      const history = (await (await fetch(`${a!.url}/api/remediation/${id}/history`)).json()) as {
        events: { kind: string }[];
      };
      expect(history.events.filter((e) => e.kind === 'recurrence')).toHaveLength(1);
      const audit = (await store.listAudit('bots-again')).filter((e) => e.action === 'remediation.recurrence');
      expect(audit, 'one recurrence in the shared audit trail, not one per API process').toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('shows every API process who held an address: the collector copies its bindings to PostgreSQL', async () => {
    const url = await (await sharedPostgres()).createDatabase('shared_subs');
    const dir = mkdtempSync(join(tmpdir(), 'ds-shared-subs-'));
    dirs.push(dir);
    const api = await startApiRole(
      parseConfig({ http: { host: '127.0.0.1', port: 0 }, storage: { path: dir, postgres: url } }),
      { logger, version: 'test', feed: { pollMs: 100 } },
    );
    apis.push(api);
    // The collector (an `all` process with RADIUS accounting): its SQLite intervals, mirrored.
    const localDb = new Database(':memory:');
    const local = new SubscriberStore(localDb);
    const shared = openPgDb({ url, logger });
    const store = await openPgStore({ url, retentionDays: 90, logger, timers: false });
    try {
      const t0 = Date.now() - 10 * 60_000;
      local.record({
        prefix: '198.51.100.10',
        subscriber: 'alice@isp.example',
        session: 'S1',
        nas: '192.0.2.10',
        source: 'radius',
        from: t0,
        to: null,
      });
      const mirror = new BindingMirror({
        local: localDb,
        shared,
        origin: 'collector',
        retentionMs: 90 * 86_400_000,
        logger,
      });
      expect(await mirror.flush()).toBe(1);

      const lookup = (await (await fetch(`${api.url}/api/subscribers/lookup?ip=198.51.100.10`)).json()) as {
        binding: { subscriber: string; session: string } | null;
      };
      expect(lookup.binding).toMatchObject({ subscriber: 'alice@isp.example', session: 'S1' });

      // The bot's incident reaches the API process; its remediation row names the subscriber.
      await store.upsertIncident(makeIncident('bot', { firstSeen: new Date(t0).toISOString() }));
      await store.flush();
      await until(() => api.ctx.incidents.active().some((i) => i.id === 'bot'), 10_000, 'the incident');
      await api.services.actions.settled();
      const rows = (
        (await (await fetch(`${api.url}/api/remediation`)).json()) as {
          entries: { ip: string; subscriber?: { subscriber: string } }[];
        }
      ).entries;
      expect(rows.find((e) => e.ip === '198.51.100.10')?.subscriber).toMatchObject({ subscriber: 'alice@isp.example' });
      expect(rows.find((e) => e.ip === '198.51.100.11')?.subscriber).toBeUndefined();
      const status = (await (await fetch(`${api.url}/api/subscribers/status`)).json()) as { bindings: number };
      expect(status.bindings).toBe(1);
    } finally {
      await store.close();
      await shared.close();
      localDb.close();
    }
  }, 60_000);
});
