import type { SimFlow } from '../sim-flow.js';
import { ByteWriter, isV6 } from './writer.js';

export const MAX_DATAGRAM = 1400;
export const V9_TEMPLATE_V4 = 256;
export const V9_TEMPLATE_V6 = 257;
export const V9_OPTIONS_TEMPLATE = 258;

/** (field type, length) of the v4 and v6 data templates, as a Cisco-style exporter would send. */
const COMMON: [number, number][] = [
  [7, 2], // L4_SRC_PORT
  [11, 2], // L4_DST_PORT
  [4, 1], // PROTOCOL
  [6, 1], // TCP_FLAGS
  [2, 8], // IN_PKTS
  [1, 8], // IN_BYTES
  [22, 4], // FIRST_SWITCHED
  [21, 4], // LAST_SWITCHED
  [10, 4], // INPUT_SNMP
  [14, 4], // OUTPUT_SNMP
];
export const V9_FIELDS_V4: [number, number][] = [[8, 4], [12, 4], ...COMMON];
export const V9_FIELDS_V6: [number, number][] = [[27, 16], [28, 16], ...COMMON];

export interface EncoderOptions {
  sourceId?: number;
  /** 1-in-N rate announced in an options record (the flows must already be sampled). */
  samplingRate?: number;
  /** When the simulated router booted (sysUptime origin), ms since epoch. */
  bootMs?: number;
  /** Re-send templates every this many datagrams (and always in the first one). */
  templateEvery?: number;
}

/**
 * Real NetFlow v9 datagrams (RFC 3954): header with sysUptime / unix secs / per-datagram
 * sequence / source id; template flowset (and an options template + record announcing the
 * sampling interval when sampled) re-sent periodically; data flowsets padded to 32 bits;
 * at most MAX_DATAGRAM bytes each.
 */
export class NetflowV9Encoder {
  private seq = 0;
  private sinceTemplate = Infinity;
  readonly sourceId: number;
  readonly samplingRate: number;
  readonly templateEvery: number;
  bootMs: number | undefined;

  constructor(opts: EncoderOptions = {}) {
    this.sourceId = opts.sourceId ?? 0;
    this.samplingRate = opts.samplingRate ?? 1;
    this.bootMs = opts.bootMs;
    this.templateEvery = opts.templateEvery ?? 20;
  }

  encode(flows: SimFlow[], nowMs: number): Uint8Array[] {
    this.bootMs ??= nowMs - 60_000;
    const boot = this.bootMs;
    const out: Uint8Array[] = [];
    let w: ByteWriter | undefined;
    let count = 0;
    let setStart = -1;
    let setTemplate = -1;
    const closeSet = (): void => {
      if (!w || setStart < 0) return;
      w.pad4();
      w.setU16(setStart + 2, w.pos - setStart);
      setStart = -1;
      setTemplate = -1;
    };
    const finish = (): void => {
      if (!w) return;
      closeSet();
      w.setU16(2, count);
      out.push(w.take());
      w = undefined;
    };
    const begin = (): ByteWriter => {
      const nw = new ByteWriter(MAX_DATAGRAM + 64);
      nw.u16(9)
        .u16(0)
        .u32(nowMs - boot)
        .u32(Math.floor(nowMs / 1000))
        .u32(this.seq++)
        .u32(this.sourceId);
      count = 0;
      if (this.sinceTemplate >= this.templateEvery) {
        this.sinceTemplate = 0;
        count += this.writeTemplates(nw);
      }
      this.sinceTemplate++;
      return nw;
    };
    for (const f of flows) {
      const v6 = isV6(f.src) || isV6(f.dst);
      const tid = v6 ? V9_TEMPLATE_V6 : V9_TEMPLATE_V4;
      const recLen = v6 ? 70 : 46;
      w ??= begin();
      const needed = (setTemplate === tid ? 0 : 4) + recLen + 3;
      if (w.pos + needed + (setTemplate === tid ? 0 : 0) > MAX_DATAGRAM) {
        finish();
        w = begin();
      }
      if (setTemplate !== tid) {
        closeSet();
        setStart = w.pos;
        setTemplate = tid;
        w.u16(tid).u16(0);
      }
      if (v6) w.addr(f.src, true).addr(f.dst, true);
      else w.addr(f.src, false).addr(f.dst, false);
      w.u16(f.srcPort).u16(f.dstPort).u8(f.proto).u8(f.tcpFlags).u64(f.packets).u64(f.bytes);
      w.u32(f.startMs - boot)
        .u32(f.endMs - boot)
        .u32(f.inIf)
        .u32(f.outIf);
      count++;
    }
    finish();
    return out;
  }

  /** Template flowset, plus options template and record when sampled; returns records written. */
  private writeTemplates(w: ByteWriter): number {
    const start = w.pos;
    w.u16(0).u16(0);
    for (const [tid, fields] of [
      [V9_TEMPLATE_V4, V9_FIELDS_V4],
      [V9_TEMPLATE_V6, V9_FIELDS_V6],
    ] as const) {
      w.u16(tid).u16(fields.length);
      for (const [t, l] of fields) w.u16(t).u16(l);
    }
    w.setU16(start + 2, w.pos - start);
    if (this.samplingRate <= 1) return 2;
    // options template: scope System (1, 4 bytes); SAMPLING_INTERVAL (34), SAMPLING_ALGORITHM (35)
    const o = w.pos;
    w.u16(1).u16(0).u16(V9_OPTIONS_TEMPLATE).u16(4).u16(8).u16(1).u16(4).u16(34).u16(4).u16(35).u16(1);
    w.pad4();
    w.setU16(o + 2, w.pos - o);
    const d = w.pos;
    w.u16(V9_OPTIONS_TEMPLATE).u16(0).u32(this.sourceId).u32(this.samplingRate).u8(2 /* random */);
    w.pad4();
    w.setU16(d + 2, w.pos - d);
    return 4;
  }
}
