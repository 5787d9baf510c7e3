/**
 * `pnpm bench:ingest --e2e`: the built server (`server/dist/cli.js serve`) as its own process,
 * an external sender process (netflow-sender.ts) on the same box sending NetFlow v9 at each
 * rate for --seconds, and the same sender against nfdump's nfcapd. Per run: share of the sent
 * records counted in /api/health (decoded) and in downstream_pipeline_flows_total (through the
 * detectors), CPU of the main thread and of every other thread busier than 1 % (workers named
 * from downstream_thread_cpu_seconds_total), nfcapd's share and CPU, and `drops`: datagrams the
 * kernel dropped on full receive buffers (/proc/net/snmp RcvbufErrors, whole box) / sends that
 * failed; for the threaded server also datagrams its receive thread dropped (an ingest worker
 * behind) and records shed before a shard that was behind. Not a test: figures only.
 *
 * `pnpm bench:ingest --peers`: the same, with FastNetMon (Debian `fastnetmon`) as a third
 * collector on the same sender, so one table holds Downstream and both peers.
 *
 * Options: --rates=1000000,2000000 --seconds=5 --exporters=4 --decode-workers=N
 * --detect-shards=N --receiver-nice=N (written to the config's `pipeline:` when given) --no-nfcapd --no-fastnetmon
 * --baseline=PATH/server/dist/cli.js (another build, e.g. the previous commit's, in the same run)
 * --profile=DIR (V8 CPU profiles of every server thread, written when it stops).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { findFastNetMon, startFastNetMon } from '../src/feeds/fastnetmon-runner.js';
import { demoNetworkConfig } from '../src/sim/scenarios/network.js';
import { opt } from './bench-options.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECONDS = opt('seconds', 5);
const EXPORTERS = opt('exporters', 4);
const rateArg = process.argv.find((a) => a.startsWith('--rates='))?.split('=')[1] ?? '1000000,2000000';
const RATES = rateArg.split(',').map(Number);
if (RATES.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error(`bad --rates: ${rateArg}`);
const decodeWorkers = process.argv.some((a) => a.startsWith('--decode-workers='))
  ? opt('decode-workers', 1)
  : undefined;
// may be negative (opt() takes counts only)
const receiverNiceArg = process.argv.find((a) => a.startsWith('--receiver-nice='))?.split('=')[1];
const receiverNice = receiverNiceArg === undefined ? undefined : Number(receiverNiceArg);
if (receiverNice !== undefined && !(Number.isInteger(receiverNice) && receiverNice >= -20 && receiverNice <= 19)) {
  throw new Error(`bad --receiver-nice: ${receiverNiceArg} (an integer, -20..19)`);
}
const detectShards = process.argv.some((a) => a.startsWith('--detect-shards=')) ? opt('detect-shards', 1) : undefined;
const CLK_TCK = 100;
/** --profile=DIR: V8 CPU profiles of the server's threads (one .cpuprofile per thread) into DIR. */
const profileDir = process.argv.find((a) => a.startsWith('--profile='))?.split('=')[1];
const profileArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) of every thread of `pid`, by thread id. */
function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / CLK_TCK);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

/** The kernel's count of UDP datagrams dropped on full receive buffers (all sockets of the box). */
function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

/** Threads of a peer busier than 1 % of a core over the window, by their kernel name (comm). */
function busyThreads(pid: number, threads: Map<number, number>, wall: number): string {
  const named = new Map<string, number>();
  for (const [tid, c] of threads) {
    if (c / wall <= 0.01) continue;
    let name = `tid ${tid}`;
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      // the thread ended: keep its id
    }
    named.set(name, (named.get(name) ?? 0) + c);
  }
  return [...named.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([n, c]) => `${n} ${fmt((c / wall) * 100)}%`)
    .join(', ');
}

function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

interface SenderResult {
  records: number;
  datagrams: number;
  /** sends that failed (ENOBUFS…): not offered to the collector */
  errors: number;
  seconds: number;
  cpuMs: number;
}

