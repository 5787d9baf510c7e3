/**
 * Fault: PostgreSQL restarts (an immediate stop — no checkpoint, recovery from WAL — then a start)
 * while operators post notes and acknowledgements, and move a remediation entry back and forth,
 * at a steady rate through the REST API of a server on `storage.postgres`. Every request answered
 * 2xx is in the store afterwards (audit entry and the incident's notes; the remediation entry's
 * history in the shared actions tables); requests during the outage are answered 503, never 2xx;
 * the server recovers without a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import { startServer, type RunningServer } from '../src/main/server.js';
import { openPgStore } from '../src/store/pg-store.js';
import { openPgDb } from '../src/store/sql-db.js';
import { detectionEvent } from '../src/testing/fake-context.js';
import { POSTGRES_MISSING, postgresBinDir, startPostgres, type PgServer } from '../src/testing/postgres.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const TOKEN = 'operator-token-pg-restart-0123456';
const bin = postgresBinDir();
if (!bin) console.warn(POSTGRES_MISSING);

describe.skipIf(!bin)('PostgreSQL restart under operator load', () => {
  // Its own server: restarting the run's shared one would fail other files' queries.
  let pg: PgServer;
  let url: string;
  let server: RunningServer;
  const dir = mkdtempSync(join(tmpdir(), 'ds-pg-restart-'));

  beforeAll(async () => {
    pg = await startPostgres({ fsync: true });
    url = await pg.createDatabase('restart');
    server = await startServer({
      config: parseConfig({
        http: { host: '127.0.0.1', port: 0 },
        auth: { tokens: [{ name: 'ops', role: 'operator', token: TOKEN }] },
        storage: { path: dir, postgres: url },
      }),
      logger,
      version: 'test',
      tickMs: 0,
      threaded: false,
    });
  });
  afterAll(async () => {
    await server?.close();
    await pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged note or acknowledgement, answers 503 while down, and recovers by itself', async () => {
    const ids: string[] = [];
    for (const key of ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
      server.ctx.incidents.ingest(detectionEvent(key));
    for (const i of server.ctx.incidents.active()) ids.push(i.id);
    expect(ids).toHaveLength(3);
    // An infected customer endpoint: its remediation entry lives in PostgreSQL too.
    server.ctx.incidents.ingest({
      ...detectionEvent('198.51.100.23'),
      detector: 'spam-bot',
      kind: 'spam-bot',
      direction: 'outbound',
      target: undefined,
      sources: {
        distinct: 1,
        top: [{ ip: '198.51.100.23', asn: 64500, customer: 'Residential pool A', packets: 900, bytes: 90_000 }],
        asns: [{ asn: 64500, name: 'EXAMPLE-ISP', share: 1 }],
      },
    });
    await server.step(Date.now());
    const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
    let entryId: number | undefined;
    for (let t = Date.now(); entryId === undefined && Date.now() - t < 10_000;) {
      const r = (await (await fetch(`${server.url}/api/remediation`, { headers: auth })).json()) as {
        entries: { id: number; ip: string }[];
      };
      entryId = r.entries.find((e) => e.ip === '198.51.100.23')?.id;
      if (entryId === undefined) await new Promise((res) => setTimeout(res, 50));
    }
    expect(entryId, 'the remediation entry of the outbound incident').toBeDefined();

    type Outcome = { id: string; text: string; status: number; at: number; remediation?: true };
    const outcomes: Outcome[] = [];
    let seq = 0;
    let stop = false;
    const post = async (id: string, kind: 'note' | 'ack'): Promise<void> => {
      const text = `${kind} ${++seq}`;
      const [path, body] = kind === 'note' ? ['notes', { text }] : ['ack', { note: text }];
      let status: number;
      try {
        const r = await fetch(`${server.url}/api/incidents/${id}/${path}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(20_000),
        });
        status = r.status;
        await r.arrayBuffer();
      } catch {
        status = 0; // no answer at all: not acknowledged either
      }
      outcomes.push({ id, text, status, at: Date.now() });
    };
    // Three operators, one per incident, each posting every 25 ms (notes, every third an ack).
    const operators = ids.map(async (id, k) => {
      let n = k;
      while (!stop) {
        await post(id, n++ % 3 === 0 ? 'ack' : 'note');
        await new Promise((r) => setTimeout(r, 25));
      }
    });
    // A fourth marks the endpoint remediated and reopens it, each move with a note of its own.
    let remediated = false;
    operators.push(
      (async () => {
        while (!stop) {
          const status = remediated ? 'open' : 'remediated';
          const text = `rem ${++seq}`;
          let code: number;
          try {
            const r = await fetch(`${server.url}/api/remediation/${entryId}`, {
              method: 'POST',
              headers: auth,
              body: JSON.stringify({ status, note: text }),
              signal: AbortSignal.timeout(20_000),
            });
            code = r.status;
            await r.arrayBuffer();
          } catch {
            code = 0;
          }
          if (code === 200) remediated = !remediated;
          outcomes.push({ id: String(entryId), text, status: code, at: Date.now(), remediation: true });
          await new Promise((r) => setTimeout(r, 25));
        }
      })(),
    );

    const until = async (cond: () => boolean, what: string, ms = 30_000) => {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(
      () => outcomes.filter((o) => o.status === 200).length >= 30,
      '30 acknowledged actions before the restart',
    );
    const restartAt = Date.now();
    await pg.stop('immediate');
    // Down for a moment while the operators keep posting.
    await until(() => outcomes.some((o) => o.at > restartAt && o.status >= 500), 'a refused action while down');
    await new Promise((r) => setTimeout(r, 300));
    await pg.start();
    const upAt = Date.now();
    await until(
      () => outcomes.filter((o) => o.at > upAt && o.status === 200).length >= 30,
      '30 acknowledged actions after the restart (recovery without restarting Downstream)',
    );
    stop = true;
    await Promise.all(operators);

    const ok = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status !== 200);
    // Every refusal is a 503 naming the store (or, at worst, no answer); never another 2xx/4xx.
    expect(new Set(refused.map((o) => o.status))).toEqual(new Set([503]));
    expect(refused.length).toBeGreaterThan(0);

    // Read back through a store of its own, as another process would.
    await server.close();
    const actionsDb = openPgDb({ url, logger });
    try {
      const history = new Set(
        (
          await actionsDb.all<{ detail: string | null }>('SELECT detail FROM remediation_events WHERE entry_id = $1', [
            entryId!,
          ])
        ).map((e) => e.detail),
      );
      const acked = ok.filter((o) => o.remediation);
      expect(acked.length).toBeGreaterThan(10);
      for (const o of acked) expect(history.has(o.text), `remediation move ${o.text} in the history`).toBe(true);
    } finally {
      await actionsDb.close();
    }
    const check = await openPgStore({ url, retentionDays: 90, logger, timers: false });
    try {
      for (const id of ids) {
        const audit = new Set((await check.listAudit(id)).map((a) => a.detail ?? ''));
        const notes = new Set(((await check.getIncident(id))?.notes ?? []).map((n) => n.text));
        for (const o of ok.filter((x) => x.id === id && !x.remediation)) {
          expect(
            [...audit].some((d) => d === o.text || d.endsWith(`: ${o.text}`)),
            `audit of ${o.text}`,
          ).toBe(true);
          expect(notes.has(o.text), `note ${o.text} in the stored incident`).toBe(true);
        }
      }
    } finally {
      await check.close();
    }
    console.log(
      `pg restart: ${ok.length} actions acknowledged (all stored), ${refused.length} refused with 503 while down, ` +
        `${outcomes.filter((o) => o.at > upAt && o.status === 200).length} acknowledged after it came back`,
    );
  });
});
