import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { v4FromString } from '../../ingest/flow-batch.js';
import { ALL_RANGES, pickDistinct } from './address-space.js';
import { mulberry32 } from './rng.js';

// The package's own rows (first,last,asn,name as numbers): the ground truth the list claims to copy.
const require = createRequire(import.meta.url);
const csv = readFileSync(require.resolve('@ip-location-db/asn/asn-ipv4-num.csv'), 'utf8');
const rows = new Map<number, { last: number; asn: number }>();
for (const line of csv.split('\n')) {
  const m = /^(\d+),(\d+),(\d+),/.exec(line);
  if (m) rows.set(Number(m[1]), { last: Number(m[2]), asn: Number(m[3]) });
}

describe('simulator address space', () => {
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
