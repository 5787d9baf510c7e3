/**
 * MurmurHash3-style hashing of addresses straight from the FlowBatch's word arrays, so the hot
 * loops never build a string or an object per record.
 *
 * Results are 30-bit (0 .. 2^30-1): V8 keeps such integers unboxed (Smi) wherever they go,
 * while a full 32-bit value passed to a non-inlined call or stored in a field is boxed — an
 * allocation per record. 30 bits are plenty for table buckets and for HyperLogLog up to
 * hundreds of millions of distinct keys.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mix(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 2;
}

export const HASH_BITS = 30;

/** Hash of the 4 words at `words[off .. off+3]` (one 128-bit address). */
export function hashWords(words: Uint32Array, off: number, seed = 0x9747b28c): number {
  let h = seed | 0;
  h = mix(h, words[off]);
  h = mix(h, words[off + 1]);
  h = mix(h, words[off + 2]);
  h = mix(h, words[off + 3]);
  return fmix(h ^ 16);
}

/** Hash of one 32-bit integer (ports, combined keys). */
export function hashInt(v: number, seed = 0x9747b28c): number {
  return fmix(mix(seed | 0, v) ^ 4);
}

/** Combine two hashes into a third (e.g. address × port). */
export function hashPair(a: number, b: number): number {
  return fmix(mix(mix(0x2545f491, a), b) ^ 8);
}
