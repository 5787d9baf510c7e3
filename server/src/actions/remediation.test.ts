import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../context.js';
import { ACTIONS_ENGINES, closingAfterEach } from '../testing/actions-db.js';
import { outboundIncident, sampleIncident } from '../testing/recording-context.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openSqliteDb } from '../store/sql-db.js';
import { sharedPostgres } from '../testing/postgres.js';
import { openActionsDb, RemediationList, RemediationTransitionError } from './remediation.js';
import { DAY_MS, RemediationWatch } from './remediation-watch.js';

const track = closingAfterEach();

describe.each(ACTIONS_ENGINES)('RemediationList on $name', (engine) => {
  async function open() {
    const h = await engine.fresh();
    return { db: track(h.db), reopen: async () => track(await h.reopen()) };
  }

  it('records outbound customer endpoints only, with evidence and first/last seen', async () => {
    const { db } = await open();
    const list = new RemediationList(db);
    expect(await list.recordIncident(sampleIncident())).toBe(0); // inbound: nothing to remediate
    expect(await list.recordIncident(outboundIncident())).toBe(2);
    const entries = await list.list();
    expect(entries.map((e) => [e.customer, e.ip, e.status])).toEqual([
      ['=cmd|evil', '198.51.100.24', 'open'],
      ['Residential pool A', '198.51.100.23', 'open'],
    ]);
    expect(entries[1]).toMatchObject({
      kinds: ['spam-bot'],
      incidents: ['inc-spam-1'],
      evidence: 'SMTP to 812 hosts',
      packets: 900,
      firstSeen: '2026-11-24T21:00:00.000Z',
      lastSeen: '2026-11-24T21:05:00.000Z',
      recurred: false,
    });
    expect(await list.list({ customer: 'Residential pool A' })).toHaveLength(1);
    await db.close();
  });

  it('moves open → notified → remediated, persists, and reopens as recurred when seen again', async () => {
    const { db, reopen } = await open();
    const list = new RemediationList(db);
    await list.recordIncident(outboundIncident());
    const id = (await list.list({ customer: 'Residential pool A' }))[0].id;
    const t0 = Date.parse('2026-11-24T21:10:00Z');
    expect(await list.setStatus(id, 'notified', 'alice', 'called the customer', t0)).toMatchObject({
      status: 'notified',
      statusBy: 'alice',
      note: 'called the customer',
    });
    await list.setStatus(id, 'remediated', 'alice', undefined, t0 + 1000);
    await db.close();

    const db2 = await reopen();
    const list2 = new RemediationList(db2);
    expect(await list2.get(id)).toMatchObject({ status: 'remediated', note: 'called the customer' });
    // Same incident updated without newer traffic: stays remediated.
    await list2.recordIncident(outboundIncident());
    expect((await list2.get(id))!.status).toBe('remediated');
    // A new incident with traffic after the remediation: back to open, flagged.
    await list2.recordIncident(
      outboundIncident({
        id: 'inc-spam-2',
        kind: 'scanner',
        firstSeen: '2026-11-25T08:00:00.000Z',
        lastSeen: '2026-11-25T08:01:00.000Z',
      }),
    );
    expect(await list2.get(id)).toMatchObject({
      status: 'open',
      recurred: true,
      kinds: ['spam-bot', 'scanner'],
      incidents: ['inc-spam-1', 'inc-spam-2'],
      packets: 1800,
      lastSeen: '2026-11-25T08:01:00.000Z',
      firstSeen: '2026-11-24T21:00:00.000Z',
    });
    expect(await list2.list({ status: 'open' })).toHaveLength(2);
    await db2.close();
  });

  it('answers undefined for an unknown id, accepts re-setting the same status, refuses remediated → notified', async () => {
    const { db } = await open();
    const list = new RemediationList(db);
    await list.recordIncident(outboundIncident());
    expect(await list.setStatus(9999, 'notified', 'x')).toBeUndefined();
    const id = (await list.list())[0].id;
    expect(await list.setStatus(id, 'open', 'x')).toMatchObject({ status: 'open', statusBy: 'x' });
    await list.setStatus(id, 'remediated', 'x');
    await expect(list.setStatus(id, 'notified', 'x')).rejects.toThrow(RemediationTransitionError);
    expect((await list.get(id))!.status).toBe('remediated');
    await db.close();
  });

  it('exports CSV with quoting and spreadsheet-formula neutralised', async () => {
    const { db } = await open();
    const list = new RemediationList(db);
    await list.recordIncident(outboundIncident({ evidence: { summary: 'SMTP, "bulk"\nto 812 hosts' } }));
    const csv = await list.csv();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,customer,ip,kinds,incidents,evidence,packets,bytes,first_seen,last_seen,status,status_at,status_by,recurred,note',
    );
    expect(csv).toContain(`'=cmd|evil,198.51.100.24`);
    expect(csv).toContain('"SMTP, ""bulk""\nto 812 hosts"');
    expect((await list.csv({ customer: 'Residential pool A' })).trimEnd().split('\r\n')).toHaveLength(2);
    await db.close();
  });

  it('two connections recording and remediating at once: one entry per endpoint, traffic counted once, one recurrence', async () => {
    const h = await engine.fresh();
    const a = new RemediationList(track(h.db));
    const b = new RemediationList(track(await h.reopen()));
    const t0 = Date.parse('2026-11-24T22:00:00Z');
    const audit: AuditEntry[] = [];
    const watchOf = (list: RemediationList) =>
      new RemediationWatch({ list, watchMs: 14 * DAY_MS, audit: (e) => void audit.push(e), now: () => t0 });
    const wa = watchOf(a);
    const wb = watchOf(b);
    const inc = outboundIncident();
    expect(await Promise.all([a.recordIncident(inc), b.recordIncident(inc)])).toEqual([2, 2]);
    const entries = await a.list();
    expect(entries.map((e) => [e.customer, e.ip, e.packets, e.bytes, e.incidents])).toEqual([
      ['=cmd|evil', '198.51.100.24', 100, 10000, ['inc-spam-1']],
      ['Residential pool A', '198.51.100.23', 900, 90000, ['inc-spam-1']],
    ]);
    expect(await b.list()).toEqual(entries);

    const id = entries[1]!.id;
    const [ra, rb] = await Promise.all([
      a.setStatus(id, 'remediated', 'alice', 'cleaned', t0),
      b.setStatus(id, 'remediated', 'bob', 'cleaned', t0),
    ]);
    expect([ra!.status, rb!.status]).toEqual(['remediated', 'remediated']);

    // The same PC spams again, seen by both processes.
    const again = outboundIncident({
      id: 'inc-spam-2',
      firstSeen: '2026-11-25T08:00:00.000Z',
      lastSeen: '2026-11-25T08:01:00.000Z',
    });
    await Promise.all([wa.recordIncident(again), wb.recordIncident(again)]);
    expect(await a.get(id)).toMatchObject({
      status: 'open',
      recurred: true,
      packets: 1800,
      incidents: ['inc-spam-1', 'inc-spam-2'],
    });
    const history = await wb.history(id);
    expect(history.filter((e) => e.kind === 'recurrence')).toHaveLength(1);
    expect(history.map((e) => [e.kind, e.from, e.to])).toEqual([
      ['status', null, 'open'],
      ['status', 'open', 'remediated'],
      ['status', 'remediated', 'open'],
      ['recurrence', 'remediated', 'open'],
    ]);
    expect(audit.map((e) => e.action)).toEqual(['remediation.recurrence']);
    expect((await wa.decorate([(await a.get(id))!]))[0]!.recurrences).toBe(1);
  });
});

describe.skipIf(!ACTIONS_ENGINES.some((e) => e.name === 'postgres'))('openActionsDb with storage.postgres', () => {
  it('uses PostgreSQL, and warns of an actions file left from before and of a path it does not use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ds-actions-move-'));
    try {
      const file = join(dir, 'kept', 'actions.sqlite');
      const before = openSqliteDb(file);
      const old = new RemediationList(before);
      await old.recordIncident(outboundIncident());
      await before.close();
      const lines: { msg: string; path?: string; file?: string }[] = [];
      const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
      const db = openActionsDb({
        postgres: await (await sharedPostgres()).createDatabase('move'),
        path: file,
        storagePath: dir,
        logger,
      });
      try {
        expect(db.dialect).toBe('pg');
        // The list in PostgreSQL starts empty: the old file's rows were not copied (and the log says so).
        expect(await new RemediationList(db).list()).toEqual([]);
      } finally {
        await db.close();
      }
      expect(lines.map((l) => l.msg)).toEqual([
        'actions.remediation.path is not used with storage.postgres',
        'an actions database from before storage.postgres is here: its remediation list, mitigations and complaints are not in PostgreSQL (downstream import-actions copies them)',
      ]);
      expect(lines[1]!.file).toBe(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
