import { describe, expect, it } from 'vitest';
import { ipToWords, wordsToIp } from './address.js';
import { decodeGraphFrame, encodeGraphFrame, graphNodesOf } from './graph-frame.js';
import type { GraphNode } from './incident.js';

describe('graph frame', () => {
  it('round-trips nodes through the binary columns, also as Node Buffers at odd offsets', () => {
    const nodes: GraphNode[] = [
      { ip: '198.51.100.7', asn: 64500, country: 'DE', pps: 1234.5, customer: 'Pool A' },
      { ip: '2001:db8::1', asn: 4294967295, country: '', pps: 0 },
      { ip: '10.0.0.1', asn: 1, country: 'US', pps: 3, customer: 'Pool B' },
      { ip: '10.0.0.2', asn: 2, country: 'BR', pps: 4, customer: 'Pool A' },
    ];
    const frame = encodeGraphFrame('inc-1', 7, nodes);
    expect(frame.customers).toEqual(['Pool A', 'Pool B']);
    expect(frame.ip.byteLength).toBe(16 * nodes.length);
    const asBuffers = Object.fromEntries(
      Object.entries(frame).map(([k, v]) => {
        if (!(v instanceof ArrayBuffer)) return [k, v];
        const pool = Buffer.alloc(v.byteLength + 3);
        Buffer.from(v).copy(pool, 1);
        return [k, pool.subarray(1, 1 + v.byteLength)];
      }),
    );
    for (const wire of [frame, asBuffers]) {
      const g = decodeGraphFrame(wire);
      expect(g.id).toBe('inc-1');
      expect(g.seq).toBe(7);
      expect(graphNodesOf(g)).toEqual(nodes);
    }
  });

  it('names the column that does not fit', () => {
    const frame = encodeGraphFrame('x', 1, [{ ip: '1.2.3.4', asn: 1, country: 'DE', pps: 1 }]);
    expect(() => decodeGraphFrame({ ...frame, asn: new ArrayBuffer(3) })).toThrow(/column asn/);
    expect(() => decodeGraphFrame({ ...frame, pps: [1] })).toThrow();
  });

  it('address words match the FlowBatch layout and round-trip any address', () => {
    const w = new Uint32Array(4);
    ipToWords('192.0.2.1', w);
    expect([...w]).toEqual([0, 0, 0xffff, 0xc0000201]);
    ipToWords('2001:db8::ff00:42:8329', w);
    expect(wordsToIp(w)).toBe('2001:db8::ff00:42:8329');
    const cases: [string, string][] = [
      ['0.0.0.0', '0.0.0.0'],
      ['255.255.255.255', '255.255.255.255'],
      ['::', '::'],
      ['::1', '::1'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['fe80::1:2:3:4', 'fe80::1:2:3:4'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['::ffff:10.1.2.3', '10.1.2.3'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
      ['not-an-ip', '::'],
    ];
    for (const [ip, text] of cases) {
      ipToWords(ip, w);
      expect(wordsToIp(w), ip).toBe(text);
    }
  });
});
