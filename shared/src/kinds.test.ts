import { describe, expect, it } from 'vitest';
import { IncidentKind } from './incident.js';
import { KIND_POLICY, kindsFacing, mergesByCustomer, mergesByTarget, moreSpecific } from './kinds.js';

describe('per-kind policy', () => {
  it('has a distinct label and colour for every kind', () => {
    const kinds = IncidentKind.options;
    expect(new Set(kinds.map((k) => KIND_POLICY[k].label)).size).toBe(kinds.length);
    expect(new Set(kinds.map((k) => KIND_POLICY[k].rgb.join(','))).size).toBe(kinds.length);
  });

  it('merges inbound attacks per target and outbound spam/scans per customer', () => {
    expect(IncidentKind.options.filter((k) => mergesByTarget(k, 'inbound'))).toEqual([
      'ddos-fan-in',
      'volumetric',
      'amplification',
      'external',
    ]);
    expect(mergesByTarget('external', 'outbound')).toBe(false);
    expect(IncidentKind.options.filter((k) => mergesByCustomer(k, 'outbound'))).toEqual(['spam-bot', 'scanner']);
    expect(mergesByCustomer('spam-bot', 'inbound')).toBe(false);
  });

  it('ranks target verdicts amplification > fan-in > volumetric > external, others unranked', () => {
    expect(moreSpecific('amplification', 'ddos-fan-in')).toBe(true);
    expect(moreSpecific('ddos-fan-in', 'volumetric')).toBe(true);
    expect(moreSpecific('volumetric', 'external')).toBe(true);
    expect(moreSpecific('external', 'volumetric')).toBe(false);
    expect(moreSpecific('scanner', 'external')).toBe(false);
    expect(moreSpecific('amplification', 'spam-bot')).toBe(false);
  });

  it('lists the outbound-only kinds', () => {
    expect(kindsFacing('outbound')).toEqual(['spam-bot', 'scanner', 'ddos-participation']);
    expect(kindsFacing('inbound')).toEqual(['ddos-fan-in', 'volumetric', 'amplification']);
  });
});
