import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExporterHealth, Health } from '@downstream/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPcapFile } from '../../server/src/ingest/pcap.js';
import { repoRoot } from '../harness/demo.js';
import { MB, sleep, startServe, type HostileServer } from './helpers.js';

const CAPTURES = join(repoRoot, '..', 'shared', 'data', 'captures');
const haveCaptures = existsSync(CAPTURES);
const TOTAL = 200_000;

type Collector = 'netflow' | 'ipfix' | 'sflow';
const collectorOf = (file: string): Collector | undefined =>
  file.startsWith('netflow-')
    ? 'netflow'
    : file.startsWith('ipfix-')
      ? 'ipfix'
      : file.startsWith('sflow-')
        ? 'sflow'
        : undefined;

/** Real datagrams per collector, from every capture in ../shared/data/captures. */
function realDatagrams(): Record<Collector, Uint8Array[]> {
  const out: Record<Collector, Uint8Array[]> = { netflow: [], ipfix: [], sflow: [] };
  for (const f of readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap'))) {
    const c = collectorOf(f);
    if (c) for (const p of readPcapFile(join(CAPTURES, f))) out[c].push(p.payload);
  }
  return out;
}

/** xorshift32: the same mutations every run, so a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** One mutation of a real datagram: bit flips, a clobbered length/count field, truncation, garbage. */
function mutate(src: Uint8Array, r: (n: number) => number): Uint8Array {
  let d = Uint8Array.from(src);
  switch (r(6)) {
    case 0: // a few bit flips past the version field
      for (let i = 0, n = 1 + r(8); i < n && d.length > 2; i++) d[2 + r(d.length - 2)] ^= 1 << r(8);
      break;
    case 1: // a 16-bit field (lengths, counts, template ids) set to an extreme
      if (d.length >= 4) {
        const at = 2 + 2 * r((d.length - 2) >> 1);
        const v = [0, 1, 0xffff, 0x8000, 4, 255][r(6)];
        d[at] = v >> 8;
        if (at + 1 < d.length) d[at + 1] = v & 255;
      }
      break;
    case 2: // truncated anywhere
      d = d.subarray(0, r(d.length + 1));
      break;
    case 3: // random bytes over a stretch
      for (let i = 2 + r(Math.max(1, d.length - 2)), end = Math.min(d.length, i + 1 + r(64)); i < end; i++)
        d[i] = r(256);
      break;
    case 4: {
      // garbage appended, or a slice repeated
      const extra = new Uint8Array(1 + r(512)).map(() => r(256));
      const out = new Uint8Array(Math.min(65_000, d.length + extra.length));
      out.set(d.subarray(0, out.length));
      out.set(extra.subarray(0, out.length - d.length), d.length);
      d = out;
      break;
    }
    default: // a 32-bit field (sequence, uptime, sFlow counts/lengths) clobbered
      if (d.length >= 8) {
        const at = 4 * r(d.length >> 2);
        d[at] = r(256);
        d[at + 1] = r(256);
      }
  }
  return d;
}

/** NetFlow v9 (version 9) or IPFIX (10) datagram carrying `n` random templates with ids from `first`. */
function templateFlood(version: 9 | 10, first: number, n: number, r: (n: number) => number, seq: number): Uint8Array {
  const types = [1, 2, 4, 6, 7, 8, 10, 11, 12, 14, 21, 22, 27, 28, 60, 61, 89, 95, 136, 152, 153];
  const templates: number[] = [];
  for (let t = 0; t < n; t++) {
    const fields = 1 + r(12);
    templates.push(((first + t) % (65536 - 256)) + 256, fields);
    for (let f = 0; f < fields; f++) templates.push(types[r(types.length)], [1, 2, 4, 8, 16, 0, 65535][r(7)]);
  }
  const setLen = 4 + templates.length * 2;
  const hdr = version === 9 ? 20 : 16;
  const d = new Uint8Array(hdr + setLen);
  const v = new DataView(d.buffer);
  v.setUint16(0, version);
  if (version === 9) {
    v.setUint16(2, n);
    v.setUint32(4, 1000 + seq);
    v.setUint32(8, Math.floor(Date.now() / 1000));
    v.setUint32(12, seq);
    v.setUint32(16, 1);
  } else {
    v.setUint16(2, d.length);
    v.setUint32(4, Math.floor(Date.now() / 1000));
    v.setUint32(8, seq);
    v.setUint32(12, 1);
  }
  v.setUint16(hdr, version === 9 ? 0 : 2);
  v.setUint16(hdr + 2, setLen);
  templates.forEach((x, i) => v.setUint16(hdr + 4 + i * 2, x));
  return d;
}

