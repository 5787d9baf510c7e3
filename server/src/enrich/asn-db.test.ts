import { addrFromString } from '@downstream/shared';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asnDb,
  countryName,
  dataFiles,
  dataSignature,
  loadAsnDb,
  readAsnCache,
  writeAsnCache,
  type AsnDb,
} from './asn-db.js';
import { lookupWords } from './range-table.js';

// Rows are picked from the package's own CSVs at test time (the human-readable ones, parsed here
// with a plain CSV split and ipaddr.js, independently of the loader under test, which reads the
// numeric v4 files and parses v6 text byte by byte).

function csvRows(file: string): string[][] {
  const out: string[][] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    // Fields: start,end,value[,name] — the name may be quoted and contain commas.
    const m = /^([^,]+),([^,]+),([^,]*)(?:,(.*))?$/.exec(line);
    if (!m) throw new Error(`unexpected line: ${line}`);
    let name = m[4] ?? '';
    if (name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replaceAll('""', '"');
    out.push([m[1], m[2], m[3], name]);
  }
  return out;
}

function toBig(ip: string): bigint {
  const a = ipaddr.parse(ip);
  let n = 0n;
  for (const b of a.toByteArray()) n = (n << 8n) | BigInt(b);
  return n;
}

function fromBig(n: bigint, v4: boolean): string {
  if (v4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const g: string[] = [];
  for (let k = 7; k >= 0; k--) g.push(((n >> BigInt(k * 16)) & 0xffffn).toString(16));
  return g.join(':');
}

/** Deterministic sample: every row whose range does not overlap the previous one, then a stride. */
function sample(rows: string[][], count: number): string[][] {
  const clean: string[][] = [];
  let prevEnd = -1n;
  for (const r of rows) {
    const s = toBig(r[0]);
    if (s > prevEnd) clean.push(r);
    const e = toBig(r[1]);
    if (e > prevEnd) prevEnd = e;
  }
  const stride = Math.max(1, Math.floor(clean.length / count));
  const out: string[][] = [];
  for (let i = 7; i < clean.length && out.length < count; i += stride) out.push(clean[i]);
  out.push(clean[0], clean[clean.length - 1]);
  return out;
}

let db: AsnDb;
const bytes = (a: Uint32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const w = new Uint32Array(4);
const asnOf = (ip: string): number => lookupWords(db.asnV4, db.asnV6, addrFromString(ip, w), 0);
const countryOf = (ip: string): string =>
  countryName(lookupWords(db.countryV4, db.countryV6, addrFromString(ip, w), 0));

describe('ASN data set', () => {
  const files = dataFiles();
  beforeAll(() => {
    // The CSV parser itself (asnDb() may answer from the compiled cache, tested below).
    db = loadAsnDb();
  });

  it('loads every row of the four files without a bad line', () => {
    expect(db.stats.badLines).toBe(0);
    const lines = Object.values(files).reduce((n, f) => n + csvRows(f.replace('-num.csv', '.csv')).length, 0);
    expect(db.stats.rows).toBe(lines);
  });

  for (const [label, file, v4] of [
    ['IPv4', files.asnV4.replace('-num.csv', '.csv'), true],
    ['IPv6', files.asnV6, false],
  ] as const) {
    it(`${label}: start, end and middle of sampled rows resolve to the row's ASN and AS name`, () => {
      const rows = sample(csvRows(file), 300);
      expect(rows.length).toBeGreaterThan(250);
      for (const [start, end, asn, name] of rows) {
        const mid = fromBig((toBig(start) + toBig(end)) / 2n, v4);
        for (const ip of [start, end, mid]) {
          const got = asnOf(ip);
          expect({ ip, asn: got }).toEqual({ ip, asn: Number(asn) });
          expect(db.names.get(got)).toBe(name);
        }
      }
    });

    it(`${label}: the address just past a row's end is not that row's unless the next row continues it`, () => {
      const rows = csvRows(file);
      let checked = 0;
      for (let i = 1000; i + 1 < rows.length && checked < 200; i += 997) {
        const after = toBig(rows[i][1]) + 1n;
        if (after === toBig(rows[i + 1][0])) continue;
        expect(asnOf(fromBig(after, v4))).toBe(0);
        checked++;
      }
      expect(checked).toBeGreaterThan(50);
    });
  }

  for (const [label, file, v4] of [
    ['IPv4', files.countryV4.replace('-num.csv', '.csv'), true],
    ['IPv6', files.countryV6, false],
  ] as const) {
    it(`${label}: sampled rows resolve to the row's country`, () => {
      for (const [start, end, cc] of sample(csvRows(file), 300)) {
        expect(countryOf(start)).toBe(cc);
        expect(countryOf(end)).toBe(cc);
        expect(countryOf(fromBig((toBig(start) + toBig(end)) / 2n, v4))).toBe(cc);
      }
    });
  }

  it('unknown space (private, documentation) has no ASN and no country', () => {
    for (const ip of ['10.1.2.3', '192.168.0.1', '198.51.100.7', '2001:db8::1', '::1', '0.0.0.0', '255.255.255.255']) {
      expect(asnOf(ip)).toBe(0);
      expect(countryOf(ip)).toBe('');
    }
  });

  it('is loaded once per process', () => {
    expect(asnDb()).toBe(asnDb());
  });

  it('the compiled cache reads back exactly what was parsed; stale or damaged files are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ds-asn-cache-'));
    try {
      const file = join(dir, 'asn.bin');
      const sig = dataSignature();
      writeAsnCache(db, file, sig);
      const back = readAsnCache(file, sig);
      expect(back?.stats.cached).toBe(true);
      for (const k of ['asnV4', 'asnV6', 'countryV4', 'countryV6'] as const) {
        expect(bytes(back![k].starts).equals(bytes(db[k].starts))).toBe(true);
        expect(bytes(back![k].values).equals(bytes(db[k].values))).toBe(true);
        expect(bytes(back![k].index).equals(bytes(db[k].index))).toBe(true);
      }
      expect(back!.names.size).toBe(db.names.size);
      expect(back!.names.get(13335)).toBe('Cloudflare, Inc.');
      expect(readAsnCache(file, `${sig}|changed`)).toBeUndefined();
      const raw = readFileSync(file);
      writeFileSync(file, raw.subarray(0, raw.length - 10));
      expect(readAsnCache(file, sig)).toBeUndefined();
      expect(readAsnCache(join(dir, 'missing.bin'), sig)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
