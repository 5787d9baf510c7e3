/**
 * Compiled NetFlow v9 / IPFIX templates and the data-record loop they drive.
 *
 * Hand-written rather than a generic TLV library on purpose: this loop runs for every flow record
 * (millions per second), so a template is compiled once into per-column byte offsets and each
 * record is read straight from a DataView into the columnar batch — no object per record, no
 * per-field dispatch for fields we do not use.
 */
import { ensureCapacity, type FlowBatch, setV4, setV6 } from './flow-batch.js';
import { HEADER_ETHERNET, parseHeader } from './packet-header.js';
import { compileWriter, type RecordWriter } from './template-codegen.js';

// Columns we extract; index into Template.colField / colOff / colLen.
export const C_SRC4 = 0;
export const C_DST4 = 1;
export const C_SRC6 = 2;
export const C_DST6 = 3;
export const C_SPORT = 4;
export const C_DPORT = 5;
export const C_PROTO = 6;
export const C_FLAGS = 7;
export const C_BYTES = 8;
export const C_PKTS = 9;
export const C_IN = 10;
export const C_OUT = 11;
export const C_FIRST_UP = 12;
export const C_LAST_UP = 13;
export const C_START_S = 14;
export const C_END_S = 15;
export const C_START_MS = 16;
export const C_END_MS = 17;
export const C_START_US = 18;
export const C_END_US = 19;
export const C_SAMPLING_INTERVAL = 20;
export const C_SAMPLER_ID = 21;
export const C_SAMPLING_ALGO = 22;
export const C_SAMPLER_MODE = 23;
export const C_SAMPLER_RANDOM_INTERVAL = 24;
export const C_SELECTOR_ID = 25;
export const C_PKT_INTERVAL = 26;
export const C_PKT_SPACE = 27;
export const C_SAMPLING_SIZE = 28;
export const C_SAMPLING_POPULATION = 29;
export const C_ICMP4 = 30;
export const C_ICMP6 = 31;
export const C_DATALINK = 32;
export const C_BYTES_TOTAL = 33;
export const C_PKTS_TOTAL = 34;
export const C_INIT_TIME = 35;
export const C_IN_PHYS = 36;
export const C_OUT_PHYS = 37;
export const C_SRC6_LEN_CHECK = 38; // placeholder to keep NCOL explicit
export const NCOL = 39;

/** Information element id → column (IANA IPFIX numbering; NetFlow v9 shares ids 1–127). */
const IE_TO_COL = new Map<number, number>([
  [8, C_SRC4],
  [12, C_DST4],
  [27, C_SRC6],
  [28, C_DST6],
  [7, C_SPORT],
  [11, C_DPORT],
  [4, C_PROTO],
  [6, C_FLAGS],
  [1, C_BYTES],
  [2, C_PKTS],
  [10, C_IN],
  [14, C_OUT],
  [22, C_FIRST_UP],
  [21, C_LAST_UP],
  [150, C_START_S],
  [151, C_END_S],
  [152, C_START_MS],
  [153, C_END_MS],
  [154, C_START_US],
  [155, C_END_US],
  [34, C_SAMPLING_INTERVAL],
  [48, C_SAMPLER_ID],
  [35, C_SAMPLING_ALGO],
  [49, C_SAMPLER_MODE],
  [50, C_SAMPLER_RANDOM_INTERVAL],
  [302, C_SELECTOR_ID],
  [305, C_PKT_INTERVAL],
  [306, C_PKT_SPACE],
  [309, C_SAMPLING_SIZE],
  [310, C_SAMPLING_POPULATION],
  [32, C_ICMP4],
  [139, C_ICMP6],
  [315, C_DATALINK],
  [85, C_BYTES_TOTAL],
  [86, C_PKTS_TOTAL],
  [160, C_INIT_TIME],
  [252, C_IN_PHYS],
  [253, C_OUT_PHYS],
]);

export const VARLEN = 65535;

