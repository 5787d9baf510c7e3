/**
 * One collectors suite, run against both implementations: the worker-thread collector and the
 * in-process one. Same inputs, same counts — they drifted once (batchCapacity reached only the
 * in-process decoder), so everything a caller can see is asserted here for both.
 */
import { addrToString } from '@downstream/shared';
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowBatch } from '../flow/flow-batch.js';
import { NetflowV9Encoder } from '../sim/encoders/netflow-v9.js';
import type { SimFlow } from '../sim/sim-flow.js';
import { UdpExporter } from '../sim/udp-exporter.js';
import { BATCH_CAPACITY, type Collectors, type StartCollectorsOptions, startCollectors } from './index.js';

const logger = pino({ level: 'silent' });
let running: Collectors | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function flows(n: number): SimFlow[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    src: `10.0.${i >> 8}.${i & 255}`,
    dst: '192.0.2.1',
    srcPort: 40000 + i,
    dstPort: 80,
    proto: 6,
    tcpFlags: 2,
    packets: 1,
    bytes: 60,
    startMs: now - 1000,
    endMs: now,
    inIf: 1,
    outIf: 2,
  }));
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polls `cond` after each flush (worker mode: health() is fresh once flush() resolves). */
async function flushedUntil(c: Collectors, cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    await c.flush();
    if (cond()) return;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const rows = (batches: FlowBatch[]): number => batches.reduce((a, b) => a + b.length, 0);
const local = { port: 0, host: '127.0.0.1' };
const noSampling = { default: 1, exporters: {} };

async function sendRaw(port: number, bytes: Uint8Array): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.send(bytes, port, '127.0.0.1', () => r()));
  s.close();
}