let s: HostileServer;
let dir: string;
const sockets: Socket[] = [];
// file-level hooks do not run when every test is skipped: no server starts without the captures
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ds-hostile-udp-'));
  s = await startServe(dir, {
    collectors: {
      netflow: { host: '127.0.0.1', port: 0 },
      ipfix: { host: '127.0.0.1', port: 0 },
      sflow: { host: '127.0.0.1', port: 0 },
    },
  });
});
afterAll(async () => {
  for (const x of sockets) x.close();
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function udpFrom(address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const u = createSocket('udp4');
    u.once('error', reject);
    u.bind(0, address, () => {
      sockets.push(u);
      resolve(u);
    });
  });
}

/** Send all, `burst` at a time, yielding between bursts so the collector sees a stream, not one spike. */
async function sendAll(u: Socket, port: number, list: Uint8Array[], burst = 400): Promise<void> {
  for (let i = 0; i < list.length; i += burst) {
    await Promise.all(
      list.slice(i, i + burst).map((d) => new Promise<void>((ok) => u.send(d, port, '127.0.0.1', () => ok()))),
    );
    await sleep(2);
  }
}

/** Polls `read` until it returns the same value twice 400 ms apart (or 20 s pass). */
async function settled(read: () => Promise<number>): Promise<void> {
  const until = Date.now() + 20_000;
  let last = await read();
  while (Date.now() < until) {
    await sleep(400);
    const now = await read();
    if (now === last) return;
    last = now;
  }
}

const health = async (): Promise<ExporterHealth[]> =>
  ((await (await fetch(`${s.url}/api/health`)).json()) as Health).exporters;

