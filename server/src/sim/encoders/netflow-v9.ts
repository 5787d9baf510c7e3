import type { SimFlow } from '../sim-flow.js';
import { TemplateEncoder, type TemplateFields } from './template-encoder.js';
import type { ByteWriter, EncoderOptions } from './writer.js';

export const V9_TEMPLATE_V4 = 256;
export const V9_TEMPLATE_V6 = 257;
export const V9_OPTIONS_TEMPLATE = 258;

/** (field type, length) of the v4 and v6 data templates, as a Cisco-style exporter would send. */
const COMMON: TemplateFields = [
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
export const V9_FIELDS_V4: TemplateFields = [[8, 4], [12, 4], ...COMMON];
export const V9_FIELDS_V6: TemplateFields = [[27, 16], [28, 16], ...COMMON];

/**
 * Real NetFlow v9 datagrams (RFC 3954): header with sysUptime / unix secs / per-datagram
 * sequence / source id; template flowset (and an options template + record announcing the
 * sampling interval when sampled) re-sent periodically; data flowsets padded to 32 bits;
 * at most MAX_DATAGRAM bytes each.
 */
export class NetflowV9Encoder extends TemplateEncoder {
  private seq = 0;
  private boot = 0;
  readonly sourceId: number;
  bootMs: number | undefined;

  constructor(opts: EncoderOptions = {}) {
    super(
      {
        templateSetId: 0,
        padSets: true,
        countTemplateRecords: true,
        v4: { id: V9_TEMPLATE_V4, fields: V9_FIELDS_V4 },
        v6: { id: V9_TEMPLATE_V6, fields: V9_FIELDS_V6 },
      },
      opts,
    );
    this.sourceId = opts.sourceId ?? 0;
    this.bootMs = opts.bootMs;
  }

  override encode(flows: SimFlow[], nowMs: number): Uint8Array[] {
    this.bootMs ??= nowMs - 60_000;
    this.boot = this.bootMs;
    return super.encode(flows, nowMs);
  }

  protected writeHeader(w: ByteWriter, nowMs: number): void {
    // the count at offset 2 is filled in by endDatagram
    w.u16(9)
      .u16(0)
      .u32(nowMs - this.boot)
      .u32(Math.floor(nowMs / 1000))
      .u32(this.seq++)
      .u32(this.sourceId);
  }

  protected endDatagram(w: ByteWriter, records: number): void {
    w.setU16(2, records);
  }

  protected writeRecord(w: ByteWriter, f: SimFlow, v6: boolean): void {
    w.addr(f.src, v6).addr(f.dst, v6);
    w.u16(f.srcPort).u16(f.dstPort).u8(f.proto).u8(f.tcpFlags).u64(f.packets).u64(f.bytes);
    w.u32(f.startMs - this.boot)
      .u32(f.endMs - this.boot)
      .u32(f.inIf)
      .u32(f.outIf);
  }

  /** Options template and record: scope System (1, 4 bytes); SAMPLING_INTERVAL (34), SAMPLING_ALGORITHM (35). */
  protected writeSamplingOptions(w: ByteWriter): number {
    this.writeSet(w, 1, () => {
      w.u16(V9_OPTIONS_TEMPLATE).u16(4).u16(8).u16(1).u16(4).u16(34).u16(4).u16(35).u16(1);
    });
    this.writeSet(w, V9_OPTIONS_TEMPLATE, () => {
      w.u32(this.sourceId).u32(this.samplingRate).u8(2 /* random */);
    });
    return 2;
  }
}
