import { Counter, Gauge, type Registry } from 'prom-client';
import type { ExporterStats } from './exporter-stats.js';

/** What the metrics read: the decoder itself, or a cached copy of a worker's stats. */
export interface StatsSource {
  allStats(): Iterable<ExporterStats>;
  readonly pendingSets: number;
  readonly droppedExporterLimit: number;
}

/**
 * Ingest metrics, read from the decoder's own counters at scrape time: the hot path bumps plain
 * numbers and never touches prom-client. Returns a function that removes them again.
 */
export function registerIngestMetrics(registry: Registry, decoder: StatsSource): () => void {
  const labelNames = ['exporter', 'protocol'] as const;
  const names: string[] = [];
  const reg = <T>(name: string, m: T): T => {
    names.push(name);
    return m;
  };

  reg(
    'downstream_ingest_datagrams_total',
    new Counter({
      name: 'downstream_ingest_datagrams_total',
      help: 'Flow-export datagrams received, per exporter and protocol',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of decoder.allStats()) this.inc({ exporter: s.address, protocol: s.protocol }, s.datagrams);
      },
    }),
  );
  reg(
    'downstream_ingest_records_total',
    new Counter({
      name: 'downstream_ingest_records_total',
      help: 'Flow records (sFlow: flow samples) decoded, before sampling scale-up',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of decoder.allStats()) this.inc({ exporter: s.address, protocol: s.protocol }, s.records);
      },
    }),
  );
  reg(
    'downstream_ingest_decode_errors_total',
    new Counter({
      name: 'downstream_ingest_decode_errors_total',
      help: 'Decode errors by reason',
      labelNames: ['exporter', 'protocol', 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of decoder.allStats()) {
          for (const [reason, n] of s.errorsByReason)
            this.inc({ exporter: s.address, protocol: s.protocol, reason }, n);
        }
      },
    }),
  );
  reg(
    'downstream_ingest_sequence_gaps_total',
    new Counter({
      name: 'downstream_ingest_sequence_gaps_total',
      help: 'Sequence discontinuities that mean lost export datagrams',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of decoder.allStats()) this.inc({ exporter: s.address, protocol: s.protocol }, s.sequenceGaps);
      },
    }),
  );
  reg(
    'downstream_ingest_sequence_lost_total',
    new Counter({
      name: 'downstream_ingest_sequence_lost_total',
      help: 'Units the sequence numbers say were lost (v9/sFlow: datagrams, IPFIX/v5: records)',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of decoder.allStats()) this.inc({ exporter: s.address, protocol: s.protocol }, s.lost);
      },
    }),
  );
  reg(
    'downstream_ingest_exporter_restarts_total',
    new Counter({
      name: 'downstream_ingest_exporter_restarts_total',
      help: 'Exporter restarts detected (sequence or uptime reset)',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of decoder.allStats()) this.inc({ exporter: s.address, protocol: s.protocol }, s.restarts);
      },
    }),
  );
  reg(
    'downstream_ingest_templates',
    new Gauge({
      name: 'downstream_ingest_templates',
      help: 'Templates known per exporter',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of decoder.allStats())
          if (s.protocol === 'netflow-v9' || s.protocol === 'ipfix')
            this.set({ exporter: s.address, protocol: s.protocol }, s.templates);
      },
    }),
  );
  reg(
    'downstream_ingest_pending_sets',
    new Gauge({
      name: 'downstream_ingest_pending_sets',
      help: 'Data sets held while waiting for their template',
      registers: [registry],
      collect() {
        this.set(decoder.pendingSets);
      },
    }),
  );
  reg(
    'downstream_ingest_exporter_limit_dropped_total',
    new Counter({
      name: 'downstream_ingest_exporter_limit_dropped_total',
      help: 'Datagrams dropped because the exporter table was full',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(decoder.droppedExporterLimit);
      },
    }),
  );
  return () => {
    for (const n of names) registry.removeSingleMetric(n);
  };
}
