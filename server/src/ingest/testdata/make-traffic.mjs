// Writes a small deterministic raw-traffic pcap (Ethernet) for the flow exporters to meter:
// TCP sessions, a UDP DNS exchange, a SYN scan, ICMP echo, IPv6 TCP/UDP and ICMPv6.
// Usage: node make-traffic.mjs OUT.pcap
import { writeFileSync } from 'node:fs';

const out = process.argv[2] ?? 'traffic.pcap';
const t0 = 1767225600; // 2026-01-01T00:00:00Z
const frames = [];
let clock = 0;

function ip4(s) {
  return s.split('.').map(Number);
}
function ip6(s) {
  const [h, t = ''] = s.split('::');
  const hp = h ? h.split(':') : [];
  const tp = t ? t.split(':') : [];
  const g = [...hp, ...Array(8 - hp.length - tp.length).fill('0'), ...tp].map((x) => parseInt(x, 16));
  return g.flatMap((x) => [x >> 8, x & 255]);
}
function u16(x) {
  return [(x >> 8) & 255, x & 255];
}
function u32(x) {
  return [(x >>> 24) & 255, (x >>> 16) & 255, (x >>> 8) & 255, x & 255];
}
function csum(bytes) {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
function l4(proto, sport, dport, flags, payloadLen) {
  const payload = Array(payloadLen).fill(0x61);
  if (proto === 6)
    return [
      ...u16(sport),
      ...u16(dport),
      ...u32(1000),
      ...u32(flags & 0x10 ? 2000 : 0),
      0x50,
      flags,
      ...u16(65535),
      0,
      0,
      0,
      0,
      ...payload,
    ];
  if (proto === 17) return [...u16(sport), ...u16(dport), ...u16(8 + payloadLen), 0, 0, ...payload];
  // ICMP / ICMPv6 echo: type in dport's high byte
  return [dport >> 8, dport & 255, 0, 0, 0, 1, 0, 1, ...payload];
}
function packet(src, dst, proto, sport, dport, flags = 0, payloadLen = 0) {
  const v6 = src.includes(':');
  const seg = l4(proto, sport, dport, flags, payloadLen);
  let ip;
  if (v6) ip = [0x60, 0, 0, 0, ...u16(seg.length), proto, 64, ...ip6(src), ...ip6(dst), ...seg];
  else {
    const h = [0x45, 0, ...u16(20 + seg.length), 0, 1, 0x40, 0, 64, proto, 0, 0, ...ip4(src), ...ip4(dst)];
    const c = csum(h);
    h[10] = c >> 8;
    h[11] = c & 255;
    ip = [...h, ...seg];
  }
  const eth = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, ...u16(v6 ? 0x86dd : 0x0800)];
  clock += 7919; // µs between packets
  frames.push({ us: clock, bytes: [...eth, ...ip] });
}

// TCP sessions 198.51.100.x → 203.0.113.80:443 and back
for (let s = 0; s < 12; s++) {
  const c = `198.51.100.${10 + s}`;
  const sp = 40000 + s;
  packet(c, '203.0.113.80', 6, sp, 443, 0x02);
  packet('203.0.113.80', c, 6, 443, sp, 0x12);
  for (let k = 0; k < 3 + (s % 4); k++) {
    packet(c, '203.0.113.80', 6, sp, 443, 0x18, 100 + 50 * k);
    packet('203.0.113.80', c, 6, 443, sp, 0x18, 1200);
  }
  packet(c, '203.0.113.80', 6, sp, 443, 0x11);
}
// DNS
for (let s = 0; s < 6; s++) {
  packet('198.51.100.53', '192.0.2.53', 17, 5353 + s, 53, 0, 40);
  packet('192.0.2.53', '198.51.100.53', 17, 53, 5353 + s, 0, 200);
}
// SYN scan of 20 hosts
for (let h = 1; h <= 20; h++) packet('198.51.100.66', `203.0.113.${h}`, 6, 55555, 23, 0x02);
// ICMP echo
for (let k = 0; k < 4; k++) {
  packet('198.51.100.7', '8.8.8.8', 1, 0, 0x0800, 0, 56);
  packet('8.8.8.8', '198.51.100.7', 1, 0, 0x0000, 0, 56);
}
// IPv6
for (let s = 0; s < 5; s++) {
  packet(`2001:db8:100::${s + 1}`, '2001:db8:200::80', 6, 50000 + s, 80, 0x02);
  packet('2001:db8:200::80', `2001:db8:100::${s + 1}`, 6, 80, 50000 + s, 0x12);
  packet(`2001:db8:100::${s + 1}`, '2001:db8:200::80', 6, 50000 + s, 80, 0x18, 300);
}
for (let k = 0; k < 3; k++) packet('2001:db8:100::9', '2001:db8:300::53', 17, 6000, 53, 0, 60);
for (let k = 0; k < 2; k++) packet('2001:db8:100::7', '2001:db8:300::1', 58, 0, 0x8000, 0, 32);

const hdr = [...u32(0xa1b2c3d4), ...u16(2), ...u16(4), 0, 0, 0, 0, 0, 0, 0, 0, ...u32(65535), ...u32(1)];
const body = [];
for (const f of frames) {
  const sec = t0 + Math.floor(f.us / 1e6);
  body.push(...u32(sec), ...u32(f.us % 1e6), ...u32(f.bytes.length), ...u32(f.bytes.length), ...f.bytes);
}
writeFileSync(out, Uint8Array.from([...hdr, ...body]));
console.log(`${out}: ${frames.length} packets`);
