/**
 * pnpm bench:store — the write and read paths of each Store: SQLite (embedded) and PostgreSQL
 * (a temporary server from Debian's binaries, fsync on; skipped without them). Per store: the
 * demo's 30-day history import, one flush of a busy second (incident refreshes + rollup rows),
 * an operator's audit append (what an ack waits for), and two heatmap queries. Then the actions
 * database on each engine (sql-db.ts): recording an outbound incident into the remediation list
 * (what every API process does every 5 s per active outbound incident), recording it again (the
 * idempotent case a second process hits), an operator's status change, and the remediation
 * view's read (list + recurrence counts).
 * Options: --incidents=500 --rollups=4000 --flushes=10 --audits=50 --bots=12 --campaigns=100.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { simulateHistory } from '../src/sim/history.js';
import { DAY, HOUR, MINUTE, openPgStore, openStore, type Store } from '../src/store/index.js';
import { RemediationList } from '../src/actions/remediation.js';
import { RemediationWatch } from '../src/actions/remediation-watch.js';
import { openPgDb, openSqliteDb, type SqlDb } from '../src/store/sql-db.js';
import { makeIncident } from '../src/testing/make-incident.js';
import { POSTGRES_MISSING, postgresBinDir, startPostgres, type PgServer } from '../src/testing/postgres.js';
import { opt } from './bench-options.js';

const logger = pino({ level: 'silent' });
const nIncidents = opt('incidents', 500);
const nRollups = opt('rollups', 4000);
const nFlushes = Math.max(1, opt('flushes', 10));
const nAudits = Math.max(1, opt('audits', 50));
const nBots = Math.max(1, opt('bots', 12));
const nCampaigns = Math.max(1, opt('campaigns', 100));
const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};

const now = Math.floor(Date.now() / MINUTE) * MINUTE;
const history = simulateHistory({ now, days: 30, seed: 7 });
const dir = mkdtempSync(join(tmpdir(), 'ds-bench-store-'));
let pg: PgServer | undefined;
const stores: [string, () => Promise<Store>][] = [
  ['SQLite', async () => openStore({ path: dir, retentionDays: 90, logger, timers: false })],
];
if (postgresBinDir()) {
  stores.push([
    'PostgreSQL',
    async () => {
      pg = await startPostgres({ fsync: true });
      return openPgStore({ url: await pg.createDatabase('bench'), retentionDays: 90, logger, timers: false });
    },
  ]);
} else console.log(POSTGRES_MISSING);

console.log(
  `history: ${fmt(history.rollups.length)} rollup rows, ${history.incidents.length} incidents; ` +
    `a busy second: ${nIncidents} incident refreshes + ${nRollups} rollup rows`,
);
console.log(
  `${'store'.padEnd(12)}${'history import'.padStart(16)}${'flush (median)'.padStart(16)}${'flush (max)'.padStart(14)}` +
    `${'audit append'.padStart(15)}${'heatmap 30d/1d'.padStart(16)}${'heatmap 7d/1h'.padStart(15)}`,
);
try {
  for (const [name, open] of stores) {
    const s = await open();
    const imp = await time(() => s.importHistory!(history));
    const incs = Array.from({ length: nIncidents }, (_, i) => makeIncident(`live-${i}`));
    const flushes: number[] = [];
    for (let k = 0; k < nFlushes; k++) {
      for (const inc of incs) await s.upsertIncident({ ...inc, peak: { pps: k, bps: k } });
      s.recordAbuse(
        Array.from({ length: nRollups }, (_, i) => ({
          minute: now + k * MINUTE,
          kind: 'scanner' as const,
          dimension: 'endpoint' as const,
          key: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`,
          packets: 1,
          bytes: 100,
          flows: 1,
        })),
      );
      flushes.push(await time(() => s.flush()));
    }
    const audits: number[] = [];
    for (let k = 0; k < nAudits; k++) {
      audits.push(
        await time(() =>
          s.appendAudit({
            at: new Date().toISOString(),
            by: 'ops',
            action: 'note',
            incidentId: 'live-1',
            detail: `n${k}`,
          }),
        ),
      );
    }
    const q30 = await time(() =>
      s.abuseSeries({ dimension: 'asn', from: now - 30 * DAY, to: now, stepMs: DAY, top: 50 }),
    );
    const q7 = await time(() =>
      s.abuseSeries({ dimension: 'asn', from: now - 7 * DAY, to: now, stepMs: HOUR, top: 50 }),
    );
    console.log(
      `${name.padEnd(12)}${`${fmt(imp)} ms`.padStart(16)}${`${fmt(median(flushes))} ms`.padStart(16)}` +
        `${`${fmt(Math.max(...flushes))} ms`.padStart(14)}${`${fmt(median(audits))} ms`.padStart(15)}` +
        `${`${fmt(q30)} ms`.padStart(16)}${`${fmt(q7)} ms`.padStart(15)}`,
    );
    await s.close();
  }

  const dbs: [string, () => Promise<SqlDb>][] = [['SQLite', async () => openSqliteDb(join(dir, 'actions.sqlite'))]];
  if (pg) {
    const server = pg;
    dbs.push(['PostgreSQL', async () => openPgDb({ url: await server.createDatabase('bench_actions'), logger })]);
  }
  console.log(
    `\nactions database: ${nCampaigns} outbound incidents of ${nBots} customer hosts each` +
      `\n${'engine'.padEnd(12)}${'record'.padStart(12)}${'again'.padStart(12)}${'status change'.padStart(15)}` +
      `${`list ${nCampaigns * nBots}`.padStart(14)}`,
  );
  for (const [name, open] of dbs) {
    const db = await open();
    const list = new RemediationList(db);
    const watch = new RemediationWatch({ list, watchMs: 14 * DAY });
    const campaigns = Array.from({ length: nCampaigns }, (_, c) => {
      const inc = makeIncident(`bots-${c}`);
      return {
        ...inc,
        sources: {
          ...inc.sources,
          distinct: nBots,
          top: Array.from({ length: nBots }, (_, b) => ({
            ip: `100.${64 + (c >> 8)}.${c & 255}.${b + 1}`,
            asn: 64500,
            customer: `Customer ${c % 20}`,
            packets: 1000 + b,
            bytes: 64_000 + b,
          })),
        },
      };
    });
    const record: number[] = [];
    for (const inc of campaigns) record.push(await time(() => watch.recordIncident(inc)));
    const again: number[] = [];
    for (const inc of campaigns) again.push(await time(() => watch.recordIncident(inc)));
    const ids = (await list.list({ limit: 100_000 })).map((e) => e.id);
    const status: number[] = [];
    for (let k = 0; k < Math.min(nAudits, ids.length); k++)
      status.push(await time(() => list.setStatus(ids[k]!, 'notified', 'ops', `ticket ${k}`)));
    const read = await time(async () => watch.decorate(await list.list({ limit: 100_000 })));
    console.log(
      `${name.padEnd(12)}${`${fmt(median(record))} ms`.padStart(12)}${`${fmt(median(again))} ms`.padStart(12)}` +
        `${`${fmt(median(status))} ms`.padStart(15)}${`${fmt(read)} ms`.padStart(14)}`,
    );
    await db.close();
  }
} finally {
  await pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
}
