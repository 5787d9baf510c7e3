/**
 * pnpm bench:ingest — flow ingest figures (not a test):
 *  1. decode throughput per protocol on one core, looping over the datagrams of real captures
 *     (../shared/data/captures) and over full-size datagrams from our own encoders;
 *  2. end-to-end UDP ingest on loopback: a sender worker thread blasts pre-encoded NetFlow v9
 *     datagrams at a paced rate to the real collector (startCollectors); we count records
 *     decoded vs sent.
 * Options: BENCH_SECONDS (per measurement, default 2), BENCH_E2E_RATES (records/s list).
 * `--e2e`: instead, the built server and nfcapd as separate processes against an external
 * sender process (ingest-e2e.ts); `--peers`: the same with FastNetMon as well.
 */
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FlowDecoder } from '../src/ingest/decoder.js';
import { startCollectors } from '../src/ingest/index.js';
import { readPcapFile } from '../src/ingest/pcap.js';
import { IpfixEncoder } from '../src/sim/encoders/ipfix.js';
import { NetflowV5Encoder } from '../src/sim/encoders/netflow-v5.js';
import { NetflowV9Encoder } from '../src/sim/encoders/netflow-v9.js';
import { SflowV5Encoder } from '../src/sim/encoders/sflow-v5.js';
import type { SimFlow } from '../src/sim/sim-flow.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const captures = fileURLToPath(new URL('../../../shared/data/captures', import.meta.url));

interface Dgram {
  payload: Uint8Array;
  src: string;
}

/** Decode `dgrams` in a loop for SECONDS; returns records/s and datagrams/s. */
function decodeRate(dgrams: Dgram[], warm: Dgram[] = dgrams): { rps: number; dps: number; perDatagramUs: number } {
  const dec = new FlowDecoder({ pendingMs: 0, batchCapacity: 1 << 16 });
  for (const d of warm) dec.decode(d.payload, d.src, Date.now());
  let records = 0;
  let datagrams = 0;
  const end = performance.now() + SECONDS * 1000;
  let t0 = performance.now();
  let warmed = false;
  while (performance.now() < end) {
    for (let k = 0; k < 50; k++) {
      for (const d of dgrams) {
        records += dec.decode(d.payload, d.src, 0);
        datagrams++;
      }
      // hand the batch on as the collector does, but reuse it: we measure decoding, not allocation
      if (dec.batch.length > 60_000) dec.batch.length = 0;
    }
    if (!warmed && performance.now() - t0 > 300) {
      // JIT warm-up excluded
      warmed = true;
      records = 0;
      datagrams = 0;
      t0 = performance.now();
    }
  }
  const s = (performance.now() - t0) / 1000;
  return { rps: records / s, dps: datagrams / s, perDatagramUs: (s * 1e6) / datagrams };
}

function captureDgrams(filter: (name: string) => boolean): Dgram[] {
  if (!existsSync(captures)) return [];
  const out: Dgram[] = [];
  for (const f of readdirSync(captures)
    .filter((n) => n.endsWith('.pcap') && filter(n))
    .sort()) {
    for (const p of readPcapFile(`${captures}/${f}`)) out.push({ payload: p.payload, src: p.src });
  }
  return out;
}

/** Only datagrams that decode records once templates are known (skip template-only ones). */
function dataOnly(dgrams: Dgram[]): Dgram[] {
  const dec = new FlowDecoder({ pendingMs: 0 });
  for (const d of dgrams) dec.decode(d.payload, d.src, 0);
  return dgrams.filter((d) => dec.decode(d.payload, d.src, 0) > 0);
}

