import type { SimFlow } from '../sim-flow.js';
import { ByteWriter, isV6, type EncoderOptions } from './writer.js';

const MAX_RECORDS = 30;

/**
 * NetFlow v5 datagrams (24-byte header, up to 30 × 48-byte records). v5 is IPv4-only: IPv6 flows
 * are left out (and counted in `skippedV6`), as a v5 router would. The sampling interval goes in
 * the header's low 14 bits with mode 01 (packet interval) in the top two.
 */
export class NetflowV5Encoder {
  private seq = 0;
  skippedV6 = 0;
  readonly engineId: number;
  readonly samplingRate: number;
  bootMs: number | undefined;

  constructor(opts: EncoderOptions = {}) {
    this.engineId = (opts.sourceId ?? 0) & 0xff;
    this.samplingRate = Math.min(opts.samplingRate ?? 1, 0x3fff);
    this.bootMs = opts.bootMs;
  }

  encode(flows: SimFlow[], nowMs: number): Uint8Array[] {
    this.bootMs ??= nowMs - 60_000;
    const boot = this.bootMs;
    const v4 = flows.filter((f) => !(isV6(f.src) || isV6(f.dst)));
    this.skippedV6 += flows.length - v4.length;
    const out: Uint8Array[] = [];
    for (let k = 0; k < v4.length; k += MAX_RECORDS) {
      const chunk = v4.slice(k, k + MAX_RECORDS);
      const w = new ByteWriter(24 + 48 * chunk.length);
      const sampling = this.samplingRate > 1 ? (1 << 14) | this.samplingRate : 0;
      w.u16(5)
        .u16(chunk.length)
        .u32(nowMs - boot)
        .u32(Math.floor(nowMs / 1000))
        .u32((nowMs % 1000) * 1e6);
      w.u32(this.seq).u8(0).u8(this.engineId).u16(sampling);
      this.seq = (this.seq + chunk.length) >>> 0;
      for (const f of chunk) {
        w.addr(f.src, false).addr(f.dst, false).u32(0);
        w.u16(f.inIf).u16(f.outIf).u32(Math.min(f.packets, 0xffffffff)).u32(Math.min(f.bytes, 0xffffffff));
        w.u32(f.startMs - boot)
          .u32(f.endMs - boot)
          .u16(f.srcPort)
          .u16(f.dstPort);
        w.u8(0).u8(f.tcpFlags).u8(f.proto).u8(0).u16(0).u16(0).u8(0).u8(0).u16(0);
      }
      out.push(w.take());
    }
    return out;
  }
}
