import { IncidentKind, type Summary } from '@downstream/shared';
import type { IncidentManager } from '../incidents/types.js';
import type { CollectorSet } from '../ingest/types.js';
import type { TrafficMeter } from './types.js';
import { batchTotals, type FlowBatch } from '../flow/flow-batch.js';

export interface TrafficMeterOptions {
  /** Length of the sliding window the rates are averaged over. */
  windowSeconds?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

/**
 * Flows/s, pps and bps over the last few seconds, bucketed by arrival second.
 *
 * Buckets are keyed by when a batch reached us, not by the flow timestamps: exporters flush
 * long flows minutes late, and a NOC wall wants "what is arriving now". The current (partial)
 * second is left out of the average so the numbers do not sag at every second boundary.
 */
export function createTrafficMeter(opts: TrafficMeterOptions = {}): TrafficMeter {
  const windowSeconds = Math.max(1, Math.floor(opts.windowSeconds ?? 5));
  const now = opts.now ?? Date.now;
  const slots = windowSeconds + 1;
  const second = new Float64Array(slots).fill(-1);
  const flows = new Float64Array(slots);
  const packets = new Float64Array(slots);
  const bytes = new Float64Array(slots);

  const slotFor = (sec: number): number => {
    const i = sec % slots;
    if (second[i] !== sec) {
      second[i] = sec;
      flows[i] = 0;
      packets[i] = 0;
      bytes[i] = 0;
    }
    return i;
  };

  const addTotals = (n: number, p: number, b: number): void => {
    if (n === 0) return;
    const i = slotFor(Math.floor(now() / 1000));
    flows[i] += n;
    packets[i] += p;
    bytes[i] += b;
  };

  return {
    addBatch(batch: FlowBatch): void {
      if (batch.length === 0) return;
      const t = batchTotals(batch);
      addTotals(batch.length, t.packets, t.bytes);
    },

    addTotals,

    summary(incidents: IncidentManager, collectors: CollectorSet): Summary {
      const t = now();
      const cur = Math.floor(t / 1000);
      let f = 0;
      let p = 0;
      let b = 0;
      for (let s = cur - windowSeconds; s < cur; s++) {
        const i = ((s % slots) + slots) % slots;
        if (second[i] !== s) continue;
        f += flows[i];
        p += packets[i];
        b += bytes[i];
      }
      const byKind = Object.fromEntries(IncidentKind.options.map((k) => [k, 0])) as Summary['byKind'];
      let inbound = 0;
      let outbound = 0;
      const active = incidents.active();
      for (const inc of active) {
        byKind[inc.kind] += 1;
        if (inc.direction === 'inbound') inbound++;
        else outbound++;
      }
      const exporters = new Set(collectors.health().map((h) => h.address)).size;
      return {
        at: new Date(t).toISOString(),
        flowsPerSecond: f / windowSeconds,
        packetsPerSecond: p / windowSeconds,
        bitsPerSecond: (b * 8) / windowSeconds,
        activeIncidents: active.length,
        byKind,
        inbound,
        outbound,
        exporters,
      };
    },
  };
}
