import type { ExporterHealth } from '@downstream/shared';

/** What ingest/ offers the rest of the server: its UDP collectors. */
export interface CollectorSet {
  /** Bound UDP ports (useful when the config asked for port 0). */
  ports: { netflow?: number; ipfix?: number; sflow?: number };
  health(): ExporterHealth[];
  stop(): Promise<void>;
}
