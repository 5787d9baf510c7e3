import { describe, expect, it } from 'vitest';
import { createFakeContext, detectionEvent } from '../testing/fake-context.js';
import { createFlowBatch, type FlowBatch } from '../flow/flow-batch.js';
import { createTrafficMeter } from './meter.js';

function batch(n: number, packets: number, bytes: number): FlowBatch {
  const b = createFlowBatch(n + 5);
  b.length = n;
  b.packets.fill(packets, 0, n);
  b.bytes.fill(bytes, 0, n);
  // Beyond `length` must not count.
  b.packets.fill(1e9, n);
  return b;
}

describe('traffic meter', () => {
  it('averages flows, packets and bits over the completed seconds of the window', async () => {
    let t = 10_000;
    const m = createTrafficMeter({ windowSeconds: 5, now: () => t });
    const ctx = createFakeContext();
    for (let s = 0; s < 5; s++) {
      m.addBatch(batch(100, 10, 1000));
      m.addBatch(batch(100, 10, 1000));
      t += 1000;
    }
    m.addBatch(batch(1000, 1000, 1000)); // current second: not yet averaged
    const sum = m.summary(ctx.incidents, ctx.collectors);
    expect(sum.flowsPerSecond).toBe(200);
    expect(sum.packetsPerSecond).toBe(2000);
    expect(sum.bitsPerSecond).toBe(200 * 1000 * 8);
    t += 6000;
    expect(m.summary(ctx.incidents, ctx.collectors).flowsPerSecond).toBe(0);
  });

  it('counts active incidents by kind and direction, and distinct exporters', async () => {
    const ctx = createFakeContext({
      exporters: ['192.0.2.1', '192.0.2.1', '192.0.2.2'].map((address, i) => ({
        address,
        protocol: i === 1 ? 'ipfix' : 'netflow-v9',
        lastSeen: new Date().toISOString(),
        datagrams: 1,
        records: 1,
        decodeErrors: 0,
        sequenceGaps: 0,
      })),
    });
    ctx.incidents.ingest(detectionEvent('203.0.113.1'));
    ctx.incidents.ingest({ ...detectionEvent('198.51.100.5'), kind: 'scanner', direction: 'outbound' });
    ctx.incidents.ingest(detectionEvent('203.0.113.2'));
    await ctx.incidents.setStatus(ctx.incidents.active()[2].id, 'resolved', 't');
    const s = createTrafficMeter().summary(ctx.incidents, ctx.collectors);
    expect(s.activeIncidents).toBe(2);
    expect(s.byKind['ddos-fan-in']).toBe(1);
    expect(s.byKind.scanner).toBe(1);
    expect(s.byKind.volumetric).toBe(0);
    expect(s.inbound).toBe(1);
    expect(s.outbound).toBe(1);
    expect(s.exporters).toBe(2);
  });
});
