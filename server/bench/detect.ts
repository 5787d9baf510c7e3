/**
 * pnpm bench:detect — detector throughput, memory, and detection latency.
 *
 * 1. Throughput, realistic mix: one full cycle of the mixed scenario (every attack kind and
 *    benign look-alike over background traffic), converted to enriched FlowBatches up front;
 *    timed: createDetectors().process() over every batch, and process + the 1 Hz tick.
 * 2. Throughput, worst case: 10 million distinct (spoofed) sources flooding 64 customer hosts —
 *    every record a new source, every source list full and evicting.
 * 3. Memory: detector state (fixed tables + bounded source lists) and process RSS/heap.
 * 4. Latency: a full startServer() (collectors, enrich, detectors, incidents, SQLite store,
 *    socket.io /live), a simulated router sending NetFlow v9 every second over loopback, a
 *    socket.io client. Each trial starts a fan-in DDoS on a fresh customer host at a random
 *    phase; latency = first attack datagram sent → `incident:upsert` for it on the socket.
 *
 * 5. For context (when the Debian package is installed): FastNetMon and Downstream fed the
 *    same NetFlow for 25 s with every labelled attack and look-alike at once; which of them each
 *    one flags. FastNetMon runs with the package's default thresholds (per host: 20 kpps,
 *    1000 Mbit/s).
 *
 * Options (env BENCH_X or --x=value): trials=20 cycles=2 (passes over the mixed cycle)
 * fastnetmon=1 (0 skips part 5).
 *
 * `--matrix` runs the detection-quality matrix instead (detect-matrix.ts).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { io } from 'socket.io-client';
import { parseConfig } from '../src/config/config.js';
import { createDetectors } from '../src/detect/index.js';
import { batchFromSimFlows, createEnrichedBatch, ip, setRecord, stubEnricher } from '../src/detect/synthetic.js';
import type { EnrichedBatch } from '../src/enrich/enriched-batch.js';
import { createEnricher } from '../src/enrich/index.js';
import { findFastNetMon, freeUdpPort, startFastNetMon } from '../src/feeds/fastnetmon-runner.js';
import { startServer } from '../src/main/server.js';
import {
  allowedMail,
  amplification,
  background,
  backupJob,
  cdnFill,
  compose,
  demoNetworkConfig,
  fanIn,
  flashCrowd,
  mixedScenario,
  participation,
  quicStreaming,
  scanner,
  spamBots,
  volumetric,
} from '../src/sim/scenarios/index.js';
import type { SimFlow } from '../src/sim/sim-flow.js';
import { UdpExporter } from '../src/sim/udp-exporter.js';
import { opt } from './bench-options.js';
import { matrix } from './detect-matrix.js';

const MiB = 1024 * 1024;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
const nowMs = () => performance.timeOrigin + performance.now();

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// ------------------------------------------------------------------- 1. realistic mix
function mixThroughput(cycles: number) {
  const config = parseConfig({ network: demoNetworkConfig });
  const enricher = createEnricher(config.network);
  const scenario = mixedScenario(1);
  const batches: EnrichedBatch[] = [];
  let records = 0;
  for (let s = 0; s < scenario.durationSeconds; s++) {
    const b = enricher.enrich(batchFromSimFlows(scenario.flows(s, 1_700_000_000_000 + s * 1000)));
    batches.push(b);
    records += b.length;
  }
  let best = { process: 0, tickMs: 0, events: 0, memory: 0 };
  for (let c = 0; c < cycles; c++) {
    const d = createDetectors(config, enricher);
    let tProcess = 0;
    let tTick = 0;
    let events = 0;
    batches.forEach((b, s) => {
      const t0 = performance.now();
      d.process(b);
      const t1 = performance.now();
      events += d.tick(1_700_000_000_000 + s * 1000).length;
      tTick += performance.now() - t1;
      tProcess += t1 - t0;
    });
    const rate = records / (tProcess / 1000);
    // Best pass: the machine is shared, the slowest pass measures the neighbours.
    if (rate > best.process) best = { process: rate, tickMs: tTick / batches.length, events, memory: d.memoryBytes() };
  }
  return { records, seconds: batches.length, ...best };
}

// ------------------------------------------------------------------- 2. worst case
function floodThroughput() {
  const config = parseConfig({ network: { customers: [{ name: 'A', prefixes: ['198.51.100.0/24'] }] } });
  const d = createDetectors(config, stubEnricher(['A']));
  const N = 100_000;
  const b = createEnrichedBatch(N);
  b.length = N;
  const dst0 = ip('198.51.100.0');
  let src = ip('11.0.0.0');
  for (let i = 0; i < N; i++) setRecord(b, i, { src, dst: dst0, packets: 1, bytes: 60, dstCustomer: 0 });
  let t = 0;
  let tTick = 0;
  let ticks = 0;
  let events = 0;
  for (let k = 0; k < 100; k++) {
    for (let i = 0; i < N; i++) {
      b.src[i * 4 + 3] = src++;
      b.dst[i * 4 + 3] = dst0 + (i % 64);
    }
    const t0 = performance.now();
    d.process(b);
    t += performance.now() - t0;
    // One tick per 1 M records: a flood of 1 M records/s.
    if (k % 10 === 9) {
      const t1 = performance.now();
      events += d.tick(1_700_000_000_000 + k * 100).length;
      tTick += performance.now() - t1;
      ticks++;
    }
  }
  return { records: 100 * N, rate: (100 * N) / (t / 1000), tickMs: tTick / ticks, memory: d.memoryBytes(), events };
}

// ------------------------------------------------------------------- 4. latency
async function latency(trials: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ds-bench-detect-'));
  const config = parseConfig({
    http: { host: '127.0.0.1', port: 0 },
    collectors: { netflow: { host: '127.0.0.1', port: 0 } },
    network: demoNetworkConfig,
    storage: { path: dir },
    log: { level: 'warn' },
  });
  const server = await startServer({ config, logger: pino({ level: 'warn' }), version: 'bench' });
  const exporter = new UdpExporter({
    host: '127.0.0.1',
    port: server.ctx.collectors.ports.netflow!,
    protocol: 'netflow-v9',
  });
  const socket = io(`${server.url}/live`, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const seen = new Map<string, number>();
  socket.on('incident:upsert', (m: { incident: { kind: string; target?: { ip: string } } }) => {
    if (m.incident.kind === 'ddos-fan-in' && m.incident.target && !seen.has(m.incident.target.ip))
      seen.set(m.incident.target.ip, nowMs());
  });

  // The router: background traffic every second, like an exporter's active timeout.
  const bg = background(3);
  let sec = 0;
  const bgTimer = setInterval(() => {
    const out: SimFlow[] = [];
    bg.emit(sec++, Date.now(), out);
    void exporter.send(out, Date.now());
  }, 1000);

  const lat: number[] = [];
  try {
    for (let k = 0; k < trials; k++) {
      const target = `198.51.100.${150 + k}`;
      const attack = fanIn(100 + k, 0, Infinity, { target, sources: 3000 });
      // A random phase against the server's 1 s tick and the background sends.
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      let s = 0;
      const send = async () => {
        const out: SimFlow[] = [];
        attack.emit(s++, Date.now(), out);
        await exporter.send(out, Date.now());
      };
      const t0 = nowMs();
      await send();
      const timer = setInterval(() => void send(), 1000);
      const deadline = Date.now() + 10_000;
      while (!seen.has(target) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      clearInterval(timer);
      if (!seen.has(target)) throw new Error(`trial ${k}: no incident:upsert for ${target} within 10 s`);
      lat.push(seen.get(target)! - t0);
      process.stdout.write('.');
    }
    process.stdout.write('\n');
  } finally {
    clearInterval(bgTimer);
    socket.disconnect();
    await exporter.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return lat;
}

// ------------------------------------------------------------------- 5. FastNetMon
async function compareFastNetMon(seconds: number) {
  const bin = findFastNetMon();
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ds-bench-fnm-'));
  const bans = join(dir, 'bans.txt');
  const notify = join(dir, 'notify.sh');
  writeFileSync(notify, `#!/bin/sh\necho "$1 $2 $3 $4" >> ${bans}\ncat > /dev/null\n`);
  chmodSync(notify, 0o755);
  const port = await freeUdpPort();
  // Package defaults: per host 20 kpps or 1000 Mbit/s.
  const fnm = startFastNetMon({
    bin,
    dir,
    networks: demoNetworkConfig.customers.flatMap((c) => c.prefixes).filter((p) => !p.includes(':')),
    netflowPort: port,
    notifyScript: notify,
    thresholds: { pps: 20_000, mbps: 1000, flows: 3500 },
    banForBandwidth: true,
    banTimeSeconds: 600,
  });
  const config = parseConfig({
    http: { host: '127.0.0.1', port: 0 },
    collectors: { netflow: { host: '127.0.0.1', port: 0 } },
    network: demoNetworkConfig,
    storage: { path: join(dir, 'data') },
    log: { level: 'warn' },
  });
  const server = await startServer({ config, logger: pino({ level: 'warn' }), version: 'bench' });
  const toUs = new UdpExporter({
    host: '127.0.0.1',
    port: server.ctx.collectors.ports.netflow!,
    protocol: 'netflow-v9',
  });
  const toFnm = new UdpExporter({ host: '127.0.0.1', port, protocol: 'netflow-v5' });
  // Every labelled attack and look-alike at once, each on its own hosts; volumetric gets its baseline first.
  const end = seconds + 20;
  const scenario = compose('all-at-once', '', end, [
    background(9),
    ...volumetric(9, 20, end),
    fanIn(9, 20, end),
    amplification(9, 20, end),
    spamBots(9, 20, end),
    scanner(9, 20, end),
    participation(9, 20, end),
    flashCrowd(9, 20, end),
    allowedMail(9, 20, end),
    backupJob(9, 20, end),
    cdnFill(9, 20, end),
    quicStreaming(9, 20, end),
  ]);
  await new Promise((r) => setTimeout(r, 1500)); // FastNetMon start-up
  try {
    for (let s = 0; s < end; s++) {
      const t = Date.now();
      const flows = scenario.flows(s, t);
      await Promise.all([toUs.send(flows, t), toFnm.send(flows, t)]);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - t))));
    }
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    await fnm.stop();
    await toUs.close();
    await toFnm.close();
  }
  const banned = existsSync(bans)
    ? readFileSync(bans, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
    : [];
  const bannedIps = new Set(banned.filter((b) => b[3] === 'ban').map((b) => b[0]));
  const incidents = await server.ctx.incidents.list({ limit: 100 });
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  const rows = scenario.labels.map((l) => {
    const hosts = new Set([
      ...(l.target ? [l.target] : []),
      ...(l.kind && l.direction === 'outbound' ? l.sources : []),
      ...(l.involved ?? []),
    ]);
    const fnmHit = [...hosts].filter((h) => bannedIps.has(h));
    const ours = incidents.filter(
      (i) => hosts.has(i.target?.ip ?? '') || i.sources.top.some((s) => l.direction === 'outbound' && hosts.has(s.ip)),
    );
    return {
      label: `${l.kind ?? 'benign'}: ${l.name}`,
      fastnetmon:
        fnmHit.length === 0
          ? '—'
          : l.direction === 'outbound' && l.sources.length > 1
            ? `${fnmHit.length}/${l.sources.length} hosts`
            : 'banned',
      downstream: ours.length === 0 ? '—' : ours.map((i) => i.kind).join(', '),
    };
  });
  return rows;
}

async function main() {
  if (process.argv.includes('--matrix')) {
    await matrix();
    return;
  }
  const trials = opt('trials', 20);
  const cycles = opt('cycles', 2);
  console.log(`node ${process.version}, ${process.arch}`);

  // What one second of wall time allows: process() for R records plus one tick ≤ 1000 ms.
  const sustained = (rate: number, tickMs: number) => Math.max(0, ((1000 - tickMs) / 1000) * rate);

  const mix = mixThroughput(cycles);
  console.log('\n# detector throughput — realistic mix (mixed scenario, one cycle, best of ' + cycles + ' passes)');
  console.log(`records ${fmt(mix.records)} over ${mix.seconds} simulated s, ${fmt(mix.events)} detection events`);
  console.log(`process():      ${fmt(mix.process)} records/s   (target ≥ 1,000,000)`);
  console.log(`tick():         ${mix.tickMs.toFixed(2)} ms per tick (once a second)`);
  console.log(`sustained:      ${fmt(sustained(mix.process, mix.tickMs))} records/s with one tick a second`);
  console.log(`detector state: ${mib(mix.memory)}`);

  const flood = floodThroughput();
  console.log(
    '\n# detector throughput — worst case (10 M distinct spoofed sources → 64 hosts, 1 tick per 1 M records)',
  );
  console.log(
    `process():      ${fmt(flood.rate)} records/s over ${fmt(flood.records)} records, ${fmt(flood.events)} events`,
  );
  console.log(`tick():         ${flood.tickMs.toFixed(1)} ms per tick (32 attacks listing up to 10,000 sources each)`);
  console.log(`sustained:      ${fmt(sustained(flood.rate, flood.tickMs))} records/s with one tick a second`);
  console.log(
    `detector state: ${mib(flood.memory)} (fixed tables + 32 full source lists; the same at 1 M or 10 M sources)`,
  );

  const mu = process.memoryUsage();
  console.log('\n# memory (this process, after both runs)');
  console.log(`rss ${mib(mu.rss)}, heap used ${mib(mu.heapUsed)}, array buffers ${mib(mu.arrayBuffers)}`);

  console.log(`\n# detection latency — first attack datagram → incident:upsert on socket.io (${trials} trials)`);
  const lat = await latency(trials);
  console.log(
    `p50 ${fmt(percentile(lat, 50))} ms, p99 ${fmt(percentile(lat, 99))} ms, min ${fmt(Math.min(...lat))} ms, max ${fmt(Math.max(...lat))} ms   (target p99 < 2000 ms)`,
  );
  console.log('(server ticks detectors once a second; collectors flush every 100 ms; exporter sends every second)');

  if (opt('fastnetmon', 1)) {
    const rows = await compareFastNetMon(25);
    if (!rows) console.log('\n# FastNetMon comparison skipped: Debian package fastnetmon not installed');
    else {
      console.log(
        '\n# for context: FastNetMon (package defaults: per host 20 kpps / 1000 Mbit/s) vs Downstream, same NetFlow, 25 s',
      );
      const w = Math.max(...rows.map((r) => r.label.length));
      console.log(`${'scenario'.padEnd(w)}  ${'FastNetMon'.padEnd(14)}  Downstream`);
      for (const r of rows) console.log(`${r.label.padEnd(w)}  ${r.fastnetmon.padEnd(14)}  ${r.downstream}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
