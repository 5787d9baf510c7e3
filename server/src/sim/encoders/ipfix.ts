import type { SimFlow } from '../sim-flow.js';
import { TemplateEncoder, type TemplateFields } from './template-encoder.js';
import type { ByteWriter, EncoderOptions } from './writer.js';

export const IPFIX_TEMPLATE_V4 = 256;
export const IPFIX_TEMPLATE_V6 = 257;
export const IPFIX_OPTIONS_TEMPLATE = 258;
const SELECTOR_ID = 1;

const COMMON: TemplateFields = [
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
export const IPFIX_FIELDS_V4: TemplateFields = [[8, 4], [12, 4], ...COMMON];
export const IPFIX_FIELDS_V6: TemplateFields = [[27, 16], [28, 16], ...COMMON];

/**
 * Real IPFIX messages (RFC 7011): export time, per-record sequence number per observation
 * domain, template set re-sent periodically, and — when sampled — an options template scoped
 * to the selector (selectorId, selectorAlgorithm 3 = random n-out-of-N, samplingSize,
 * samplingPopulation) with its record; data records name their selectorId.
 */
export class IpfixEncoder extends TemplateEncoder {
  private seq = 0;
  readonly domainId: number;

  constructor(opts: EncoderOptions = {}) {
    super(
      {
        templateSetId: 2,
        padSets: false,
        countTemplateRecords: false,
        v4: { id: IPFIX_TEMPLATE_V4, fields: IPFIX_FIELDS_V4 },
        v6: { id: IPFIX_TEMPLATE_V6, fields: IPFIX_FIELDS_V6 },
      },
      opts,
    );
    this.domainId = opts.sourceId ?? 0;
  }

  protected writeHeader(w: ByteWriter, nowMs: number): void {
    // length (offset 2) and sequence number (offset 8) are filled in by endDatagram
    w.u16(10)
      .u16(0)
      .u32(Math.floor(nowMs / 1000))
      .u32(0)
      .u32(this.domainId);
  }

  /** The sequence number is that of the message's first data record (the options record counts). */
  protected endDatagram(w: ByteWriter, records: number): void {
    w.setU16(2, w.pos);
    w.setU32(8, this.seq);
    this.seq = (this.seq + records) >>> 0;
  }

  protected writeRecord(w: ByteWriter, f: SimFlow, v6: boolean): void {
    w.addr(f.src, v6).addr(f.dst, v6);
    w.u16(f.srcPort).u16(f.dstPort).u8(f.proto).u8(f.tcpFlags).u64(f.packets).u64(f.bytes);
    w.u64(f.startMs).u64(f.endMs).u32(f.inIf).u32(f.outIf).u32(SELECTOR_ID);
  }

  /** Options template scoped to selectorId; selectorAlgorithm, samplingSize, samplingPopulation. */
  protected writeSamplingOptions(w: ByteWriter): number {
    this.writeSet(w, 3, () => {
      w.u16(IPFIX_OPTIONS_TEMPLATE).u16(4).u16(1);
      w.u16(302).u16(4).u16(304).u16(2).u16(309).u16(4).u16(310).u16(4);
    });
    this.writeSet(w, IPFIX_OPTIONS_TEMPLATE, () => {
      w.u32(SELECTOR_ID).u16(3).u32(1).u32(this.samplingRate);
    });
    return 1;
  }
}
