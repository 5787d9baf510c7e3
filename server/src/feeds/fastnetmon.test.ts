import { readFileSync } from 'node:fs';
import { DetectionEvent } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { classifyInbound, fastNetMonToDetection, parseFastNetMonDetails } from './fastnetmon.js';
import type { Lookup } from './sources.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const lookup: Lookup = (ip) =>
  ip.startsWith('198.51.100.')
    ? { asn: 64500, asName: 'US', country: 'NL', customer: 'Residential pool A' }
    : { asn: Number(ip.split('.')[1]) + 1000, asName: `AS${ip.split('.')[1]}`, country: 'DE' };
const now = new Date('2026-11-24T21:33:22Z');

describe('FastNetMon details parser (real fastnetmon 1.2.4 output)', () => {
  it('reads the header fields and the flow table of a ban message', () => {
    const d = parseFastNetMonDetails(fixture('fastnetmon-ban.txt'));
    expect(d.attackType).toBe('syn_flood');
    expect(d.protocol).toBe('tcp');
    expect(d.direction).toBe('incoming');
    expect(d.initialPps).toBe(19577);
    expect(d.peakPps).toBe(19577);
    expect(d.meanPacketSize.incoming).toBe(64);
    expect(d.totals['total incoming traffic']).toBe(10);
    expect(d.totals['incoming syn tcp pps']).toBeUndefined();
    expect(d.flows).toHaveLength(21);
    expect(d.flows[0]).toEqual({
      src: '203.207.113.162',
      srcPort: 1221,
      dst: '198.51.100.7',
      dstPort: 80,
      bytes: 12800,
      packets: 200,
    });
  });

  it('reads the packet samples of an attack_details message', () => {
    const d = parseFastNetMonDetails(fixture('fastnetmon-attack-details.txt'));
    expect(d.flows).toHaveLength(20);
    expect(d.flows[0]).toMatchObject({
      src: '203.1.113.189',
      srcPort: 12036,
      dst: '198.51.100.7',
      dstPort: 80,
      protocol: 'tcp',
      packets: 200,
      bytes: 12800,
    });
  });

  it('maps a ban to an inbound ddos-fan-in detection keyed by the target, valid against the shared schema', () => {
    const ev = fastNetMonToDetection(
      { ip: '198.51.100.7', direction: 'incoming', pps: 19577, action: 'ban', details: fixture('fastnetmon-ban.txt') },
      lookup,
      now,
    );
    expect(ev).not.toBeNull();
    const parsed = DetectionEvent.parse(ev);
    expect(parsed).toMatchObject({
      detector: 'fastnetmon',
      kind: 'ddos-fan-in',
      direction: 'inbound',
      key: '198.51.100.7',
    });
    expect(parsed.target).toEqual({ ip: '198.51.100.7', asn: 64500, asName: 'US', customer: 'Residential pool A' });
    expect(parsed.rate).toEqual({ pps: 19577, bps: 10e6 });
    expect(parsed.sources.distinct).toBe(21);
    expect(parsed.sources.top[0]).toMatchObject({ packets: 200, bytes: 12800, country: 'DE' });
    expect(parsed.evidence.ports).toEqual([{ port: 80, share: 1 }]);
    expect(parsed.evidence.protocols).toEqual([{ proto: 6, share: 1 }]);
    expect(parsed.evidence.meanPacketSize).toBe(64);
    // "Total incoming flows: 177 flows per second": counted as flows in the rollups.
    expect(parsed.evidence.flowsPerSecond).toBe(177);
    expect(parsed.sources.asns.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 6);
  });

  it('returns no detection for unban', () => {
    expect(
      fastNetMonToDetection(
        { ip: '198.51.100.7', direction: 'incoming', pps: 0, action: 'unban', details: '' },
        lookup,
        now,
      ),
    ).toBeNull();
  });

  it('tells amplification and single-source floods apart from fan-in', () => {
    const amp = Array.from({ length: 10 }, (_, i) => ({
      src: `203.0.113.${i}`,
      srcPort: 123,
      dst: '198.51.100.7',
      dstPort: 4444,
      protocol: 'udp',
      packets: 10,
      bytes: 4680,
    }));
    expect(classifyInbound({ totals: {}, meanPacketSize: { incoming: 468 }, flows: amp, protocol: 'udp' }, amp)).toBe(
      'amplification',
    );
    const one = Array.from({ length: 10 }, (_, i) => ({
      src: '203.0.113.1',
      srcPort: 1000 + i,
      dst: '198.51.100.7',
      dstPort: 443,
      protocol: 'udp',
      packets: 10,
      bytes: 14000,
    }));
    expect(classifyInbound({ totals: {}, meanPacketSize: { incoming: 1400 }, flows: one, protocol: 'udp' }, one)).toBe(
      'volumetric',
    );
  });

  it('maps an outgoing attack converging on one victim to ddos-participation keyed by the victim', () => {
    const lines = Array.from(
      { length: 5 },
      (_, i) =>
        `2026-11-24 21:33:21.1 198.51.100.23:${4000 + i} > 192.0.2.99:53 protocol: udp flags: - frag: 0  packets: 50 size: 3000 bytes ttl: 64 sample ratio: 1`,
    );
    const ev = fastNetMonToDetection(
      {
        ip: '198.51.100.23',
        direction: 'outgoing',
        pps: 5000,
        action: 'attack_details',
        details: `IP: 198.51.100.23\nAttack direction: outgoing\nAttack protocol: udp\n${lines.join('\n')}\n`,
      },
      lookup,
      now,
    );
    expect(ev).toMatchObject({
      kind: 'ddos-participation',
      direction: 'outbound',
      key: '192.0.2.99',
      target: { ip: '192.0.2.99' },
    });
    expect(ev!.sources.top).toEqual([
      expect.objectContaining({ ip: '198.51.100.23', packets: 250, bytes: 15000, customer: 'Residential pool A' }),
    ]);
  });
});

describe('parseFastNetMonDetails number hygiene', () => {
  it('skips malformed numbers instead of producing NaN rates', () => {
    const d = parseFastNetMonDetails(
      'Peak attack power: 1.2.3\nInitial attack power: .\nAverage packet size for incoming traffic: 64',
    );
    expect(d.peakPps).toBeUndefined();
    expect(d.initialPps).toBeUndefined();
    expect(d.meanPacketSize.incoming).toBe(64);
  });
});
