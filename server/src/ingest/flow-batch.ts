/**
 * The columnar flow batch: the one shape flows travel in from decoders to detectors.
 *
 * One typed array per field rather than an object per flow, so a batch of 100,000 records is
 * a dozen allocations instead of 100,000, can be handed to a worker or a message bus as
 * transferable buffers, and detectors loop over plain numbers.
 *
 * Addresses are 128-bit, four big-endian 32-bit words per record (`src[i*4 .. i*4+3]`); IPv4 is
 * stored IPv4-mapped (::ffff:a.b.c.d → words 0, 0, 0xffff, a.b.c.d) so every consumer handles
 * one layout. `isV4(batch.src, i)` is the fast test.
 */
export interface FlowBatch {
  /** Number of valid records; the arrays may be longer (capacity). */
  length: number;
  /** Flow start / end, ms since the Unix epoch. */
  start: Float64Array;
  end: Float64Array;
  src: Uint32Array;
  dst: Uint32Array;
  srcPort: Uint16Array;
  dstPort: Uint16Array;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6 …). */
  proto: Uint8Array;
  /** Cumulative TCP flags (OR of all packets), 0 when not TCP or unknown. */
  tcpFlags: Uint8Array;
  /** Already scaled by `samplingRate`: estimated packets and bytes on the wire. */
  packets: Float64Array;
  bytes: Float64Array;
  inIf: Uint32Array;
  outIf: Uint32Array;
  /** Index into `exporters` (the exporter's address as text). */
  exporter: Uint16Array;
  /** The 1-in-N rate this record was scaled by (1 = unsampled). */
  samplingRate: Uint32Array;
  /** Exporter addresses referenced by `exporter`. */
  exporters: string[];
}

export const FLOW_BATCH_WORDS = 4;

export function createFlowBatch(capacity: number): FlowBatch {
  return {
    length: 0,
    start: new Float64Array(capacity),
    end: new Float64Array(capacity),
    src: new Uint32Array(capacity * 4),
    dst: new Uint32Array(capacity * 4),
    srcPort: new Uint16Array(capacity),
    dstPort: new Uint16Array(capacity),
    proto: new Uint8Array(capacity),
    tcpFlags: new Uint8Array(capacity),
    packets: new Float64Array(capacity),
    bytes: new Float64Array(capacity),
    inIf: new Uint32Array(capacity),
    outIf: new Uint32Array(capacity),
    exporter: new Uint16Array(capacity),
    samplingRate: new Uint32Array(capacity),
    exporters: [],
  };
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
  const grow = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T, per = 1): T => {
    const n = new (a.constructor as new (len: number) => T)(next * per);
    n.set(a.subarray(0, b.length * per));
    return n;
  };
  b.start = grow(b.start);
  b.end = grow(b.end);
  b.src = grow(b.src, 4);
  b.dst = grow(b.dst, 4);
  b.srcPort = grow(b.srcPort);
  b.dstPort = grow(b.dstPort);
  b.proto = grow(b.proto);
  b.tcpFlags = grow(b.tcpFlags);
  b.packets = grow(b.packets);
  b.bytes = grow(b.bytes);
  b.inIf = grow(b.inIf);
  b.outIf = grow(b.outIf);
  b.exporter = grow(b.exporter);
  b.samplingRate = grow(b.samplingRate);
}

/** Index of `address` in the batch's exporter table, adding it if new. */
export function exporterIndex(b: FlowBatch, address: string): number {
  const i = b.exporters.indexOf(address);
  if (i >= 0) return i;
  b.exporters.push(address);
  return b.exporters.length - 1;
}

export function isV4(words: Uint32Array, i: number): boolean {
  const o = i * 4;
  return words[o] === 0 && words[o + 1] === 0 && words[o + 2] === 0xffff;
}

export function setV4(words: Uint32Array, i: number, addr: number): void {
  const o = i * 4;
  words[o] = 0;
  words[o + 1] = 0;
  words[o + 2] = 0xffff;
  words[o + 3] = addr >>> 0;
}

