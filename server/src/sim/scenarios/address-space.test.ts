import { v4FromString } from '@downstream/shared';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { ALL_RANGES, ALL_RANGES_V6, pickDistinct, rangeOf, v6ToBigInt } from './address-space.js';
import { mulberry32 } from './rng.js';

// The package's own rows (first,last,asn,name as numbers): the ground truth the list claims to copy.
const require = createRequire(import.meta.url);
const csv = readFileSync(require.resolve('@ip-location-db/asn/asn-ipv4-num.csv'), 'utf8');
const rows = new Map<number, { last: number; asn: number }>();
for (const line of csv.split('\n')) {
  const m = /^(\d+),(\d+),(\d+),/.exec(line);
  if (m) rows.set(Number(m[1]), { last: Number(m[2]), asn: Number(m[3]) });
}

// IPv6 rows as text (first,last,asn,name); compared as 128-bit numbers so notation cannot matter.
const csv6 = readFileSync(require.resolve('@ip-location-db/asn/asn-ipv6.csv'), 'utf8');
const rows6 = new Map<bigint, { last: bigint; asn: number }>();
for (const line of csv6.split('\n')) {
  const m = /^([0-9a-f:]+),([0-9a-f:]+),(\d+),/.exec(line);
  if (m) rows6.set(v6ToBigInt(m[1]), { last: v6ToBigInt(m[2]), asn: Number(m[3]) });
}

describe('simulator address space', () => {
  it.each(ALL_RANGES_V6.map((r) => [`${r.first} AS${r.asn}`, r] as const))(
    '%s is a whole row of @ip-location-db/asn (IPv6) for that AS',
    (_, r) => {
      const row = rows6.get(v6ToBigInt(r.first));
      expect(row).toBeDefined();
      expect(row!.asn).toBe(r.asn);
      expect(row!.last).toBe(v6ToBigInt(r.last));
    },
  );

  it('draws distinct IPv6 hosts inside their ranges, in RFC 5952 form, deterministically', () => {
    const a = pickDistinct(mulberry32(5), ALL_RANGES_V6, 500);
    expect(a).toEqual(pickDistinct(mulberry32(5), ALL_RANGES_V6, 500));
    expect(new Set(a).size).toBe(500);
    const seen = new Set<number>();
    for (const ip of a) {
      const r = rangeOf(ip, ALL_RANGES_V6);
      expect(r, ip).toBeDefined();
      seen.add(r!.asn);
      expect(ipaddr.IPv6.parse(ip).toRFC5952String()).toBe(ip);
    }
    expect(seen.size).toBe(ALL_RANGES_V6.length);
  });

  it.each(ALL_RANGES.map((r) => [`${r.first} AS${r.asn}`, r] as const))(
    '%s is a whole row of @ip-location-db/asn for that AS',
    (_, r) => {
      const row = rows.get(v4FromString(r.first));
      expect(row).toBeDefined();
      expect(row!.asn).toBe(r.asn);
      expect(row!.last).toBe(v4FromString(r.last));
    },
  );

  it('draws distinct host addresses deterministically', () => {
    const a = pickDistinct(mulberry32(3), ALL_RANGES, 500);
    const b = pickDistinct(mulberry32(3), ALL_RANGES, 500);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(500);
    for (const ip of a) expect(ip).not.toMatch(/\.(0|255)$/);
  });
});
