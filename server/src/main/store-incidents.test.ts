import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { IncidentChangeFeed } from '../realtime/change-feed.js';
import { MINUTE, openStore, type SqliteStore } from '../store/index.js';
import { makeIncident } from '../testing/make-incident.js';
import { StoreIncidents } from './store-incidents.js';

const logger = pino({ level: 'silent' });
const open: SqliteStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

async function setup() {
  const store = openStore({ path: ':memory:', retentionDays: 90, logger, timers: false });
  open.push(store);
  const feed = new IncidentChangeFeed({
    source: store,
    logger,
    pollMs: 3_600_000,
  });
  await feed.start();
  let writes = 0;
  const incidents = new StoreIncidents({ feed, store, timelinePoints: 5, onWrite: () => writes++ });
  return { store, feed, incidents, writes: () => writes };
}

describe('api-role incidents (from the shared store)', () => {
  it('series from the per-minute rollups of the incident key and kind; graph from the stored sources', async () => {
    const { store, feed, incidents } = await setup();
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
    const inc = makeIncident('in', {
      kind: 'ddos-fan-in',
      direction: 'inbound',
      firstSeen: new Date(t0 + 5000).toISOString(),
      lastSeen: new Date(t0 + 2 * MINUTE + 1000).toISOString(),
    });
    await store.upsertIncident(inc);
    const row = (minute: number, kind: 'ddos-fan-in' | 'scanner', key = inc.target!.ip) => ({
      minute,
      kind,
      dimension: 'endpoint' as const,
      key,
      packets: 6000,
      bytes: 60_000,
      flows: 1,
    });
    store.recordAbuse([
      row(t0 - MINUTE, 'ddos-fan-in'), // before the incident
      row(t0, 'ddos-fan-in'),
      row(t0 + MINUTE, 'scanner'), // another kind on the same address
      row(t0 + 2 * MINUTE, 'ddos-fan-in'),
      row(t0 + 2 * MINUTE, 'ddos-fan-in', '192.0.2.1'), // another address
    ]);
    await store.flush();
    await feed.poll();
    const detail = (await incidents.get('in'))!;
    expect(detail.timeline).toEqual([
      { t: new Date(t0).toISOString(), pps: 100, bps: 8000, sources: 2 },
      { t: new Date(t0 + 2 * MINUTE).toISOString(), pps: 100, bps: 8000, sources: 2 },
    ]);
    // Realtime frames read the timeline the last read left (get() made one).
    expect(incidents.series('in')).toEqual(detail.timeline);
    // 100 and 50 packets over 122 s.
    expect(detail.graph.nodes.map((n) => [n.ip, n.pps])).toEqual([
      ['198.51.100.10', 1],
      ['198.51.100.11', 0],
    ]);
    expect(incidents.series('nope')).toEqual([]);
    expect(() => incidents.ingest()).toThrow(/api role runs no detectors/);
  });

  it('operator actions are written to the store and the audit trail and shown at once', async () => {
    const { store, feed, incidents, writes } = await setup();
    await store.upsertIncident(makeIncident('x'));
    await store.flush();
    await feed.poll();
    const seen: string[] = [];
    incidents.on('upsert', (i) => seen.push(`${i.id} ${i.status} ${i.notes.length}`));
    incidents.on('resolved', (i) => seen.push(`${i.id} resolved`));
    expect((await incidents.setStatus('x', 'acknowledged', 'ops', 'on it'))?.status).toBe('acknowledged');
    expect((await incidents.addNote('x', 'ops', 'called'))?.notes).toHaveLength(2);
    expect((await store.getIncident('x'))?.notes.map((n) => n.text)).toEqual(['on it', 'called']);
    expect((await store.listAudit('x')).map((e) => e.action)).toEqual(['ack', 'note']);
    expect((await incidents.setStatus('x', 'resolved', 'ops'))?.status).toBe('resolved');
    expect(seen).toEqual(['x acknowledged 1', 'x acknowledged 2', 'x resolved']);
    expect(writes()).toBe(3);
    expect(incidents.active()).toEqual([]);
    // Its own writes read back from the store are not news.
    await feed.poll();
    expect(seen).toHaveLength(3);
    expect((await incidents.list({ limit: 10 })).map((i) => i.status)).toEqual(['resolved']);
    expect(await incidents.setStatus('missing', 'acknowledged', 'ops')).toBeUndefined();
  });
});
