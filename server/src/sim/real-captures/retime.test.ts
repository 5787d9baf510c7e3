import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RAW_CAPTURES_DIR, REAL_CAPTURES } from './catalogue.js';
import { pcapFileHeader, readRawCapture } from './raw-pcap.js';
import { retimeCapture } from './retime.js';

const rawDir = fileURLToPath(new URL(`../../../../${RAW_CAPTURES_DIR}`, import.meta.url));
const absent = !existsSync(rawDir);
if (absent) console.warn(`retime test skipped: ${rawDir} (the shared real captures) is absent`);

const ip = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
function checksumOk(h: Uint8Array): boolean {
  let s = 0;
  for (let i = 0; i < (h[0] & 15) * 4; i += 2) s += (h[i] << 8) | h[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

/** Write the slices as one pcap and read it back with the raw reader. */
function readBack(slices: Buffer[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ds-retime-'));
  try {
    const f = join(dir, 'x.pcap');
    writeFileSync(f, Buffer.concat([pcapFileHeader(), ...slices]));
    return readRawCapture(f).packets;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(absent)('retimeCapture (real captures onto customer hosts)', () => {
  it('SNMP reflection: every attack packet to the customer host from UDP 161, at the rate asked, more reflectors per copy', () => {
    const spec = REAL_CAPTURES.find((c) => c.id === 'snmp-amplification')!;
    const startMs = 1_800_000_000_000;
    const cap = retimeCapture(spec, { rawDir, seconds: 3, leadSeconds: 1, startMs, pps: 6000, background: false });
    expect(cap.original).toBe('10.10.10.10');
    expect(cap.seconds).toHaveLength(4);
    expect(cap.attackPackets).toBe(18_000);
    expect(cap.copies).toBe(Math.ceil(18_000 / 4373));
    const pk = readBack(cap.seconds);
    expect(pk).toHaveLength(18_000);
    // Nothing in the lead second (no background asked for), then 6,000 per second, in time order.
    for (let s = 1; s < 4; s++)
      expect(pk.filter((p) => p.timeMs >= startMs + s * 1000 && p.timeMs < startMs + (s + 1) * 1000)).toHaveLength(
        6000,
      );
    expect(pk.every((p, i) => i === 0 || p.timeMs >= pk[i - 1].timeMs)).toBe(true);
    expect(pk.every((p) => ip(p.ip, 16) === spec.customerHost && checksumOk(p.ip))).toBe(true);
    const udp = pk.filter((p) => p.ip[9] === 17);
    expect(udp.length / pk.length).toBeGreaterThan(0.9);
    expect(udp.every((p) => ((p.ip[20] << 8) | p.ip[21]) === 161)).toBe(true);
    // Real packet sizes survive (the capture's replies are far larger than a request).
    expect(udp.reduce((a, p) => a + p.wireLength, 0) / udp.length).toBeGreaterThan(200);
    expect(new Set(pk.map((p) => ip(p.ip, 12))).size).toBeGreaterThan(4276 * 3);
  });

  it('masscan from a customer host: the scanner becomes the customer host, each copy scans another outside host', () => {
    const spec = REAL_CAPTURES.find((c) => c.id === 'masscan-tcp')!;
    const cap = retimeCapture(spec, { rawDir, seconds: 2, leadSeconds: 1, startMs: 1_800_000_000_000 });
    const pk = readBack(cap.seconds);
    const attack = pk.filter((p) => ip(p.ip, 12) === spec.customerHost);
    expect(attack).toHaveLength(spec.pps * 2);
    expect(new Set(attack.map((p) => ip(p.ip, 16))).size).toBe(cap.copies);
    // The background (the library's ordinary customers) runs underneath, from the first second.
    expect(pk.length - attack.length).toBeGreaterThan(1000);
    expect(pk[0].timeMs).toBeLessThan(1_800_000_000_000 + 1000);
  });
});

describe.skipIf(absent)('retimeCapture over IPv6 (toIpv6)', () => {
  it('DNS RRSIG reflection onto an IPv6 customer host: IPv6 packets, IPv4 fragments as Fragment headers', () => {
    const spec = REAL_CAPTURES.find((c) => c.id === 'dns-rrsig-fragmented-ipv6')!;
    const startMs = 1_800_000_000_000;
    const cap = retimeCapture(spec, { rawDir, seconds: 1, leadSeconds: 0, startMs, pps: 4000, background: false });
    const pk = readBack(cap.seconds);
    // The reader keeps IPv4 only: every attack packet went over IPv6.
    expect(pk).toHaveLength(0);
    const body = Buffer.concat(cap.seconds);
    const frames: Uint8Array[] = [];
    for (let o = 0; o + 16 <= body.byteLength;) {
      const incl = body.readUInt32LE(o + 8);
      frames.push(body.subarray(o + 16, o + 16 + incl));
      o += 16 + incl;
    }
    expect(frames).toHaveLength(4000);
    const target = '20010db8010000000000000000000b64';
    const hex = (b: Uint8Array, o: number) => Buffer.from(b.subarray(o, o + 16)).toString('hex');
    let first = 0;
    let later = 0;
    for (const f of frames) {
      expect((f[12] << 8) | f[13]).toBe(0x86dd);
      const ip = f.subarray(14);
      expect(ip[0] >> 4).toBe(6);
      expect(hex(ip, 24)).toBe(target);
      if (ip[6] !== 44) continue;
      // Fragment header: next header UDP, offset in 8-byte units, M flag in bit 0.
      expect(ip[40]).toBe(17);
      const off = ((ip[42] << 8) | ip[43]) >> 3;
      if (off === 0) {
        first++;
        expect((ip[48] << 8) | ip[49]).toBe(53); // the first fragment keeps the UDP header
      } else later++;
    }
    expect(first).toBeGreaterThan(100);
    expect(later).toBeGreaterThan(100);
    expect(new Set(frames.map((f) => hex(f.subarray(14), 8))).size).toBeGreaterThan(100);
  });
});
