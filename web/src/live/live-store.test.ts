import type { Summary } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { makeIncident } from '../test-fixtures.js';
import { activeCounts, createLiveStore, freshness, hasSnapshot, STALE_AFTER_MS } from './live-store.js';

const summary = (active: number): Summary => ({
  at: '2026-11-24T10:00:00.000Z',
  flowsPerSecond: 100,
  packetsPerSecond: 1000,
  bitsPerSecond: 1e6,
  activeIncidents: active,
  byKind: {
    'ddos-fan-in': active,
    volumetric: 0,
    amplification: 0,
    'spam-bot': 0,
    scanner: 0,
    'ddos-participation': 0,
    external: 0,
  },
  inbound: active,
  outbound: 0,
  exporters: 1,
});

const incident = makeIncident;

describe('live store', () => {
  it('puts a reopened incident back at the top of the ticker, marked reopened (not new)', () => {
    const s = createLiveStore();
    s.getState().applySnapshot({ summary: summary(1), incidents: [incident('a'), incident('b')], rev: 1 }, 1000);
    s.getState().applyResolved({ rev: 2, id: 'a', at: '2026-11-24T10:01:00.000Z' }, 1100);
    s.getState().applyUpsert({ rev: 3, incident: incident('c') }, 1200);
    expect(s.getState().ticker.map((t) => [t.id, t.reopened ?? false])[0]).toEqual(['c', false]);
    s.getState().applyUpsert({ rev: 4, incident: { ...incident('a'), status: 'open' } }, 1300);
    const t = s.getState().ticker;
    expect(t[0]).toMatchObject({ id: 'a', reopened: true });
    expect(t.filter((x) => x.id === 'a')).toHaveLength(1);
    // A refresh of an open incident does not move it.
    s.getState().applyUpsert({ rev: 5, incident: { ...incident('c'), status: 'open' } }, 1400);
    expect(s.getState().ticker[0]!.id).toBe('a');
  });

  it('a snapshot replaces everything, including incidents the server no longer lists', () => {
    const s = createLiveStore();
    s.getState().applySnapshot({ summary: summary(2), incidents: [incident('a'), incident('b')], rev: 5 }, 1000);
    s.getState().applySnapshot({ summary: summary(1), incidents: [incident('b')], rev: 9 }, 2000);
    expect(Object.keys(s.getState().incidents)).toEqual(['b']);
    expect(s.getState().rev).toBe(9);
    expect(s.getState().summary?.activeIncidents).toBe(1);
    expect(s.getState().lastDataAt).toBe(2000);
  });

  it('drops deltas already contained in the snapshot, applies newer ones', () => {
    const s = createLiveStore();
    s.getState().applySnapshot({
      summary: summary(1),
      incidents: [incident('a', { peak: { pps: 5, bps: 40 } })],
      rev: 10,
    });
    s.getState().applyUpsert({ rev: 10, incident: incident('a', { peak: { pps: 1, bps: 8 } }) });
    expect(s.getState().incidents.a!.peak.pps).toBe(5);
    s.getState().applyUpsert({ rev: 11, incident: incident('a', { peak: { pps: 7, bps: 56 } }) });
    expect(s.getState().incidents.a!.peak.pps).toBe(7);
    s.getState().applyResolved({ rev: 12, id: 'a', at: '2026-11-24T10:05:00.000Z' });
    expect(s.getState().incidents.a!.status).toBe('resolved');
    expect(s.getState().incidents.a!.lastSeen).toBe('2026-11-24T10:05:00.000Z');
    s.getState().applyResolved({ rev: 12, id: 'a', at: '2026-11-24T11:00:00.000Z' });
    expect(s.getState().incidents.a!.lastSeen).toBe('2026-11-24T10:05:00.000Z');
  });

  it('puts new incidents at the head of the ticker, once', () => {
    const s = createLiveStore();
    s.getState().applySnapshot({ summary: summary(0), incidents: [], rev: 1 });
    s.getState().applyUpsert({ rev: 2, incident: incident('x') });
    s.getState().applyUpsert({ rev: 3, incident: incident('y') });
    s.getState().applyUpsert({ rev: 4, incident: incident('x', { peak: { pps: 9, bps: 72 } }) });
    expect(s.getState().ticker.map((t) => t.id)).toEqual(['y', 'x']);
  });
});

describe('freshness', () => {
  it('is live while data flows, STALE after 10 s of silence or on disconnect', () => {
    expect(freshness({ connection: 'connecting', lastDataAt: undefined }, 0)).toBe('connecting');
    expect(freshness({ connection: 'live', lastDataAt: 1000 }, 1000 + STALE_AFTER_MS)).toBe('live');
    expect(freshness({ connection: 'live', lastDataAt: 1000 }, 1001 + STALE_AFTER_MS)).toBe('STALE');
    expect(freshness({ connection: 'offline', lastDataAt: 1000 }, 1500)).toBe('STALE');
    expect(freshness({ connection: 'offline', lastDataAt: undefined }, 1500)).toBe('offline');
  });
});

describe('active counts', () => {
  it("count the store's unresolved incidents, ahead of a summary that still says 0", () => {
    const store = createLiveStore();
    expect(hasSnapshot(store.getState())).toBe(false);
    store.getState().applySnapshot({ summary: summary(0), incidents: [], rev: 1 }, 1000);
    expect(hasSnapshot(store.getState())).toBe(true);
    store.getState().applyUpsert({ rev: 2, incident: incident('a') }, 1100);
    store
      .getState()
      .applyUpsert({ rev: 3, incident: incident('b', { kind: 'spam-bot', direction: 'outbound' }) }, 1200);
    store.getState().applyUpsert({ rev: 4, incident: incident('c', { kind: 'scanner', direction: 'outbound' }) }, 1300);
    store.getState().applyResolved({ rev: 5, id: 'c', at: '2026-11-24T10:01:00.000Z' }, 1400);
    // The summary has not caught up yet: the counts must not wait for it.
    expect(store.getState().summary?.activeIncidents).toBe(0);
    expect(activeCounts(store.getState().incidents)).toEqual({
      active: 2,
      inbound: 1,
      outbound: 1,
      byKind: { 'ddos-fan-in': 1, 'spam-bot': 1 },
    });
  });
});