function simFlows(n: number, v6share = 0): SimFlow[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    src:
      i < n * v6share ? `2001:db8::${(i % 65535).toString(16)}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    dst: '198.51.100.7',
    srcPort: 1024 + (i % 60000),
    dstPort: 443,
    proto: 6,
    tcpFlags: 0x12,
    packets: 3 + (i % 50),
    bytes: 500 + i,
    startMs: now - 2000,
    endMs: now - 100,
    inIf: 1,
    outIf: 2,
  }));
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

function line(name: string, r: { rps: number; dps: number; perDatagramUs: number }, n: number): void {
  console.log(
    `${name.padEnd(46)} ${fmt(r.rps).padStart(12)} records/s  ${fmt(r.dps).padStart(10)} datagrams/s  ${r.perDatagramUs.toFixed(2).padStart(7)} µs/datagram  (${n} datagrams looped)`,
  );
}

function benchDecode(): void {
  console.log(`\n== decode throughput, one core (${SECONDS}s each) ==`);
  const real: [string, (n: string) => boolean][] = [
    ['NetFlow v5 (real captures)', (n) => n.startsWith('netflow-v5')],
    ['NetFlow v9 (real captures)', (n) => n.startsWith('netflow-v9')],
    ['IPFIX (real captures)', (n) => n.startsWith('ipfix')],
    ['sFlow v5 (real captures)', (n) => n.startsWith('sflow')],
  ];
  if (!existsSync(captures)) console.log(`(no captures at ${captures}: real-capture figures skipped)`);
  for (const [name, filter] of real) {
    const all = captureDgrams(filter);
    const data = dataOnly(all);
    if (data.length > 0) line(name, decodeRate(data, all), data.length);
  }
  const now = Date.now();
  const full = (enc: { encode(f: SimFlow[], n: number): Uint8Array[] }, v6 = 0): Dgram[] =>
    enc.encode(simFlows(3000, v6), now).map((payload) => ({ payload, src: '192.0.2.1' }));
  line(
    'NetFlow v9 (simulator, full 1400-byte, IPv4)',
    decodeRate(full(new NetflowV9Encoder({ templateEvery: 1e9 }))),
    0,
  );
  line(
    'NetFlow v9 (simulator, full, 30% IPv6)',
    decodeRate(full(new NetflowV9Encoder({ templateEvery: 1e9 }), 0.3)),
    0,
  );
  line('IPFIX (simulator, full, IPv4)', decodeRate(full(new IpfixEncoder({ templateEvery: 1e9 }))), 0);
  line('NetFlow v5 (simulator, 30 records)', decodeRate(full(new NetflowV5Encoder())), 0);
  line('sFlow v5 (simulator, raw headers)', decodeRate(full(new SflowV5Encoder({ samplingRate: 1 }))), 0);
}

const SENDER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { port, datagrams, counts, rate, seconds, perDatagram } = workerData;
const sock = dgram.createSocket('udp4');
sock.bind(0, '127.0.0.1', () => {
  // paced in 1 ms slices: send what is due, then yield
  const perMs = rate / perDatagram / 1000;
  const t0 = performance.now();
  let sent = 0, i = 0, inflight = 0, records = 0;
  const tick = () => {
    const el = performance.now() - t0;
    if (el >= seconds * 1000) {
      const wait = () => inflight > 0 ? setTimeout(wait, 5) : (sock.close(), parentPort.postMessage({ sent, records }));
      return wait();
    }
    const due = Math.floor(el * perMs);
    while (sent < due && inflight < 4096) {
      inflight++;
      sock.send(datagrams[i], port, '127.0.0.1', () => inflight--);
      records += counts[i];
      i = (i + 1) % datagrams.length;
      sent++;
    }
    setImmediate(tick);
  };
  tick();
});
`;

async function benchEndToEnd(): Promise<void> {
  const rates = (process.env.BENCH_E2E_RATES ?? '250000,500000,1000000').split(',').map(Number);
  console.log(`\n== end-to-end UDP ingest on loopback (NetFlow v9, ${SECONDS}s per rate) ==`);
  const enc = new NetflowV9Encoder({ templateEvery: 1e9 });
  const dgrams = enc.encode(simFlows(6000), Date.now());
  const counter = new FlowDecoder();
  const counts = dgrams.map((d) => counter.decode(d, '192.0.2.1', 0));
  const perDatagram = counts.reduce((a, b) => a + b, 0) / counts.length;
  for (const [mode, worker] of [
    ['in-process', false],
    ['worker thread', true],
  ] as const) {
    console.log(`-- collector ${mode}`);
    for (const rate of rates) {
      let received = 0;
      const c = await startCollectors({
        worker,
        collectors: { netflow: { port: 0, host: '127.0.0.1' }, sampling: { default: 1, exporters: {} } },
        logger: pino({ level: 'silent' }),
        registry: new Registry(),
        onBatch: (b) => {
          received += b.length;
        },
      });
      // templates first (the first datagram carries them)
      const port = c.ports.netflow!;
      const t0 = performance.now();
      const w = new Worker(SENDER, {
        eval: true,
        workerData: { port, datagrams: dgrams, counts, rate, seconds: SECONDS, perDatagram },
      });
      const { sent, records: sentRecords } = await new Promise<{ sent: number; records: number }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      await new Promise((r) => setTimeout(r, 300));
      c.flush();
      const elapsed = (performance.now() - t0) / 1000;
      const h = c.health()[0];
      await c.stop();
      const loss = sentRecords > 0 ? 1 - received / sentRecords : 0;
      console.log(
        `  target ${fmt(rate).padStart(10)} rec/s: sent ${fmt(sentRecords)} records in ${fmt(sent)} datagrams, decoded ${fmt(received)} (${fmt(received / SECONDS)} rec/s over the send window, ${elapsed.toFixed(1)}s wall), loss ${(loss * 100).toFixed(3)} %, sequence gaps ${h?.sequenceGaps ?? 0}`,
      );
    }
  }
}

if (process.argv.includes('--e2e') || process.argv.includes('--peers')) {
  const { benchEndToEndProcesses } = await import('./ingest-e2e.js');
  await benchEndToEndProcesses();
} else {
  benchDecode();
  await benchEndToEnd();
}
