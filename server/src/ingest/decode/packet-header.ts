import { setV4, setV6 } from '@downstream/shared';
import { type FlowBatch } from '../../flow/flow-batch.js';

/** Link types of a sampled header (sFlow header_protocol numbering). */
export const HEADER_ETHERNET = 1;
export const HEADER_IPV4 = 11;
export const HEADER_IPV6 = 12;

/**
 * Parse a sampled packet header (sFlow raw header, IPFIX dataLinkFrameSection) into record `i`
 * of `b`: addresses, protocol, ports, TCP flags. Like Wireshark, the outermost IP header wins
 * (a VXLAN or SRv6 packet is reported as its outer tunnel); VLAN/QinQ tags and MPLS labels
 * (with an Ethernet-over-MPLS control word) are stepped over to reach it.
 * Returns false when no IP header could be found within `len` bytes. Never reads outside
 * [off, off+len).
 */
export function parseHeader(v: DataView, off: number, len: number, linkType: number, b: FlowBatch, i: number): boolean {
  const end = Math.min(off + len, v.byteLength);
  let p = off;
  let ethertype: number;
  if (linkType === HEADER_IPV4) ethertype = 0x0800;
  else if (linkType === HEADER_IPV6) ethertype = 0x86dd;
  else if (linkType === HEADER_ETHERNET) {
    if (p + 14 > end) return false;
    ethertype = v.getUint16(p + 12);
    p += 14;
  } else return false;
  for (let guard = 0; guard < 16; guard++) {
    if (ethertype === 0x8100 || ethertype === 0x88a8 || ethertype === 0x9100) {
      if (p + 4 > end) return false;
      ethertype = v.getUint16(p + 2);
      p += 4;
      continue;
    }
    if (ethertype === 0x8847 || ethertype === 0x8848) {
      // pop labels to the bottom of the stack, then guess the payload from its first nibble
      let bos = false;
      for (let k = 0; k < 16 && !bos; k++) {
        if (p + 4 > end) return false;
        bos = (v.getUint8(p + 2) & 1) === 1;
        p += 4;
      }
      if (p + 1 > end) return false;
      const nib = v.getUint8(p) >>> 4;
      if (nib === 4) ethertype = 0x0800;
      else if (nib === 6) ethertype = 0x86dd;
      else {
        // Ethernet over MPLS: an optional 4-byte control word (first nibble 0), then a frame
        if (nib === 0) p += 4;
        if (p + 14 > end) return false;
        ethertype = v.getUint16(p + 12);
        p += 14;
      }
      continue;
    }
    break;
  }
  if (ethertype === 0x0800) {
    if (p + 20 > end) return false;
    const ihl = (v.getUint8(p) & 0x0f) * 4;
    const proto = v.getUint8(p + 9);
    const frag = v.getUint16(p + 6) & 0x1fff;
    setV4(b.src, i, v.getUint32(p + 12));
    setV4(b.dst, i, v.getUint32(p + 16));
    b.proto[i] = proto;
    if (frag === 0 && ihl >= 20) transport(v, p + ihl, end, proto, b, i);
    return true;
  }
  if (ethertype === 0x86dd) {
    if (p + 40 > end) return false;
    setV6(b.src, i, v, p + 8);
    setV6(b.dst, i, v, p + 24);
    let next = v.getUint8(p + 6);
    let q = p + 40;
    let nonFirstFragment = false;
    // hop-by-hop, routing, fragment, destination options
    for (let k = 0; k < 8 && (next === 0 || next === 43 || next === 44 || next === 60); k++) {
      if (q + 8 > end) {
        b.proto[i] = next;
        return true;
      }
      if (next === 44) {
        if ((v.getUint16(q + 2) & 0xfff8) !== 0) nonFirstFragment = true;
        next = v.getUint8(q);
        q += 8;
      } else {
        const hl = (v.getUint8(q + 1) + 1) * 8;
        next = v.getUint8(q);
        q += hl;
      }
    }
    b.proto[i] = next;
    if (!nonFirstFragment) transport(v, q, end, next, b, i);
    return true;
  }
  return false;
}

function transport(v: DataView, p: number, end: number, proto: number, b: FlowBatch, i: number): void {
  if (proto === 6) {
    if (p + 4 <= end) {
      b.srcPort[i] = v.getUint16(p);
      b.dstPort[i] = v.getUint16(p + 2);
    }
    if (p + 14 <= end) b.tcpFlags[i] = v.getUint8(p + 13);
  } else if (proto === 17 || proto === 132 || proto === 136) {
    if (p + 4 <= end) {
      b.srcPort[i] = v.getUint16(p);
      b.dstPort[i] = v.getUint16(p + 2);
    }
  } else if (proto === 1 || proto === 58) {
    // NetFlow convention (and what routers export): type×256+code in the destination port
    if (p + 2 <= end) b.dstPort[i] = (v.getUint8(p) << 8) | v.getUint8(p + 1);
  }
}
