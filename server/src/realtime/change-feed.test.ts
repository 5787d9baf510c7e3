import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Incident } from '@downstream/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type SqliteStore } from '../store/index.js';
import { makeIncident } from '../testing/make-incident.js';
import { IncidentChangeFeed, type IncidentChangeSource } from './change-feed.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A writer (what a detect process is) and the feed's own connection, on one SQLite file. */
function setup(): { writer: SqliteStore; source: IncidentChangeSource } {
  const dir = mkdtempSync(join(tmpdir(), 'ds-feed-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const reader = openStore({ path: dir, retentionDays: 90, logger, timers: false });
  const writer = openStore({ path: dir, retentionDays: 90, logger, timers: false });
  cleanups.push(
    () => reader.close(),
    () => writer.close(),
  );
  return { writer, source: reader };
}

function feedOn(source: IncidentChangeSource, opts: { overlapMs?: number; reconcileMs?: number } = {}) {
  const registry = new Registry();
  // Polled by hand: the timer's period is out of reach.
  const feed = new IncidentChangeFeed({ source, logger, pollMs: 3_600_000, registry, ...opts });
  cleanups.push(() => feed.stop());
  const events: string[] = [];
  feed.on('upsert', (i) => events.push(`upsert ${i.id} ${i.status}`));
  feed.on('resolved', (i) => events.push(`resolved ${i.id}`));
  return { feed, events, registry };
}

const tick = () => new Promise((r) => setTimeout(r, 3));
const ids = (incs: Incident[]) => incs.map((i) => i.id).sort();

describe('incident change feed', () => {
  it('seeds the open incidents, then turns what writers change into upsert and resolved, once each', async () => {
    const { writer, source } = setup();
    await writer.upsertIncident(makeIncident('open-1'));
    await writer.upsertIncident(makeIncident('acked', { status: 'acknowledged' }));
    await writer.upsertIncident(makeIncident('old', { status: 'resolved' }));
    await writer.flush();
    const { feed, events, registry } = feedOn(source);
    await feed.start();
    expect(ids(feed.active())).toEqual(['acked', 'open-1']);
    events.length = 0;

    await writer.upsertIncident(makeIncident('new'));
    await writer.flush();
    await tick();
    await writer.upsertIncident(makeIncident('open-1', { status: 'mitigating' }));
    await tick(); // stamps are ms: in one ms, changes come by id
    await writer.upsertIncident(makeIncident('acked', { status: 'resolved' }));
    await feed.poll();
    expect(events).toEqual(['upsert new open', 'upsert open-1 mitigating', 'resolved acked']);
    expect(ids(feed.active())).toEqual(['new', 'open-1']);
    expect(feed.get('open-1')?.status).toBe('mitigating');

    // The next poll reaches back over the same changes (overlap): nothing is emitted twice.
    await feed.poll();
    expect(events).toHaveLength(3);
    // A resolved incident re-opened by a writer comes back.
    await writer.upsertIncident(
      makeIncident('acked', { status: 'open', notes: [{ at: new Date().toISOString(), by: 'ops', text: 'again' }] }),
    );
    await feed.poll();
    expect(events.slice(3)).toEqual(['upsert acked open']);
    expect(await registry.getSingleMetricAsString('downstream_change_feed_open_incidents')).toMatch(/ 3$/m);
  });

  it('a failed poll is retried from the same point; a missed change is repaired by the full re-read', async () => {
    const { writer, source } = setup();
    let fail = false;
    let hide = false;
    const flaky: IncidentChangeSource = {
      incidentsChangedSince: async (s, l) => {
        if (fail) throw new Error('store down');
        return hide ? [] : source.incidentsChangedSince(s, l);
      },
      listIncidents: (q) => source.listIncidents(q),
    };
    // No overlap: only the retry from the same cursor can find what changed while it failed.
    const { feed, events, registry } = feedOn(flaky, { overlapMs: 0, reconcileMs: 3_600_000 });
    await feed.start();
    fail = true;
    await writer.upsertIncident(makeIncident('during-outage', { status: 'acknowledged' }));
    await feed.poll();
    expect(events).toEqual([]);
    fail = false;
    await feed.poll();
    expect(events).toEqual(['upsert during-outage acknowledged']);
    expect(await registry.getSingleMetricAsString('downstream_change_feed_errors_total')).toMatch(/ 1$/m);

    // A change the polls never report (a late commit past the overlap) is found by the re-read.
    hide = true;
    await writer.upsertIncident(makeIncident('during-outage', { status: 'resolved' }));
    await writer.upsertIncident(makeIncident('unseen', { status: 'acknowledged' }));
    await feed.poll();
    expect(ids(feed.active())).toEqual(['during-outage']);
    const repaired = feedOn(flaky, { overlapMs: 0, reconcileMs: 0 });
    await repaired.feed.start();
    expect(ids(repaired.feed.active())).toEqual(['unseen']);
    // And on a running feed, once the re-read is due.
    const running = new IncidentChangeFeed({ source: flaky, logger, pollMs: 3_600_000, overlapMs: 0, reconcileMs: 1 });
    cleanups.push(() => running.stop());
    hide = false;
    await writer.upsertIncident(makeIncident('later', { status: 'acknowledged' }));
    await running.start();
    hide = true;
    await writer.upsertIncident(makeIncident('later', { status: 'resolved' }));
    await new Promise((r) => setTimeout(r, 5));
    await running.poll();
    expect(ids(running.active())).toEqual(['unseen']);
  });

  it('reads every change of a busy second, page after page, with the cursor on the stamps', async () => {
    const { writer, source } = setup();
    const { feed, events } = feedOn(source, { overlapMs: 0, reconcileMs: 3_600_000 });
    await feed.start();
    // More than a page (500), all written within a few milliseconds: a wall-clock cursor or a
    // single query would leave some behind.
    for (let i = 0; i < 1200; i++) await writer.upsertIncident(makeIncident(`busy-${i}`));
    await writer.flush();
    await feed.poll();
    expect(events).toHaveLength(1200);
    expect(new Set(events).size).toBe(1200);
    // Nothing new: nothing emitted again.
    await feed.poll();
    expect(events).toHaveLength(1200);
  });
});
