import type { DetectionEvent } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import type { DetectorSet } from '../context.js';
import { FlowDirection, type EnrichedBatch } from '../enrich/enriched-batch.js';
import { createEnricher } from '../enrich/index.js';
import { demoNetworkConfig } from '../sim/scenarios/network.js';
import { createDetectors } from './index.js';
import { warmUpDetectors } from './warm-up.js';

const config = parseConfig({ network: demoNetworkConfig });
const enricher = createEnricher(config.network);

describe('warmUpDetectors', () => {
  it('drives one throwaway set through inbound, outbound and tick paths, and leaves the real set empty', () => {
    const seen = { sets: 0, records: 0, inbound: 0, outbound: 0, ticks: 0, events: [] as DetectionEvent[] };
    const ms = warmUpDetectors(() => {
      seen.sets++;
      const d = createDetectors(config, enricher);
      const spy: DetectorSet = {
        process(b: EnrichedBatch) {
          seen.records += b.length;
          for (let i = 0; i < b.length; i++) {
            if (b.direction[i] === FlowDirection.inbound) seen.inbound++;
            else if (b.direction[i] === FlowDirection.outbound) seen.outbound++;
          }
          d.process(b);
        },
        tick(now: number) {
          seen.ticks++;
          const ev = d.tick(now);
          seen.events.push(...ev);
          return ev;
        },
      };
      return spy;
    });
    expect(ms).toBeGreaterThan(0);
    expect(seen.sets).toBe(1);
    expect(seen.records).toBe(24 * 8192);
    expect(seen.inbound / seen.records).toBeGreaterThan(0.4);
    expect(seen.outbound / seen.records).toBeGreaterThan(0.3);
    expect(seen.ticks).toBe(6);
    // The synthetic floods are loud enough to fire: the event paths are compiled too.
    expect(new Set(seen.events.map((e) => e.kind)).size).toBeGreaterThan(0);

    // A set made afterwards shares compiled code, not state.
    const real = createDetectors(config, enricher);
    expect(real.tick(Date.now())).toEqual([]);
  });
});
