import type { SimFlow } from '../sim-flow.js';
import { sampleCount } from './sampling.js';
import { ByteWriter, MAX_DATAGRAM, isV6, type EncoderOptions } from './writer.js';

/**
 * Samples one encode() call (one export interval of a simulated agent) may send. Past it the
 * agent is out of budget, as a real one is under a flood at a low rate: each selected packet is
 * kept with the same probability, whatever flow it belongs to, and the rest are counted in
 * every sample's `drops`, which the collector uses to make up for them.
 */
export const MAX_SAMPLES_PER_CALL = 20_000;

export interface SflowEncoderOptions extends EncoderOptions {
  /** The agent address written in the datagram (sFlow names its exporter by it). */
  agentAddress?: string;
  random?: () => number;
}

/**
 * sFlow v5 datagrams: a flow sample (format 1) per sampled packet, each with a raw packet
 * header record (Ethernet + IPv4/IPv6 + TCP/UDP header) and the sampling rate; the collector
 * scales by that rate. Packets are selected 1-in-N here, as a switch ASIC would.
 */
export class SflowV5Encoder {
  private seq = 0;
  private sampleSeq = 0;
  private pool = 0;
  readonly agent: string;
  readonly samplingRate: number;
  readonly subAgent: number;
  private readonly random: () => number;
  bootMs: number | undefined;
  droppedSamples = 0;
  /** Cumulative drops per data source, as each flow sample reports them. */
  private readonly drops = new Map<number, number>();

  constructor(opts: SflowEncoderOptions = {}) {
    this.agent = opts.agentAddress ?? '127.0.0.1';
    this.samplingRate = Math.max(1, opts.samplingRate ?? 1);
    this.subAgent = opts.sourceId ?? 0;
    this.random = opts.random ?? Math.random;
    this.bootMs = opts.bootMs;
  }

  encode(flows: SimFlow[], nowMs: number): Uint8Array[] {
    this.bootMs ??= nowMs - 60_000;
    const samples: Uint8Array[] = [];
    const selected = flows.map((f) => sampleCount(f.packets, this.samplingRate, this.random));
    const total = selected.reduce((a, k) => a + k, 0);
    const keep = total > MAX_SAMPLES_PER_CALL ? MAX_SAMPLES_PER_CALL / total : 1;
    /** Per data source (the sample's source id): an agent counts drops per sampler. */
    const dropped = new Map<number, number>();
    for (let fi = 0; fi < flows.length; fi++) {
      const f = flows[fi];
      const sel = selected[fi];
      // Bernoulli(keep) per selected packet, in aggregate: the mean, randomly rounded.
      const k = keep === 1 ? sel : Math.floor(sel * keep + this.random());
      this.pool += f.packets;
      if (sel > k) {
        const src = f.inIf & 0xffffff;
        dropped.set(src, (dropped.get(src) ?? 0) + sel - k);
      }
      if (k === 0) continue;
      const size = Math.max(64, Math.round(f.bytes / Math.max(1, f.packets)));
      const sample = this.sample(f, size);
      for (let j = 0; j < k; j++) {
        // each sample carries its own sequence number
        const s = sample.slice();
        new DataView(s.buffer).setUint32(8, this.sampleSeq++ >>> 0);
        samples.push(s);
      }
    }
    if (dropped.size > 0) {
      // An agent out of budget drops samples as they come, interleaved in time with every flow,
      // and each sampler's counter grows between its samples: shuffled, with each source's drops
      // spread along its own samples (built flow after flow, all of a flood's drops would sit
      // ahead of one flow's samples).
      for (let j = samples.length - 1; j > 0; j--) {
        const r = Math.floor(this.random() * (j + 1));
        [samples[j], samples[r]] = [samples[r], samples[j]];
      }
      const n = samples.length;
      const bySource = new Map<number, { n: number; at: number }>();
      for (const smp of samples) {
        const src = new DataView(smp.buffer).getUint32(12);
        const e = bySource.get(src) ?? { n: 0, at: 0 };
        e.n++;
        bySource.set(src, e);
      }
      for (let j = 0; j < n; j++) {
        const dv = new DataView(samples[j].buffer);
        dv.setUint32(8, (this.sampleSeq - n + j) >>> 0);
        const src = dv.getUint32(12);
        const e = bySource.get(src)!;
        const base = this.drops.get(src) ?? 0;
        const d = dropped.get(src) ?? 0;
        dv.setUint32(24, (base + Math.floor((d * ++e.at) / e.n)) >>> 0);
      }
      for (const [src, d] of dropped) {
        this.drops.set(src, (this.drops.get(src) ?? 0) + d);
        this.droppedSamples += d;
      }
    }
    const out: Uint8Array[] = [];
    const v6 = isV6(this.agent);
    const headerLen = v6 ? 40 : 28;
    for (let i = 0; i < samples.length;) {
      let n = 0;
      let size = headerLen;
      while (i + n < samples.length && size + samples[i + n].length <= MAX_DATAGRAM) size += samples[i + n++].length;
      if (n === 0) n = 1;
      const w = new ByteWriter(size);
      w.u32(5)
        .u32(v6 ? 2 : 1)
        .addr(this.agent, v6)
        .u32(this.subAgent)
        .u32(this.seq++)
        .u32(nowMs - this.bootMs)
        .u32(n);
      for (let j = 0; j < n; j++) w.bytes(samples[i + j]);
      out.push(w.take());
      i += n;
    }
    return out;
  }

