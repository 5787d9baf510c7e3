import type { Incident } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { makeIncident } from '../../test-fixtures.js';
import { DEFAULT_QUERY, matches, parseQuery, queryToParams, sortIncidents } from './incident-table-model.js';

// Richer than the default fixture: the free-text filter searches customer, ASN and upstream.
const inc = (id: string, over: Partial<Incident> = {}): Incident =>
  makeIncident(id, {
    target: { ip: '198.51.100.10', customer: 'Residential pool A' },
    sources: { distinct: 10, top: [], asns: [{ asn: 4134, name: 'Chinanet', share: 0.5 }] },
    upstreams: [{ name: 'Transit A', share: 1 }],
    ...over,
  });

describe('incident table query', () => {
  it('round-trips through the URL and drops defaults', () => {
    const q = { ...DEFAULT_QUERY, kind: 'scanner' as const, q: 'pool', sort: 'peak' as const, desc: false };
    const p = queryToParams(q);
    expect(p.toString()).toBe('kind=scanner&q=pool&sort=peak&dir=asc');
    expect(parseQuery(p)).toEqual(q);
    expect(queryToParams(DEFAULT_QUERY).toString()).toBe('');
  });

  it('ignores unknown values instead of failing', () => {
    expect(parseQuery(new URLSearchParams('kind=bogus&status=nope&sort=evil'))).toEqual(DEFAULT_QUERY);
  });

  it('filters by kind, direction, status and free text', () => {
    const a = inc('a');
    const b = inc('b', { kind: 'scanner', direction: 'outbound', status: 'resolved', target: undefined });
    expect(matches(a, DEFAULT_QUERY)).toBe(true);
    expect(matches(b, DEFAULT_QUERY)).toBe(false); // resolved is not active
    expect(matches(b, { ...DEFAULT_QUERY, status: 'all', kind: 'scanner' })).toBe(true);
    expect(matches(a, { ...DEFAULT_QUERY, direction: 'outbound' })).toBe(false);
    expect(matches(a, { ...DEFAULT_QUERY, q: 'chinanet' })).toBe(true);
    expect(matches(a, { ...DEFAULT_QUERY, q: 'transit a' })).toBe(true);
    expect(matches(a, { ...DEFAULT_QUERY, q: '203.0.113' })).toBe(false);
  });

  it('sorts stably: equal keys keep first-seen order whatever the input order', () => {
    const x = inc('x', { firstSeen: '2026-11-24T10:00:01.000Z', sources: { distinct: 5, top: [], asns: [] } });
    const y = inc('y', { firstSeen: '2026-11-24T10:00:02.000Z', sources: { distinct: 5, top: [], asns: [] } });
    const z = inc('z', { firstSeen: '2026-11-24T10:00:03.000Z', sources: { distinct: 50, top: [], asns: [] } });
    const q = { ...DEFAULT_QUERY, sort: 'sources' as const, desc: true };
    expect(sortIncidents([y, x, z], q).map((i) => i.id)).toEqual(['z', 'x', 'y']);
    expect(sortIncidents([x, z, y], q).map((i) => i.id)).toEqual(['z', 'x', 'y']);
  });
});
