import type { DetectionEvent, Incident } from '@downstream/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Incidents } from './manager.js';
import { MemoryStore } from './memory-store.js';
import { mergeKeyOfIncident } from './merge-key.js';
import { incidentHarness } from '../testing/incident-harness.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function setup(detect: Record<string, unknown> = {}, store = new MemoryStore()) {
  return incidentHarness({
    detect: { incidents: { quietSeconds: 30, reopenSeconds: 600 }, ...detect },
    store,
    startMs: T0,
  });
}

function fanIn(atMs: number, over: Partial<DetectionEvent> = {}): DetectionEvent {
  return {
    detector: 'fan-in',
    kind: 'ddos-fan-in',
    direction: 'inbound',
    at: new Date(atMs).toISOString(),
    key: '198.51.100.10',
    target: { ip: '198.51.100.10', asn: 64500, asName: 'our network (AS64500)', customer: 'Residential' },
    sources: {
      distinct: 3000,
      top: [
        { ip: '73.1.2.3', asn: 7922, asName: 'Comcast', country: 'US', packets: 1000, bytes: 64_000 },
        { ip: '14.160.0.9', asn: 45899, asName: 'VNPT', country: 'VN', packets: 500, bytes: 32_000 },
      ],
      asns: [
        { asn: 7922, name: 'Comcast', share: 0.6 },
        { asn: 45899, name: 'VNPT', share: 0.4 },
      ],
    },
    upstreams: [
      { name: 'Transit A', share: 0.7 },
      { name: 'IX', share: 0.3 },
    ],
    rate: { pps: 300_000, bps: 150_000_000 },
    evidence: { meanPacketSize: 64, summary: 'fan-in' },
    ...over,
  };
}

function spam(atMs: number, endpoint: string, customer = 'Residential'): DetectionEvent {
  return {
    detector: 'spam-bot',
    kind: 'spam-bot',
    direction: 'outbound',
    at: new Date(atMs).toISOString(),
    key: endpoint,
    sources: {
      distinct: 1,
      top: [{ ip: endpoint, asn: 64500, asName: 'Us', country: 'NL', customer, packets: 100, bytes: 30_000 }],
      asns: [{ asn: 64500, name: 'Us', share: 1 }],
    },
    upstreams: [{ name: 'Residential aggregation', share: 1 }],
    rate: { pps: 100, bps: 240_000 },
    evidence: { distinctTargets: 300, summary: 'spam' },
  };
}

/** A feed's report on the fan-in target (feeds mark theirs with `evidence.feed`). */
function feedOn(atMs: number, kind: DetectionEvent['kind'], detector = 'fastnetmon'): DetectionEvent {
  return {
    detector,
    kind,
    direction: 'inbound',
    at: new Date(atMs).toISOString(),
    key: '198.51.100.10',
    target: { ip: '198.51.100.10', customer: 'Residential' },
    sources: {
      distinct: 20,
      top: [{ ip: '192.0.2.77', asn: 64496, asName: 'Sample', country: 'ZZ', packets: 5, bytes: 320 }],
      asns: [{ asn: 64496, name: 'Sample', share: 1 }],
    },
    upstreams: [],
    rate: { pps: 250_000, bps: 120_000_000 },
    evidence: { summary: `${detector} says ${kind}`, feed: detector },
  };
}

/** Feed one event a second for `seconds`, ticking the manager like the pipeline does. */
function play(s: ReturnType<typeof setup>, seconds: number, make: (at: number) => DetectionEvent[]) {
  for (let k = 0; k < seconds; k++) {
    for (const e of make(s.clock.now)) s.m.ingest(e);
    s.m.tick(s.clock.now);
    s.clock.now += 1000;
  }
}

