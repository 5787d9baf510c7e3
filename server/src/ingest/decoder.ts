/**
 * FlowDecoder: turns flow-export datagrams (NetFlow v5/v9, IPFIX, sFlow v5) into columnar
 * FlowBatch records. The version field picks the protocol's decoder (decode/netflow-v5.ts,
 * netflow-v9.ts, ipfix.ts, sflow-v5.ts); they share the exporter table (decode/exporter-table.ts:
 * templates, samplers, sequence numbers and health per exporter and DomainKey), the held data
 * (decode/held-sets.ts) and the batch they write rows into (decode/batch-sink.ts).
 *
 * Hand-written binary parsing over DataView on purpose (performance: see decode/template.ts and
 * `pnpm bench:ingest`). Every read is bounds-checked against the datagram or set length first; a
 * malformed datagram is counted under a reason and the rest of it skipped — decode() never
 * throws on input.
 */
import type { ExporterHealth, FlowProtocol } from '@downstream/shared';
import type { FlowBatch } from '../flow/flow-batch.js';
import { BatchSink } from './decode/batch-sink.js';
import { ExporterTable, type SamplingConfig } from './decode/exporter-table.js';
import { HeldSets } from './decode/held-sets.js';
import { IpfixDecoder } from './decode/ipfix.js';
import { NetflowV5Decoder } from './decode/netflow-v5.js';
import { NetflowV9Decoder } from './decode/netflow-v9.js';
import { type InterfaceCounters, SflowV5Decoder } from './decode/sflow-v5.js';
import { TemplateSets } from './decode/template-sets.js';
import type { ExporterStats } from './exporter-stats.js';

export type { SamplingConfig } from './decode/exporter-table.js';
export type { InterfaceCounters } from './decode/sflow-v5.js';

export interface DecoderOptions {
  sampling?: SamplingConfig;
  /** How long data that arrived before its template is held (ms); 0 disables holding. */
  pendingMs?: number;
  /** Bounds on held data: sets and bytes over all exporters. */
  maxPendingSets?: number;
  maxPendingBytes?: number;
  /** Share of those bounds one exporter may hold (default 1/4), so one noisy exporter cannot starve the rest. */
  pendingSharePerExporter?: number;
  /** Templates per exporter (all source ids / domains together), and over all exporters. */
  maxTemplatesPerExporter?: number;
  maxTemplatesTotal?: number;
  /** Distinct exporter addresses; datagrams from further ones are dropped and counted. */
  maxExporters?: number;
  /** Initial batch capacity (records). */
  batchCapacity?: number;
}

/** One protocol's decoder: `decode` adds the datagram's records to the shared batch and returns their number. */
export interface ProtocolDecoder {
  readonly protocol: FlowProtocol;
  decode(v: DataView, source: string, nowMs: number): number;
}

export class FlowDecoder {
  private readonly sink: BatchSink;
  private readonly table: ExporterTable;
  private readonly held: HeldSets;
  private readonly v5: ProtocolDecoder;
  private readonly v9: ProtocolDecoder;
  private readonly ipfix: ProtocolDecoder;
  private readonly sflow: SflowV5Decoder;
  /** Latest sFlow interface counters per `agent/ifIndex`. */
  readonly counters: Map<string, InterfaceCounters>;
  /** The last exception a datagram caused inside the decoder (there should be none). */
  lastInternalError: Error | undefined;

  constructor(opts: DecoderOptions = {}) {
    const maxExporters = opts.maxExporters ?? 4096;
    this.sink = new BatchSink(opts.batchCapacity ?? 8192);
    this.table = new ExporterTable({
      sampling: opts.sampling ?? { default: 1, exporters: {} },
      maxTemplatesPerExporter: opts.maxTemplatesPerExporter ?? 2048,
      maxTemplatesTotal: opts.maxTemplatesTotal ?? 65_536,
      maxExporters,
    });
    this.held = new HeldSets(this.table, {
      pendingMs: opts.pendingMs ?? 2000,
      maxPendingSets: opts.maxPendingSets ?? 1024,
      maxPendingBytes: opts.maxPendingBytes ?? 4 * 1024 * 1024,
      pendingSharePerExporter: opts.pendingSharePerExporter ?? 0.25,
    });
    const sets = new TemplateSets(this.table, this.held, this.sink);
    this.v5 = new NetflowV5Decoder(this.table, this.sink);
    this.v9 = new NetflowV9Decoder(this.table, sets);
    this.ipfix = new IpfixDecoder(this.table, sets);
    this.sflow = new SflowV5Decoder(this.table, this.sink, maxExporters);
    this.counters = this.sflow.counters;
  }

  /** The records decoded so far (the collector hands it on with takeBatch()). */
  get batch(): FlowBatch {
    return this.sink.batch;
  }

  /** Hand over the records decoded so far (undefined when none) and start a fresh batch. */
  takeBatch(): FlowBatch | undefined {
    return this.sink.take();
  }

  health(): ExporterHealth[] {
    return this.table.health();
  }

  /** Raw stats objects (metrics read these on scrape). */
  allStats(): Iterable<ExporterStats> {
    return this.table.allStats();
  }

  get pendingSets(): number {
    return this.held.count;
  }

  /** Datagrams dropped because the exporter table was full (no stats entry to count them on). */
  get droppedExporterLimit(): number {
    return this.table.droppedExporterLimit;
  }

  /** Expire held data whose template never came. */
  tick(nowMs: number): void {
    this.held.expire(nowMs);
  }

  /**
   * Decode one datagram from `source` (the UDP source address). Returns the number of flow
   * records added to `this.batch`. Never throws on malformed input.
   */
  decode(msg: Uint8Array, source: string, nowMs: number): number {
    try {
      const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
      if (msg.byteLength < 4) return this.table.rejected(source, guessProtocol(msg), 'truncated', nowMs);
      const w = v.getUint16(0);
      if (w === 9) return this.v9.decode(v, source, nowMs);
      if (w === 10) return this.ipfix.decode(v, source, nowMs);
      if (w === 5) return this.v5.decode(v, source, nowMs);
      if (w === 0 && v.getUint16(2) === 5) return this.sflow.decode(v, source, nowMs);
      return this.table.rejected(source, guessProtocol(msg), 'bad-version', nowMs);
    } catch (err) {
      // a decoder bug must cost one datagram, never the collector: counted, last one kept
      this.lastInternalError = err as Error;
      return this.table.rejected(source, guessProtocol(msg), 'internal-error', nowMs, false);
    }
  }
}

function guessProtocol(msg: Uint8Array): FlowProtocol {
  if (msg.byteLength >= 2) {
    const w = (msg[0] << 8) | msg[1];
    if (w === 5) return 'netflow-v5';
    if (w === 10) return 'ipfix';
    if (w === 0) return 'sflow-v5';
  }
  return 'netflow-v9';
}
