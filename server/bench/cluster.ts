/**
 * `pnpm bench:cluster`: records/s through inlet → NATS JetStream → N detect processes, for
 * N = 1..4 (--detects=1,2,3,4), all on this box: one nats-server (Debian, -js), one inlet
 * (`serve --role inlet`, the built server/dist/cli.js), N detect processes sharing one SQLite
 * store, and the external NetFlow v9 sender of bench:ingest (netflow-sender.ts, the mixed
 * scenario) at --rate records/s for --seconds. Per N: the share of sent records the inlet
 * decoded; the record copies it made (a flow whose two keys are on different partitions is two)
 * and how many the stream acknowledged (the rest dropped past bus.buffer_bytes); the share of
 * copies the detect processes ran (after a drain of up to --drain seconds); records/s through
 * detection; CPU (user + system from /proc) per decoded record for the inlet, per consumed
 * copy for all detect processes together, per published copy for nats-server. Figures only.
 *
 * Options: --rate=200000 --seconds=8 --drain=10 --partitions=16 --exporters=4 --detects=1,2,3,4
 * --memory (the stream in memory rather than on disk: bus.storage)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { demoNetworkConfig } from '../src/sim/scenarios/network.js';
import { startNatsServer } from '../src/testing/nats-server.js';
import { opt } from './bench-options.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RATE = opt('rate', 200_000);
const SECONDS = opt('seconds', 8);
const DRAIN = opt('drain', 10);
const PARTITIONS = opt('partitions', 16);
const EXPORTERS = opt('exporters', 4);
const detectsArg = process.argv.find((a) => a.startsWith('--detects='))?.split('=')[1] ?? '1,2,3,4';
const STORAGE = process.argv.includes('--memory') ? 'memory' : 'file';
const DETECTS = detectsArg.split(',').map(Number);
if (DETECTS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`bad --detects: ${detectsArg}`);
const cliJs = join(root, 'server/dist/cli.js');
if (!existsSync(cliJs))
  throw new Error('bench:cluster runs the built server: run `pnpm build` (or tsc -b server) first');

const CLK_TCK = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** CPU seconds (user + system, every thread) of a process. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

interface Proc {
  child: ChildProcess;
  url: string;
  lines: string[];
}

function startRole(role: string, config: string): Promise<Proc> {
  const child = spawn(process.execPath, [cliJs, 'serve', '--config', config, '--role', role], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let err = '';
  const logTo = process.env.BENCH_LOGS ? join(process.env.BENCH_LOGS, `${role}-${child.pid}.log`) : undefined;
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
    if (logTo) appendFileSync(logTo, d);
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} exited ${code}: ${err}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(l);
      const m = /listening on (\S+)/.exec(l);
      if (m) setTimeout(() => resolve({ child, url: m[1]!, lines }), 100);
    });
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

type BusState = { owned: number[]; records: number };
const busState = async (p: Proc): Promise<BusState> => (await fetch(`${p.url}/api/bus`)).json() as Promise<BusState>;

async function inletRecords(p: Proc): Promise<number> {
  const h = (await (await fetch(`${p.url}/api/health`)).json()) as { exporters: { records: number }[] };
  return h.exporters.reduce((a, e) => a + e.records, 0);
}

/** Resolves `started` when the sender's clock starts (after it has built its pool), `done` with its count. */
function runSender(port: number): { started: Promise<number>; done: Promise<{ records: number }> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'server/bench/netflow-sender.ts'), ...[port, RATE, SECONDS, EXPORTERS].map(String)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let onStart!: (t: number) => void;
  const started = new Promise<number>((r) => (onStart = r));
  const done = new Promise<{ records: number }>((resolve, reject) => {
    let begun = false;
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l === 'start') {
        begun = true;
        onStart(performance.now());
      } else if (begun) resolve(JSON.parse(l) as { records: number });
    });
    child.once('exit', (code) => code !== 0 && reject(new Error(`sender exited ${code}`)));
  });
  return { started, done };
}

interface Row {
  detects: number;
  sent: number;
  decoded: number;
  published: number;
  consumed: number;
  dropped: number;
  retries: number;
  seconds: number;
  inletUs: number;
  detectUs: number;
  natsUs: number;
}

