/**
 * A minimal pcap / pcapng reader that yields the UDP datagrams inside (IPv4 and IPv6, over
 * Ethernet with VLAN tags, Linux cooked capture v1/v2, raw IP or BSD loopback). Flow-export
 * captures need nothing more, and ~150 lines beat a native dependency.
 */
import { v4ToString, v6GroupsToString } from '@downstream/shared';
import { readFileSync } from 'node:fs';

export interface UdpPacket {
  /** Capture time, ms since epoch (µs/ns precision kept as a fraction). */
  timeMs: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export class PcapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PcapError';
  }
}

export function readPcapFile(file: string): UdpPacket[] {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw new PcapError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return parsePcap(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), file);
}

/** Parse a whole capture; throws PcapError naming what is wrong with a file that is not one. */
export function parsePcap(buf: Uint8Array, name = 'capture'): UdpPacket[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 4) throw new PcapError(`${name}: too short to be a pcap file`);
  const magic = v.getUint32(0, false);
  if (magic === 0x0a0d0d0a) return parsePcapng(v, name);
  let le: boolean;
  let nano: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) {
    le = false;
    nano = magic === 0xa1b23c4d;
  } else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) {
    le = true;
    nano = magic === 0x4d3cb2a1;
  } else throw new PcapError(`${name}: not a pcap or pcapng file (magic 0x${magic.toString(16)})`);
  if (buf.byteLength < 24) throw new PcapError(`${name}: truncated pcap header`);
  const link = v.getUint32(20, le) & 0xffff;
  const out: UdpPacket[] = [];
  let p = 24;
  while (p + 16 <= buf.byteLength) {
    const sec = v.getUint32(p, le);
    const frac = v.getUint32(p + 4, le);
    const incl = v.getUint32(p + 8, le);
    p += 16;
    if (p + incl > buf.byteLength) break; // truncated last packet
    const timeMs = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
    const pkt = udpFromFrame(v, p, incl, link, timeMs);
    if (pkt) out.push(pkt);
    p += incl;
  }
  return out;
}

function parsePcapng(v: DataView, name: string): UdpPacket[] {
  const out: UdpPacket[] = [];
  let le = true;
  const ifaces: { link: number; tsDiv: number }[] = [];
  let p = 0;
  while (p + 12 <= v.byteLength) {
    let type = v.getUint32(p, le);
    if (type === 0x0a0d0d0a) {
      // section header: its byte-order magic decides the endianness of the section
      le = v.getUint32(p + 8, true) === 0x1a2b3c4d;
      type = 0x0a0d0d0a;
      ifaces.length = 0;
    }
    const len = v.getUint32(p + 4, le);
    if (len < 12 || p + len > v.byteLength) break;
    if (type === 1) {
      const link = v.getUint16(p + 8, le);
      let tsDiv = 1000; // default µs → ms
      // options: look for if_tsresol (9)
      let q = p + 16;
      while (q + 4 <= p + len - 4) {
        const code = v.getUint16(q, le);
        const olen = v.getUint16(q + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const r = v.getUint8(q + 4);
          const perSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
          tsDiv = perSec / 1000;
        }
        q += 4 + Math.ceil(olen / 4) * 4;
      }
      ifaces.push({ link, tsDiv });
    } else if (type === 6) {
      const iface = ifaces[v.getUint32(p + 8, le)];
      const ts = v.getUint32(p + 12, le) * 4294967296 + v.getUint32(p + 16, le);
      const incl = v.getUint32(p + 20, le);
      if (iface && 28 + incl <= len) {
        const pkt = udpFromFrame(v, p + 28, incl, iface.link, ts / iface.tsDiv);
        if (pkt) out.push(pkt);
      }
    } else if (type === 3 && ifaces[0]) {
      const incl = Math.min(v.getUint32(p + 8, le), len - 16);
      const pkt = udpFromFrame(v, p + 12, incl, ifaces[0].link, 0);
      if (pkt) out.push(pkt);
    }
    p += len;
  }
  if (out.length === 0 && p === 0) throw new PcapError(`${name}: unreadable pcapng`);
  return out;
}

