import type { Incident } from '@downstream/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createFakeContext, detectionEvent } from '../api/fake-context.js';
import { ClusterMirror, type ClusterMessage } from './cluster.js';

/** Real incidents from the fake manager, one per target address. */
function incidents(...ips: string[]): Incident[] {
  const ctx = createFakeContext();
  for (const ip of ips) ctx.incidents.ingest(detectionEvent(ip));
  return ips.map((ip) => ctx.incidents.active().find((i) => i.target?.ip === ip)!);
}

/**
 * Processes on an in-memory bus: a message reaches every other mirror in send order, unless
 * the bus is `cut` (a peer that is not subscribed yet, or Redis losing it).
 */
function cluster(opts: { expiryMs?: number; maxIncidents?: number } = {}) {
  let t = 1_000_000;
  const queue: { from: string; msg: ClusterMessage }[] = [];
  const sent: ClusterMessage[] = [];
  const nodes = new Map<string, ReturnType<typeof node>>();
  let cut = false;
  const counts: Record<string, number> = {};

  function node(name: string) {
    const published = new Map<string, Incident>();
    const seen = new Map<string, Incident>();
    const removed: string[] = [];
    const send = (msg: ClusterMessage): void => {
      sent.push(msg);
      if (!cut) queue.push({ from: name, msg });
    };
    const mirror = new ClusterMirror({
      node: name,
      send,
      published: () => [...published.values()],
      heartbeat: () => ({
        ids: [...published.keys()],
        traffic: { flowsPerSecond: 10, packetsPerSecond: 100, bitsPerSecond: 1000 },
        exporters: [`192.0.2.${name.length}`],
      }),
      onUpsert: (inc) => seen.set(inc.id, inc),
      onRemoved: (id) => {
        seen.delete(id);
        removed.push(id);
      },
      expiryMs: opts.expiryMs ?? 5000,
      maxIncidents: opts.maxIncidents ?? 100,
      resyncMs: 1000,
      logger: pino({ level: 'silent' }),
      now: () => t,
      count: (what) => (counts[what] = (counts[what] ?? 0) + 1),
    });
    const n = {
      name,
      mirror,
      seen,
      removed,
      /** What the live layer does when it sends an upsert to its clients. */
      upsert(inc: Incident) {
        published.set(inc.id, inc);
        send({ v: 1, type: 'upsert', from: name, incident: inc });
      },
      resolve(id: string) {
        published.delete(id);
        send({ v: 1, type: 'resolved', from: name, id });
      },
    };
    nodes.set(name, n);
    return n;
  }

  const drain = (): void => {
    while (queue.length > 0) {
      const { from, msg } = queue.shift()!;
      for (const [name, n] of nodes) if (name !== from) n.mirror.handle(msg);
    }
  };
  return {
    node,
    drain,
    sent,
    counts,
    advance: (ms: number) => (t += ms),
    setCut: (v: boolean) => (cut = v),
    remove: (name: string) => nodes.delete(name),
  };
}

const ids = (incs: Incident[]): string[] => incs.map((i) => i.id).sort();

