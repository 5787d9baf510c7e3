import type { Incident } from '@downstream/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { FlowDirection, ShardRole, type EnrichedBatch } from '../enrich/enriched-batch.js';
import { createEnricher } from '../enrich/index.js';
import { createIncidentManager } from '../incidents/index.js';
import { MemoryStore } from '../incidents/memory-store.js';
import { addrToString } from '@downstream/shared';
import type { FlowBatch } from '../flow/flow-batch.js';
import { createPipeline } from '../main/pipeline.js';
import {
  amplification,
  background,
  fanIn,
  flashCrowd,
  participation,
  scanner,
  spamBots,
  volumetric,
} from '../sim/scenarios/library.js';
import { compose } from '../sim/scenarios/scenario.js';
import { demoNetworkConfig } from '../sim/scenarios/network.js';
import { createDetectors } from './index.js';
import { createShardedDetectors, partitionBatch, shardOf } from './shard.js';
import { batchFromSimFlows } from './synthetic.js';

const config = parseConfig({ network: demoNetworkConfig });
const enricher = createEnricher(config.network);
/** Every detector kind at once over background, overlapping (short, so the test stays fast). */
const scenario = compose('shards', 'all kinds, overlapping', 48, [
  background(3),
  fanIn(3, 3, 25),
  spamBots(3, 3, 45),
  amplification(3, 10, 35),
  scanner(3, 5, 40),
  participation(3, 8, 40),
  flashCrowd(3, 15, 40),
  ...volumetric(3, 20, 46),
]);

const T0 = 1_800_000_000_000;
/** Generated once: every run replays the same batches (enrich rewrites its columns in place). */
let seconds: FlowBatch[] | undefined;
const batches = (): FlowBatch[] =>
  (seconds ??= Array.from({ length: scenario.durationSeconds }, (_, s) =>
    batchFromSimFlows(scenario.flows(s, T0 + s * 1000)),
  ));

/** The scenario, second by second, through the pipeline with `shards` detector shards (0: one plain set). */
async function play(shards: number): Promise<Incident[]> {
  let now = T0;
  const incidents = createIncidentManager({
    store: new MemoryStore(),
    logger: pino({ level: 'silent' }),
    config,
    now: () => now,
  });
  const detectors = shards === 0 ? createDetectors(config, enricher) : createShardedDetectors(config, enricher, shards);
  const pipeline = createPipeline({ enricher, detectors, incidents });
  for (const batch of batches()) {
    pipeline.process(batch);
    pipeline.tick(now);
    now += 1000;
  }
  return await incidents.list({ limit: 1000 });
}

/**
 * An incident without what depends on the order events arrive in from the shards: ids, the
 * order of sources tied on packets, and which of the sources tied at the top list's cut made it.
 */
const byPackets = <T extends { packets: number; ip: string }>(xs: T[]) => {
  const cut = Math.min(...xs.map((x) => x.packets));
  return xs.filter((x) => x.packets > cut).sort((a, b) => b.packets - a.packets || a.ip.localeCompare(b.ip));
};
const comparable = (list: Incident[]) =>
  list
    .map(({ id: _id, ...rest }) => ({ ...rest, sources: { ...rest.sources, top: byPackets(rest.sources.top) } }))
    .sort((a, b) =>
      `${a.kind} ${a.target?.ip ?? ''} ${a.firstSeen}`.localeCompare(`${b.kind} ${b.target?.ip ?? ''} ${b.firstSeen}`),
    );

describe('detector shards', () => {
  it('a scenario through 2 and 3 shards gives the incidents one detector set gives', async () => {
    const one = comparable(await play(0));
    expect(new Set(one.map((i) => i.kind))).toEqual(
      new Set(['ddos-fan-in', 'spam-bot', 'amplification', 'scanner', 'ddos-participation', 'volumetric']),
    );
    expect(comparable(await play(2))).toEqual(one);
    expect(comparable(await play(3))).toEqual(one);
  }, 60_000);

  it('sends each record to the shard of its local key and to the shard of its remote key, once each', async () => {
    const b = enricher.enrich(batchFromSimFlows(scenario.flows(50, 1_800_000_000_000)));
    const parts = partitionBatch(b, 3) as (EnrichedBatch | undefined)[];
    const seen = new Map<string, number>();
    const key = (p: EnrichedBatch, j: number) => `${addrToString(p.src, j)} ${addrToString(p.dst, j)} ${p.srcPort[j]}`;
    parts.forEach((p, s) => {
      if (!p) return;
      for (let j = 0; j < p.length; j++) {
        const inbound = p.direction[j] === FlowDirection.inbound;
        const localWords = inbound ? p.dst : p.src;
        const remoteWords = inbound ? p.src : p.dst;
        if (p.shardRoles![j] & ShardRole.local) expect(shardOf(localWords, j, 3)).toBe(s);
        if (p.shardRoles![j] & ShardRole.remote) expect(shardOf(remoteWords, j, 3)).toBe(s);
        seen.set(key(p, j), (seen.get(key(p, j)) ?? 0) | p.shardRoles![j]);
      }
    });
    let detected = 0;
    for (let i = 0; i < b.length; i++) {
      const d = b.direction[i];
      if (d !== FlowDirection.inbound && d !== FlowDirection.outbound) continue;
      detected++;
      // every inbound/outbound record reached a shard in both roles
      expect(seen.get(key(b, i))).toBe(ShardRole.local | ShardRole.remote);
    }
    expect(detected).toBeGreaterThan(500);
    // all three shards get work
    expect(parts.every((p) => p !== undefined && p.length > 0)).toBe(true);
  });
});