/** Copy 16 bytes of an IPv6 address from `buf` at `off` into record `i`. */
export function setV6(words: Uint32Array, i: number, buf: DataView, off: number): void {
  const o = i * 4;
  words[o] = buf.getUint32(off);
  words[o + 1] = buf.getUint32(off + 4);
  words[o + 2] = buf.getUint32(off + 8);
  words[o + 3] = buf.getUint32(off + 12);
}

export function v4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function v4FromString(s: string): number {
  const p = s.split('.');
  if (p.length !== 4) throw new Error(`not an IPv4 address: ${s}`);
  let r = 0;
  for (const x of p) {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0 || n > 255 || x === '') throw new Error(`not an IPv4 address: ${s}`);
    r = r * 256 + n;
  }
  return r >>> 0;
}

/** Text form of record `i`'s address: dotted quad for IPv4-mapped, RFC 5952 for IPv6. */
export function addrToString(words: Uint32Array, i: number): string {
  if (isV4(words, i)) return v4ToString(words[i * 4 + 3]);
  const o = i * 4;
  const groups: number[] = [];
  for (let k = 0; k < 4; k++) {
    groups.push(words[o + k] >>> 16, words[o + k] & 0xffff);
  }
  return v6GroupsToString(groups);
}

export function v6GroupsToString(groups: number[]): string {
  // RFC 5952: compress the longest run (≥ 2) of zero groups, first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let k = 0; k < 8;) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let j = k;
    while (j < 8 && groups[j] === 0) j++;
    if (j - k > bestLen && j - k >= 2) {
      bestStart = k;
      bestLen = j - k;
    }
    k = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parse an IPv4 or IPv6 address into 4 words (IPv4-mapped for v4). Throws on bad input. */
export function addrFromString(s: string, out = new Uint32Array(4)): Uint32Array {
  if (!s.includes(':')) {
    setV4(out, 0, v4FromString(s));
    return out;
  }
  let head = s;
  let tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    head = s.slice(0, dbl);
    tail = s.slice(dbl + 2);
    if (tail.includes('::')) throw new Error(`not an IPv6 address: ${s}`);
  }
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k];
      if (k === pieces.length - 1 && p.includes('.')) {
        const v4 = v4FromString(p);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) throw new Error(`not an IPv6 address: ${s}`);
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const h = parse(head);
  const t = parse(tail);
  const fill = 8 - h.length - t.length;
  if ((dbl < 0 && fill !== 0) || fill < 0 || (dbl >= 0 && fill < 1)) throw new Error(`not an IPv6 address: ${s}`);
  const g = [...h, ...new Array<number>(fill).fill(0), ...t];
  for (let k = 0; k < 4; k++) out[k] = ((g[2 * k] << 16) | g[2 * k + 1]) >>> 0;
  return out;
}

/** A fresh batch holding records [from, to) of `b` (copies; for tests and splitting). */
export function sliceBatch(b: FlowBatch, from: number, to: number): FlowBatch {
  const n = Math.max(0, Math.min(to, b.length) - from);
  const r = createFlowBatch(n);
  r.length = n;
  r.start.set(b.start.subarray(from, from + n));
  r.end.set(b.end.subarray(from, from + n));
  r.src.set(b.src.subarray(from * 4, (from + n) * 4));
  r.dst.set(b.dst.subarray(from * 4, (from + n) * 4));
  r.srcPort.set(b.srcPort.subarray(from, from + n));
  r.dstPort.set(b.dstPort.subarray(from, from + n));
  r.proto.set(b.proto.subarray(from, from + n));
  r.tcpFlags.set(b.tcpFlags.subarray(from, from + n));
  r.packets.set(b.packets.subarray(from, from + n));
  r.bytes.set(b.bytes.subarray(from, from + n));
  r.inIf.set(b.inIf.subarray(from, from + n));
  r.outIf.set(b.outIf.subarray(from, from + n));
  r.exporter.set(b.exporter.subarray(from, from + n));
  r.samplingRate.set(b.samplingRate.subarray(from, from + n));
  r.exporters = b.exporters.slice();
  return r;
}
