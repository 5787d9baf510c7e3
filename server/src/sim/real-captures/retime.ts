import { join } from 'node:path';
import { v4FromString, v4ToString } from '@downstream/shared';
import ipaddr from 'ipaddr.js';
import { ALL_RANGES, ALL_RANGES_V6, pickAddress } from '../scenarios/address-space.js';
import { background } from '../scenarios/library.js';
import { demoNetworkConfig } from '../scenarios/network.js';
import { mulberry32 } from '../scenarios/rng.js';
import { FLAGS } from '../scenarios/scenario.js';
import type { SimFlow } from '../sim-flow.js';
import type { CaptureSpec } from './catalogue.js';
import { PcapRecords, SNAP, fixIpv4Checksum, readRawCapture, toIpv6, type RawPacket } from './raw-pcap.js';

export interface RetimeOptions {
  /** Folder holding the raw captures (read in place). */
  rawDir: string;
  /** Seconds of attack. */
  seconds: number;
  /** Benign seconds before the attack starts (the background runs throughout). */
  leadSeconds?: number;
  /** Capture time of the first packet, ms (whole second). */
  startMs: number;
  /** Attack rate; default the spec's. */
  pps?: number;
  /** Mix in the scenario library's background traffic (default true). */
  background?: boolean;
  seed?: number;
}

export interface RetimedCapture {
  /** One pcap body (packet records, no file header: see pcapFileHeader) per second, in memory only. */
  seconds: Buffer[];
  startMs: number;
  /** Capture time of the first attack packet. */
  attackStartMs: number;
  endMs: number;
  attackPackets: number;
  backgroundPackets: number;
  /** Copies of the original capture interleaved to reach the rate (each with other outside addresses). */
  copies: number;
  /** The capture's own victim (inbound) or scanner (outbound) address, before rewriting. */
  original: string;
}

const customerPrefixes = demoNetworkConfig.customers.flatMap((c) =>
  c.prefixes
    .filter((p) => !p.includes(':'))
    .map((p) => {
      const [a, l] = p.split('/');
      const bits = Number(l);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return { net: (v4FromString(a) & mask) >>> 0, mask };
    }),
);
const isCustomer = (a: number): boolean => customerPrefixes.some((p) => (a & p.mask) >>> 0 === p.net);

const u32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
function put32(b: Uint8Array, o: number, x: number): void {
  b[o] = x >>> 24;
  b[o + 1] = (x >>> 16) & 255;
  b[o + 2] = (x >>> 8) & 255;
  b[o + 3] = x & 255;
}

