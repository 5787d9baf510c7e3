import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The downstream_store_* metrics every store implementation reports, the same names for each. */
export function storeMetrics(registry: Registry | undefined, pending: () => { rollups: number; incidents: number }) {
  const registers = registry ? [registry] : [];
  new Gauge({
    name: 'downstream_store_pending',
    help: 'Rollup rows and incident refreshes waiting for the next flush',
    labelNames: ['what'],
    registers,
    collect() {
      const p = pending();
      this.set({ what: 'rollups' }, p.rollups);
      this.set({ what: 'incidents' }, p.incidents);
    },
  });
  return {
    flushSeconds: new Histogram({
      name: 'downstream_store_flush_seconds',
      help: 'Time to write one batch of rollups and incident refreshes',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    flushErrors: new Counter({
      name: 'downstream_store_flush_errors_total',
      help: 'Failed batch writes of queued incident refreshes and rollups (kept and retried next flush)',
      registers,
    }),
    writeErrors: new Counter({
      name: 'downstream_store_write_errors_total',
      help: 'Writes the database refused that the caller was told about (audit entries, operator changes)',
      labelNames: ['what'],
      registers,
    }),
    rollupRows: new Counter({
      name: 'downstream_store_rollup_rows_total',
      help: 'Minute rollup rows written (after merging)',
      registers,
    }),
    deleted: new Counter({
      name: 'downstream_store_expired_rows_total',
      help: 'Rows removed by retention and folding',
      labelNames: ['what'],
      registers,
    }),
  };
}
export type StoreMetrics = ReturnType<typeof storeMetrics>;

/**
 * Change-feed stamps: strictly increasing, near the wall clock, so a poller's cursor (the last
 * stamp it saw) never skips a row written in the same millisecond as another.
 */
export function changeClock(now: () => number, start = 0) {
  let last = start;
  return {
    next(): number {
      last = Math.max(now(), last + 1);
      return last;
    },
    seen(v: number): void {
      if (v > last) last = v;
    },
  };
}
