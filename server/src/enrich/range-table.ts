/**
 * Sorted, non-overlapping address ranges → a uint32 value, as flat typed arrays.
 *
 * Hand-rolled rather than a library (e.g. an mmdb reader) because lookups run once or twice per
 * flow record on the hot path: they must not allocate, and a plain binary search narrowed by a
 * 16-bit first-level index stays within a few cache lines. Each entry holds the start of a range;
 * the range lasts until the next entry's start. Gaps are explicit entries with value 0, so "no
 * value" is 0 everywhere (AS0 is reserved, customer/link tables store index + 1).
 */

/** IPv4: one uint32 start per entry. */
export interface V4Table {
  starts: Uint32Array;
  values: Uint32Array;
  /** index[h] = first entry whose start ≥ h << 14; index[2^18] = entries. */
  index: Uint32Array;
}

/**
 * First-level index width for IPv4: 2^18 buckets (1 MiB) leave ~2 entries per bucket for the
 * full data set, so most lookups finish in one or two probes (measured ~25% faster than 2^16).
 */
const V4_INDEX_BITS = 18;
const V4_SHIFT = 32 - V4_INDEX_BITS;

/** IPv6: four big-endian uint32 words per start. */
export interface V6Table {
  starts: Uint32Array;
  values: Uint32Array;
  /** index[h] = first entry whose first 16 bits ≥ h; index[65536] = entries. */
  index: Uint32Array;
}

export function lookupV4(t: V4Table, x: number): number {
  const h = x >>> V4_SHIFT;
  let lo = t.index[h];
  let hi = t.index[h + 1];
  const starts = t.starts;
  // First entry in [lo, hi) starting after x; the one before it covers x. Entries before `lo`
  // all start below this bucket, so lo - 1 is the right answer when none here starts ≤ x.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo === 0 ? 0 : t.values[lo - 1];
}

export function lookupV6(t: V6Table, w0: number, w1: number, w2: number, w3: number): number {
  const h = w0 >>> 16;
  let lo = t.index[h];
  let hi = t.index[h + 1];
  const s = t.starts;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const o = mid * 4;
    // starts[mid] > x, word by word (all unsigned).
    let gt: boolean;
    if (s[o] !== w0) gt = s[o] > w0;
    else if (s[o + 1] !== w1) gt = s[o + 1] > w1;
    else if (s[o + 2] !== w2) gt = s[o + 2] > w2;
    else gt = s[o + 3] > w3;
    if (gt) hi = mid;
    else lo = mid + 1;
  }
  return lo === 0 ? 0 : t.values[lo - 1];
}

/** Look up record `i` of a 4-words-per-address column (FlowBatch layout; IPv4-mapped for v4). */
export function lookupWords(v4: V4Table, v6: V6Table, words: Uint32Array, i: number): number {
  const o = i * 4;
  const w0 = words[o];
  const w1 = words[o + 1];
  const w2 = words[o + 2];
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return lookupV4(v4, words[o + 3]);
  return lookupV6(v6, w0, w1, w2, words[o + 3]);
}

/**
 * Builds a V4Table from ranges added in ascending start order. Overlaps (a later range starting
 * inside an earlier one) are clipped so the earlier range wins; they count in `overlaps`.
 */
export class V4Builder {
  private starts: Uint32Array;
  private values: Uint32Array;
  private n = 0;
  /** One past the end of the last range added (a double: may be 2^32). */
  private next = 0;
  overlaps = 0;

  constructor(capacity = 1024) {
    this.starts = new Uint32Array(capacity);
    this.values = new Uint32Array(capacity);
  }

  private push(start: number, value: number): void {
    if (this.n === this.values.length) {
      this.starts = grown(this.starts, this.n * 2);
      this.values = grown(this.values, this.n * 2);
    }
    // Merge with the previous entry when contiguous and equal: keeps the table small.
    if (this.n > 0 && this.values[this.n - 1] === value) return;
    this.starts[this.n] = start;
    this.values[this.n] = value;
    this.n++;
  }