export interface Template {
  id: number;
  options: boolean;
  /** Per field: IE id (-1 for enterprise-specific or options scope fields), length (65535 = variable). */
  ies: Int32Array;
  lens: Int32Array;
  /** Per column: index of the field carrying it, or -1. */
  colField: Int32Array;
  /** Per column: byte offset inside a record (fixed-length templates only) and length. */
  colOff: Int32Array;
  colLen: Int32Array;
  /** Record length for fixed templates; the minimum length when `variable`. */
  recordLen: number;
  variable: boolean;
  /** Layout fingerprint: a redefinition with the same layout is a refresh, not a change. */
  layout: string;
  /** Generated record loop for this layout (fixed-length templates), built on first use; null = use the generic loop. */
  writer?: RecordWriter | null;
}

/** `fields` are (ie, length) pairs; enterprise fields already mapped to -1. */
export function compileTemplate(id: number, options: boolean, ies: number[], lens: number[]): Template {
  const n = ies.length;
  const t: Template = {
    id,
    options,
    ies: Int32Array.from(ies),
    lens: Int32Array.from(lens),
    colField: new Int32Array(NCOL).fill(-1),
    colOff: new Int32Array(NCOL).fill(-1),
    colLen: new Int32Array(NCOL),
    recordLen: 0,
    variable: false,
    layout: `${options ? 'o' : 'd'}:${ies.join(',')}/${lens.join(',')}`,
  };
  let off = 0;
  for (let k = 0; k < n; k++) {
    const ie = ies[k];
    const len = lens[k];
    const col = ie >= 0 ? IE_TO_COL.get(ie) : undefined;
    // a zero-length field carries nothing (and would make "last byte of the field" read before it)
    if (col !== undefined && t.colField[col] < 0 && len !== 0) {
      t.colField[col] = k;
      t.colLen[col] = len;
      t.colOff[col] = t.variable ? -1 : off;
    }
    if (len === VARLEN) {
      t.variable = true;
      off += 1;
    } else off += len;
  }
  t.recordLen = off;
  return t;
}

/** Unsigned big-endian integer of 1–8 bytes (reduced-size encoding, RFC 7011 §6.2). */
export function readUint(v: DataView, off: number, len: number): number {
  switch (len) {
    case 1:
      return v.getUint8(off);
    case 2:
      return v.getUint16(off);
    case 4:
      return v.getUint32(off);
    case 8:
      return v.getUint32(off) * 4294967296 + v.getUint32(off + 4);
    default: {
      let r = 0;
      const n = len > 8 ? 8 : len;
      for (let k = 0; k < n; k++) r = r * 256 + v.getUint8(off + k);
      return r;
    }
  }
}

const NTP_EPOCH_OFFSET_S = 2208988800;

/** Per-set context the record loop needs from the header and the exporter's state. */
export interface DataSetContext {
  exporter: number;
  /** v9: header unix time in ms and sysUptime in ms. IPFIX: exportTime ms, uptime -1. */
  headerMs: number;
  sysUptime: number;
  /** IPFIX systemInitTimeMilliseconds of this domain, or -1. */
  initTimeMs: number;
  /** Rate for records that carry no sampling of their own. */
  defaultRate: number;
  /** Sampler/selector id → rate from options records. */
  samplers: Map<number, number> | undefined;
}

/** Sampling information found in one options record (or null fields when absent). */
export interface OptionsInfo {
  samplerId: number;
  rate: number;
  initTimeMs: number;
}

/**
 * Decode the data records of one set in [start, end) with template `t` into batch `b`.
 * Padding shorter than a record at the end of the set is not read as a record.
 * Returns the number of records, or -1 when a variable-length field overran the set.
 */
/** Use generated per-template record loops (template-codegen.ts); off only to compare against the generic loop. */
export const codegen = { enabled: true };