describe('cluster mirror', () => {
  it("holds other processes' incidents from their upserts and drops them when resolved", () => {
    const c = cluster();
    const a = c.node('a');
    const b = c.node('b');
    a.mirror.start();
    b.mirror.start();
    const [x, y] = incidents('203.0.113.1', '203.0.113.2');
    a.upsert(x);
    b.upsert(y);
    c.drain();
    expect(ids(b.mirror.incidents())).toEqual([x.id]);
    expect(ids(a.mirror.incidents())).toEqual([y.id]);
    expect(b.seen.get(x.id)).toEqual(x);

    a.upsert({ ...x, status: 'acknowledged' });
    c.drain();
    expect(b.mirror.incidents()[0].status).toBe('acknowledged');

    a.resolve(x.id);
    c.drain();
    expect(b.mirror.incidents()).toEqual([]);
    expect(b.removed).toEqual([x.id]);
    expect(b.mirror.has(x.id)).toBe(false);
    expect(a.mirror.has(y.id)).toBe(true);
    // An upsert that says resolved removes too.
    b.upsert(y);
    b.upsert({ ...y, status: 'resolved' });
    c.drain();
    expect(a.mirror.size).toBe(0);
  });

  it('a starting process learns every peer state from its hello', () => {
    const c = cluster();
    const a = c.node('a');
    const [x, y] = incidents('203.0.113.1', '203.0.113.2');
    a.upsert(x);
    a.upsert(y);
    c.drain();
    const b = c.node('b');
    b.mirror.start();
    c.drain();
    expect(ids(b.mirror.incidents())).toEqual(ids([x, y]));
    const state = c.sent.find((m) => m.type === 'state');
    expect(state && state.type === 'state' && state.to).toBe('b');
  });

  it("repairs missed messages from the peer's heartbeat: unknown ids ask for state, unlisted ids go", () => {
    const c = cluster();
    const a = c.node('a');
    const b = c.node('b');
    const [x, y, z] = incidents('203.0.113.1', '203.0.113.2', '203.0.113.3');
    a.upsert(x);
    c.drain();
    c.setCut(true); // b misses y's upsert and x's resolve
    a.upsert(y);
    a.upsert(z);
    a.resolve(x.id);
    c.setCut(false);
    expect(ids(b.mirror.incidents())).toEqual([x.id]);
    a.mirror.tick(); // heartbeat: ids [y, z]
    c.drain();
    expect(b.removed).toContain(x.id);
    expect(ids(b.mirror.incidents())).toEqual(ids([y, z]));
    const hellos = c.sent.filter((m) => m.type === 'hello' && m.from === 'b' && m.to === 'a');
    expect(hellos).toHaveLength(1);
    // No more requests while nothing is missing.
    a.mirror.tick();
    c.drain();
    expect(c.sent.filter((m) => m.type === 'hello' && m.from === 'b')).toHaveLength(1);
  });

  it('drops a silent peer after the expiry, and a leaving one at once', () => {
    const c = cluster({ expiryMs: 5000 });
    const a = c.node('a');
    const b = c.node('b');
    const d = c.node('d');
    const [x, y] = incidents('203.0.113.1', '203.0.113.2');
    a.upsert(x);
    d.upsert(y);
    c.drain();
    expect(b.mirror.size).toBe(2);
    c.remove('a'); // killed: sends nothing more
    c.advance(3000);
    d.mirror.tick();
    b.mirror.tick();
    c.drain();
    expect(b.mirror.has(x.id)).toBe(true); // not yet
    c.advance(2500);
    d.mirror.tick();
    c.drain();
    b.mirror.tick();
    expect(b.mirror.has(x.id)).toBe(false);
    expect(b.mirror.has(y.id)).toBe(true); // d kept talking
    expect(c.counts.expired).toBe(2); // b and d each dropped a
    expect(b.mirror.peerFigures().map((p) => p.node)).toEqual(['d']);

    d.mirror.stop();
    c.drain();
    expect(b.mirror.size).toBe(0);
    expect(b.removed.sort()).toEqual(ids([x, y]));
  });

  it('keeps peer traffic and exporters from heartbeats', () => {
    const c = cluster();
    const a = c.node('a');
    const b = c.node('bb');
    a.mirror.tick();
    c.drain();
    expect(b.mirror.peerFigures()).toEqual([
      {
        node: 'a',
        traffic: { flowsPerSecond: 10, packetsPerSecond: 100, bitsPerSecond: 1000 },
        exporters: ['192.0.2.1'],
      },
    ]);
  });

  it('holds at most maxIncidents and ignores malformed messages', () => {
    const c = cluster({ maxIncidents: 2 });
    const a = c.node('a');
    const b = c.node('b');
    const incs = incidents('203.0.113.1', '203.0.113.2', '203.0.113.3');
    for (const inc of incs) a.upsert(inc);
    c.drain();
    expect(b.mirror.size).toBe(2);
    expect(c.counts['over-cap']).toBe(1);
    // Full: a heartbeat listing the third does not make it ask for state again and again.
    a.mirror.tick();
    c.drain();
    expect(c.sent.filter((m) => m.type === 'hello' && m.from === 'b')).toHaveLength(0);

    for (const bad of [
      null,
      { v: 1, type: 'upsert', from: 'x', incident: { id: 'nope' } },
      { v: 2, type: 'bye', from: 'a' },
      { v: 1, type: 'explode', from: 'a' },
    ])
      b.mirror.handle(bad);
    expect(c.counts.rejected).toBe(4);
    expect(b.mirror.size).toBe(2);
  });
});
