/**
 * The IP→ASN / AS name / country data set, from the `@ip-location-db/asn` (RouteViews + RIRs +
 * DB-IP, CC-BY-4.0) and `@ip-location-db/asn-country` (NRO, CC-BY-4.0) packages. Licence
 * notices: DATA-LICENSES.md.
 *
 * The CSVs (~40 MB) are parsed byte by byte straight from the Buffer: splitting 600,000 lines
 * into strings would cost several times the < 1 s load budget. Loaded once per process, lazily,
 * and shared by every Enricher.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { V4Builder, V6Builder, type V4Table, type V6Table } from './range-table.js';

export interface AsnDb {
  asnV4: V4Table;
  asnV6: V6Table;
  countryV4: V4Table;
  countryV6: V6Table;
  /** AS organisation name by ASN (the first name the data set gives for it). */
  names: Map<number, string>;
  /** Load time in ms, and what was read, for logs and the benchmark. */
  stats: { loadMs: number; rows: number; overlaps: number; badLines: number; cached?: boolean };
}

const require = createRequire(import.meta.url);

/** Directory of an installed package (its package.json sits at the root). */
function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

export function dataFiles(): { asnV4: string; asnV6: string; countryV4: string; countryV6: string } {
  const asn = packageDir('@ip-location-db/asn');
  const country = packageDir('@ip-location-db/asn-country');
  return {
    asnV4: join(asn, 'asn-ipv4-num.csv'),
    asnV6: join(asn, 'asn-ipv6.csv'),
    countryV4: join(country, 'asn-country-ipv4-num.csv'),
    countryV6: join(country, 'asn-country-ipv6.csv'),
  };
}

const COMMA = 44;
const NL = 10;
const CR = 13;
const QUOTE = 34;
const COLON = 58;

/** Cursor over one CSV buffer; every method advances `p` past what it read and its separator. */
class Cursor {
  p = 0;
  constructor(readonly b: Buffer) {}

  get done(): boolean {
    return this.p >= this.b.length;
  }

  /** Decimal integer (up to 2^53), then skips one ',' if present. NaN when no digits. */
  int(): number {
    const b = this.b;
    let p = this.p;
    let v = 0;
    const s = p;
    while (p < b.length) {
      const c = b[p] - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      p++;
    }
    if (p === s) v = NaN;
    if (b[p] === COMMA) p++;
    this.p = p;
    return v;
  }

  /** IPv6 text address into out[0..3]; false when malformed. Skips the following ','. */
  v6(out: Uint32Array): boolean {
    const b = this.b;
    let p = this.p;
    const groups = V6_GROUPS;
    let n = 0;
    let gap = -1;
    let ok = true;
    if (b[p] === COLON && b[p + 1] === COLON) {
      gap = 0;
      p += 2;
    }
    while (p < b.length && b[p] !== COMMA && b[p] !== NL) {
      let v = 0;
      let digits = 0;
      while (p < b.length) {
        const c = b[p];
        let d: number;
        if (c >= 48 && c <= 57) d = c - 48;
        else if (c >= 97 && c <= 102) d = c - 87;
        else if (c >= 65 && c <= 70) d = c - 55;
        else break;
        v = v * 16 + d;
        digits++;
        p++;
      }
      if (digits === 0 || digits > 4 || n === 8) {
        ok = false;
        break;
      }
      groups[n++] = v;
      if (b[p] === COLON) {
        p++;
        if (b[p] === COLON) {
          if (gap >= 0) {
            ok = false;
            break;
          }
          gap = n;
          p++;
        }
      }
    }
    while (p < b.length && b[p] !== COMMA && b[p] !== NL) p++;
    if (b[p] === COMMA) p++;
    this.p = p;
    if (!ok || (gap < 0 && n !== 8) || (gap >= 0 && n > 7)) return false;
    // Expand '::' by shifting the tail groups to the end.
    if (gap >= 0) {
      const tail = n - gap;
      for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k];
      for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
    }
    for (let k = 0; k < 4; k++) out[k] = ((groups[2 * k] << 16) | groups[2 * k + 1]) >>> 0;
    return true;
  }

  /** Start/end offsets of the next field (quotes kept); skips the following ',' if present. */
  field(): [number, number] {
    const b = this.b;
    let p = this.p;
    const s = p;
    if (b[p] === QUOTE) {
      p++;
      while (p < b.length) {
        if (b[p] === QUOTE) {
          if (b[p + 1] === QUOTE) p += 2;
          else {
            p++;
            break;
          }
        } else p++;
      }
    }
    while (p < b.length && b[p] !== COMMA && b[p] !== NL) p++;
    let e = p;
    if (e > s && b[e - 1] === CR) e--;
    if (b[p] === COMMA) p++;
    this.p = p;
    return [s, e];
  }

  /** Skip to the start of the next line. */
  eol(): void {
    const b = this.b;
    let p = this.p;
    while (p < b.length && b[p] !== NL) p++;
    this.p = p + 1;
  }
}

