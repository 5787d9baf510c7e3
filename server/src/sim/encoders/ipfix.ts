import type { SimFlow } from '../sim-flow.js';
import { MAX_DATAGRAM, type EncoderOptions } from './netflow-v9.js';
import { ByteWriter, isV6 } from './writer.js';

export const IPFIX_TEMPLATE_V4 = 256;
export const IPFIX_TEMPLATE_V6 = 257;
export const IPFIX_OPTIONS_TEMPLATE = 258;
const SELECTOR_ID = 1;

const COMMON: [number, number][] = [
  [7, 2], // sourceTransportPort
  [11, 2], // destinationTransportPort
  [4, 1], // protocolIdentifier
  [6, 1], // tcpControlBits (reduced-size)
  [2, 8], // packetDeltaCount
  [1, 8], // octetDeltaCount
  [152, 8], // flowStartMilliseconds
  [153, 8], // flowEndMilliseconds
  [10, 4], // ingressInterface
  [14, 4], // egressInterface
  [302, 4], // selectorId
];
export const IPFIX_FIELDS_V4: [number, number][] = [[8, 4], [12, 4], ...COMMON];
export const IPFIX_FIELDS_V6: [number, number][] = [[27, 16], [28, 16], ...COMMON];
const RECORD_V4 = 4 + 4 + 2 + 2 + 1 + 1 + 8 + 8 + 8 + 8 + 4 + 4 + 4;
const RECORD_V6 = RECORD_V4 + 24;

/**
 * Real IPFIX messages (RFC 7011): export time, per-record sequence number per observation
 * domain, template set re-sent periodically, and — when sampled — an options template scoped
 * to the selector (selectorId, selectorAlgorithm 3 = random n-out-of-N, samplingSize,
 * samplingPopulation) with its record; data records name their selectorId.
 */
export class IpfixEncoder {
  private seq = 0;
  private sinceTemplate = Infinity;
  readonly domainId: number;
  readonly samplingRate: number;
  readonly templateEvery: number;

  constructor(opts: EncoderOptions = {}) {
    this.domainId = opts.sourceId ?? 0;
    this.samplingRate = opts.samplingRate ?? 1;
    this.templateEvery = opts.templateEvery ?? 20;
  }

  encode(flows: SimFlow[], nowMs: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let w: ByteWriter | undefined;
    let records = 0;
    let setStart = -1;
    let setTemplate = -1;
    const closeSet = (): void => {
      if (!w || setStart < 0) return;
      w.setU16(setStart + 2, w.pos - setStart);
      setStart = -1;
      setTemplate = -1;
    };
    const finish = (): void => {
      if (!w) return;
      closeSet();
      w.setU16(2, w.pos);
      w.setU32(8, this.seq);
      this.seq = (this.seq + records) >>> 0;
      out.push(w.take());
      w = undefined;
    };
    const begin = (): ByteWriter => {
      const nw = new ByteWriter(MAX_DATAGRAM + 64);
      nw.u16(10)
        .u16(0)
        .u32(Math.floor(nowMs / 1000))
        .u32(0)
        .u32(this.domainId);
      records = 0;
      if (this.sinceTemplate >= this.templateEvery) {
        this.sinceTemplate = 0;
        records += this.writeTemplates(nw);
      }
      this.sinceTemplate++;
      return nw;
    };
    for (const f of flows) {
      const v6 = isV6(f.src) || isV6(f.dst);
      const tid = v6 ? IPFIX_TEMPLATE_V6 : IPFIX_TEMPLATE_V4;
      w ??= begin();
      if (w.pos + (setTemplate === tid ? 0 : 4) + (v6 ? RECORD_V6 : RECORD_V4) > MAX_DATAGRAM) {
        finish();
        w = begin();
      }
      if (setTemplate !== tid) {
        closeSet();
        setStart = w.pos;
        setTemplate = tid;
        w.u16(tid).u16(0);
      }
      w.addr(f.src, v6).addr(f.dst, v6);
      w.u16(f.srcPort).u16(f.dstPort).u8(f.proto).u8(f.tcpFlags).u64(f.packets).u64(f.bytes);
      w.u64(f.startMs).u64(f.endMs).u32(f.inIf).u32(f.outIf).u32(SELECTOR_ID);
      records++;
    }
    finish();
    return out;
  }

  /** Returns the number of data records written (the options record counts in the sequence). */
  private writeTemplates(w: ByteWriter): number {
    const start = w.pos;
    w.u16(2).u16(0);
    for (const [tid, fields] of [
      [IPFIX_TEMPLATE_V4, IPFIX_FIELDS_V4],
      [IPFIX_TEMPLATE_V6, IPFIX_FIELDS_V6],
    ] as const) {
      w.u16(tid).u16(fields.length);
      for (const [t, l] of fields) w.u16(t).u16(l);
    }
    w.setU16(start + 2, w.pos - start);
    if (this.samplingRate <= 1) return 0;
    const o = w.pos;
    // options template: scope selectorId; selectorAlgorithm, samplingSize, samplingPopulation
    w.u16(3).u16(0).u16(IPFIX_OPTIONS_TEMPLATE).u16(4).u16(1);
    w.u16(302).u16(4).u16(304).u16(2).u16(309).u16(4).u16(310).u16(4);
    w.setU16(o + 2, w.pos - o);
    const d = w.pos;
    w.u16(IPFIX_OPTIONS_TEMPLATE).u16(0).u32(SELECTOR_ID).u16(3).u32(1).u32(this.samplingRate);
    w.setU16(d + 2, w.pos - d);
    return 1;
  }
}
