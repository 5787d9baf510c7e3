import { describe, expect, it } from 'vitest';
import { NetflowV9Encoder } from '../sim/encoders/netflow-v9.js';
import type { SimFlow } from '../sim/sim-flow.js';
import { FlowDecoder } from './decoder.js';
import { addrToString } from './flow-batch.js';

const base = Date.UTC(2026, 0, 1, 12, 0, 0);

function flow(i: number, v6 = false): SimFlow {
  return {
    src: v6 ? `2001:db8::${(i + 1).toString(16)}` : `198.51.100.${i % 250}`,
    dst: v6 ? '2001:db8:ffff::1' : '203.0.113.7',
    srcPort: 1024 + i,
    dstPort: 53,
    proto: 17,
    tcpFlags: 0,
    packets: 10 + i,
    bytes: 1000 + 100 * i,
    startMs: base - 5000 + i,
    endMs: base - 1000 + i,
    inIf: 3,
    outIf: 7,
  };
}

describe('NetFlow v9 encode → decode', () => {
  it('returns every flow with its fields, v4 and v6 mixed, across several datagrams', () => {
    const flows = Array.from({ length: 200 }, (_, i) => flow(i, i % 3 === 0));
    const enc = new NetflowV9Encoder({ sourceId: 7, bootMs: base - 3_600_000 });
    const dgrams = enc.encode(flows, base);
    expect(dgrams.length).toBeGreaterThan(5);
    for (const d of dgrams) expect(d.byteLength).toBeLessThanOrEqual(1400);
    const dec = new FlowDecoder();
    let n = 0;
    for (const d of dgrams) n += dec.decode(d, '127.0.0.2', base);
    expect(n).toBe(200);
    const b = dec.batch;
    expect(b.length).toBe(200);
    for (let i = 0; i < 200; i++) {
      const f = flows[i];
      expect(addrToString(b.src, i)).toBe(f.src);
      expect(addrToString(b.dst, i)).toBe(f.dst);
      expect(b.srcPort[i]).toBe(f.srcPort);
      expect(b.dstPort[i]).toBe(f.dstPort);
      expect(b.proto[i]).toBe(17);
      expect(b.packets[i]).toBe(f.packets);
      expect(b.bytes[i]).toBe(f.bytes);
      // v9 header time has 1 s resolution: start/end are exact relative to it
      expect(b.start[i]).toBe(f.startMs);
      expect(b.end[i]).toBe(f.endMs);
      expect(b.inIf[i]).toBe(3);
      expect(b.outIf[i]).toBe(7);
      expect(b.samplingRate[i]).toBe(1);
      expect(b.exporters[b.exporter[i]]).toBe('127.0.0.2');
    }
    const h = dec.health();
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ address: '127.0.0.2', protocol: 'netflow-v9', datagrams: dgrams.length, records: 200, decodeErrors: 0, sequenceGaps: 0, templates: 2 });
  });

  it('announces sampling in an options record and the decoder scales by it', () => {
    const enc = new NetflowV9Encoder({ samplingRate: 100, bootMs: base - 1000 });
    const dec = new FlowDecoder();
    for (const d of enc.encode([flow(1)], base)) dec.decode(d, '127.0.0.3', base);
    const b = dec.batch;
    expect(b.length).toBe(1);
    expect(b.samplingRate[0]).toBe(100);
    expect(b.packets[0]).toBe(11 * 100);
    expect(b.bytes[0]).toBe(1100 * 100);
  });

  it('counts lost datagrams as sequence gaps', () => {
    const enc = new NetflowV9Encoder({ bootMs: base - 1000, templateEvery: 1 });
    const dec = new FlowDecoder();
    const ds = [0, 1, 2, 3, 4].map((k) => enc.encode([flow(k)], base + k * 1000)[0]);
    for (const k of [0, 1, 3, 4]) dec.decode(ds[k], '127.0.0.4', base);
    expect(dec.health()[0].sequenceGaps).toBe(1);
  });
});
