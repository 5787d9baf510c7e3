/**
 * Compiled NetFlow v9 / IPFIX templates and the data-record loop they drive.
 *
 * Hand-written rather than a generic TLV library on purpose: this loop runs for every flow record
 * (millions per second), so a template is compiled once into per-column byte offsets and each
 * record is read straight from a DataView into the columnar batch — no object per record, no
 * per-field dispatch for fields we do not use.
 */
import { setV4, setV6 } from '@downstream/shared';
import { ensureCapacity, type FlowBatch } from '../../flow/flow-batch.js';
import { endRow } from './batch-sink.js';
import { HEADER_ETHERNET, parseHeader } from './packet-header.js';
import { compileWriter } from './template-codegen.js';
import {
  C_BYTES,
  C_BYTES_TOTAL,
  C_DATALINK,
  C_DPORT,
  C_DST4,
  C_DST6,
  C_END_MS,
  C_END_S,
  C_END_US,
  C_FIRST_UP,
  C_FLAGS,
  C_ICMP4,
  C_ICMP6,
  C_IN,
  C_IN_PHYS,
  C_INIT_TIME,
  C_LAST_UP,
  C_OUT,
  C_OUT_PHYS,
  C_PKT_INTERVAL,
  C_PKT_SPACE,
  C_PKTS,
  C_PKTS_TOTAL,
  C_PROTO,
  C_SAMPLER_ID,
  C_SAMPLER_RANDOM_INTERVAL,
  C_SAMPLING_INTERVAL,
  C_SAMPLING_POPULATION,
  C_SAMPLING_SIZE,
  C_SELECTOR_ID,
  C_SPORT,
  C_SRC4,
  C_SRC6,
  C_START_MS,
  C_START_S,
  C_START_US,
  type DataSetContext,
  NCOL,
  ntpToMs,
  type OptionsInfo,
  readUint,
  type Template,
  VARLEN,
  IE_TO_COL,
} from './template-layout.js';

// The template layout lives in template-layout.ts; re-exported for the decoders and the tests.
export * from './template-layout.js';

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
  endRow(b, i, packets, bytes, rate, ctx.exporter);
}

function clearAddr(w: Uint32Array, i: number): void {
  // unknown address: IPv4-mapped 0.0.0.0, so consumers still see a valid v4 record
  setV4(w, i, 0);
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