describe('incident manager', () => {
  it('opens one incident per kind + target, merges detections and persists it', async () => {
    const s = setup();
    play(s, 5, (at) => [fanIn(at, { rate: { pps: 100_000 * (1 + (((at - T0) / 1000) % 3)), bps: 1e8 } })]);
    const list = await s.m.list({ limit: 10 });
    expect(list).toHaveLength(1);
    const inc = list[0];
    expect(inc).toMatchObject({
      kind: 'ddos-fan-in',
      direction: 'inbound',
      status: 'open',
      target: { ip: '198.51.100.10' },
      detectors: ['fan-in'],
    });
    expect(inc.peak.pps).toBe(300_000);
    expect(inc.firstSeen).toBe(new Date(T0).toISOString());
    expect(inc.lastSeen).toBe(new Date(T0 + 4000).toISOString());
    expect(s.upserts).toHaveLength(5);
    expect((await s.store.getIncident(inc.id))?.kind).toBe('ddos-fan-in');
    const d = (await s.m.get(inc.id))!;
    expect(d.timeline.map((p) => p.pps)).toEqual([100_000, 200_000, 300_000, 100_000, 200_000]);
    expect(d.graph.nodes.map((n) => n.ip)).toEqual(['73.1.2.3', '14.160.0.9']);
    expect(s.m.series(inc.id)).toHaveLength(5);
    expect(s.m.active()).toHaveLength(1);
  });

  it('resolves after the quiet period, re-opens the same incident if it returns, and starts a new one much later', async () => {
    const s = setup();
    play(s, 3, (at) => [fanIn(at)]);
    const id = (await s.m.list({ limit: 10 }))[0].id;
    play(s, 29, () => []);
    expect(s.resolved).toHaveLength(0);
    play(s, 2, () => []);
    expect(s.resolved.map((i) => i.id)).toEqual([id]);
    expect((await s.m.get(id))?.status).toBe('resolved');
    expect((await s.store.getIncident(id))?.status).toBe('resolved');
    expect(s.m.active()).toEqual([]);

    play(s, 2, (at) => [fanIn(at)]);
    expect((await s.m.get(id))?.status).toBe('open');
    expect((await s.store.listAudit(id)).map((a) => a.action)).toContain('reopen');

    play(s, 40, () => []);
    s.clock.now += 700_000;
    play(s, 1, (at) => [fanIn(at)]);
    const all = await s.m.list({ limit: 10 });
    expect(all).toHaveLength(2);
    expect(all[0].id).not.toBe(id);
  });

  it('merges spam-bot endpoints of one customer into one campaign listing every endpoint', async () => {
    const s = setup();
    const bots = ['198.51.100.200', '198.51.100.201', '198.51.100.202', '198.51.100.203'];
    play(s, 3, (at) => bots.map((b) => spam(at, b)));
    // One event per endpoint per second, but at most two upserts a second per incident (the first at once, the rest folded).
    expect(s.upserts).toHaveLength(6);
    expect(s.upserts.at(-1)!.sources.top).toHaveLength(4);
    play(s, 1, (at) => [spam(at, '203.0.113.9', 'Business')]);
    const list = await s.m.list({ kind: 'spam-bot', limit: 10 });
    expect(list).toHaveLength(2);
    const campaign = list.find((i) => i.sources.top.length === 4)!;
    expect(campaign.sources.distinct).toBe(4);
    expect(campaign.sources.top.map((t) => t.ip).sort()).toEqual(bots);
    expect(campaign.target).toBeUndefined();
    expect(campaign.evidence.customer).toBe('Residential');
    expect(campaign.severity).toBe('medium');
    // Rates of one second add up over the campaign's endpoints.
    expect(campaign.peak.pps).toBe(400);
  });

  it('grades severity by volume and spread', async () => {
    const s = setup();
    play(s, 1, (at) => [
      fanIn(at, {
        key: '198.51.100.1',
        target: { ip: '198.51.100.1' },
        rate: { pps: 20_000, bps: 10e6 },
        sources: { distinct: 600, top: [], asns: [] },
      }),
      fanIn(at, { key: '198.51.100.2', target: { ip: '198.51.100.2' }, rate: { pps: 2e6, bps: 2e9 } }),
      fanIn(at, { key: '198.51.100.3', target: { ip: '198.51.100.3' }, rate: { pps: 6e6, bps: 3e9 } }),
    ]);
    const sev = Object.fromEntries((await s.m.list({ limit: 10 })).map((i) => [i.target!.ip, i.severity]));
    expect(sev).toEqual({ '198.51.100.1': 'low', '198.51.100.2': 'high', '198.51.100.3': 'critical' });
  });

  it('records operator actions with audit entries and notes; a manual resolve is not undone by the detector tail', async () => {
    const s = setup();
    play(s, 2, (at) => [fanIn(at)]);
    const id = (await s.m.list({ limit: 1 }))[0].id;
    const acked = (await s.m.setStatus(id, 'acknowledged', 'ops', 'looking at it'))!;
    expect(acked.status).toBe('acknowledged');
    expect(acked.notes).toEqual([{ at: new Date(s.clock.now).toISOString(), by: 'ops', text: 'looking at it' }]);
    await s.m.addNote(id, 'ops', 'upstream asked to filter');
    expect((await s.m.get(id))!.notes.map((n) => n.text)).toEqual(['looking at it', 'upstream asked to filter']);
    expect((await s.store.getIncident(id))!.notes).toHaveLength(2);
    // Detections keep the operator's status.
    play(s, 1, (at) => [fanIn(at)]);
    expect((await s.m.get(id))!.status).toBe('acknowledged');

    await s.m.setStatus(id, 'resolved', 'ops');
    expect(s.resolved.map((i) => i.id)).toEqual([id]);
    play(s, 5, (at) => [fanIn(at)]); // the detector's tail
    expect((await s.m.get(id))!.status).toBe('resolved');
    s.clock.now += 20_000;
    play(s, 1, (at) => [fanIn(at)]); // it really is back
    expect((await s.m.get(id))!.status).toBe('open');
    expect((await s.store.listAudit(id)).map((a) => [a.action, a.by])).toEqual([
      ['ack', 'ops'],
      ['note', 'ops'],
      ['resolve', 'ops'],
      ['reopen', 'system'],
    ]);
    expect(await s.m.setStatus('nope', 'acknowledged', 'ops')).toBeUndefined();
    expect(await s.m.addNote('nope', 'ops', 'x')).toBeUndefined();
  });

  it('detection never waits on the store: with every write hanging, it goes on; an operator action waits', async () => {
    class HangingStore extends MemoryStore {
      pending = 0;
      override upsertIncident(): Promise<void> {
        this.pending++;
        return new Promise(() => undefined);
      }
      override appendAudit(): Promise<void> {
        this.pending++;
        return new Promise(() => undefined);
      }
    }
    const store = new HangingStore();
    const s = setup({}, store);
    await s.m.ready;
    play(s, 40, (at) => (at < T0 + 5000 ? [fanIn(at)] : [])); // opens, refreshes, resolves after the quiet period
    expect(s.resolved).toHaveLength(1);
    expect(store.pending).toBeGreaterThan(1);
    // Reads of what is in memory do not wait either.
    expect((await s.m.get(s.resolved[0].id))?.status).toBe('resolved');
    // An operator's note is answered only once the store has it: here, never.
    const note = s.m.addNote(s.resolved[0].id, 'ops', 'x');
    const raced = await Promise.race([
      note.then(() => 'answered'),
      new Promise((r) => setTimeout(() => r('waiting'), 50)),
    ]);
    expect(raced).toBe('waiting');
  });

  it('a store that refuses writes: detection is unaffected and it is logged; the operator gets the error', async () => {
    class FailingStore extends MemoryStore {
      override async upsertIncident(): Promise<void> {
        throw new Error('database down');
      }
      override async appendAudit(): Promise<void> {
        throw new Error('database down');
      }
    }
    const s = setup({}, new FailingStore());
    play(s, 3, (at) => [fanIn(at)]);
    const [inc] = s.m.active();
    expect(inc).toBeDefined();
    await expect(s.m.addNote(inc.id, 'ops', 'called them')).rejects.toThrow('database down');
    await expect(s.m.setStatus(inc.id, 'acknowledged', 'ops')).rejects.toThrow('database down');
    // Nothing changed: the refused action left no trace in memory either.
    expect((await s.m.get(inc.id))?.notes).toEqual([]);
    expect((await s.m.get(inc.id))?.status).toBe('open');
  });

  it('survives a restart: open incidents come back from the store and keep merging', async () => {
    const first = setup();
    play(first, 3, (at) => [fanIn(at)]);
    const id = (await first.m.list({ limit: 1 }))[0].id;
    await first.m.setStatus(id, 'acknowledged', 'ops');
    const second = setup({}, first.store);
    await second.m.ready;
    second.clock.now = first.clock.now + 5000;
    expect(second.m.active().map((i) => [i.id, i.status])).toEqual([[id, 'acknowledged']]);
    play(second, 1, (at) => [fanIn(at)]);
    expect((await second.m.list({ limit: 10 })).map((i) => i.id)).toEqual([id]);
    // …and resolves after its quiet period like any other.
    play(second, 31, () => []);
    expect(second.resolved.map((i) => i.id)).toEqual([id]);
  });

  it('writes per-minute abuse rollups by ASN, upstream, customer and endpoint', async () => {
    const s = setup();
    play(s, 60, (at) => [fanIn(at)]); // one full minute at 300 kpps
    play(s, 1, () => []); // the next minute closes it
    const rows = s.store.summedRollups().filter((r) => r.minute === T0);
    const get = (dimension: string, key: string) => rows.find((r) => r.dimension === dimension && r.key === key);
    expect(get('endpoint', '198.51.100.10')?.packets).toBe(60 * 300_000);
    expect(get('customer', 'Residential')?.bytes).toBe((60 * 150_000_000) / 8);
    expect(get('asn', '7922')?.packets).toBe(0.6 * 60 * 300_000);
    expect(get('upstream', 'IX')?.packets).toBe(0.3 * 60 * 300_000);
    expect(rows.every((r) => r.kind === 'ddos-fan-in')).toBe(true);
  });

  it('keeps the earliest onset any detection stated (time to detect = firstSeen − onset)', async () => {
    const s = setup();
    const iso = (ms: number) => new Date(ms).toISOString();
    const withOnset = (at: number, onset?: number) =>
      fanIn(at, { evidence: { summary: 'fan-in', ...(onset !== undefined ? { onset: iso(onset) } : {}) } });
    play(s, 1, (at) => [withOnset(at, T0 - 3000)]);
    play(s, 1, (at) => [withOnset(at, T0 - 1000)]); // a later, narrower view does not move it forward
    play(s, 1, (at) => [withOnset(at)]); // nor does a detection that states none
    const id = (await s.m.list({ limit: 1 }))[0].id;
    expect((await s.m.get(id))!.evidence.onset).toBe(iso(T0 - 3000));
    play(s, 1, (at) => [withOnset(at, T0 - 7000), feedOn(at, 'volumetric')]);
    expect((await s.m.get(id))!.evidence.onset).toBe(iso(T0 - 7000));
    // Campaigns: the earliest of every endpoint's onset.
    play(s, 1, (at) => [
      { ...spam(at, '198.51.100.200'), evidence: { summary: 'spam', onset: iso(at - 5000) } },
      { ...spam(at, '198.51.100.201'), evidence: { summary: 'spam', onset: iso(at - 9000) } },
    ]);
    const campaign = (await s.m.list({ kind: 'spam-bot', limit: 1 }))[0];
    expect(campaign.evidence.onset).toBe(iso(T0 + 4000 - 9000));
  });

  it('filters lists by status, kind, direction and since', async () => {
    const s = setup();
    play(s, 1, (at) => [fanIn(at), spam(at, '198.51.100.200')]);
    const ids = (await s.m.list({ limit: 10 })).map((i) => i.id);
    expect(ids).toHaveLength(2);
    expect((await s.m.list({ direction: 'outbound', limit: 10 })).map((i) => i.kind)).toEqual(['spam-bot']);
    expect(await s.m.list({ kind: 'ddos-fan-in', limit: 10 })).toHaveLength(1);
    expect(await s.m.list({ status: 'resolved', limit: 10 })).toHaveLength(0);
    expect(await s.m.list({ since: new Date(T0 + 60_000).toISOString(), limit: 10 })).toHaveLength(0);
  });

  describe('one inbound incident per target, whoever reports it', () => {
    const volumetric = (at: number) =>
      fanIn(at, { detector: 'volumetric', kind: 'volumetric', evidence: { summary: 'volumetric' } });
    const amplification = (at: number) =>
      fanIn(at, { detector: 'amplification', kind: 'amplification', evidence: { summary: 'amplification' } });
    const onTarget = async (s: ReturnType<typeof setup>) =>
      (await s.m.list({ limit: 10 })).filter((i) => i.target?.ip === '198.51.100.10');

    it("folds a feed's external incident into the built-in verdict that follows", async () => {
      const s = setup();
      play(s, 2, (at) => [feedOn(at, 'external', 'honeypot')]);
      const id = (await onTarget(s))[0].id;
      expect((await onTarget(s))[0].kind).toBe('external');
      play(s, 3, (at) => [volumetric(at)]);
      const [inc] = await onTarget(s);
      expect(await onTarget(s)).toHaveLength(1);
      expect(inc).toMatchObject({ id, kind: 'volumetric', detectors: ['honeypot', 'volumetric'] });
      // The feed's sample made way for the flow detector's sources; its word is kept under its name.
      expect(inc.sources.top.map((t) => t.ip)).toEqual(['73.1.2.3', '14.160.0.9']);
      expect(inc.upstreams).toEqual([
        { name: 'Transit A', share: 0.7 },
        { name: 'IX', share: 0.3 },
      ]);
      expect(inc.evidence.summary).toBe('volumetric');
      expect(inc.evidence.honeypot).toMatchObject({ kind: 'external', summary: 'honeypot says external' });
      expect(inc.evidence.kindBy).toBe('volumetric');
    });

    it('FastNetMon first, a built-in detector with another kind later: one incident with the built-in kind', async () => {
      const s = setup();
      play(s, 1, (at) => [feedOn(at, 'volumetric')]);
      play(s, 3, (at) => [fanIn(at)]);
      expect(await onTarget(s)).toHaveLength(1);
      expect((await onTarget(s))[0]).toMatchObject({ kind: 'ddos-fan-in', detectors: ['fastnetmon', 'fan-in'] });
    });

    it("a feed corroborating a built-in incident keeps the incident's kind, sources and summary", async () => {
      const s = setup();
      play(s, 2, (at) => [volumetric(at)]);
      play(s, 2, (at) => [volumetric(at), feedOn(at, 'amplification')]);
      const [inc] = await onTarget(s);
      expect(await onTarget(s)).toHaveLength(1);
      // Built-in verdicts beat any feed's, however specific the feed's guess.
      expect(inc).toMatchObject({ kind: 'volumetric', detectors: ['volumetric', 'fastnetmon'] });
      expect(inc.sources.top.map((t) => t.ip)).toEqual(['73.1.2.3', '14.160.0.9']);
      expect(inc.sources.distinct).toBe(3000);
      expect(inc.evidence.summary).toBe('volumetric');
      expect(inc.evidence.fastnetmon).toMatchObject({ kind: 'amplification', pps: 250_000, sources: 20 });
    });

    it('two built-in kinds on one target: the most specific wins and stays (amplification > fan-in > volumetric)', async () => {
      const s = setup();
      play(s, 2, (at) => [volumetric(at)]);
      play(s, 2, (at) => [fanIn(at)]);
      expect(await onTarget(s)).toHaveLength(1);
      expect((await onTarget(s))[0].kind).toBe('ddos-fan-in');
      play(s, 2, (at) => [volumetric(at)]); // the tail of the attack, below the fan-in thresholds
      expect((await onTarget(s))[0].kind).toBe('ddos-fan-in');
      play(s, 1, (at) => [amplification(at)]);
      expect(await onTarget(s)).toHaveLength(1);
      expect((await onTarget(s))[0]).toMatchObject({
        kind: 'amplification',
        detectors: ['volumetric', 'fan-in', 'amplification'],
      });
    });

    it('keeps other kinds on the same address apart (an outbound report is not an attack on it)', async () => {
      const s = setup();
      play(s, 1, (at) => [fanIn(at), { ...feedOn(at, 'external'), direction: 'outbound' }]);
      expect(await s.m.list({ limit: 10 })).toHaveLength(2);
    });
  });

  it('does not count a corroborating feed again in the rollups or the peak', async () => {
    const s = setup();
    // A full minute of fan-in at 300 kpps; FastNetMon reports the same flood every 5 s.
    play(s, 60, (at) => [fanIn(at), ...((at - T0) % 5000 === 0 ? [feedOn(at, 'volumetric')] : [])]);
    play(s, 1, () => []);
    const rows = s.store.summedRollups().filter((r) => r.minute === T0);
    const get = (dimension: string, key: string) => rows.find((r) => r.dimension === dimension && r.key === key);
    expect(get('endpoint', '198.51.100.10')?.packets).toBe(60 * 300_000);
    expect(get('customer', 'Residential')?.packets).toBe(60 * 300_000);
    expect(get('asn', '64496')).toBeUndefined();
    expect(rows.every((r) => r.kind === 'ddos-fan-in')).toBe(true);
    const [inc] = await s.m.list({ limit: 1 });
    expect(inc.peak.pps).toBe(300_000);
    expect((await s.m.get(inc.id))!.timeline.every((p) => p.pps === 300_000)).toBe(true);
  });

  it("counts a feed's report in the rollups when no built-in detector measures the target", async () => {
    const s = setup();
    play(s, 1, (at) => [feedOn(at, 'volumetric')]);
    s.clock.now = T0 + 60_000;
    play(s, 1, () => []);
    const row = s.store.summedRollups().find((r) => r.dimension === 'endpoint' && r.key === '198.51.100.10');
    expect(row).toMatchObject({ kind: 'volumetric', packets: 250_000 });
  });
});

