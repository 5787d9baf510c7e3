import type { IncidentDetail } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { runThroughPipeline } from '../detect/pipeline-harness.js';
import { amplification, background, fanIn, participation, scanner, spamBots } from '../sim/scenarios/library.js';
import { compose } from '../sim/scenarios/scenario.js';

/**
 * The worker-thread pipeline (receiver → 2 ingest workers → 3 detector shards, loaded through
 * tsx) against the in-process one, on the same scenario over real UDP from two routers: the
 * same incidents. The threads are a deployment choice, never a change in what is detected.
 */
const scenario = compose('threads', 'every detector table at once', 45, [
  background(5),
  fanIn(5, 3, 30),
  spamBots(5, 3, 40),
  amplification(5, 10, 35),
  scanner(5, 5, 40),
  participation(5, 8, 40),
]);

/**
 * What must not depend on threads (ids, the order of sources tied on packets aside); times as
 * seconds into the run, since each run starts its simulated clock at its own wall time.
 */
const comparable = (r: { details: IncidentDetail[]; startMs: number }) =>
  r.details
    .map((i) => ({
      kind: i.kind,
      direction: i.direction,
      target: i.target,
      firstSeen: (Date.parse(i.firstSeen) - r.startMs) / 1000,
      lastSeen: (Date.parse(i.lastSeen) - r.startMs) / 1000,
      peak: i.peak,
      upstreams: i.upstreams,
      sourceCount: i.sources.count,
      top: [...i.sources.top].sort((a, b) => b.packets - a.packets || a.ip.localeCompare(b.ip)).slice(0, 5),
      timeline: i.timeline.map(({ t, ...rest }) => ({ ...rest, t: (Date.parse(t) - r.startMs) / 1000 })),
    }))
    .sort((a, b) => `${a.kind} ${a.target?.ip ?? ''}`.localeCompare(`${b.kind} ${b.target?.ip ?? ''}`));

describe('threaded pipeline', () => {
  it('2 ingest workers and 3 detector shards find what one thread finds, and count every record', async () => {
    const base = { scenario, exporters: 2 };
    const one = await runThroughPipeline(base);
    const threaded = await runThroughPipeline({ ...base, threads: { decodeWorkers: 2, detectShards: 3 } });
    expect(new Set(one.details.map((i) => i.kind))).toEqual(
      new Set(['ddos-fan-in', 'spam-bot', 'amplification', 'scanner', 'ddos-participation']),
    );
    expect(threaded.records).toBe(one.records);
    expect(threaded.datagrams).toBe(one.datagrams);
    expect(comparable(threaded)).toEqual(comparable(one));
  }, 60_000);
});
