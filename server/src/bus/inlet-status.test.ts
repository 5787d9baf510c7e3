import type { ExporterHealth } from '@downstream/shared';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { createFlowBatch } from '../flow/flow-batch.js';
import { createTrafficMeter } from '../traffic/index.js';
import { inletStatusSubject, startInletBoard, startInletReporter } from './inlet-status.js';
import type { BusConfig } from './nats.js';

const natsUrl = inject('natsUrl');
const logger = pino({ level: 'silent' });

const exporter = (address: string): ExporterHealth => ({
  address,
  protocol: 'netflow-v9',
  lastSeen: new Date().toISOString(),
  datagrams: 10,
  records: 300,
  decodeErrors: 0,
  sequenceGaps: 0,
});

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.skipIf(!natsUrl)('inlet reports to API processes (real nats-server)', () => {
  let nc: NatsConnection;
  let n = 0;
  // A subject of its own per test: nothing one test publishes reaches another's board.
  const freshBus = (): BusConfig =>
    parseConfig({ bus: { nats: natsUrl, subject: `inlets${Date.now()}x${n++}.flows` } }).bus!;
  beforeAll(async () => {
    nc = await connect({ servers: natsUrl });
  });
  afterAll(() => nc?.close());

  it('adds every inlet’s traffic to the summary and serves the union of their exporters; a silent inlet drops out', async () => {
    const bus = freshBus();
    let t = Date.now();
    const registry = new Registry();
    const traffic = createTrafficMeter();
    const board = startInletBoard({ nc, bus, traffic, logger, registry, staleMs: 10_000, now: () => t });
    const a = startInletReporter({
      nc,
      bus,
      inlet: 'inlet-a',
      exporters: () => [exporter('192.0.2.1')],
      intervalMs: 50,
    });
    const b = startInletReporter({
      nc,
      bus,
      inlet: 'inlet-b',
      exporters: () => [exporter('192.0.2.2')],
      intervalMs: 50,
    });
    const batch = createFlowBatch(4);
    batch.length = 3;
    batch.packets.set([10, 20, 30]);
    batch.bytes.set([1000, 2000, 3000]);
    a.count(batch);
    b.count(batch);
    await until(() => board.inlets().length === 2);
    expect(
      board.collectors
        .health()
        .map((e) => e.address)
        .sort(),
    ).toEqual(['192.0.2.1', '192.0.2.2']);
    // Both inlets' 6 flows / 120 packets / 12,000 bytes land in the meter's current second.
    await new Promise((r) => setTimeout(r, 1100));
    const s = traffic.summary({ active: () => [] } as never, board.collectors);
    expect(s.packetsPerSecond * 5).toBeCloseTo(120, 6); // averaged over the meter's 5 s window
    expect(s.bitsPerSecond * 5).toBeCloseTo(12_000 * 8, 6);
    expect(s.exporters).toBe(2);

    b.stop(); // sends its last report
    await new Promise((r) => setTimeout(r, 200));
    t += 11_000; // inlet-b has not been heard from for longer than staleMs; inlet-a reports on
    await until(() => board.inlets().length === 1 && board.inlets()[0]!.inlet === 'inlet-a');
    expect(board.collectors.health().map((e) => e.address)).toEqual(['192.0.2.1']);
    a.stop();
    board.stop();
  });

  it('drops and counts a report that is not one, and keeps listening', async () => {
    const bus = freshBus();
    const registry = new Registry();
    const traffic = createTrafficMeter();
    const board = startInletBoard({ nc, bus, traffic, logger, registry });
    nc.publish(inletStatusSubject(bus), '{"inlet":"x","at":1,"flows":-5,"packets":0,"bytes":0,"exporters":[]}');
    nc.publish(inletStatusSubject(bus), 'not json');
    nc.publish(
      inletStatusSubject(bus),
      JSON.stringify({ inlet: 'ok', at: Date.now(), flows: 1, packets: 1, bytes: 64, exporters: [] }),
    );
    await until(() => board.inlets().length === 1);
    const metric = await registry.getSingleMetricAsString('downstream_bus_inlet_reports_total');
    expect(metric).toContain('outcome="invalid"} 2');
    expect(metric).toContain('outcome="ok"} 1');
    board.stop();
  });
});