export function decodeDataSet(
  v: DataView,
  start: number,
  end: number,
  t: Template,
  b: FlowBatch,
  ctx: DataSetContext,
): number {
  if (t.recordLen === 0) return 0;
  if (!t.variable) {
    const n = Math.floor((end - start) / t.recordLen);
    if (n === 0) return 0;
    ensureCapacity(b, b.length + n);
    if (codegen.enabled) {
      if (t.writer === undefined) t.writer = compileWriter(t);
      if (t.writer !== null) {
        t.writer(v, start, n, b, ctx);
        return n;
      }
    }
    let p = start;
    for (let r = 0; r < n; r++) {
      writeRecord(v, p, t.colOff, t.colLen, t, b, ctx);
      p += t.recordLen;
    }
    return n;
  }
  // variable-length fields: offsets differ per record
  let p = start;
  let count = 0;
  while (end - p >= t.recordLen) {
    const q = locateFields(v, p, end, t);
    if (q < 0) return -1 - count;
    ensureCapacity(b, b.length + 1);
    writeRecord(v, 0, scratchOff, scratchLen, t, b, ctx);
    p = q;
    count++;
  }
  return count;
}

const scratchOff = new Int32Array(NCOL);
const scratchLen = new Int32Array(NCOL);

/**
 * Walks the record at `p` of a template read field by field (variable-length fields, options
 * records) and leaves where each column lies in scratchOff / scratchLen (-1: absent). The column
 * is the field compileTemplate chose for it (`t.colField`: the first of its IE with a non-zero
 * length), for options records too, so that a sampling field announced first with length 0 and
 * then with a value reads the same in options and in data records.
 * Returns the record's end, or -1 when a field overruns `end`.
 */
function locateFields(v: DataView, p: number, end: number, t: Template): number {
  const offs = scratchOff;
  const lens = scratchLen;
  const nf = t.ies.length;
  offs.fill(-1);
  let q = p;
  for (let k = 0; k < nf; k++) {
    let len = t.lens[k];
    if (len === VARLEN) {
      if (q + 1 > end) return -1;
      len = v.getUint8(q);
      q += 1;
      if (len === 255) {
        if (q + 2 > end) return -1;
        len = v.getUint16(q);
        q += 2;
      }
    }
    const ie = t.ies[k];
    if (ie >= 0) {
      const col = IE_TO_COL.get(ie);
      if (col !== undefined && t.colField[col] === k) {
        offs[col] = q;
        lens[col] = len;
      }
    }
    q += len;
  }
  return q > end ? -1 : q;
}