async function send(port: number, rate: number, onStart: () => void): Promise<SenderResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'server/bench/netflow-sender.ts'), ...[port, rate, SECONDS, EXPORTERS].map(String)],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  let started = false;
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (!started && out.includes('start\n')) {
      started = true;
      onStart();
    }
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`sender exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as SenderResult;
}

/** CPU of `pid` over the sender's send window (it builds its pool before its clock starts). */
async function windowed<T>(
  pid: number,
  run: (onStart: () => void) => Promise<T>,
): Promise<{ result: T; threads: Map<number, number>; total: number; wall: number; kernelDrops: number }> {
  let k0 = udpRcvbufErrors();
  let t0 = threadCpu(pid);
  let p0 = processCpu(pid);
  let w0 = performance.now();
  const result = await run(() => {
    k0 = udpRcvbufErrors();
    t0 = threadCpu(pid);
    p0 = processCpu(pid);
    w0 = performance.now();
  });
  const wall = (performance.now() - w0) / 1000;
  const kernelDrops = udpRcvbufErrors() - k0;
  const t1 = threadCpu(pid);
  const threads = new Map<number, number>();
  for (const [tid, c] of t1) threads.set(tid, c - (t0.get(tid) ?? 0));
  return { result, threads, total: processCpu(pid) - p0, wall, kernelDrops };
}

interface Running {
  child: ChildProcess;
  url: string;
  port: number;
}

/** Another build's cli.js to measure beside this one (e.g. a checkout of the previous commit). */
const BASELINE = process.argv.find((a) => a.startsWith('--baseline='))?.split('=')[1];

async function startDownstream(dir: string, cli: string, baseline: boolean): Promise<Running> {
  // The demo site (customers, links), so the detectors see inbound and outbound traffic as the
  // sender's mixed scenario means it; without a network every flow is transit and skipped.
  const config: Record<string, unknown> = {
    http: { host: '127.0.0.1', port: 0 },
    collectors: { netflow: { host: '127.0.0.1', port: 0 } },
    storage: { path: join(dir, 'data') },
    log: { level: 'warn' },
    // a baseline build may predate newer network keys: give it the keys every build knows
    network: baseline
      ? {
          ...demoNetworkConfig,
          customers: demoNetworkConfig.customers.map((c) => ({ name: c.name, prefixes: c.prefixes })),
        }
      : demoNetworkConfig,
  };
  const pipeline: Record<string, number> = {};
  if (decodeWorkers !== undefined) pipeline.decodeWorkers = decodeWorkers;
  if (receiverNice !== undefined) pipeline.receiverNice = receiverNice;
  if (detectShards !== undefined) pipeline.detectShards = detectShards;
  // the baseline build may predate the `pipeline:` key (strict config)
  if (!baseline && Object.keys(pipeline).length > 0) config.pipeline = pipeline;
  writeFileSync(join(dir, 'config.yaml'), stringify(config));
  const child = spawn(
    process.execPath,
    [...profileArgs, cli, 'serve', '--config', join(dir, 'config.yaml'), '--web-root', join(dir, 'none')],
    { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  return await new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /listening on (\S+)/.exec(out)?.[1];
      const ports = /collectors: (\{.*\})/.exec(out)?.[1];
      if (url && ports) {
        clearTimeout(timer);
        resolve({ child, url, port: (JSON.parse(ports) as { netflow: number }).netflow });
      }
    });
  });
}

async function counters(
  url: string,
): Promise<{ decoded: number; processed: number; shed: number; dispatchDropped: number; names: Map<number, string> }> {
  const health = (await (await fetch(`${url}/api/health`)).json()) as { exporters: { records: number }[] };
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const processed = Number(/^downstream_pipeline_flows_total (\S+)$/m.exec(metrics)?.[1] ?? NaN);
  const shed = Number(/^downstream_pipeline_shed_records_total (\S+)$/m.exec(metrics)?.[1] ?? 0);
  const dispatchDropped = Number(/^downstream_ingest_dispatch_dropped_total (\S+)$/m.exec(metrics)?.[1] ?? 0);
  const names = new Map<number, string>();
  for (const m of metrics.matchAll(/^downstream_thread_cpu_seconds_total\{([^}]*)\}/gm)) {
    const thread = /thread="([^"]*)"/.exec(m[1])?.[1];
    const tid = /tid="(\d+)"/.exec(m[1])?.[1];
    if (thread && tid) names.set(Number(tid), thread);
  }
  return { decoded: health.exporters.reduce((a, e) => a + e.records, 0), processed, shed, dispatchDropped, names };
}

interface Row {
  who: string;
  rate: number;
  sent: number;
  counted: number;
  processed?: number;
  cpu: string;
  senderCpu: number;
  /** datagrams the kernel dropped on a full receive buffer, and sends that failed */
  drops: string;
  /** records decoded but shed before the detectors (a shard too far behind) */
  shed?: number;
  /** datagrams the receive thread dropped (an ingest worker held all its chunks) */
  dispatchDropped?: number;
}

async function benchDownstream(rate: number, cli = join(root, 'server/dist/cli.js'), who = 'downstream'): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'ds-bench-e2e-'));
  const s = await startDownstream(dir, cli, who === 'baseline');
  try {
    await sleep(1500); // ASN data set loaded, workers warm
    const before = await counters(s.url);
    const pid = s.child.pid!;
    const w = await windowed(pid, (onStart) => send(s.port, rate, onStart));
    await sleep(3000); // collectors flush every 100 ms; shards drain their queues and answer a tick (1 s)
    const after = await counters(s.url);
    const sent = w.result.records;
    const busy = [...w.threads.entries()]
      .filter(([tid, c]) => tid === pid || c / w.wall > 0.01)
      .sort((a, b) => b[1] - a[1])
      .map(
        ([tid, c]) => `${tid === pid ? 'main' : (after.names.get(tid) ?? `tid ${tid}`)} ${fmt((c / w.wall) * 100)}%`,
      );
    return {
      who,
      rate,
      sent,
      counted: (after.decoded - before.decoded) / sent,
      processed: Number.isNaN(after.processed) ? undefined : (after.processed - before.processed) / sent,
      cpu: `process ${fmt((w.total / w.wall) * 100)}%: ${busy.join(', ')}`,
      senderCpu: w.result.cpuMs / 1000 / w.result.seconds,
      drops: `${fmt(w.kernelDrops)}/${fmt(w.result.errors)}`,
      shed: after.shed - before.shed,
      dispatchDropped: after.dispatchDropped - before.dispatchDropped,
    };
  } finally {
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchNfcapd(rate: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'ds-bench-nfcapd-'));
  const port = await freeUdpPort();
  const child = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-t', '3600', '-B', '33554432'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await sleep(500);
    if (child.exitCode !== null) throw new Error(`nfcapd exited: ${err}`);
    const w = await windowed(child.pid!, (onStart) => send(port, rate, onStart));
    await sleep(500);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    // nfcapd's own statistics record: "Flows: N"
    const summary = execFileSync('nfdump', ['-R', dir, '-I'], { encoding: 'utf8' });
    const flows = Number(/^Flows:\s+(\d+)/m.exec(summary)?.[1] ?? NaN);
    return {
      who: 'nfcapd',
      rate,
      sent: w.result.records,
      counted: flows / w.result.records,
      cpu: `process ${fmt((w.total / w.wall) * 100)}%`,
      senderCpu: w.result.cpuMs / 1000 / w.result.seconds,
      drops: `${fmt(w.kernelDrops)}/${fmt(w.result.errors)}`,
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * FastNetMon's count: `fastnetmon_netflow_v9_total_flows` on its Prometheus endpoint (1.2.4
 * serves its system counters there; `fastnetmon_client` shows only per-host speeds and the
 * stats file averages, neither a total we can difference).
 */
async function fastNetMonFlows(port: number): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const v = /^fastnetmon_netflow_v9_total_flows (\S+)$/m.exec(metrics)?.[1];
  if (v === undefined)
    throw new Error(`FastNetMon's /metrics has no fastnetmon_netflow_v9_total_flows:\n${metrics.slice(0, 500)}`);
  return Number(v);
}