/** The most frequent destination (inbound) or source (outbound) address of the capture. */
function ownAddress(packets: RawPacket[], direction: CaptureSpec['direction']): number {
  const counts = new Map<number, number>();
  const off = direction === 'inbound' ? 16 : 12;
  for (const p of packets) {
    const a = u32(p.ip, off);
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

/**
 * Turn one raw capture into a realistic one on our site: every packet to (inbound) or from
 * (outbound) the capture's own host is rewritten onto `spec.customerHost`; packets between other
 * hosts are dropped. To reach `pps` over `seconds`, the capture is repeated in interleaved copies
 * — copy k > 0 with every outside address replaced by another one in real allocated space —
 * so the packet shapes (sizes, flags, ports, fragments) are the capture's own while the number of
 * distinct outside hosts grows with the copies. The scenario library's background traffic
 * (expanded from flows into packets) runs under it. The result is an Ethernet pcap cut into
 * one-second slices, so an exporter can be fed second by second.
 */
export function retimeCapture(spec: CaptureSpec, o: RetimeOptions): RetimedCapture {
  const { packets } = readRawCapture(join(o.rawDir, spec.file));
  if (packets.length === 0) throw new Error(`${spec.file}: no IPv4 packets`);
  const own = ownAddress(packets, spec.direction);
  // An IPv6 customer host: the capture is carried over IPv6 (raw-pcap.ts toIpv6), every
  // outside address — copy 0's too — drawn from real allocated IPv6 space.
  const v6 = spec.customerHost.includes(':');
  const target = v6 ? 0 : v4FromString(spec.customerHost);
  const target6 = v6 ? Uint8Array.from(ipaddr.parse(spec.customerHost).toByteArray()) : undefined;
  const mine = packets.filter((p) => u32(p.ip, 12) === own || u32(p.ip, 16) === own);
  const pps = o.pps ?? spec.pps;
  const lead = o.leadSeconds ?? 5;
  const total = Math.round(pps * o.seconds);
  const copies = Math.ceil(total / mine.length);
  const rng = mulberry32(o.seed ?? 1);
  // Outside address of copy k: stable per (address, copy), drawn from real allocated space.
  const remap = new Map<number, number>();
  const outside = (a: number, k: number): number => {
    if (k === 0 && !isCustomer(a)) return a;
    const key = a * 4096 + k;
    let b = remap.get(key);
    if (b === undefined) {
      b = v4FromString(pickAddress(rng, ALL_RANGES));
      remap.set(key, b);
    }
    return b;
  };
  const remap6 = new Map<number, Uint8Array>();
  const outside6 = (a: number, k: number): Uint8Array => {
    const key = a * 4096 + k;
    let b = remap6.get(key);
    if (b === undefined) {
      b = Uint8Array.from(ipaddr.parse(pickAddress(rng, ALL_RANGES_V6)).toByteArray());
      remap6.set(key, b);
    }
    return b;
  };
  const slices: Buffer[] = [];
  const attackStartMs = o.startMs + lead * 1000;
  const bg = o.background === false ? undefined : background(o.seed ?? 1);
  let written = 0;
  let bgPackets = 0;
  const seconds = lead + o.seconds;
  const pending: { t: number; ip: Uint8Array }[] = [];
  for (let s = 0; s < seconds; s++) {
    const w = new PcapRecords();
    const secStart = o.startMs + s * 1000;
    pending.length = 0;
    if (bg) {
      const flows: SimFlow[] = [];
      bg.emit(s, secStart + 1000, flows);
      for (const f of flows) bgPackets += expandFlow(f, secStart, rng, pending);
    }
    // Attack positions falling into this second.
    const a0 = s < lead ? 0 : Math.min(total, (s - lead) * pps);
    const a1 = s < lead ? 0 : Math.min(total, (s - lead + 1) * pps);
    for (let pos = a0; pos < a1; pos++) {
      const k = pos % copies;
      const src = mine[Math.floor(pos / copies)];
      let ip: Uint8Array = src.ip.slice(0, Math.min(src.ip.byteLength, SNAP));
      const s0 = u32(ip, 12);
      const d0 = u32(ip, 16);
      if (target6) {
        ip = d0 === own ? toIpv6(ip, outside6(s0, k), target6) : toIpv6(ip, target6, outside6(d0, k));
        pending.push({ t: attackStartMs + (pos * 1000) / pps, ip });
        continue;
      }
      if (d0 === own) {
        put32(ip, 16, target);
        put32(ip, 12, outside(s0, k));
      } else {
        put32(ip, 12, target);
        put32(ip, 16, outside(d0, k));
      }
      fixIpv4Checksum(ip);
      pending.push({ t: attackStartMs + (pos * 1000) / pps, ip });
    }
    pending.sort((a, b) => a.t - b.t);
    for (const p of pending) w.write(p.t, p.ip);
    slices.push(w.bytes());
    written += a1 - a0;
  }
  return {
    seconds: slices,
    startMs: o.startMs,
    attackStartMs,
    endMs: o.startMs + seconds * 1000,
    attackPackets: written,
    backgroundPackets: bgPackets,
    copies,
    original: v4ToString(own),
  };
}

/**
 * A background flow (one second of a conversation) as up to three packets of its mean size:
 * flow exporters re-aggregate them, and a handful of packets keeps the capture small.
 */
function expandFlow(f: SimFlow, secStart: number, rng: () => number, out: { t: number; ip: Uint8Array }[]): number {
  if (f.src.includes(':')) return 0;
  const n = Math.min(3, f.packets);
  const size = Math.max(f.proto === 6 ? 40 : 28, Math.min(1500, Math.round(f.bytes / f.packets)));
  const client = f.srcPort >= 1024;
  for (let i = 0; i < n; i++) {
    const hl = f.proto === 6 ? 40 : 28;
    const ip = new Uint8Array(hl);
    ip[0] = 0x45;
    ip[2] = size >> 8;
    ip[3] = size & 255;
    ip[8] = 60;
    ip[9] = f.proto;
    put32(ip, 12, v4FromString(f.src));
    put32(ip, 16, v4FromString(f.dst));
    ip[20] = f.srcPort >> 8;
    ip[21] = f.srcPort & 255;
    ip[22] = f.dstPort >> 8;
    ip[23] = f.dstPort & 255;
    if (f.proto === 6) {
      ip[32] = 0x50;
      let flags = f.tcpFlags & ~(FLAGS.SYN | FLAGS.FIN);
      if (i === 0 && f.tcpFlags & FLAGS.SYN) flags = client ? FLAGS.SYN : FLAGS.SYN | FLAGS.ACK;
      else if (i === n - 1 && f.tcpFlags & FLAGS.FIN) flags = FLAGS.FIN | FLAGS.ACK;
      ip[33] = flags;
    } else {
      const ul = size - 20;
      ip[24] = ul >> 8;
      ip[25] = ul & 255;
    }
    fixIpv4Checksum(ip);
    out.push({ t: secStart + ((i + rng()) / n) * 999, ip });
  }
  return n;
}