async function runOnce(natsUrl: string, natsPid: number, n: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'ds-bench-cluster-'));
  const procs: Proc[] = [];
  try {
    const base = {
      http: { host: '127.0.0.1', port: 0 },
      network: demoNetworkConfig,
      storage: { path: join(dir, 'data') },
      bus: {
        nats: natsUrl,
        partitions: PARTITIONS,
        stream: `BENCH_${n}`,
        subject: `bench.flows${n}`,
        storage: STORAGE,
      },
      log: { level: process.env.BENCH_LOGS ? 'info' : 'warn' },
    };
    const detectCfg = join(dir, 'detect.yaml');
    writeFileSync(detectCfg, stringify(base));
    const inletCfg = join(dir, 'inlet.yaml');
    writeFileSync(
      inletCfg,
      stringify({ ...base, collectors: { netflow: { host: '127.0.0.1', port: 0 } }, pipeline: { receiverNice: 0 } }),
    );
    // the stream and its consumers first, so no batch goes before a consumer exists
    const inlet = await startRole('inlet', inletCfg);
    procs.push(inlet);
    const detects = await Promise.all(Array.from({ length: n }, () => startRole('detect', detectCfg)));
    procs.push(...detects);
    const settleEnd = Date.now() + 30_000;
    for (;;) {
      const st = await Promise.all(detects.map(busState));
      if (st.every((s) => s.owned.length > 0) && st.reduce((a, s) => a + s.owned.length, 0) === PARTITIONS) break;
      if (Date.now() > settleEnd) throw new Error('detect processes did not split the partitions');
      await sleep(200);
    }
    const port = (JSON.parse(inlet.lines.find((l) => l.startsWith('collectors: '))!.slice(12)) as { netflow: number })
      .netflow;
    const sender = runSender(port);
    const t0 = await sender.started;
    const cpu0 = {
      inlet: cpuOf(inlet.child.pid!),
      detect: detects.map((d) => cpuOf(d.child.pid!)),
      nats: cpuOf(natsPid),
    };
    const sent = await sender.done;
    // drain: until every published copy is consumed, or consumption stops moving
    const drainEnd = Date.now() + DRAIN * 1000;
    let consumed = 0;
    let published = 0;
    let lastMove = performance.now();
    for (;;) {
      await sleep(250);
      published = await metric(inlet.url, 'downstream_bus_published_records_total');
      const c = (await Promise.all(detects.map(busState))).reduce((a, s) => a + s.records, 0);
      if (c !== consumed) lastMove = performance.now();
      consumed = c;
      if ((consumed >= published && published > 0) || Date.now() > drainEnd) break;
    }
    const seconds = (lastMove - t0) / 1000;
    // acks of the last publishes can come after the detectors have the batches
    await sleep(500);
    published = await metric(inlet.url, 'downstream_bus_published_records_total');
    const decoded = await inletRecords(inlet);
    const dropped = await metric(inlet.url, 'downstream_bus_dropped_records_total');
    const retries = await metric(inlet.url, 'downstream_bus_publish_failures_total');
    const inletCpu = cpuOf(inlet.child.pid!) - cpu0.inlet;
    const detectCpu = detects.reduce((a, d, i) => a + cpuOf(d.child.pid!) - cpu0.detect[i]!, 0);
    const natsCpu = cpuOf(natsPid) - cpu0.nats;
    const us = (cpu: number, n: number) => (n > 0 ? (cpu * 1e6) / n : NaN);
    return {
      detects: n,
      sent: sent.records,
      decoded,
      published,
      consumed,
      dropped,
      retries,
      seconds,
      inletUs: us(inletCpu, decoded),
      detectUs: us(detectCpu, consumed),
      natsUs: us(natsCpu, published),
    };
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await sleep(500);
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const nats = await startNatsServer();
  const natsPid = Number(
    readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8')
      .trim()
      .split(' ')
      .find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'nats-server'),
  );
  const rows: Row[] = [];
  try {
    for (const n of DETECTS) {
      process.stderr.write(`detect processes: ${n} …\n`);
      rows.push(await runOnce(nats.url, natsPid, n));
    }
  } finally {
    await nats.dispose();
  }
  const load = loadavg().map((x) => x.toFixed(1));
  console.log(
    `\nbench:cluster — NetFlow v9 at ${fmt(RATE)} records/s for ${SECONDS} s, ${EXPORTERS} exporters, ${PARTITIONS} partitions, 1 inlet, stream on ${STORAGE}; load average ${load.join(' ')}\n`,
  );
  console.log(
    '| detect processes | decoded by the inlet | copies published (dropped) | copies run by the detectors | records/s through detection | inlet µs/record | detect µs/copy (all) | nats-server µs/copy | publish retries |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const made = r.published + r.dropped;
    // a flow whose local and remote keys are on different partitions travels as two copies
    const copiesPerRecord = r.decoded > 0 ? made / r.decoded : 1;
    console.log(
      `| ${r.detects} | ${pct(r.decoded / r.sent)} of ${fmt(r.sent)} | ${pct(r.published / made)} of ${fmt(made)} (${fmt(r.dropped)}) | ${pct(r.consumed / made)} | ${fmt(r.consumed / copiesPerRecord / r.seconds)} | ${r.inletUs.toFixed(2)} | ${r.detectUs.toFixed(2)} | ${r.natsUs.toFixed(2)} | ${fmt(r.retries)} |`,
    );
  }
}

await main();