describe('several processes sharing one store (serve --role detect)', () => {
  const config = incidentHarness({ detect: { incidents: { quietSeconds: 30, reopenSeconds: 600 } } }).config;
  /** What the store holds now, newest first (MemoryStore's map: adopt asks synchronously). */
  const stored = (store: MemoryStore, status?: Incident['status']) =>
    [...store.incidents.values()].filter((i) => !status || i.status === status);
  const manager = (store: MemoryStore, clock: { now: number }, adoptFromStore: boolean) =>
    new Incidents({
      store,
      logger: pino({ level: 'silent' }),
      config,
      now: () => clock.now,
      loadOpen: false,
      adopt: adoptFromStore
        ? (key) => stored(store, 'open').find((i) => mergeKeyOfIncident(i).text === key.text)
        : undefined,
    });

  it('a survivor that re-detects a dead process’s attack merges into its open incident', async () => {
    const store = new MemoryStore();
    const clock = { now: T0 };
    const a = manager(store, clock, true);
    a.ingest(fanIn(T0));
    await a.flush();
    const [opened] = stored(store, 'open');
    expect(opened).toBeDefined();
    // a dies; b owns the target's keys now and its fresh detectors fire again a few seconds on
    clock.now = T0 + 6000;
    const b = manager(store, clock, true);
    b.ingest(fanIn(clock.now, { rate: { pps: 900_000, bps: 450_000_000 } }));
    await b.flush();
    const all = stored(store);
    expect(all.map((i) => i.id)).toEqual([opened!.id]);
    expect(all[0]!.peak.pps).toBe(900_000);
    expect(b.active().map((i) => i.id)).toEqual([opened!.id]);
  });

  it('without adopt (the single-process default) the same sequence opens a second incident', async () => {
    const store = new MemoryStore();
    const clock = { now: T0 };
    const a = manager(store, clock, false);
    a.ingest(fanIn(T0));
    await a.flush();
    clock.now = T0 + 6000;
    const b = manager(store, clock, false);
    b.ingest(fanIn(clock.now));
    await b.flush();
    expect(stored(store)).toHaveLength(2);
  });

  it('loadOpen: false leaves another process’s open incidents alone (no resolve after the quiet period)', async () => {
    const store = new MemoryStore();
    const clock = { now: T0 };
    const a = manager(store, clock, true);
    a.ingest(fanIn(T0));
    await a.flush();
    const b = manager(store, clock, true);
    await b.ready;
    clock.now = T0 + 120_000;
    b.tick(clock.now);
    await b.flush();
    expect(stored(store)[0]!.status).toBe('open');
  });
});

describe('handOver (a detect process whose partition moved)', () => {
  it('lets matching open incidents go without resolving them; the store keeps them open for the next holder', async () => {
    const store = new MemoryStore();
    const { m, clock, resolved } = setup({}, store);
    m.ingest(fanIn(T0));
    m.ingest(spam(T0, '198.51.100.20'));
    clock.now = T0 + 2000;
    m.ingest(fanIn(clock.now, { rate: { pps: 500_000, bps: 250_000_000 } }));
    const n = (m as Incidents).handOver((key) => key.rule === 'target');
    expect(n).toBe(1);
    expect(m.active().map((i) => i.kind)).toEqual(['spam-bot']);
    clock.now = T0 + 120_000;
    m.tick(clock.now);
    await (m as Incidents).flush();
    expect(resolved.map((i) => i.kind)).toEqual(['spam-bot']);
    const fan = [...store.incidents.values()].filter((i) => i.kind === 'ddos-fan-in');
    expect(fan).toHaveLength(1);
    expect(fan[0]!.status).toBe('open');
    expect(fan[0]!.peak.pps).toBe(500_000); // persisted at hand-over, not 5 s later
  });
});