function writeRecord(
  v: DataView,
  base: number,
  off: Int32Array,
  len: Int32Array,
  t: Template,
  b: FlowBatch,
  ctx: DataSetContext,
): void {
  const i = b.length;
  let o: number;
  // addresses
  if ((o = off[C_SRC4]) >= 0 && len[C_SRC4] === 4) setV4(b.src, i, v.getUint32(base + o));
  else if ((o = off[C_SRC6]) >= 0 && len[C_SRC6] === 16) setV6(b.src, i, v, base + o);
  else clearAddr(b.src, i);
  if ((o = off[C_DST4]) >= 0 && len[C_DST4] === 4) setV4(b.dst, i, v.getUint32(base + o));
  else if ((o = off[C_DST6]) >= 0 && len[C_DST6] === 16) setV6(b.dst, i, v, base + o);
  else clearAddr(b.dst, i);
  b.srcPort[i] = (o = off[C_SPORT]) >= 0 ? readUint(v, base + o, len[C_SPORT]) & 0xffff : 0;
  b.dstPort[i] = (o = off[C_DPORT]) >= 0 ? readUint(v, base + o, len[C_DPORT]) & 0xffff : 0;
  b.proto[i] = (o = off[C_PROTO]) >= 0 ? v.getUint8(base + o + len[C_PROTO] - 1) : 0;
  b.tcpFlags[i] = (o = off[C_FLAGS]) >= 0 ? v.getUint8(base + o + len[C_FLAGS] - 1) : 0;
  b.inIf[i] =
    (o = off[C_IN]) >= 0
      ? readUint(v, base + o, len[C_IN]) >>> 0
      : (o = off[C_IN_PHYS]) >= 0
        ? readUint(v, base + o, len[C_IN_PHYS]) >>> 0
        : 0;
  b.outIf[i] =
    (o = off[C_OUT]) >= 0
      ? readUint(v, base + o, len[C_OUT]) >>> 0
      : (o = off[C_OUT_PHYS]) >= 0
        ? readUint(v, base + o, len[C_OUT_PHYS]) >>> 0
        : 0;
  if (b.dstPort[i] === 0 && (b.proto[i] === 1 || b.proto[i] === 58)) {
    if ((o = off[C_ICMP4]) >= 0) b.dstPort[i] = readUint(v, base + o, len[C_ICMP4]) & 0xffff;
    else if ((o = off[C_ICMP6]) >= 0) b.dstPort[i] = readUint(v, base + o, len[C_ICMP6]) & 0xffff;
  }
  let bytes =
    (o = off[C_BYTES]) >= 0
      ? readUint(v, base + o, len[C_BYTES])
      : (o = off[C_BYTES_TOTAL]) >= 0
        ? readUint(v, base + o, len[C_BYTES_TOTAL])
        : -1;
  let packets =
    (o = off[C_PKTS]) >= 0
      ? readUint(v, base + o, len[C_PKTS])
      : (o = off[C_PKTS_TOTAL]) >= 0
        ? readUint(v, base + o, len[C_PKTS_TOTAL])
        : -1;
  if ((o = off[C_DATALINK]) >= 0) {
    const l = len[C_DATALINK];
    const hadAddr = off[C_SRC4] >= 0 || off[C_SRC6] >= 0;
    if (!hadAddr && l > 0) parseHeader(v, base + o, l, HEADER_ETHERNET, b, i);
    // a sampled frame without counters stands for one packet of its size
    if (packets < 0 && l > 0) {
      packets = 1;
      if (bytes < 0) bytes = l;
    }
  }
  if (bytes < 0) bytes = 0;
  if (packets < 0) packets = 0;
  // time
  let startMs: number;
  let endMs: number;
  if ((o = off[C_FIRST_UP]) >= 0 && ctx.sysUptime >= 0) {
    // relative to sysUptime; the signed 32-bit difference survives the 49.7-day uptime wrap
    startMs = ctx.headerMs - ((ctx.sysUptime - readUint(v, base + o, len[C_FIRST_UP])) | 0);
    endMs =
      (o = off[C_LAST_UP]) >= 0
        ? ctx.headerMs - ((ctx.sysUptime - readUint(v, base + o, len[C_LAST_UP])) | 0)
        : startMs;
  } else if ((o = off[C_START_MS]) >= 0) {
    startMs = readUint(v, base + o, len[C_START_MS]);
    endMs = (o = off[C_END_MS]) >= 0 ? readUint(v, base + o, len[C_END_MS]) : startMs;
  } else if ((o = off[C_START_S]) >= 0) {
    startMs = readUint(v, base + o, len[C_START_S]) * 1000;
    endMs = (o = off[C_END_S]) >= 0 ? readUint(v, base + o, len[C_END_S]) * 1000 : startMs;
  } else if ((o = off[C_START_US]) >= 0 && len[C_START_US] === 8) {
    startMs = ntpToMs(v, base + o);
    endMs = (o = off[C_END_US]) >= 0 && len[C_END_US] === 8 ? ntpToMs(v, base + o) : startMs;
  } else if ((o = off[C_FIRST_UP]) >= 0 && ctx.initTimeMs >= 0) {
    // IPFIX flowStartSysUpTime: relative to the domain's systemInitTimeMilliseconds
    startMs = ctx.initTimeMs + readUint(v, base + o, len[C_FIRST_UP]);
    endMs = (o = off[C_LAST_UP]) >= 0 ? ctx.initTimeMs + readUint(v, base + o, len[C_LAST_UP]) : startMs;
  } else if ((o = off[C_END_MS]) >= 0) {
    startMs = endMs = readUint(v, base + o, len[C_END_MS]);
  } else if ((o = off[C_END_S]) >= 0) {
    startMs = endMs = readUint(v, base + o, len[C_END_S]) * 1000;
  } else {
    startMs = endMs = ctx.headerMs;
  }
  if (endMs < startMs) endMs = startMs;
  b.start[i] = startMs;
  b.end[i] = endMs;
  // sampling: the record's own interval, else its sampler's, else the exporter's / config
  let rate = 0;
  if ((o = off[C_SAMPLING_INTERVAL]) >= 0) rate = readUint(v, base + o, len[C_SAMPLING_INTERVAL]);
  else if ((o = off[C_SAMPLER_RANDOM_INTERVAL]) >= 0) rate = readUint(v, base + o, len[C_SAMPLER_RANDOM_INTERVAL]);
  if (rate === 0 && ctx.samplers !== undefined) {
    if ((o = off[C_SAMPLER_ID]) >= 0) rate = ctx.samplers.get(readUint(v, base + o, len[C_SAMPLER_ID])) ?? 0;
    else if ((o = off[C_SELECTOR_ID]) >= 0) rate = ctx.samplers.get(readUint(v, base + o, len[C_SELECTOR_ID])) ?? 0;
  }
  if (rate < 1) rate = ctx.defaultRate;
  b.packets[i] = packets * rate;
  b.bytes[i] = bytes * rate;
  b.samplingRate[i] = rate;
  b.exporter[i] = ctx.exporter;
  b.length = i + 1;
}

