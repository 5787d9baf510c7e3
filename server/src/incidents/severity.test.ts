import type { Incident } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { severityOf } from './severity.js';

type Inc = Pick<Incident, 'kind' | 'direction' | 'peak' | 'sources' | 'evidence'>;

function inbound(kind: Incident['kind'], pps: number, bps: number, sources: number, evidence = {}): Inc {
  return {
    kind,
    direction: 'inbound',
    peak: { pps, bps },
    sources: { distinct: sources, top: [], asns: [] },
    evidence,
  };
}

describe('inbound severity', () => {
  it('a few thousand reflectors at a few hundred pps and a few Mbit/s is low', () => {
    expect(severityOf(inbound('amplification', 400, 1.5e6, 2000))).toBe('low');
    expect(severityOf(inbound('amplification', 400, 1.5e6, 2000, { baselineBps: 20_000 }))).toBe('low');
  });

  it('grows with absolute volume', () => {
    expect(severityOf(inbound('amplification', 20_000, 150e6, 2000))).toBe('medium');
    expect(severityOf(inbound('amplification', 200_000, 2e9, 2000))).toBe('high');
    expect(severityOf(inbound('amplification', 2e6, 20e9, 2000))).toBe('critical');
  });

  it('grows with the share of the customer link it fills (capacity_bps)', () => {
    const at = (capacityBps: number) => severityOf(inbound('amplification', 1000, 5e6, 2000, { capacityBps }));
    expect(at(100e6)).toBe('low'); // 5 %
    expect(at(20e6)).toBe('medium'); // 25 %
    expect(at(8e6)).toBe('high'); // 62 %
    expect(at(5e6)).toBe('critical'); // 100 %
  });

  it('grows with volume against a baseline above the floor', () => {
    expect(severityOf(inbound('volumetric', 5000, 60e6, 20, { baselineBps: 5e6 }))).toBe('low'); // 6× the floor
    expect(severityOf(inbound('volumetric', 5000, 60e6, 20, { baselineBps: 0.5e6 }))).toBe('low'); // floored at 10 Mbit/s
    expect(severityOf(inbound('volumetric', 50_000, 600e6, 20, { baselineBps: 5e6 }))).toBe('medium');
    expect(severityOf(inbound('volumetric', 50_000, 600e6, 20, { baselineBps: 10e6, capacityBps: 1e9 }))).toBe('high');
  });

  it('counts sources for floods, not for reflection', () => {
    expect(severityOf(inbound('ddos-fan-in', 10_000, 5e6, 12_000))).toBe('high');
    expect(severityOf(inbound('amplification', 10_000, 5e6, 12_000))).toBe('low');
  });
});