function udpFromFrame(v: DataView, off: number, len: number, link: number, timeMs: number): UdpPacket | undefined {
  const end = off + len;
  let p = off;
  let et: number;
  if (link === 1) {
    if (len < 14) return undefined;
    et = v.getUint16(p + 12);
    p += 14;
    while ((et === 0x8100 || et === 0x88a8) && p + 4 <= end) {
      et = v.getUint16(p + 2);
      p += 4;
    }
  } else if (link === 113) {
    if (len < 16) return undefined;
    et = v.getUint16(p + 14);
    p += 16;
  } else if (link === 276) {
    if (len < 20) return undefined;
    et = v.getUint16(p);
    p += 20;
  } else if (link === 101 || link === 12 || link === 14) {
    if (len < 1) return undefined;
    et = v.getUint8(p) >> 4 === 6 ? 0x86dd : 0x0800;
  } else if (link === 0 || link === 108) {
    if (len < 5) return undefined;
    p += 4;
    et = v.getUint8(p) >> 4 === 6 ? 0x86dd : 0x0800;
  } else return undefined;
  let src: string;
  let dst: string;
  let udp: number;
  if (et === 0x0800) {
    if (p + 20 > end) return undefined;
    const ihl = (v.getUint8(p) & 15) * 4;
    if (v.getUint8(p + 9) !== 17 || (v.getUint16(p + 6) & 0x3fff) !== 0) return undefined; // not UDP, or a fragment
    src = v4ToString(v.getUint32(p + 12));
    dst = v4ToString(v.getUint32(p + 16));
    udp = p + ihl;
  } else if (et === 0x86dd) {
    if (p + 40 > end || v.getUint8(p + 6) !== 17) return undefined;
    const g = (o: number): string => {
      const a: number[] = [];
      for (let k = 0; k < 8; k++) a.push(v.getUint16(o + 2 * k));
      return v6GroupsToString(a);
    };
    src = g(p + 8);
    dst = g(p + 24);
    udp = p + 40;
  } else return undefined;
  if (udp + 8 > end) return undefined;
  const ulen = v.getUint16(udp + 4);
  const payloadEnd = Math.min(end, ulen >= 8 ? udp + ulen : end);
  const payload = new Uint8Array(v.buffer, v.byteOffset + udp + 8, payloadEnd - udp - 8).slice();
  return { timeMs, src, dst, srcPort: v.getUint16(udp), dstPort: v.getUint16(udp + 2), payload };
}

/**
 * Build a classic pcap (raw IPv4 link type) holding UDP datagrams — for tests and for saving
 * received export traffic. Addresses are IPv4 dotted quads.
 */
export function buildPcap(
  packets: { timeMs: number; src: string; dst: string; srcPort: number; dstPort: number; payload: Uint8Array }[],
): Uint8Array {
  const size = 24 + packets.reduce((a, p) => a + 16 + 28 + p.payload.byteLength, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4);
  v.setUint16(4, 2);
  v.setUint16(6, 4);
  v.setUint32(16, 65535);
  v.setUint32(20, 101); // LINKTYPE_RAW
  let p = 24;
  const ip = (s: string): number => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  for (const pk of packets) {
    const len = 28 + pk.payload.byteLength;
    v.setUint32(p, Math.floor(pk.timeMs / 1000));
    v.setUint32(p + 4, Math.round((pk.timeMs % 1000) * 1000));
    v.setUint32(p + 8, len);
    v.setUint32(p + 12, len);
    p += 16;
    v.setUint8(p, 0x45);
    v.setUint16(p + 2, len);
    v.setUint8(p + 8, 64);
    v.setUint8(p + 9, 17);
    v.setUint32(p + 12, ip(pk.src));
    v.setUint32(p + 16, ip(pk.dst));
    v.setUint16(p + 20, pk.srcPort);
    v.setUint16(p + 22, pk.dstPort);
    v.setUint16(p + 24, 8 + pk.payload.byteLength);
    out.set(pk.payload, p + 28);
    p += len;
  }
  return out;
}