function clearAddr(w: Uint32Array, i: number): void {
  // unknown address: IPv4-mapped 0.0.0.0, so consumers still see a valid v4 record
  setV4(w, i, 0);
}

export function ntpToMs(v: DataView, off: number): number {
  return (v.getUint32(off) - NTP_EPOCH_OFFSET_S) * 1000 + Math.floor((v.getUint32(off + 4) / 4294967296) * 1000);
}

/**
 * Read the sampling information of the options records in [start, end). Calls `found` once
 * per record that carries a rate or an init time. Returns the record count (-1 on overrun).
 */
export function readOptionsSet(
  v: DataView,
  start: number,
  end: number,
  t: Template,
  found: (info: OptionsInfo) => void,
): number {
  if (t.recordLen === 0) return 0;
  let p = start;
  let count = 0;
  const offs = scratchOff;
  const lens = scratchLen;
  while (end - p >= t.recordLen) {
    const q = locateFields(v, p, end, t);
    if (q < 0) return -1;
    const get = (c: number): number =>
      offs[c] >= 0 && lens[c] > 0 && lens[c] <= 8 ? readUint(v, offs[c], lens[c]) : -1;
    let rate = get(C_SAMPLING_INTERVAL);
    if (rate <= 0) rate = get(C_SAMPLER_RANDOM_INTERVAL);
    if (rate <= 0)
      rate =
        get(C_PKT_INTERVAL) > 0
          ? Math.round((get(C_PKT_INTERVAL) + Math.max(0, get(C_PKT_SPACE))) / get(C_PKT_INTERVAL))
          : -1;
    if (rate <= 0)
      rate =
        get(C_SAMPLING_SIZE) > 0 && get(C_SAMPLING_POPULATION) > 0
          ? Math.round(get(C_SAMPLING_POPULATION) / get(C_SAMPLING_SIZE))
          : -1;
    let samplerId = get(C_SAMPLER_ID);
    if (samplerId < 0) samplerId = get(C_SELECTOR_ID);
    const init = get(C_INIT_TIME);
    if (rate > 0 || init > 0)
      found({ samplerId: samplerId < 0 ? 0 : samplerId, rate: rate > 0 ? rate : 0, initTimeMs: init > 0 ? init : -1 });
    p = q;
    count++;
  }
  return count;
}
