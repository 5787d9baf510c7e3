/**
 * The one address codec: text ⇄ 128-bit addresses as four big-endian 32-bit words. IPv4 is kept
 * IPv4-mapped (::ffff:a.b.c.d → words 0, 0, 0xffff, a.b.c.d) so every consumer handles one
 * layout — the flow batches' `src`/`dst` columns (server/src/ingest/flow-batch.ts) and the
 * graph frames' `ip` column (graph-frame.ts) alike. Hand-written rather than ipaddr.js: the
 * decoders call it per record, into typed arrays, without allocating.
 */

/** Whether record `i` of a word column (four words a record) is IPv4-mapped. */
export function isV4(words: Uint32Array, i: number): boolean {
  const o = i * 4;
  return words[o] === 0 && words[o + 1] === 0 && words[o + 2] === 0xffff;
}

export function setV4(words: Uint32Array, i: number, addr: number): void {
  const o = i * 4;
  words[o] = 0;
  words[o + 1] = 0;
  words[o + 2] = 0xffff;
  words[o + 3] = addr >>> 0;
}

/** Copy 16 bytes of an IPv6 address from `buf` at `off` into record `i`. */
export function setV6(words: Uint32Array, i: number, buf: DataView, off: number): void {
  const o = i * 4;
  words[o] = buf.getUint32(off);
  words[o + 1] = buf.getUint32(off + 4);
  words[o + 2] = buf.getUint32(off + 8);
  words[o + 3] = buf.getUint32(off + 12);
}

export function v4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function v4FromString(s: string): number {
  const p = s.split('.');
  if (p.length !== 4) throw new Error(`not an IPv4 address: ${s}`);
  let r = 0;
  for (const x of p) {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0 || n > 255 || x === '') throw new Error(`not an IPv4 address: ${s}`);
    r = r * 256 + n;
  }
  return r >>> 0;
}

export function v6GroupsToString(groups: number[]): string {
  // RFC 5952: compress the longest run (≥ 2) of zero groups, first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let k = 0; k < 8;) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let j = k;
    while (j < 8 && groups[j] === 0) j++;
    if (j - k > bestLen && j - k >= 2) {
      bestStart = k;
      bestLen = j - k;
    }
    k = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Text form of the address at words[o..o+3]: dotted quad for IPv4-mapped, RFC 5952 for IPv6. */
export function wordsToIp(w: Uint32Array, o = 0): string {
  if (w[o] === 0 && w[o + 1] === 0 && w[o + 2] === 0xffff) return v4ToString(w[o + 3]);
  const groups: number[] = [];
  for (let k = 0; k < 4; k++) groups.push(w[o + k] >>> 16, w[o + k] & 0xffff);
  return v6GroupsToString(groups);
}

/** Text form of record `i`'s address (four words a record). */
export function addrToString(words: Uint32Array, i: number): string {
  return wordsToIp(words, i * 4);
}

/** Parse an IPv4 or IPv6 address into 4 words (IPv4-mapped for v4). Throws on bad input. */
export function addrFromString<T extends Uint32Array = Uint32Array<ArrayBuffer>>(
  s: string,
  out: T = new Uint32Array(4) as T,
): T {
  if (!s.includes(':')) {
    setV4(out, 0, v4FromString(s));
    return out;
  }
  let head = s;
  let tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    head = s.slice(0, dbl);
    tail = s.slice(dbl + 2);
    if (tail.includes('::')) throw new Error(`not an IPv6 address: ${s}`);
  }
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k];
      if (k === pieces.length - 1 && p.includes('.')) {
        const v4 = v4FromString(p);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) throw new Error(`not an IPv6 address: ${s}`);
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const h = parse(head);
  const t = parse(tail);
  const fill = 8 - h.length - t.length;
  if ((dbl < 0 && fill !== 0) || fill < 0 || (dbl >= 0 && fill < 1)) throw new Error(`not an IPv6 address: ${s}`);
  const g = [...h, ...new Array<number>(fill).fill(0), ...t];
  for (let k = 0; k < 4; k++) out[k] = ((g[2 * k] << 16) | g[2 * k + 1]) >>> 0;
  return out;
}

/** Writes the address into out[o..o+3]; unparsable text leaves the :: (all zero) address. */
export function ipToWords(s: string, out: Uint32Array, o = 0): void {
  try {
    addrFromString(s, out.subarray(o, o + 4));
  } catch {
    out.fill(0, o, o + 4);
  }
}
