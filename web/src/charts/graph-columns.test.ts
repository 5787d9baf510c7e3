import { wordsToIp } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { columnsFromNodes } from './graph-columns.js';

describe('columnsFromNodes', () => {
  it('turns nodes into columns, IPv4 and IPv6, customers indexed', () => {
    const g = columnsFromNodes([
      { ip: '198.51.100.7', asn: 64500, country: 'DE', pps: 12.5, customer: 'Pool A' },
      { ip: '2001:db8::1', asn: 3320, country: '', pps: 0 },
      { ip: '203.0.113.9', asn: 1, country: 'US', pps: 3, customer: 'Pool A' },
    ]);
    expect(g.count).toBe(3);
    expect(wordsToIp(g.ip!, 0)).toBe('198.51.100.7');
    expect(wordsToIp(g.ip!, 4)).toBe('2001:db8::1');
    expect([...g.asn]).toEqual([64500, 3320, 1]);
    expect(g.pps[0]).toBeCloseTo(12.5);
    expect(String.fromCharCode(g.country![0]!, g.country![1]!)).toBe('DE');
    expect(g.country![2]).toBe(0);
    expect([...g.customer!]).toEqual([0, -1, 0]);
    expect(g.customers).toEqual(['Pool A']);
  });

  it('names the node and field that is wrong', () => {
    expect(() =>
      columnsFromNodes([
        { ip: '1.2.3.4', asn: 1, country: 'DE', pps: 1 },
        { ip: '1.2.3.5', asn: -3, country: 'DE', pps: 1 },
      ]),
    ).toThrow('graph.nodes[1].asn: expected a non-negative integer');
    expect(() => columnsFromNodes([{ ip: 7, asn: 1, country: 'DE', pps: 1 }])).toThrow('graph.nodes[0].ip');
    expect(() => columnsFromNodes([null])).toThrow('graph.nodes[0]');
    expect(() => columnsFromNodes([{ ip: '1.2.3.4', asn: 1, country: 'DE', pps: Number.NaN }])).toThrow('pps');
  });
});