async function benchFastNetMon(bin: string, rate: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'ds-bench-fnm-'));
  const port = await freeUdpPort();
  // TCP, but a port free for UDP on loopback is almost surely free for TCP too
  const promPort = await freeUdpPort();
  // The shared runner writes the configuration (the feed tests and bench:detect use it, with
  // Prometheus off); this wrapper turns its Prometheus endpoint on, then execs FastNetMon, so
  // the child's pid is FastNetMon's own and the runner's stop() still applies.
  const wrapper = join(dir, 'fastnetmon-with-prometheus.sh');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nsed -i 's/^prometheus = off$/prometheus = on\\nprometheus_host = 127.0.0.1\\nprometheus_port = ${promPort}/' "$2"\nexec ${bin} "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  let log = '';
  const fnm = startFastNetMon({
    bin: wrapper,
    dir,
    networks: demoNetworkConfig.customers.flatMap((c) => c.prefixes).filter((p) => !p.includes(':')),
    netflowPort: port,
    notifyScript: '/bin/true',
    // the package's defaults, so it does the per-host work it does in production
    thresholds: { pps: 20_000, mbps: 1000, flows: 3500 },
    banForBandwidth: true,
    banTimeSeconds: 600,
    onOutput: (c) => (log = (log + c).slice(-4000)),
  });
  try {
    let before = NaN;
    for (let i = 0; i < 50 && Number.isNaN(before); i++) {
      await sleep(200);
      if (fnm.process.exitCode !== null) throw new Error(`FastNetMon exited: ${log}`);
      before = await fastNetMonFlows(promPort).catch(() => NaN);
    }
    if (Number.isNaN(before)) throw new Error(`FastNetMon's Prometheus endpoint did not answer: ${log}`);
    const pid = fnm.process.pid!;
    const w = await windowed(pid, (onStart) => send(port, rate, onStart));
    await sleep(1000);
    const after = await fastNetMonFlows(promPort);
    const busy = busyThreads(pid, w.threads, w.wall);
    return {
      who: 'fastnetmon',
      rate,
      sent: w.result.records,
      counted: (after - before) / w.result.records,
      cpu: `process ${fmt((w.total / w.wall) * 100)}%${busy ? `: ${busy}` : ''}`,
      senderCpu: w.result.cpuMs / 1000 / w.result.seconds,
      drops: `${fmt(w.kernelDrops)}/${fmt(w.result.errors)}`,
    };
  } finally {
    await fnm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchEndToEndProcesses(): Promise<void> {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-b', join(root, 'server')], { stdio: 'inherit' });
  const withNfcapd = !process.argv.includes('--no-nfcapd');
  const nfcapd = withNfcapd && existsSync('/usr/bin/nfcapd');
  const withFastNetMon = process.argv.includes('--peers') && !process.argv.includes('--no-fastnetmon');
  const fastnetmon = withFastNetMon ? findFastNetMon() : undefined;
  console.log(
    `\n== end to end: external sender process → server/dist/cli.js serve (NetFlow v9, ${EXPORTERS} exporters, ${SECONDS}s per rate; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}) ==`,
  );
  if (withNfcapd && !nfcapd) console.log('(no /usr/bin/nfcapd: apt-get install nfdump for the comparison)');
  if (withFastNetMon && !fastnetmon)
    console.log('(no working /usr/sbin/fastnetmon: apt-get install fastnetmon for the comparison)');
  const rows: Row[] = [];
  for (const rate of RATES) {
    rows.push(await benchDownstream(rate));
    if (BASELINE) rows.push(await benchDownstream(rate, BASELINE, 'baseline'));
    if (nfcapd) rows.push(await benchNfcapd(rate));
    if (fastnetmon) rows.push(await benchFastNetMon(fastnetmon, rate));
  }
  console.log(
    `${'collector'.padEnd(11)} ${'offered rec/s'.padStart(13)} ${'sent'.padStart(11)} ${'counted'.padStart(9)} ${'detected'.padStart(9)} ${'sender'.padStart(7)} ${'drops'.padStart(11)}  CPU per thread (share of one core)`,
  );
  for (const r of rows)
    console.log(
      `${r.who.padEnd(11)} ${fmt(r.rate).padStart(13)} ${fmt(r.sent).padStart(11)} ${pct(r.counted).padStart(9)} ${(r.processed === undefined ? '-' : pct(r.processed)).padStart(9)} ${`${fmt(r.senderCpu * 100)}%`.padStart(7)} ${r.drops.padStart(11)}  ${r.cpu}${r.dispatchDropped ? `; receiver dropped ${fmt(r.dispatchDropped)} datagrams` : ''}${r.shed ? `; shed ${fmt(r.shed)} records` : ''}`,
    );
}
