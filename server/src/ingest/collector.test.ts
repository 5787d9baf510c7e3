import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpExporter } from '../sim/udp-exporter.js';
import type { SimFlow } from '../sim/sim-flow.js';
import type { FlowBatch } from './flow-batch.js';
import { addrToString } from './flow-batch.js';
import { type Collectors, startCollectors } from './index.js';

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

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('startCollectors', () => {
  it('binds free ports, decodes v9 from a simulated router and hands over batches promptly', async () => {
    const batches: FlowBatch[] = [];
    const registry = new Registry();
    running = await startCollectors({
      collectors: { netflow: { port: 0, host: '127.0.0.1' }, sampling: { default: 1, exporters: { '127.0.0.2': 10 } } },
      logger,
      registry,
      onBatch: (b) => batches.push(b),
    });
    expect(running.ports.netflow).toBeGreaterThan(0);
    expect(running.ports.ipfix).toBeUndefined();
    const exp = new UdpExporter({
      host: '127.0.0.1',
      port: running.ports.netflow!,
      protocol: 'netflow-v9',
      bindAddress: '127.0.0.2',
    });
    const sent = await exp.send(flows(500), Date.now());
    await exp.close();
    expect(sent).toBeGreaterThan(1);
    await until(() => batches.reduce((a, b) => a + b.length, 0) >= 500);
    const b = batches[0];
    expect(addrToString(b.src, 0)).toBe('10.0.0.0');
    expect(b.exporters[b.exporter[0]]).toBe('127.0.0.2');
    // no sampling announced by the router: the configured per-exporter rate applies
    expect(b.samplingRate[0]).toBe(10);
    expect(b.packets[0]).toBe(10);
    const h = running.health();
    expect(h).toEqual([
      expect.objectContaining({
        address: '127.0.0.2',
        protocol: 'netflow-v9',
        datagrams: sent,
        records: 500,
        decodeErrors: 0,
      }),
    ]);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/downstream_ingest_records_total\{exporter="127.0.0.2",protocol="netflow-v9"\} 500/);
  });

  it('worker-thread mode: same behaviour, batches transferred from the worker', async () => {
    const batches: FlowBatch[] = [];
    const registry = new Registry();
    running = await startCollectors({
      collectors: {
        netflow: { port: 0, host: '127.0.0.1' },
        sflow: { port: 0, host: '127.0.0.1' },
        sampling: { default: 1, exporters: {} },
      },
      logger,
      registry,
      onBatch: (b) => batches.push(b),
      worker: true,
    });
    expect(running.threaded).toBe(true);
    const v9 = new UdpExporter({
      host: '127.0.0.1',
      port: running.ports.netflow!,
      protocol: 'netflow-v9',
      samplingRate: 1,
    });
    const sf = new UdpExporter({
      host: '127.0.0.1',
      port: running.ports.sflow!,
      protocol: 'sflow-v5',
      bindAddress: '127.0.0.3',
    });
    await v9.send(flows(300), Date.now());
    await sf.send(flows(20), Date.now());
    await Promise.all([v9.close(), sf.close()]);
    await until(() => batches.reduce((a, b) => a + b.length, 0) >= 320);
    await running.flush();
    const all = batches.flatMap((b) => Array.from({ length: b.length }, (_, i) => b.exporters[b.exporter[i]]));
    expect(all.filter((x) => x === '127.0.0.1')).toHaveLength(300);
    expect(all.filter((x) => x === '127.0.0.3')).toHaveLength(20);
    expect(batches[0].src).toBeInstanceOf(Uint32Array);
    const h = running.health();
    expect(h.find((x) => x.protocol === 'netflow-v9')).toMatchObject({ records: 300, decodeErrors: 0 });
    expect(h.find((x) => x.protocol === 'sflow-v5')).toMatchObject({ address: '127.0.0.3', records: 20 });
    expect(running.interfaceCounters()).toEqual([]);
    expect(await registry.metrics()).toMatch(
      /downstream_ingest_records_total\{exporter="127.0.0.3",protocol="sflow-v5"\} 20/,
    );
  });

  it('reports a port that cannot be bound', async () => {
    running = await startCollectors({
      collectors: { netflow: { port: 0, host: '127.0.0.1' }, sampling: { default: 1, exporters: {} } },
      logger,
      registry: new Registry(),
      onBatch: () => {},
    });
    await expect(
      startCollectors({
        collectors: {
          ipfix: { port: running.ports.netflow!, host: '127.0.0.1' },
          sampling: { default: 1, exporters: {} },
        },
        logger,
        registry: new Registry(),
        onBatch: () => {},
      }),
    ).rejects.toThrow(/cannot bind ipfix collector on 127.0.0.1:\d+/);
  });

  it('keeps serving after garbage and counts it', async () => {
    const batches: FlowBatch[] = [];
    running = await startCollectors({
      collectors: { netflow: { port: 0, host: '127.0.0.1' }, sampling: { default: 1, exporters: {} } },
      logger,
      registry: new Registry(),
      onBatch: (b) => batches.push(b),
    });
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    await new Promise<void>((r) =>
      s.send(Buffer.from([0, 9, 0, 1, 2]), running!.ports.netflow!, '127.0.0.1', () => r()),
    );
    s.close();
    const exp = new UdpExporter({ host: '127.0.0.1', port: running.ports.netflow!, protocol: 'netflow-v9' });
    await exp.send(flows(3), Date.now());
    await exp.close();
    await until(() => batches.reduce((a, b) => a + b.length, 0) >= 3);
    const h = running.health().find((x) => x.protocol === 'netflow-v9')!;
    expect(h.decodeErrors).toBe(1);
    expect(h.errorsByReason).toEqual({ truncated: 1 });
    expect(h.records).toBe(3);
  });
});