const skipped = haveCaptures ? '' : ` (skipped: ${CAPTURES} absent)`;
describe.skipIf(!haveCaptures)(`mutated real datagrams and template floods, per collector${skipped}`, () => {
  it(`${TOTAL} mutated datagrams and template floods: server up, errors counted in /api/health and /metrics, memory bounded`, async () => {
    const real = realDatagrams();
    for (const c of ['netflow', 'ipfix', 'sflow'] as const) expect(real[c].length, c).toBeGreaterThan(5);
    const rss0 = s.rss();
    const stop = s.sampleRss(100);
    const r = rng(0x5eed);
    const t0 = Date.now();
    const per = Math.ceil(TOTAL / 3);
    // One exporter address per collector sends the mutations…
    const senders = {
      netflow: await udpFrom('127.0.0.11'),
      ipfix: await udpFrom('127.0.0.12'),
      sflow: await udpFrom('127.0.0.13'),
    };
    await Promise.all(
      (['netflow', 'ipfix', 'sflow'] as const).map(async (c) => {
        for (let done = 0; done < per; done += 10_000) {
          const chunk = Array.from({ length: Math.min(10_000, per - done) }, () =>
            mutate(real[c][r(real[c].length)], r),
          );
          await sendAll(senders[c], s.collectors[c]!, chunk);
        }
      }),
    );
    const mutatedMs = Date.now() - t0;
    // …and 16 more per template collector flood it with 4,096 templates each (twice the
    // per-exporter limit), half of them redefined with other fields; sFlow, which has no
    // templates, gets the same from 16 agent addresses with mutated real samples.
    for (let e = 0; e < 16; e++) {
      const addr = `127.0.1.${e + 1}`;
      const u = await udpFrom(addr);
      const flood: { port: number; d: Uint8Array }[] = [];
      for (let k = 0; k < 4096 * 1.5; k += 32) {
        flood.push({ port: s.collectors.netflow!, d: templateFlood(9, k % 4096, 32, r, k) });
        flood.push({ port: s.collectors.ipfix!, d: templateFlood(10, k % 4096, 32, r, k) });
        flood.push({ port: s.collectors.sflow!, d: mutate(real.sflow[r(real.sflow.length)], r) });
      }
      for (let i = 0; i < flood.length; i += 60) {
        await Promise.all(
          flood.slice(i, i + 60).map((f) => new Promise<void>((ok) => u.send(f.d, f.port, '127.0.0.1', () => ok()))),
        );
        await sleep(2);
      }
    }
    // the decode threads report to the main thread every ~200 ms: wait until two reads agree
    await settled(async () => (await health()).reduce((n, x) => n + x.datagrams, 0));
    stop();

    // Up, answering, and every problem counted under a reason.
    const h = await health();
    const byProto = (p: string) => h.filter((x) => x.protocol === p);
    const errors = (list: ExporterHealth[]) => list.reduce((n, x) => n + x.decodeErrors, 0);
    const datagrams = h.reduce((n, x) => n + x.datagrams, 0);
    const reasons = new Set(h.flatMap((x) => Object.keys(x.errorsByReason ?? {})));
    for (const x of h) {
      const sum = Object.values(x.errorsByReason ?? {}).reduce((a, b) => a + b, 0);
      expect(sum, `${x.address} ${x.protocol}`).toBe(x.decodeErrors);
    }
    expect(errors(byProto('netflow-v9')) + errors(byProto('netflow-v5'))).toBeGreaterThan(1000);
    expect(errors(byProto('ipfix'))).toBeGreaterThan(1000);
    expect(errors(byProto('sflow-v5'))).toBeGreaterThan(1000);
    expect(reasons).toContain('template-limit');
    expect(reasons).toContain('truncated');
    // Every flooded exporter holds at most the per-exporter limit, and the limit was hit (a loaded
    // box drops some flood datagrams in the kernel, so across the 16, not necessarily each one).
    for (const proto of ['ipfix', 'netflow-v9']) {
      const flooded = h.filter((x) => x.address.startsWith('127.0.1.') && x.protocol === proto);
      expect(flooded.length, proto).toBeGreaterThanOrEqual(12);
      for (const x of flooded) expect(x.templates, `${x.address} ${proto}`).toBeLessThanOrEqual(2048);
      expect(
        flooded.reduce((n, x) => n + (x.errorsByReason?.['template-limit'] ?? 0), 0),
        proto,
      ).toBeGreaterThan(0);
    }
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(
      /downstream_ingest_decode_errors_total\{[^}]*protocol="ipfix"[^}]*reason="template-limit"\} [1-9]/,
    );
    expect(metrics).toMatch(/downstream_ingest_decode_errors_total\{[^}]*protocol="sflow-v5"[^}]*\} [1-9]/);
    const dropped = /downstream_pipeline_dropped_total\{stage="socket",reason="receive_buffer_full"\} (\d+)/.exec(
      metrics,
    );
    expect(dropped).not.toBeNull();

    // Still decoding: a clean replay from a new exporter is counted as records.
    const clean = await udpFrom('127.0.2.1');
    await sendAll(clean, s.collectors.ipfix!, real.ipfix);
    const cleanHealth = async () => (await health()).find((x) => x.address === '127.0.2.1' && x.protocol === 'ipfix');
    const until = Date.now() + 10_000;
    while (!((await cleanHealth())?.records ?? 0) && Date.now() < until) await sleep(50);
    const after = await cleanHealth();
    expect(after?.records).toBeGreaterThan(0);

    console.log(
      `hostile/datagrams: ${3 * per} mutated in ${mutatedMs} ms + template floods; ${datagrams} datagrams reached the decoder ` +
        `(${dropped![1]} dropped by the kernel), ${errors(h)} decode errors (${[...reasons].join(', ')}); ` +
        `server RSS ${Math.round(rss0 / MB)} → peak ${Math.round(s.peakRss / MB)} MB`,
    );
    expect(s.proc.exitCode).toBeNull();
    expect(s.peakRss - rss0).toBeLessThan(400 * MB);
  });
});