describe.each([
  ['in-process', false],
  ['worker thread', true],
] as const)('collectors (%s)', (_mode, worker) => {
  const start = async (
    opts: Omit<StartCollectorsOptions, 'logger' | 'registry' | 'worker'> & { registry?: Registry },
  ): Promise<Collectors> => {
    running = await startCollectors({ logger, registry: opts.registry ?? new Registry(), worker, ...opts });
    return running;
  };

  it('runs in the mode asked for', async () => {
    const c = await start({ collectors: { netflow: local, sampling: noSampling }, onBatch: () => {} });
    expect(c.threaded).toBe(worker);
  });

  it('binds free ports, decodes v9 from a simulated router and hands over batches promptly', async () => {
    const batches: FlowBatch[] = [];
    const registry = new Registry();
    const c = await start({
      collectors: { netflow: local, sampling: { default: 1, exporters: { '127.0.0.2': 10 } } },
      registry,
      onBatch: (b) => batches.push(b),
    });
    expect(c.ports.netflow).toBeGreaterThan(0);
    expect(c.ports.ipfix).toBeUndefined();
    const exp = new UdpExporter({
      host: '127.0.0.1',
      port: c.ports.netflow!,
      protocol: 'netflow-v9',
      bindAddress: '127.0.0.2',
    });
    const sent = await exp.send(flows(500), Date.now());
    await exp.close();
    expect(sent).toBeGreaterThan(1);
    // no flush(): the collector's own timer must hand the rows over
    await until(() => rows(batches) >= 500, '500 rows');
    await c.flush();
    const b = batches[0];
    expect(addrToString(b.src, 0)).toBe('10.0.0.0');
    expect(b.exporters[b.exporter[0]]).toBe('127.0.0.2');
    // no sampling announced by the router: the configured per-exporter rate applies
    expect(b.samplingRate[0]).toBe(10);
    expect(b.packets[0]).toBe(10);
    expect(c.health()).toEqual([
      expect.objectContaining({
        address: '127.0.0.2',
        protocol: 'netflow-v9',
        datagrams: sent,
        records: 500,
        decodeErrors: 0,
      }),
    ]);
    expect(await registry.metrics()).toMatch(
      /downstream_ingest_records_total\{exporter="127.0.0.2",protocol="netflow-v9"\} 500/,
    );
  });

  it('every protocol on every port: the same rows and health per exporter', async () => {
    const batches: FlowBatch[] = [];
    const c = await start({
      collectors: { netflow: local, ipfix: local, sflow: local, sampling: noSampling },
      onBatch: (b) => batches.push(b),
    });
    const senders = [
      new UdpExporter({ host: '127.0.0.1', port: c.ports.netflow!, protocol: 'netflow-v5', bindAddress: '127.0.0.5' }),
      new UdpExporter({ host: '127.0.0.1', port: c.ports.netflow!, protocol: 'netflow-v9', bindAddress: '127.0.0.9' }),
      new UdpExporter({ host: '127.0.0.1', port: c.ports.ipfix!, protocol: 'ipfix', bindAddress: '127.0.0.10' }),
      // the version decides, not the port: IPFIX sent to the sFlow port still decodes
      new UdpExporter({ host: '127.0.0.1', port: c.ports.sflow!, protocol: 'ipfix', bindAddress: '127.0.0.11' }),
      new UdpExporter({ host: '127.0.0.1', port: c.ports.sflow!, protocol: 'sflow-v5', bindAddress: '127.0.0.3' }),
    ];
    const counts = [120, 300, 200, 50, 20];
    await Promise.all(senders.map((s, k) => s.send(flows(counts[k]), Date.now())));
    await Promise.all(senders.map((s) => s.close()));
    await until(() => rows(batches) >= 690, '690 rows');
    await c.flush();
    const byExporter = new Map<string, number>();
    for (const b of batches)
      for (let i = 0; i < b.length; i++) {
        const x = b.exporters[b.exporter[i]];
        byExporter.set(x, (byExporter.get(x) ?? 0) + 1);
      }
    expect(Object.fromEntries(byExporter)).toEqual({
      '127.0.0.5': 120,
      '127.0.0.9': 300,
      '127.0.0.10': 200,
      '127.0.0.11': 50,
      '127.0.0.3': 20,
    });
    const health = c.health().map((h) => [h.address, h.protocol, h.records, h.decodeErrors, h.sequenceGaps]);
    expect(new Set(health)).toEqual(
      new Set([
        ['127.0.0.5', 'netflow-v5', 120, 0, 0],
        ['127.0.0.9', 'netflow-v9', 300, 0, 0],
        ['127.0.0.10', 'ipfix', 200, 0, 0],
        ['127.0.0.11', 'ipfix', 50, 0, 0],
        ['127.0.0.3', 'sflow-v5', 20, 0, 0],
      ]),
    );
    expect(c.interfaceCounters()).toEqual([]);
  });

  it('hands over batches of at most one flush size, allocated once at the collector batch capacity', async () => {
    const batches: FlowBatch[] = [];
    const c = await start({ collectors: { netflow: local, sampling: noSampling }, onBatch: (b) => batches.push(b) });
    const exp = new UdpExporter({ host: '127.0.0.1', port: c.ports.netflow!, protocol: 'netflow-v9' });
    await exp.send(flows(20_000), Date.now());
    await exp.close();
    await until(() => rows(batches) >= 20_000, '20,000 rows');
    await c.flush();
    expect(rows(batches)).toBe(20_000);
    for (const b of batches) expect(b.srcPort.length, 'capacity').toBe(BATCH_CAPACITY);
  });

  it('passes the decoder options on: with holding off, data before its template is counted, not held', async () => {
    const c = await start({
      collectors: { netflow: local, sampling: noSampling },
      decoder: { pendingMs: 0 },
      onBatch: () => {},
    });
    const enc = new NetflowV9Encoder({ templateEvery: 1e9 });
    const [first] = enc.encode(flows(1), Date.now());
    const [dataOnly] = enc.encode(flows(1), Date.now());
    await sendRaw(c.ports.netflow!, dataOnly);
    await flushedUntil(c, () => (c.health()[0]?.datagrams ?? 0) >= 1, 'the data datagram');
    await sendRaw(c.ports.netflow!, first);
    await flushedUntil(c, () => (c.health()[0]?.records ?? 0) >= 1, 'the template datagram');
    expect(c.health()[0]).toMatchObject({ records: 1, errorsByReason: { 'unknown-template': 1 } });
  });

  it('keeps serving after garbage and counts it', async () => {
    const batches: FlowBatch[] = [];
    const c = await start({ collectors: { netflow: local, sampling: noSampling }, onBatch: (b) => batches.push(b) });
    await sendRaw(c.ports.netflow!, new Uint8Array([0, 9, 0, 1, 2]));
    const exp = new UdpExporter({ host: '127.0.0.1', port: c.ports.netflow!, protocol: 'netflow-v9' });
    await exp.send(flows(3), Date.now());
    await exp.close();
    await until(() => rows(batches) >= 3, '3 rows');
    await c.flush();
    const h = c.health().find((x) => x.protocol === 'netflow-v9')!;
    expect(h.decodeErrors).toBe(1);
    expect(h.errorsByReason).toEqual({ truncated: 1 });
    expect(h.records).toBe(3);
  });

  it('reports a port that cannot be bound', async () => {
    const c = await start({ collectors: { netflow: local, sampling: noSampling }, onBatch: () => {} });
    await expect(
      startCollectors({
        collectors: { ipfix: { port: c.ports.netflow!, host: '127.0.0.1' }, sampling: noSampling },
        logger,
        registry: new Registry(),
        onBatch: () => {},
        worker,
      }),
    ).rejects.toThrow(/cannot bind ipfix collector on 127.0.0.1:\d+/);
  });
});
