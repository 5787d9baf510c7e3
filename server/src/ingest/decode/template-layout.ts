/**
 * A compiled NetFlow v9 / IPFIX template: the columns we extract, their per-template offsets,
 * and the readers both record loops (template.ts, template-codegen.ts) share. Its own file so
 * the generated loop and the generic one depend on it rather than on each other.
 */
import type { FlowBatch } from '../../flow/flow-batch.js';

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
export const IE_TO_COL = new Map<number, number>([
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

export function ntpToMs(v: DataView, off: number): number {
  return (v.getUint32(off) - NTP_EPOCH_OFFSET_S) * 1000 + Math.floor((v.getUint32(off + 4) / 4294967296) * 1000);
}

/** A per-template record loop (generated by template-codegen.ts). */
export type RecordWriter = (v: DataView, start: number, n: number, b: FlowBatch, ctx: DataSetContext) => void;
