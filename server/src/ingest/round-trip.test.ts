import { addrToString } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { IpfixEncoder } from '../sim/encoders/ipfix.js';
import { NetflowV5Encoder } from '../sim/encoders/netflow-v5.js';
import { NetflowV9Encoder } from '../sim/encoders/netflow-v9.js';
import { MAX_SAMPLES_PER_CALL, SflowV5Encoder } from '../sim/encoders/sflow-v5.js';
import type { SimFlow } from '../sim/sim-flow.js';
import { FlowDecoder } from './decoder.js';

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
    expect(h[0]).toMatchObject({
      address: '127.0.0.2',
      protocol: 'netflow-v9',
      datagrams: dgrams.length,
      records: 200,
      decodeErrors: 0,
      sequenceGaps: 0,
      templates: 2,
    });
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

describe('IPFIX, NetFlow v5 and sFlow v5 encode → decode', () => {
  it('IPFIX: every field, per-record sequence without false gaps, selector sampling', () => {
    const flows = Array.from({ length: 150 }, (_, i) => flow(i, i % 2 === 0));
    const enc = new IpfixEncoder({ sourceId: 3, templateEvery: 2 });
    const dec = new FlowDecoder();
    const ds = [...enc.encode(flows.slice(0, 70), base), ...enc.encode(flows.slice(70), base + 1000)];
    for (const d of ds) dec.decode(d, '192.0.2.9', base);
    const b = dec.batch;
    expect(b.length).toBe(150);
    for (let i = 0; i < 150; i++) {
      expect(addrToString(b.src, i)).toBe(flows[i].src);
      expect(b.start[i]).toBe(flows[i].startMs);
      expect(b.end[i]).toBe(flows[i].endMs);
      expect(b.bytes[i]).toBe(flows[i].bytes);
    }
    expect(dec.health()[0]).toMatchObject({ protocol: 'ipfix', records: 150, sequenceGaps: 0, decodeErrors: 0 });

    const sampled = new IpfixEncoder({ samplingRate: 256 });
    const dec2 = new FlowDecoder();
    for (const d of sampled.encode([flow(0)], base)) dec2.decode(d, '192.0.2.9', base);
    expect(dec2.batch.samplingRate[0]).toBe(256);
    expect(dec2.batch.packets[0]).toBe(10 * 256);
  });

  it('NetFlow v5: IPv4 records, header sampling interval, per-record sequence', () => {
    const flows = Array.from({ length: 75 }, (_, i) => flow(i));
    const enc = new NetflowV5Encoder({ samplingRate: 50, bootMs: base - 10_000 });
    const ds = enc.encode(flows, base);
    expect(ds).toHaveLength(3);
    const dec = new FlowDecoder();
    for (const d of ds) dec.decode(d, '192.0.2.5', base);
    const b = dec.batch;
    expect(b.length).toBe(75);
    expect(addrToString(b.src, 74)).toBe(flows[74].src);
    expect(b.samplingRate[0]).toBe(50);
    expect(b.packets[3]).toBe(flows[3].packets * 50);
    expect(b.start[3]).toBe(flows[3].startMs);
    expect(dec.health()[0]).toMatchObject({ protocol: 'netflow-v5', records: 75, sequenceGaps: 0 });
  });

  it('sFlow v5: one flow sample per sampled packet, header parsed, agent address names the exporter', () => {
    const flows = [
      { ...flow(1), packets: 3, bytes: 300, proto: 6, tcpFlags: 0x12, dstPort: 443 },
      { ...flow(2, true), packets: 2, bytes: 200 },
    ];
    const enc = new SflowV5Encoder({ agentAddress: '10.9.8.7' });
    const dec = new FlowDecoder();
    for (const d of enc.encode(flows, base)) dec.decode(d, '127.0.0.1', base);
    const b = dec.batch;
    expect(b.length).toBe(5);
    expect(addrToString(b.src, 0)).toBe(flows[0].src);
    expect(b.dstPort[0]).toBe(443);
    expect(b.tcpFlags[0]).toBe(0x12);
    expect(b.proto[0]).toBe(6);
    expect(addrToString(b.dst, 4)).toBe('2001:db8:ffff::1');
    expect(b.srcPort[4]).toBe(flows[1].srcPort);
    expect(b.bytes[0]).toBe(100);
    expect(b.exporters[b.exporter[0]]).toBe('10.9.8.7');
    expect(dec.health()[0]).toMatchObject({ address: '10.9.8.7', protocol: 'sflow-v5', records: 5 });
  });

  it('sFlow at 1-in-N: about packets/N samples, each scaled back by N', () => {
    let seed = 42;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const enc = new SflowV5Encoder({ samplingRate: 100, random });
    const dec = new FlowDecoder();
    for (const d of enc.encode([{ ...flow(1), packets: 100_000, bytes: 100_000 * 500 }], base))
      dec.decode(d, '127.0.0.1', base);
    const b = dec.batch;
    // Binomial(100000, 0.01): mean 1000, sd ≈ 31.5
    expect(b.length).toBeGreaterThan(900);
    expect(b.length).toBeLessThan(1100);
    expect(b.samplingRate[0]).toBe(100);
    expect(b.packets[0]).toBe(100);
  });
  it('sFlow agent over its sample budget: the samples it says it dropped are made up for, per data source', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    // 1:1 under a flood: 3 × 60,000 packets on interface 1 and a small flow on interface 2.
    const enc = new SflowV5Encoder({ samplingRate: 1, random });
    const flood = [0, 1, 2].map((i) => ({ ...flow(i), inIf: 1, packets: 60_000, bytes: 60_000 * 1000 }));
    const small = { ...flow(9), inIf: 2, packets: 3_000, bytes: 3_000 * 100 };
    const dec = new FlowDecoder();
    let sent = 0;
    for (let call = 0; call < 4; call++)
      for (const d of enc.encode([...flood, small], base + call * 1000)) {
        dec.decode(d, '127.0.0.1', base);
        sent++;
      }
    const b = dec.batch;
    // Only the budget's worth of samples arrived …
    expect(b.length).toBeLessThanOrEqual(4 * MAX_SAMPLES_PER_CALL + 4);
    expect(enc.droppedSamples).toBeGreaterThan(4 * 150_000);
    let floodPk = 0;
    let smallPk = 0;
    for (let i = 0; i < b.length; i++) {
      if (b.inIf[i] === 1) floodPk += b.packets[i];
      else smallPk += b.packets[i];
    }
    // … yet they stand for what was on the wire (the first call's drops are seen from its second sample on).
    expect(floodPk / (4 * 180_000)).toBeGreaterThan(0.9);
    expect(floodPk / (4 * 180_000)).toBeLessThan(1.05);
    expect(smallPk / (4 * 3_000)).toBeGreaterThan(0.8);
    expect(smallPk / (4 * 3_000)).toBeLessThan(1.2);
    expect(b.samplingRate[0]).toBe(1);
    expect(sent).toBeGreaterThan(0);
    // Exporter health says how many the agent dropped: all of them but those before each data
    // source's first sample (its counter's baseline).
    const health = dec.health().find((h) => h.protocol === 'sflow-v5')!;
    expect(health.sampleDrops).toBeGreaterThan(0.9 * enc.droppedSamples);
    expect(health.sampleDrops).toBeLessThanOrEqual(enc.droppedSamples);
  });
});