  /** Inclusive range [start, end] (uint32 as numbers). */
  add(start: number, end: number, value: number): void {
    if (end < start) return;
    if (start < this.next) {
      this.overlaps++;
      if (end < this.next) return;
      start = this.next;
    }
    if (start > this.next) this.push(this.next, 0);
    this.push(start, value);
    this.next = end + 1;
  }

  build(): V4Table {
    if (this.next <= 0xffffffff) this.push(this.next, 0);
    const n = this.n;
    const starts = this.starts.slice(0, n);
    const values = this.values.slice(0, n);
    const index = bucketIndex(n, 2 ** V4_INDEX_BITS, (i) => starts[i] >>> V4_SHIFT);
    return { starts, values, index };
  }
}

/** Same as V4Builder for 128-bit addresses given as 4 words. */
export class V6Builder {
  private starts: Uint32Array;
  private values: Uint32Array;
  private n = 0;
  private nextW = new Uint32Array(4);
  /** True once a range ended at the very last address (nothing can follow). */
  private full = false;
  overlaps = 0;

  constructor(capacity = 1024) {
    this.starts = new Uint32Array(capacity * 4);
    this.values = new Uint32Array(capacity);
  }

  private push(w: ArrayLike<number>, value: number): void {
    if (this.n === this.values.length) {
      this.starts = grown(this.starts, this.n * 8);
      this.values = grown(this.values, this.n * 2);
    }
    if (this.n > 0 && this.values[this.n - 1] === value) return;
    const o = this.n * 4;
    this.starts[o] = w[0];
    this.starts[o + 1] = w[1];
    this.starts[o + 2] = w[2];
    this.starts[o + 3] = w[3];
    this.values[this.n] = value;
    this.n++;
  }

  /** Inclusive range [start, end]; both 4-word arrays (read, not kept). */
  add(start: ArrayLike<number>, end: ArrayLike<number>, value: number): void {
    if (cmp4(end, start) < 0 || this.full) return;
    const next = this.nextW;
    let s: ArrayLike<number> = start;
    if (cmp4(start, next) < 0) {
      this.overlaps++;
      if (cmp4(end, next) < 0) return;
      s = Uint32Array.from(next);
    }
    if (cmp4(s, next) > 0) this.push(next, 0);
    this.push(s, value);
    // next = end + 1 (with carry); all-ones end means the table is full.
    next[0] = end[0];
    next[1] = end[1];
    next[2] = end[2];
    next[3] = end[3];
    for (let k = 3; k >= 0; k--) {
      if (next[k] === 0xffffffff) {
        next[k] = 0;
        if (k === 0) this.full = true;
      } else {
        next[k]++;
        break;
      }
    }
  }

  build(): V6Table {
    if (!this.full) this.push(this.nextW, 0);
    const n = this.n;
    const starts = this.starts.slice(0, n * 4);
    const values = this.values.slice(0, n);
    const index = bucketIndex(n, 65536, (i) => starts[i * 4] >>> 16);
    return { starts, values, index };
  }
}

/** A copy of `a` in a new array of `size` elements. */
function grown(a: Uint32Array, size: number): Uint32Array {
  const b = new Uint32Array(size);
  b.set(a);
  return b;
}

/** The first-level index: index[h] = first of the `n` sorted entries whose bucket ≥ h; index[buckets] = n. */
function bucketIndex(n: number, buckets: number, bucketOf: (i: number) => number): Uint32Array {
  const index = new Uint32Array(buckets + 1);
  let i = 0;
  for (let h = 0; h < buckets; h++) {
    while (i < n && bucketOf(i) < h) i++;
    index[h] = i;
  }
  index[buckets] = n;
  return index;
}

function cmp4(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let k = 0; k < 4; k++) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return 0;
}
