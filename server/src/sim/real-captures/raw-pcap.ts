/**
 * Raw packet captures as flow exporters meter them: read the IPv4 packets of a classic pcap
 * (Ethernet with VLAN tags, Linux cooked v1, raw IP), write an Ethernet pcap back. Only what
 * retiming needs — the IP packet from its header on, and its capture time — so it is a few
 * dozen lines rather than a native libpcap binding.
 */
import { readFileSync } from 'node:fs';

export interface RawPacket {
  timeMs: number;
  /** The IPv4 packet from its header on (as captured: possibly truncated). */
  ip: Uint8Array;
  /** Length on the wire of the IP packet (its total-length field). */
  wireLength: number;
}

export interface RawCapture {
  packets: RawPacket[];
  /** Frames that were not IPv4 (IPv6, ARP, …): flow exporters of a v4 site would meter them apart. */
  skipped: number;
}

export function readRawCapture(file: string): RawCapture {
  const buf = readFileSync(file);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 24) throw new Error(`${file}: too short to be a pcap file`);
  const magic = v.getUint32(0, false);
  let le: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = false;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = true;
  else throw new Error(`${file}: not a classic pcap file (magic 0x${magic.toString(16)})`);
  if (magic === 0xa1b23c4d || magic === 0x4d3cb2a1) nano = true;
  const link = v.getUint32(20, le) & 0xffff;
  const packets: RawPacket[] = [];
  let skipped = 0;
  let p = 24;
  while (p + 16 <= buf.byteLength) {
    const timeMs = v.getUint32(p, le) * 1000 + v.getUint32(p + 4, le) / (nano ? 1e6 : 1e3);
    const incl = v.getUint32(p + 8, le);
    p += 16;
    if (p + incl > buf.byteLength) break;
    let q = p;
    let et = 0x0800;
    if (link === 1) {
      et = v.getUint16(q + 12);
      q += 14;
      while ((et === 0x8100 || et === 0x88a8) && q + 4 <= p + incl) {
        et = v.getUint16(q + 2);
        q += 4;
      }
    } else if (link === 113) {
      et = v.getUint16(q + 14);
      q += 16;
    } else if (link !== 101 && link !== 12 && link !== 228) throw new Error(`${file}: unsupported link type ${link}`);
    if (et === 0x0800 && q + 20 <= p + incl && buf[q] >> 4 === 4) {
      packets.push({ timeMs, ip: new Uint8Array(buf.subarray(q, p + incl)), wireLength: v.getUint16(q + 2) });
    } else skipped++;
    p += incl;
  }
  return { packets, skipped };
}

/** The 24-byte header of an Ethernet pcap (µs timestamps) whose packets are cut at `snapLength` bytes of IP. */
export function pcapFileHeader(snapLength = SNAP): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(14 + snapLength, 16);
  h.writeUInt32LE(1, 20);
  return h;
}

/** Bytes of IP kept per packet: every header an exporter reads (sFlow's default sampled header is 128 bytes). */
export const SNAP = 128;

/** Packet records of an Ethernet pcap (no file header), built in memory. */
export class PcapRecords {
  private buf = Buffer.alloc(1 << 16);
  private used = 0;
  count = 0;

  /** `ip` is an IPv4 or IPv6 packet; its total (payload) length field says how long it was on the wire. */
  write(timeMs: number, ip: Uint8Array): void {
    const v6 = ip[0] >> 4 === 6;
    const wire = v6 ? 40 + ((ip[4] << 8) | ip[5]) : (ip[2] << 8) | ip[3];
    const cap = Math.min(ip.byteLength, SNAP);
    const need = 16 + 14 + cap;
    if (this.used + need > this.buf.byteLength) {
      const next = Buffer.alloc(this.buf.byteLength * 2);
      this.buf.copy(next, 0, 0, this.used);
      this.buf = next;
    }
    const b = this.buf;
    let o = this.used;
    const sec = Math.floor(timeMs / 1000);
    b.writeUInt32LE(sec, o);
    b.writeUInt32LE(Math.min(999_999, Math.round((timeMs - sec * 1000) * 1000)), o + 4);
    b.writeUInt32LE(14 + cap, o + 8);
    b.writeUInt32LE(14 + Math.max(cap, wire), o + 12);
    o += 16;
    // Locally administered MACs (router → customer port); exporters ignore them.
    b.set(v6 ? ETHER6 : ETHER, o);
    b.set(ip.subarray(0, cap), o + 14);
    this.used = o + 14 + cap;
    this.count++;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }
}

const ETHER = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
const ETHER6 = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];

/**
 * The same packet carried over IPv6 from `src` to `dst` (16 bytes each): traffic class, hop
 * limit and payload kept; an IPv4 fragment (MF set or an offset) gets an IPv6 Fragment header
 * with the same offset, more-fragments flag and identification, so a non-first fragment carries
 * no transport header here either. ICMP becomes ICMPv6 by number only (no capture in the
 * IPv6 variants has any).
 */
export function toIpv6(ip4: Uint8Array, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const ihl = (ip4[0] & 15) * 4;
  const total = (ip4[2] << 8) | ip4[3];
  const proto = ip4[9] === 1 ? 58 : ip4[9];
  const fo = (ip4[6] << 8) | ip4[7];
  const more = (fo & 0x2000) !== 0;
  const offset = fo & 0x1fff;
  const frag = more || offset !== 0;
  const payload = ip4.subarray(ihl);
  const hl = 40 + (frag ? 8 : 0);
  const out = new Uint8Array(hl + payload.byteLength);
  const tos = ip4[1];
  out[0] = 0x60 | (tos >> 4);
  out[1] = (tos & 15) << 4;
  const plen = total - ihl + (frag ? 8 : 0);
  out[4] = plen >> 8;
  out[5] = plen & 255;
  out[6] = frag ? 44 : proto;
  out[7] = ip4[8];
  out.set(src, 8);
  out.set(dst, 24);
  if (frag) {
    out[40] = proto;
    const w = (offset << 3) | (more ? 1 : 0);
    out[42] = w >> 8;
    out[43] = w & 255;
    out[46] = ip4[4];
    out[47] = ip4[5];
  }
  out.set(payload, hl);
  return out;
}

/** Recompute the IPv4 header checksum in place (after addresses were rewritten). */
export function fixIpv4Checksum(ip: Uint8Array): void {
  const ihl = (ip[0] & 15) * 4;
  ip[10] = 0;
  ip[11] = 0;
  let s = 0;
  for (let i = 0; i < ihl; i += 2) s += (ip[i] << 8) | ip[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  ip[10] = s >> 8;
  ip[11] = s & 255;
}
