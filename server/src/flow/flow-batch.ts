/**
 * The columnar flow batch: the one shape flows travel in from decoders to detectors.
 *
 * One typed array per field rather than an object per flow, so a batch of 100,000 records is
 * a dozen allocations instead of 100,000, can be handed to a worker or a message bus as
 * transferable buffers, and detectors loop over plain numbers.
 *
 * The columns are listed once, in FLOW_COLUMNS; the FlowBatch type, allocation, growth and the
 * worker's transfer list are all derived from it, so a new column is one line here.
 *
 * Addresses are 128-bit, four big-endian 32-bit words per record (`src[i*4 .. i*4+3]`); IPv4 is
 * stored IPv4-mapped (::ffff:a.b.c.d → words 0, 0, 0xffff, a.b.c.d) so every consumer handles
 * one layout. The codec is shared/src/address.ts; `isV4(batch.src, i)` is the fast test.
 */

export const FLOW_BATCH_WORDS = 4;

const ARRAYS = { f64: Float64Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array } as const;
interface ArrayTypes {
  f64: Float64Array;
  u32: Uint32Array;
  u16: Uint16Array;
  u8: Uint8Array;
}
type TypedColumn = ArrayTypes[keyof ArrayTypes];

interface ColumnSpec {
  array: keyof ArrayTypes;
  /** Array elements per record (4 for the address words). */
  per: number;
}

export const FLOW_COLUMNS = {
  /** Flow start, ms since the Unix epoch. */
  start: { array: 'f64', per: 1 },
  /** Flow end, ms since the Unix epoch. */
  end: { array: 'f64', per: 1 },
  /** Source address, FLOW_BATCH_WORDS words a record. */
  src: { array: 'u32', per: FLOW_BATCH_WORDS },
  /** Destination address, FLOW_BATCH_WORDS words a record. */
  dst: { array: 'u32', per: FLOW_BATCH_WORDS },
  srcPort: { array: 'u16', per: 1 },
  dstPort: { array: 'u16', per: 1 },
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6 …). */
  proto: { array: 'u8', per: 1 },
  /** Cumulative TCP flags (OR of all packets), 0 when not TCP or unknown. */
  tcpFlags: { array: 'u8', per: 1 },
  /** Already scaled by `samplingRate`: estimated packets on the wire. */
  packets: { array: 'f64', per: 1 },
  /** Already scaled by `samplingRate`: estimated bytes on the wire. */
  bytes: { array: 'f64', per: 1 },
  inIf: { array: 'u32', per: 1 },
  outIf: { array: 'u32', per: 1 },
  /** Index into `exporters` (the exporter's address as text). */
  exporter: { array: 'u16', per: 1 },
  /** The 1-in-N rate this record was scaled by (1 = unsampled). */
  samplingRate: { array: 'u32', per: 1 },
} as const satisfies Record<string, ColumnSpec>;

export type FlowColumn = keyof typeof FLOW_COLUMNS;
export const FLOW_COLUMN_NAMES = Object.keys(FLOW_COLUMNS) as FlowColumn[];

type FlowColumns = { -readonly [K in FlowColumn]: ArrayTypes[(typeof FLOW_COLUMNS)[K]['array']] };

export interface FlowBatch extends FlowColumns {
  /** Number of valid records; the arrays may be longer (capacity). */
  length: number;
  /** Exporter addresses referenced by `exporter`. */
  exporters: string[];
}

function columns(b: FlowBatch): Record<FlowColumn, TypedColumn> {
  return b;
}

export function createFlowBatch(capacity: number): FlowBatch {
  // Built in FLOW_COLUMNS order every time, so every batch has the same shape for V8.
  const b = { length: 0 } as FlowBatch;
  const c = columns(b);
  for (const name of FLOW_COLUMN_NAMES) {
    const { array, per } = FLOW_COLUMNS[name];
    c[name] = new ARRAYS[array](capacity * per);
  }
  b.exporters = [];
  return b;
}

export function batchCapacity(b: FlowBatch): number {
  return b.start.length;
}

/** Grow (doubling) so that at least `needed` records fit; keeps the first `length` records. */
export function ensureCapacity(b: FlowBatch, needed: number): void {
  const cap = batchCapacity(b);
  if (needed <= cap) return;
  let next = Math.max(16, cap * 2);
  while (next < needed) next *= 2;
  const c = columns(b);
  for (const name of FLOW_COLUMN_NAMES) {
    const { array, per } = FLOW_COLUMNS[name];
    const grown = new ARRAYS[array](next * per);
    grown.set(c[name].subarray(0, b.length * per));
    c[name] = grown;
  }
}

/** Index of `address` in the batch's exporter table, adding it if new. */
export function exporterIndex(b: FlowBatch, address: string): number {
  const i = b.exporters.indexOf(address);
  if (i >= 0) return i;
  b.exporters.push(address);
  return b.exporters.length - 1;
}

/** The column buffers, to transfer (not copy) a batch to another thread. */
export function flowBatchBuffers(b: FlowBatch): ArrayBuffer[] {
  const c = columns(b);
  return FLOW_COLUMN_NAMES.map((name) => c[name].buffer as ArrayBuffer);
}

/** Packets and bytes of a batch's records, summed (the traffic meters' input). */
export function batchTotals(b: FlowBatch): { packets: number; bytes: number } {
  const n = b.length;
  const pk = b.packets;
  const by = b.bytes;
  let packets = 0;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    packets += pk[i];
    bytes += by[i];
  }
  return { packets, bytes };
}
