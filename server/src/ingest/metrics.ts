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
  /** A counter per exporter and protocol, read from one ExporterStats field at scrape time. */
  const perExporter = (
    name: string,
    help: string,
    field: 'datagrams' | 'records' | 'sequenceGaps' | 'lost' | 'restarts' | 'sampleDrops',
  ): void => {
    reg(
      name,
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const s of decoder.allStats()) this.inc({ exporter: s.address, protocol: s.protocol }, s[field]);
        },
      }),
    );
  };

  perExporter(
    'downstream_ingest_datagrams_total',
    'Flow-export datagrams received, per exporter and protocol',
    'datagrams',
  );
  perExporter(
    'downstream_ingest_records_total',
    'Flow records (sFlow: flow samples) decoded, before sampling scale-up',
    'records',
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
  perExporter(
    'downstream_ingest_sequence_gaps_total',
    'Sequence discontinuities that mean lost export datagrams',
    'sequenceGaps',
  );
  perExporter(
    'downstream_ingest_sequence_lost_total',
    'Units the sequence numbers say were lost (v9/sFlow: datagrams, IPFIX/v5: records)',
    'lost',
  );
  perExporter(
    'downstream_ingest_sflow_sample_drops_total',
    'Flow samples an sFlow agent says it dropped (its drops counters; the decoder scales what follows to make up for them)',
    'sampleDrops',
  );
  perExporter(
    'downstream_ingest_exporter_restarts_total',
    'Exporter restarts detected (sequence or uptime reset)',
    'restarts',
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
    'downstream_ingest_exporter_last_seen_timestamp_seconds',
    new Gauge({
      name: 'downstream_ingest_exporter_last_seen_timestamp_seconds',
      help: 'When the last datagram from an exporter arrived (Unix seconds); alert on time() minus this',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of decoder.allStats())
          if (s.lastSeen > 0) this.set({ exporter: s.address, protocol: s.protocol }, s.lastSeen / 1000);
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
