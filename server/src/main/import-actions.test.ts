import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ActionsConfig } from '../actions/config.js';
import { Mitigator } from '../actions/mitigation.js';
import { RdapContacts } from '../actions/rdap.js';
import { RemediationList } from '../actions/remediation.js';
import { DAY_MS, RemediationWatch } from '../actions/remediation-watch.js';
import { SUBSCRIBER_ACTIONS_SCHEMA } from '../actions/subscriber-actions.js';
import { parseConfig, type Config } from '../config/config.js';
import { COMPLAINTS_SCHEMA } from '../feeds/complaint-desk.js';
import { openPgDb, openSqliteDb, type SqlDb } from '../store/sql-db.js';
import { POSTGRES_MISSING, postgresBinDir, sharedPostgres } from '../testing/postgres.js';
import { outboundIncident, sampleIncident } from '../testing/recording-context.js';
import {
  ACTIONS_COMPONENTS,
  ACTIONS_TABLES,
  importActions,
  importedLine,
  ImportActionsError,
} from './import-actions.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'import-actions-'));
  dirs.push(d);
  return d;
};

const opened: SqlDb[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});
const track = (db: SqlDb): SqlDb => (opened.push(db), db);

const configFor = (storage: Record<string, unknown>, remediation: Record<string, unknown> = {}): Config =>
  parseConfig({ storage, actions: { remediation } });

const mitigationConfig = ActionsConfig.parse({ mitigation: { enabled: true, pipe: '/x' } }).mitigation;
const rdapConfig = ActionsConfig.parse({ reports: { rdap: { enabled: true } } }).reports.rdap;
const noAudit = { appendAudit: async () => undefined };
const mitigatorOn = (db: SqlDb): Mitigator =>
  new Mitigator({ db, config: mitigationConfig, store: noAudit, sink: { send: async () => undefined } });
const rdapAnswer = {
  entities: [{ roles: ['abuse'], vcardArray: ['vcard', [['email', {}, 'text', 'abuse@transit1.example']]] }],
};
const NOW = Date.parse('2026-11-26T12:00:00.000Z');

/** An actions file such as a single box writes: every table, through the classes that own them. */
async function buildActionsFile(file: string): Promise<void> {
  const db = openSqliteDb(file);
  try {
    const list = new RemediationList(db);
    const watch = new RemediationWatch({ list, watchMs: 30 * DAY_MS });
    await list.recordIncident(outboundIncident());
    const [a, b] = (await list.list()).sort((x, y) => x.id - y.id);
    await list.setStatus(a!.id, 'notified', 'alice', 'called the subscriber', Date.parse('2026-11-24T22:00:00Z'));
    await list.setStatus(a!.id, 'remediated', 'alice', 'router replaced', Date.parse('2026-11-25T09:00:00Z'));
    await list.setStatus(b!.id, 'remediated', 'bob', undefined, Date.parse('2026-11-25T10:00:00Z'));
    // Seen again within the watch: reopened as a recurrence (a history row the watch writes).
    await watch.recordIncident(
      outboundIncident({
        id: 'inc-spam-2',
        firstSeen: '2026-11-26T08:00:00.000Z',
        lastSeen: '2026-11-26T08:05:00.000Z',
      }),
    );

    const m = mitigatorOn(db);
    await m.mitigate(sampleIncident(), { type: 'rtbh', action: 'discard' }, 'alice');
    await m.mitigate(
      sampleIncident({ id: 'inc-fanin-2', target: { ip: '198.51.100.8' } }),
      { type: 'flowspec', action: 'discard', note: 'scrub' },
      'bob',
    );
    await m.withdrawAll('inc-fanin-1', 'bob', 'attack over');

    const rdap = new RdapContacts(db, rdapConfig, undefined, async () => Response.json(rdapAnswer));
    expect(await rdap.lookup(65001, NOW)).toBe('abuse@transit1.example');

    // Complaints, notices and walled-garden steps need a whole context to make; their rows are
    // written as those classes write them, with ids that have gaps (deleted rows).
    db.migrate('complaints', COMPLAINTS_SCHEMA);
    db.migrate('subscriber-actions', SUBSCRIBER_ACTIONS_SCHEMA);
    for (const [id, key] of [
      [5, 'k5'],
      [9, 'k9'],
    ] as const)
      await db.run(
        `INSERT INTO complaints (id, dedup_key, received_at, via, format, reporter, type, ip, customer, reported_at, subject,
         summary, direction, incidents, remediation, opened) VALUES ($1, $2, $3, 'http', 'arf', 'abuse@mx.example', 'spam',
         '198.51.100.23', 'Residential pool A', $3, 'spam from you', 'SMTP spam', 'outbound', '["inc-spam-1"]', $4, NULL)`,
        [id, key, NOW - id, JSON.stringify([a!.id])],
      );
    await db.run("INSERT INTO complaint_incidents VALUES (5, 'inc-spam-1'), (9, 'inc-spam-1')");
    await db.run('INSERT INTO complaint_remediation VALUES (5, $1), (9, $1)', [a!.id]);
    await db.run(
      `INSERT INTO subscriber_notices (id, remediation_id, at_ms, by, subscriber, recipient, subject, message_id, result, error)
       VALUES (3, $1, $2, 'alice', 'sub-1', 'sub1@example.net', 'Your router', '<m1@x>', 'sent', NULL),
              (4, $1, $2, 'alice', 'sub-1', 'sub1@example.net', 'Your router', NULL, 'failed', 'SMTP 451')`,
      [a!.id, NOW],
    );
    await db.run(
      `INSERT INTO walled_garden_steps (id, remediation_id, action, at_ms, by, request, nas, subscriber, session, result, detail)
       VALUES (7, $1, 'hold', $2, 'alice', 'coa', '192.0.2.9', 'sub-1', 'sess-1', 'ack', NULL)`,
      [a!.id, NOW],
    );
  } finally {
    await db.close();
  }
}

