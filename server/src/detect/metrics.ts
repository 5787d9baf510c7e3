import { Gauge, type Registry } from 'prom-client';
import type { Detectors } from './index.js';

/**
 * Detector gauges, read at scrape time (nothing on the hot path): state size, keys tracked
 * per table, evictions (a table that evicts a lot is too small for the traffic).
 */
export function registerDetectorMetrics(registry: Registry, d: Detectors): void {
  new Gauge({
    name: 'downstream_detect_state_bytes',
    help: 'Bytes of detector state (fixed tables plus source lists in use)',
    registers: [registry],
    collect() {
      this.set(d.memoryBytes());
    },
  });
  new Gauge({
    name: 'downstream_detect_tracked_keys',
    help: 'Keys tracked per detector table',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      this.set({ table: 'inbound' }, d.inbound.table.keys.size);
      this.set({ table: 'outbound' }, d.outbound.keys.size);
      this.set({ table: 'participation' }, d.participation.table.keys.size);
    },
  });
  new Gauge({
    name: 'downstream_detect_evictions',
    help: 'Keys evicted from a full detector table since start',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      this.set({ table: 'inbound' }, d.inbound.table.keys.evictions);
      this.set({ table: 'outbound' }, d.outbound.keys.evictions);
      this.set({ table: 'participation' }, d.participation.table.keys.evictions);
    },
  });
}