const V6_GROUPS = new Array<number>(8).fill(0);

function text(b: Buffer, s: number, e: number): string {
  if (e - s >= 2 && b[s] === QUOTE && b[e - 1] === QUOTE) return b.toString('utf8', s + 1, e - 1).replaceAll('""', '"');
  return b.toString('utf8', s, e);
}

/** Two ASCII letters packed into 16 bits; 0 when absent. */
function countryCode(b: Buffer, s: number, e: number): number {
  if (e - s !== 2) return 0;
  return (b[s] << 8) | b[s + 1];
}

const countryStrings: string[] = new Array<string>(65536);
/** The country code for a packed value; cached so lookups don't allocate. */
export function countryName(code: number): string {
  if (code === 0) return '';
  return (countryStrings[code] ??= String.fromCharCode(code >>> 8, code & 255));
}

export function loadAsnDb(files = dataFiles()): AsnDb {
  const t0 = performance.now();
  const names = new Map<number, string>();
  let rows = 0;
  let badLines = 0;

  const asnV4 = new V4Builder(1 << 19);
  {
    const c = new Cursor(readFileSync(files.asnV4));
    while (!c.done) {
      const s = c.int();
      const e = c.int();
      const asn = c.int();
      const [ns, ne] = c.field();
      c.eol();
      if (Number.isNaN(s) || Number.isNaN(e) || Number.isNaN(asn) || e > 0xffffffff) {
        badLines++;
        continue;
      }
      rows++;
      asnV4.add(s, e, asn);
      if (asn !== 0 && !names.has(asn)) names.set(asn, text(c.b, ns, ne));
    }
  }

  const a = new Uint32Array(4);
  const z = new Uint32Array(4);
  const asnV6 = new V6Builder(1 << 17);
  {
    const c = new Cursor(readFileSync(files.asnV6));
    while (!c.done) {
      const okA = c.v6(a);
      const okZ = c.v6(z);
      const asn = c.int();
      const [ns, ne] = c.field();
      c.eol();
      if (!okA || !okZ || Number.isNaN(asn)) {
        badLines++;
        continue;
      }
      rows++;
      asnV6.add(a, z, asn);
      if (asn !== 0 && !names.has(asn)) names.set(asn, text(c.b, ns, ne));
    }
  }

  const countryV4 = new V4Builder(1 << 18);
  {
    const c = new Cursor(readFileSync(files.countryV4));
    while (!c.done) {
      const s = c.int();
      const e = c.int();
      const [cs, ce] = c.field();
      c.eol();
      if (Number.isNaN(s) || Number.isNaN(e) || e > 0xffffffff) {
        badLines++;
        continue;
      }
      rows++;
      countryV4.add(s, e, countryCode(c.b, cs, ce));
    }
  }

  const countryV6 = new V6Builder(1 << 17);
  {
    const c = new Cursor(readFileSync(files.countryV6));
    while (!c.done) {
      const okA = c.v6(a);
      const okZ = c.v6(z);
      const [cs, ce] = c.field();
      c.eol();
      if (!okA || !okZ) {
        badLines++;
        continue;
      }
      rows++;
      countryV6.add(a, z, countryCode(c.b, cs, ce));
    }
  }

  const db: AsnDb = {
    asnV4: asnV4.build(),
    asnV6: asnV6.build(),
    countryV4: countryV4.build(),
    countryV6: countryV6.build(),
    names,
    stats: {
      loadMs: 0,
      rows,
      overlaps: asnV4.overlaps + asnV6.overlaps + countryV4.overlaps + countryV6.overlaps,
      badLines,
    },
  };
  db.stats.loadMs = performance.now() - t0;
  return db;
}

/*
 * Compiled-table cache: the parsed typed arrays written once to a file, so later processes
 * (every server start, every test that starts one) read ~12 MB instead of parsing ~40 MB of CSV.
 * Keyed by the CSV files' paths, sizes and mtimes and a format version; anything that does not
 * match, or fails to read, falls back to parsing. Writes go to a temp name then rename, so
 * concurrent processes never see half a file.
 */
const CACHE_MAGIC = 0x44534e41; // "DSNA"
const CACHE_VERSION = 3;
/** Length of a V4Table index (range-table.ts): checked so a cache from another layout is refused. */
const db4IndexLength = new V4Builder(1).build().index.length;

export function dataSignature(files = dataFiles()): string {
  const parts = [`v${CACHE_VERSION}`];
  for (const f of Object.values(files)) {
    const st = statSync(f);
    parts.push(`${f}:${st.size}:${Math.floor(st.mtimeMs)}`);
  }
  return parts.join('|');
}

