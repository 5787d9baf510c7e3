/**
 * An enriched flow batch as one binary NATS message: the typed-array columns back to back,
 * never an object per flow and never JSON, so an inlet publishes what its enricher produced
 * and a detect process reads it back as the same columns (one copy, to realign the buffer).
 *
 * Frame (little-endian, every column starts 8-byte aligned):
 *   u32 magic "DSB1" · u32 records · u16 columns · u16 exporters
 *   exporters: u16 byte length + UTF-8 text each, then padding to 8
 *   per column: u8 column id · u8 array type · u16 0 · u32 byte length · bytes · padding to 8
 */
import type { EnrichedBatch } from '../enrich/enriched-batch.js';
import { FLOW_COLUMN_NAMES } from '../flow/flow-batch.js';

const MAGIC = 0x31425344; // "DSB1" read little-endian
const HEADER = 12;
const COLUMN_HEADER = 8;

/** Column ids are positions in this list: append only, the id is on the wire. */
export const BUS_COLUMNS = [
  ...FLOW_COLUMN_NAMES,
  'direction',
  'srcAsn',
  'dstAsn',
  'srcCustomer',
  'dstCustomer',
  'inLink',
  'outLink',
  'shardRoles',
] as const;
type BusColumn = (typeof BUS_COLUMNS)[number];

/** Array elements per record. */
const PER: Partial<Record<BusColumn, number>> = { src: 4, dst: 4 };

type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array | Int16Array;
const TYPES = [Float64Array, Uint32Array, Uint16Array, Uint8Array, Int16Array] as const;

function typeCode(a: Column): number {
  const i = TYPES.findIndex((T) => a instanceof T);
  if (i < 0) throw new Error(`bus codec: unsupported column type ${a.constructor.name}`);
  return i;
}

const pad8 = (n: number): number => (n + 7) & ~7;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class BusFrameError extends Error {
  constructor(message: string) {
    super(`flow bus frame: ${message}`);
    this.name = 'BusFrameError';
  }
}

/** Records [from, to) of `b` as one frame. */
export function encodeBatch(b: EnrichedBatch, from = 0, to = b.length): Uint8Array {
  const n = to - from;
  const rec = b as unknown as Record<string, Column | undefined>;
  const names = utf8Bytes(b.exporters);
  let size = HEADER;
  for (const e of names) size += 2 + e.length;
  size = pad8(size);
  const cols: { id: number; a: Column }[] = [];
  BUS_COLUMNS.forEach((name, id) => {
    const a = rec[name];
    if (a === undefined) return;
    const per = PER[name] ?? 1;
    cols.push({ id, a: a.subarray(from * per, to * per) as Column });
    size += COLUMN_HEADER + pad8(n * per * a.BYTES_PER_ELEMENT);
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, n, true);
  view.setUint16(8, cols.length, true);
  view.setUint16(10, names.length, true);
  let off = HEADER;
  for (const e of names) {
    view.setUint16(off, e.length, true);
    out.set(e, off + 2);
    off += 2 + e.length;
  }
  off = pad8(off);
  for (const { id, a } of cols) {
    view.setUint8(off, id);
    view.setUint8(off + 1, typeCode(a));
    view.setUint32(off + 4, a.byteLength, true);
    off += COLUMN_HEADER;
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
    off += pad8(a.byteLength);
  }
  return out;
}

function utf8Bytes(list: string[]): Uint8Array[] {
  if (list.length > 0xffff) throw new Error('bus codec: more than 65535 exporters in one batch');
  return list.map((s) => utf8.encode(s));
}

/** A frame back into columns; throws BusFrameError naming what is wrong with a bad one. */
export function decodeBatch(data: Uint8Array): EnrichedBatch {
  if (data.byteLength < HEADER) throw new BusFrameError(`${data.byteLength} bytes, shorter than the header`);
  // One copy into a fresh, 8-aligned buffer so every column can be a view on it.
  const buf = new Uint8Array(data.byteLength);
  buf.set(data);
  const view = new DataView(buf.buffer);
  if (view.getUint32(0, true) !== MAGIC) throw new BusFrameError('bad magic (not a Downstream flow batch)');
  const n = view.getUint32(4, true);
  const ncols = view.getUint16(8, true);
  const nexp = view.getUint16(10, true);
  let off = HEADER;
  const exporters: string[] = [];
  for (let i = 0; i < nexp; i++) {
    if (off + 2 > buf.length) throw new BusFrameError('truncated exporter list');
    const len = view.getUint16(off, true);
    if (off + 2 + len > buf.length) throw new BusFrameError('truncated exporter list');
    exporters.push(fromUtf8.decode(buf.subarray(off + 2, off + 2 + len)));
    off += 2 + len;
  }
  off = pad8(off);
  const out: Record<string, unknown> = { length: n, exporters };
  for (let c = 0; c < ncols; c++) {
    if (off + COLUMN_HEADER > buf.length) throw new BusFrameError(`truncated at column ${c}`);
    const id = view.getUint8(off);
    const type = view.getUint8(off + 1);
    const bytes = view.getUint32(off + 4, true);
    off += COLUMN_HEADER;
    const name = BUS_COLUMNS[id];
    const T = TYPES[type];
    if (name === undefined) throw new BusFrameError(`unknown column id ${id}`);
    if (T === undefined) throw new BusFrameError(`column ${name}: unknown array type ${type}`);
    const per = PER[name] ?? 1;
    if (bytes !== n * per * T.BYTES_PER_ELEMENT)
      throw new BusFrameError(`column ${name}: ${bytes} bytes for ${n} records`);
    if (off + bytes > buf.length) throw new BusFrameError(`column ${name}: truncated`);
    out[name] = new T(buf.buffer, off, bytes / T.BYTES_PER_ELEMENT);
    off += pad8(bytes);
  }
  for (const name of BUS_COLUMNS) {
    if (name !== 'shardRoles' && out[name] === undefined) throw new BusFrameError(`column ${name} missing`);
  }
  return out as unknown as EnrichedBatch;
}

/** Bytes a frame of `records` records of `b` takes, about (for splitting under max_payload). */
export function frameBytesPerRecord(b: EnrichedBatch): number {
  const rec = b as unknown as Record<string, Column | undefined>;
  let per = 0;
  for (const name of BUS_COLUMNS) {
    const a = rec[name];
    if (a) per += (PER[name] ?? 1) * a.BYTES_PER_ELEMENT;
  }
  return per;
}
