/**
 * The IncidentManager contract (incidents/types.ts), run against every implementation: the real
 * manager (incidents/manager.ts) and the fake the API and realtime tests use
 * (testing/fake-context.ts), so a test that passes against the fake says something about the
 * product. What the suite holds both to: one incident per kind + key while it is live, a new
 * one for another key, events for every change, operator status and notes read back through
 * list/get/peek/active, unknown ids answered `undefined`, the quiet period resolving it.
 */
import type { DetectionEvent, Incident } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import type { IncidentManager } from '../incidents/types.js';

export interface ManagerUnderTest {
  m: IncidentManager;
  /** Moves the manager's clock (the fake reads event times and tick's argument only). */
  setNow(ms: number): void;
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const CONFORMANCE_QUIET_MS = 30_000;

function fanIn(atMs: number, key = '198.51.100.10'): DetectionEvent {
  return {
    detector: 'fan-in',
    kind: 'ddos-fan-in',
    direction: 'inbound',
    at: new Date(atMs).toISOString(),
    key,
    target: { ip: key, asn: 64500, asName: 'our network (AS64500)', customer: 'Residential' },
    sources: {
      distinct: 3000,
      top: [{ ip: '73.1.2.3', asn: 7922, asName: 'Comcast', country: 'US', packets: 1000, bytes: 64_000 }],
      asns: [{ asn: 7922, name: 'Comcast', share: 1 }],
    },
    upstreams: [{ name: 'Transit A', share: 1 }],
    rate: { pps: 300_000, bps: 150_000_000 },
    evidence: { meanPacketSize: 64, summary: 'fan-in' },
  };
}

/** `make` gets a fresh manager with a quiet period of CONFORMANCE_QUIET_MS and its clock at `startMs`. */
export function incidentManagerConformance(name: string, make: (startMs: number) => ManagerUnderTest): void {
  describe(`IncidentManager conformance: ${name}`, () => {
    /** Ingest `events` at `atMs` and tick there, collecting what was emitted. */
    function run(t: ManagerUnderTest, atMs: number, events: DetectionEvent[]) {
      t.setNow(atMs);
      for (const e of events) t.m.ingest(e);
      t.m.tick(atMs);
    }
    function listen(m: IncidentManager) {
      const upserts: Incident[] = [];
      const resolved: Incident[] = [];
      m.on('upsert', (i) => upserts.push(i));
      m.on('resolved', (i) => resolved.push(i));
      return { upserts, resolved };
    }

    it('opens one incident for a detection, readable through list, active, get and peek', async () => {
      const t = make(T0);
      const seen = listen(t.m);
      run(t, T0, [fanIn(T0)]);
      expect(seen.upserts.length).toBeGreaterThan(0);
      const inc = seen.upserts.at(-1)!;
      expect(inc).toMatchObject({ kind: 'ddos-fan-in', direction: 'inbound', status: 'open' });
      expect(inc.target?.ip).toBe('198.51.100.10');
      expect(t.m.active().map((i) => i.id)).toEqual([inc.id]);
      expect((await t.m.list({ limit: 10 })).map((i) => i.id)).toEqual([inc.id]);
      expect((await t.m.get(inc.id))?.id).toBe(inc.id);
      expect(t.m.peek(inc.id)?.graph.nodes.length).toBeGreaterThan(0);
    });

    it('merges repeated detections of one kind and key into the same incident; another key is another', async () => {
      const t = make(T0);
      const seen = listen(t.m);
      run(t, T0, [fanIn(T0)]);
      run(t, T0 + 1000, [fanIn(T0 + 1000)]);
      run(t, T0 + 2000, [fanIn(T0 + 2000)]);
      const ids = new Set(seen.upserts.map((i) => i.id));
      expect(ids.size).toBe(1);
      expect(t.m.active()).toHaveLength(1);
      expect(Date.parse(t.m.active()[0].lastSeen)).toBe(T0 + 2000);
      run(t, T0 + 3000, [fanIn(T0 + 3000, '198.51.100.11')]);
      expect(t.m.active()).toHaveLength(2);
      expect(new Set(seen.upserts.map((i) => i.id)).size).toBe(2);
    });

    it('takes operator status and notes, emits them and reads them back', async () => {
      const t = make(T0);
      run(t, T0, [fanIn(T0)]);
      const id = t.m.active()[0].id;
      const seen = listen(t.m);
      const acked = await t.m.setStatus(id, 'acknowledged', 'alice', 'customer called');
      expect(acked).toMatchObject({ id, status: 'acknowledged' });
      expect(acked!.notes.map((n) => [n.by, n.text])).toEqual([['alice', 'customer called']]);
      expect(seen.upserts.at(-1)).toMatchObject({ id, status: 'acknowledged' });
      const noted = await t.m.addNote(id, 'bob', 'blackholed at the edge');
      expect(noted!.notes.map((n) => n.text)).toEqual(['customer called', 'blackholed at the edge']);
      expect((await t.m.get(id))?.status).toBe('acknowledged');
      expect((await t.m.list({ status: 'acknowledged', limit: 10 })).map((i) => i.id)).toEqual([id]);
      expect(await t.m.list({ status: 'open', limit: 10 })).toEqual([]);
      // Still live: the next detection keeps the operator's status.
      run(t, T0 + 1000, [fanIn(T0 + 1000)]);
      expect(t.m.active().map((i) => [i.id, i.status])).toEqual([[id, 'acknowledged']]);
    });

    it('answers undefined for an id it does not know', async () => {
      const t = make(T0);
      expect(await t.m.get('inc-unknown')).toBeUndefined();
      expect(t.m.peek('inc-unknown')).toBeUndefined();
      expect(await t.m.setStatus('inc-unknown', 'acknowledged', 'alice')).toBeUndefined();
      expect(await t.m.addNote('inc-unknown', 'alice', 'x')).toBeUndefined();
    });

    it('resolves an incident that has been quiet for the quiet period, and says so', async () => {
      const t = make(T0);
      const seen = listen(t.m);
      run(t, T0, [fanIn(T0)]);
      const id = t.m.active()[0].id;
      run(t, T0 + CONFORMANCE_QUIET_MS / 2, []);
      expect(t.m.active()).toHaveLength(1);
      run(t, T0 + CONFORMANCE_QUIET_MS + 2000, []);
      // The fake's resolution goes through its async setStatus.
      await new Promise((r) => setTimeout(r, 0));
      expect(t.m.active()).toEqual([]);
      expect(seen.resolved.map((i) => i.id)).toEqual([id]);
      expect(seen.resolved[0].status).toBe('resolved');
      expect((await t.m.get(id))?.status).toBe('resolved');
    });

    it('stops calling a listener once it is removed', () => {
      const t = make(T0);
      const calls: string[] = [];
      const l = (i: Incident) => calls.push(i.id);
      t.m.on('upsert', l);
      run(t, T0, [fanIn(T0)]);
      const n = calls.length;
      expect(n).toBeGreaterThan(0);
      t.m.off('upsert', l);
      run(t, T0 + 1000, [fanIn(T0 + 1000, '198.51.100.12')]);
      expect(calls.length).toBe(n);
    });
  });
}