function tablesOf(db: AsnDb): Uint32Array[] {
  return [db.asnV4, db.asnV6, db.countryV4, db.countryV6].flatMap((t) => [t.starts, t.values, t.index]);
}

export function writeAsnCache(db: AsnDb, file: string, signature: string): void {
  // Padded to 4 bytes so the arrays that follow can be viewed in place when read back.
  const rawSig = Buffer.from(signature, 'utf8');
  const sig = Buffer.concat([rawSig, Buffer.alloc((4 - (rawSig.length % 4)) % 4, 0x20)]);
  const names = Buffer.from(JSON.stringify([...db.names]), 'utf8');
  const arrays = tablesOf(db);
  const head = Buffer.alloc(12 + 4 * arrays.length + 4);
  head.writeUInt32LE(CACHE_MAGIC, 0);
  head.writeUInt32LE(CACHE_VERSION, 4);
  head.writeUInt32LE(sig.length, 8);
  arrays.forEach((a, i) => head.writeUInt32LE(a.length, 12 + 4 * i));
  head.writeUInt32LE(names.length, 12 + 4 * arrays.length);
  const body = arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat([head, sig, ...body, names]));
  renameSync(tmp, file);
}

/** The cached tables, or undefined when the file is missing, stale or malformed. */
export function readAsnCache(file: string, signature: string): AsnDb | undefined {
  const t0 = performance.now();
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return undefined;
  }
  const n = 12;
  if (b.length < 16 || b.readUInt32LE(0) !== CACHE_MAGIC || b.readUInt32LE(4) !== CACHE_VERSION) return undefined;
  const sigLen = b.readUInt32LE(8);
  const lens: number[] = [];
  let off = 12;
  if (b.length < off + 4 * n + 4) return undefined;
  for (let i = 0; i < n; i++, off += 4) lens.push(b.readUInt32LE(off));
  const namesLen = b.readUInt32LE(off);
  off += 4;
  const total = off + sigLen + lens.reduce((s, l) => s + 4 * l, 0) + namesLen;
  if (b.length !== total || b.toString('utf8', off, off + sigLen).trimEnd() !== signature) return undefined;
  off += sigLen;
  const arrays: Uint32Array[] = [];
  for (const l of lens) {
    if ((b.byteOffset + off) % 4 === 0) arrays.push(new Uint32Array(b.buffer, b.byteOffset + off, l));
    else {
      // Not 4-byte aligned in memory (a pooled buffer): copy.
      const a = new Uint32Array(l);
      Buffer.from(a.buffer).set(b.subarray(off, off + 4 * l));
      arrays.push(a);
    }
    off += 4 * l;
  }
  let names: Map<number, string>;
  try {
    names = new Map(JSON.parse(b.toString('utf8', off, off + namesLen)) as [number, string][]);
  } catch {
    return undefined;
  }
  const table = (k: number) => ({ starts: arrays[k], values: arrays[k + 1], index: arrays[k + 2] });
  if (
    arrays[2].length !== db4IndexLength ||
    arrays[5].length !== 65537 ||
    arrays[8].length !== db4IndexLength ||
    arrays[11].length !== 65537
  ) {
    return undefined;
  }
  return {
    asnV4: table(0),
    asnV6: table(3),
    countryV4: table(6),
    countryV6: table(9),
    names,
    stats: { loadMs: performance.now() - t0, rows: 0, overlaps: 0, badLines: 0, cached: true },
  };
}

export function defaultCacheFile(signature: string): string {
  const dir = process.env.DOWNSTREAM_CACHE_DIR ?? tmpdir();
  return join(dir, `downstream-asn-${createHash('sha256').update(signature).digest('hex').slice(0, 16)}.bin`);
}

let shared: AsnDb | undefined;

/**
 * The process-wide data set, loaded on first use and kept: it never changes at runtime. From
 * the compiled cache when there is a valid one (~20 ms), else parsed from the CSVs (~0.3–0.6 s)
 * and cached for next time. DOWNSTREAM_ASN_CACHE=off disables the cache.
 */
export function asnDb(): AsnDb {
  if (shared) return shared;
  if (process.env.DOWNSTREAM_ASN_CACHE === 'off') return (shared = loadAsnDb());
  let signature: string | undefined;
  let file: string | undefined;
  try {
    signature = dataSignature();
    file = defaultCacheFile(signature);
    shared = readAsnCache(file, signature);
  } catch {
    shared = undefined;
  }
  if (shared) return shared;
  shared = loadAsnDb();
  if (signature && file) {
    try {
      writeAsnCache(shared, file, signature);
    } catch {
      // A read-only or full temp dir only costs the next process a parse.
    }
  }
  return shared;
}
