/**
 * HyperLogLog registers for many keys in one flat Uint8Array (a "pool"), so a detector's
 * distinct-count state is one allocation sized at start-up, whatever the number of addresses.
 *
 * Each sketch is `m = 2^p` one-byte registers at `base = slot * m`. The input is an already
 * computed 32-bit hash (see hash.ts): the top p bits pick the register, the rank of the rest
 * is stored. Standard error is 1.04 / sqrt(m): 3.3 % at p = 10, 6.5 % at p = 8. Hashes are
 * 30-bit (hash.ts), so the rank comes from the 30 - p bits below the index.
 */
export class HllPool {
  readonly m: number;
  readonly p: number;
  readonly registers: Uint8Array;
  private readonly alphaMM: number;

  constructor(p: number, slots: number) {
    if (p < 4 || p > 16) throw new RangeError(`HyperLogLog precision must be 4..16, got ${p}`);
    this.p = p;
    this.m = 1 << p;
    this.registers = new Uint8Array(this.m * slots);
    const m = this.m;
    const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
    this.alphaMM = alpha * m * m;
  }

  get bytes(): number {
    return this.registers.byteLength;
  }

  add(slot: number, hash: number): void {
    const p = this.p;
    const idx = hash >>> (30 - p);
    // Rank of the remaining 30 - p bits: leading zeros + 1, capped when they are all zero.
    const w = (hash << (p + 2)) | (1 << (p + 1));
    const rank = Math.clz32(w) + 1;
    const at = slot * this.m + idx;
    if (rank > this.registers[at]) this.registers[at] = rank;
  }

  clear(slot: number): void {
    this.registers.fill(0, slot * this.m, (slot + 1) * this.m);
  }

  /** Estimated distinct count of the union of the sketches at `slots` (same pool). */
  estimate(...slots: number[]): number {
    const m = this.m;
    const r = this.registers;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      let v = 0;
      for (const s of slots) {
        const x = r[s * m + i];
        if (x > v) v = x;
      }
      sum += 1 / (1 << v);
      if (v === 0) zeros++;
    }
    let e = this.alphaMM / sum;
    // Small-range correction (linear counting) where it is the better estimator.
    if (e <= 2.5 * m && zeros > 0) e = m * Math.log(m / zeros);
    return Math.round(e);
  }
}