/** Every row of every actions table, in a stable order. */
async function dump(db: SqlDb): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const { table } of ACTIONS_TABLES) out[table] = await db.all(`SELECT * FROM ${table} ORDER BY 1, 2`);
  return out;
}

async function readThrough(db: SqlDb) {
  const list = new RemediationList(db);
  const watch = new RemediationWatch({ list, watchMs: 30 * DAY_MS });
  return {
    list: await list.list(),
    summary: await list.summary(),
    events: await watch.allEvents(),
    mitigations: await mitigatorOn(db).list(),
  };
}

describe('import-actions refusals', () => {
  it('refuses a config without storage.postgres', async () => {
    const dir = tmp();
    const file = join(dir, 'actions.sqlite');
    await buildActionsFile(file);
    await expect(importActions({ config: configFor({ path: dir }), logger })).rejects.toThrow(
      /the config has no storage\.postgres/,
    );
  });

  it('refuses an actions file that does not exist, naming it (default path and --from)', async () => {
    const dir = tmp();
    const config = configFor({ path: dir, postgres: 'postgres://nobody@127.0.0.1:1/none' });
    await expect(importActions({ config, logger })).rejects.toThrow(
      new ImportActionsError(`no actions database to import: ${join(dir, 'actions.sqlite')} does not exist`),
    );
    await expect(importActions({ config, from: join(dir, 'other.sqlite'), logger })).rejects.toThrow(
      /other\.sqlite does not exist/,
    );
    // actions.remediation.path is where the file is by default when it is set.
    await expect(
      importActions({
        config: configFor({ path: dir, postgres: 'postgres://x@127.0.0.1:1/x' }, { path: join(dir, 'mine.db') }),
        logger,
      }),
    ).rejects.toThrow(/mine\.db does not exist/);
  });

  it('refuses a file that holds no actions table', async () => {
    const dir = tmp();
    const file = join(dir, 'store.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE incidents (id TEXT)');
    db.close();
    await expect(
      importActions({ config: configFor({ path: dir, postgres: 'postgres://x@127.0.0.1:1/x' }), from: file, logger }),
    ).rejects.toThrow(/holds none of the actions tables/);
  });
});

const havePostgres = postgresBinDir() !== undefined;
if (!havePostgres) console.warn(POSTGRES_MISSING);