  private sample(f: SimFlow, frameLen: number): Uint8Array {
    const v6 = isV6(f.src) || isV6(f.dst);
    const hdr = packetHeader(f, v6, frameLen);
    const rec = new ByteWriter(16 + hdr.length + 4);
    rec.u32(1 /* ethernet */).u32(frameLen).u32(4).u32(hdr.length).bytes(hdr).pad4();
    const recBytes = rec.take();
    const w = new ByteWriter(8 + 32 + 8 + recBytes.length);
    w.u32(1).u32(32 + 8 + recBytes.length);
    w.u32(0 /* sequence, patched per sample */)
      .u32(f.inIf & 0xffffff)
      .u32(this.samplingRate)
      .u32(this.pool)
      // drops (the sampler's cumulative count): patched per sample in encode() when this call dropped
      .u32((this.drops.get(f.inIf & 0xffffff) ?? 0) >>> 0);
    w.u32(f.inIf & 0x3fffffff)
      .u32(f.outIf & 0x3fffffff)
      .u32(1);
    w.u32(1).u32(recBytes.length).bytes(recBytes);
    return w.take();
  }
}

function packetHeader(f: SimFlow, v6: boolean, frameLen: number): Uint8Array {
  const w = new ByteWriter(128);
  w.u32(0x02000000)
    .u16(0x0001)
    .u32(0x02000000)
    .u16(0x0002)
    .u16(v6 ? 0x86dd : 0x0800);
  const l4len = f.proto === 6 ? 20 : f.proto === 17 ? 8 : 8;
  const ipPayload = Math.max(l4len, frameLen - 14 - 4 - (v6 ? 40 : 20));
  if (v6) {
    w.u32(0x60000000).u16(ipPayload).u8(f.proto).u8(64).addr(f.src, true).addr(f.dst, true);
  } else {
    w.u8(0x45)
      .u8(0)
      .u16(20 + ipPayload)
      .u16(0)
      .u16(0x4000)
      .u8(64)
      .u8(f.proto)
      .u16(0)
      .addr(f.src, false)
      .addr(f.dst, false);
  }
  if (f.proto === 6) {
    w.u16(f.srcPort).u16(f.dstPort).u32(1).u32(0).u8(0x50).u8(f.tcpFlags).u16(65535).u16(0).u16(0);
  } else if (f.proto === 17) {
    w.u16(f.srcPort).u16(f.dstPort).u16(ipPayload).u16(0);
  } else if (f.proto === 1 || f.proto === 58) {
    w.u8(f.dstPort >> 8)
      .u8(f.dstPort & 255)
      .u16(0)
      .u32(0);
  }
  return w.take();
}
