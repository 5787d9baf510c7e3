import { Gauge, type Registry } from 'prom-client';
import type { Detectors } from './index.js';

/**
 * Detector gauges, read at scrape time (nothing on the hot path): state size, keys tracked
 * per table, evictions (a table that evicts a lot is too small for the traffic).
 */
export interface DetectorState {
  memoryBytes: number;
  keys: { inbound: number; outbound: number; participation: number };
  evictions: { inbound: number; outbound: number; participation: number };
}

export function detectorState(d: Detectors): DetectorState {
  return {
    memoryBytes: d.memoryBytes(),
    keys: {
      inbound: d.inbound.table.keys.size,
      outbound: d.outbound.keys.size,
      participation: d.participation.table.keys.size,
    },
    evictions: {
      inbound: d.inbound.table.keys.evictions,
      outbound: d.outbound.keys.evictions,
      participation: d.participation.table.keys.evictions,
    },
  };
}

/** `source`: one detector set, or the latest state of each (summed; detector shards in threads). */
export function registerDetectorMetrics(registry: Registry, source: Detectors | (() => DetectorState[])): void {
  const states = (): DetectorState[] => (typeof source === 'function' ? source() : [detectorState(source)]);
  const sum = (f: (s: DetectorState) => number): number => states().reduce((a, s) => a + f(s), 0);
  const tables = ['inbound', 'outbound', 'participation'] as const;
  new Gauge({
    name: 'downstream_detect_state_bytes',
    help: 'Bytes of detector state (fixed tables plus source lists in use)',
    registers: [registry],
    collect() {
      this.set(sum((s) => s.memoryBytes));
    },
  });
  new Gauge({
    name: 'downstream_detect_tracked_keys',
    help: 'Keys tracked per detector table',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      for (const t of tables)
        this.set(
          { table: t },
          sum((s) => s.keys[t]),
        );
    },
  });
  new Gauge({
    name: 'downstream_detect_evictions',
    help: 'Keys evicted from a full detector table since start',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      for (const t of tables)
        this.set(
          { table: t },
          sum((s) => s.evictions[t]),
        );
    },
  });
}
