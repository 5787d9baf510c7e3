import { createFlowBatch, ensureCapacity, exporterIndex, type FlowBatch } from '../../flow/flow-batch.js';

/**
 * The batch every protocol decoder writes its rows into, and hands over when the collector
 * flushes. One per FlowDecoder: NetFlow, IPFIX and sFlow rows share it.
 */
export class BatchSink {
  batch: FlowBatch;

  constructor(private readonly capacity: number) {
    this.batch = createFlowBatch(capacity);
  }

  /** The batch with room for `n` more rows. */
  reserve(n: number): FlowBatch {
    const b = this.batch;
    ensureCapacity(b, b.length + n);
    return b;
  }

  /** The batch's index for exporter `address` (rows store the index, not the string). */
  exporter(address: string): number {
    return exporterIndex(this.batch, address);
  }

  /** Hand over the rows so far (undefined when none) and start a fresh batch. */
  take(): FlowBatch | undefined {
    if (this.batch.length === 0) return undefined;
    const b = this.batch;
    this.batch = createFlowBatch(this.capacity);
    return b;
  }
}

/**
 * Completes row `i` (the next one: `b.length`) of `b`: counts as the exporter sent them scaled
 * up by the sampling `rate`, which the row keeps, and the exporter's index. Written once for the
 * v5, sFlow and generic template writers, so sampling is applied the same way everywhere.
 */
export function endRow(b: FlowBatch, i: number, packets: number, bytes: number, rate: number, exporter: number): void {
  b.packets[i] = packets * rate;
  b.bytes[i] = bytes * rate;
  b.samplingRate[i] = rate;
  b.exporter[i] = exporter;
  b.length = i + 1;
}