describe.skipIf(!havePostgres)('import-actions into PostgreSQL', () => {
  const target = async (): Promise<{ url: string; config: Config; dir: string }> => {
    const url = await (await sharedPostgres()).createDatabase('imp');
    const dir = tmp();
    return { url, dir, config: configFor({ path: dir, postgres: url }) };
  };

  it('copies every table with its ids and history, once, and new rows get ids above the copied ones', async () => {
    const { url, dir, config } = await target();
    await buildActionsFile(join(dir, 'actions.sqlite'));
    const source = track(openSqliteDb(join(dir, 'actions.sqlite')));
    const before = await dump(source);
    const expected = await readThrough(source);

    const result = await importActions({ config, logger });
    expect(result.map((t) => [t.table, t.rows])).toEqual(
      ACTIONS_TABLES.map(({ table }) => [table, before[table]!.length]),
    );
    expect(result.every((t) => !t.missing)).toBe(true);
    expect(importedLine(result[0]!)).toBe(`remediation: ${before.remediation!.length} rows copied`);
    // The file had a bit of everything, so every table was really copied.
    for (const { table } of ACTIONS_TABLES) expect(before[table]!.length, table).toBeGreaterThan(0);

    const pg = track(openPgDb({ url, logger }));
    expect(await dump(pg)).toEqual(before);
    const got = await readThrough(pg);
    expect(got).toEqual(expected);
    // The same history, no "created" row added by the trigger while the rows were copied.
    expect(got.events).toHaveLength(before.remediation_events!.length);
    expect(got.events.filter((e) => e.kind === 'recurrence')).toHaveLength(2);
    expect(got.list.every((e) => e.recurred)).toBe(true);
    expect(got.mitigations.map((m) => [m.id, m.withdrawnBy])).toEqual([
      [2, null],
      [1, 'bob'],
    ]);
    // The RDAP cache came along: answered without asking the registry.
    const rdap = new RdapContacts(pg, rdapConfig, undefined, async () => {
      throw new Error('no registry in this test');
    });
    expect(await rdap.lookup(65001, NOW + 1000)).toBe('abuse@transit1.example');
    // Every table the actions migrations make is one import-actions copies.
    const tables = await pg.all<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'schema_versions' ORDER BY 1",
    );
    expect(tables.map((t) => t.table_name)).toEqual(ACTIONS_TABLES.map((t) => t.table).sort());

    // New rows: ids past the copied ones, and the history trigger is back on.
    const maxOf = (table: string, col: string): number =>
      Math.max(...(before[table] as Record<string, number>[]).map((r) => r[col]!));
    const list = new RemediationList(pg);
    await list.recordIncident(
      outboundIncident({
        id: 'inc-spam-3',
        sources: {
          distinct: 1,
          top: [{ ip: '198.51.100.99', customer: 'Residential pool B', packets: 5, bytes: 500 }],
          asns: [],
        },
      }),
    );
    const fresh = (await list.list({ customer: 'Residential pool B' }))[0]!;
    expect(fresh.id).toBeGreaterThan(maxOf('remediation', 'id'));
    const history = await new RemediationWatch({ list, watchMs: DAY_MS }).history(fresh.id);
    expect(history.map((e) => [e.from, e.to])).toEqual([[null, 'open']]);
    const seq = await pg.get<{ seq: number }>('SELECT MAX(seq) AS seq FROM remediation_events');
    expect(seq!.seq).toBeGreaterThan(maxOf('remediation_events', 'seq'));
    const m = await mitigatorOn(pg).mitigate(
      sampleIncident({ id: 'inc-fanin-3', target: { ip: '198.51.100.9' } }),
      { type: 'rtbh', action: 'discard' },
      'carol',
    );
    expect(m.id).toBeGreaterThan(maxOf('mitigations', 'id'));
    for (const table of ['complaints', 'subscriber_notices', 'walled_garden_steps']) {
      const r = await pg.get<{ id: number }>(`SELECT nextval(pg_get_serial_sequence('${table}', 'id')) AS id`);
      expect(r!.id, table).toBeGreaterThan(maxOf(table, 'id'));
    }
  });

  it('brings a file from an older Downstream up to date on the way, and leaves the file as it was', async () => {
    const { url, dir, config } = await target();
    const file = join(dir, 'old.sqlite');
    const old = openSqliteDb(file);
    const list = new RemediationList(old);
    await list.recordIncident(outboundIncident());
    // Complaints before their link tables; no mitigations, notices or RDAP cache yet.
    old.migrate('complaints', { sqlite: [COMPLAINTS_SCHEMA.sqlite[0]!], pg: [] });
    await old.run(
      `INSERT INTO complaints (id, dedup_key, received_at, via, format, type, ip, reported_at, summary, direction,
       incidents, remediation) VALUES (1, 'k', 1, 'http', 'arf', 'spam', '198.51.100.23', 1, 's', 'outbound',
       '["inc-a","inc-b"]', '[1]')`,
    );
    await old.close();

    const result = await importActions({ config, from: file, logger });
    const by = Object.fromEntries(result.map((t) => [t.table, t]));
    expect(by.remediation).toMatchObject({ rows: 2, missing: false });
    expect(by.remediation_events).toMatchObject({ rows: 2, missing: false });
    expect(by.complaints).toMatchObject({ rows: 1, missing: false });
    // The links the server's migration derives from the complaint's own columns.
    expect(by.complaint_incidents).toMatchObject({ rows: 2, missing: true });
    expect(by.complaint_remediation).toMatchObject({ rows: 1, missing: true });
    for (const t of ['mitigations', 'subscriber_notices', 'walled_garden_steps', 'rdap_contacts'])
      expect(by[t], t).toMatchObject({ rows: 0, missing: true });
    expect(importedLine(by.mitigations!)).toBe('mitigations: 0 rows copied (no such table in the file)');
    expect(importedLine(by.complaint_incidents!)).toBe(
      "complaint_incidents: 2 rows copied (not in the file: made by this build's migrations)",
    );
    const pg = track(openPgDb({ url, logger }));
    expect(await pg.all('SELECT * FROM complaint_incidents ORDER BY 2')).toEqual([
      { complaint_id: 1, incident_id: 'inc-a' },
      { complaint_id: 1, incident_id: 'inc-b' },
    ]);

    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'complaint_incidents'").all()).toEqual([]);
      expect(raw.prepare("SELECT version FROM schema_versions WHERE component = 'complaints'").get()).toEqual({
        version: 1,
      });
    } finally {
      raw.close();
    }
  });

  it('refuses when a PostgreSQL actions table already holds rows, naming it, and changes nothing', async () => {
    const { url, dir, config } = await target();
    await buildActionsFile(join(dir, 'actions.sqlite'));
    const pg = track(openPgDb({ url, logger }));
    for (const c of ACTIONS_COMPONENTS) pg.migrate(c.component, c.steps);
    // The cluster already blackholed something on the shared store.
    await mitigatorOn(pg).mitigate(sampleIncident(), { type: 'rtbh', action: 'discard' }, 'zoe');
    const before = await dump(pg);
    const err = await importActions({ config, logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportActionsError);
    expect((err as Error).message).toBe(
      'PostgreSQL already holds actions rows: mitigations (1 row). import-actions only fills empty tables; it never merges into or overwrites a live list',
    );
    expect(await dump(pg)).toEqual(before);

    // Imported once, a second run refuses too (the list is live now).
    await pg.run('DELETE FROM mitigations');
    await importActions({ config, logger });
    await expect(importActions({ config, logger })).rejects.toThrow(
      /already holds actions rows: remediation \(2 rows\), remediation_events \(\d+ rows\), mitigations \(2 rows\)/,
    );
  });

  it('copies nothing when a row does not fit PostgreSQL: one transaction, rolled back', async () => {
    const { url, dir, config } = await target();
    const file = join(dir, 'actions.sqlite');
    await buildActionsFile(file);
    // The last table copied gets a row PostgreSQL refuses (a fraction in a bigint column).
    const raw = new Database(file);
    raw.exec('INSERT INTO rdap_contacts VALUES (65009, NULL, 1.5)');
    raw.close();
    await expect(importActions({ config, logger })).rejects.toThrow(
      /^copying rdap_contacts: .*bigint.*; nothing was imported$/,
    );
    const pg = track(openPgDb({ url, logger }));
    for (const c of ACTIONS_COMPONENTS) pg.migrate(c.component, c.steps);
    for (const [table, rows] of Object.entries(await dump(pg))) expect(rows, table).toEqual([]);
    // The history trigger is on again (its disabling rolled back with the rest).
    const trigger = await pg.get<{ tgenabled: string }>(
      "SELECT tgenabled FROM pg_trigger WHERE tgname = 'remediation_history'",
    );
    expect(trigger).toEqual({ tgenabled: 'O' });
  });
});
