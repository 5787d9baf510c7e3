/**
 * A small fixed-capacity map from non-negative integers (ASN, port, link index + 1) to a
 * running total, in typed arrays: updating it allocates nothing, unlike a Map whose double
 * values are boxed on every set. When full, new keys are dropped (their traffic is still in
 * the detector's totals); the tallies it feeds are shares of the heaviest keys anyway.
 */
export class IntCounter {
  private readonly keys: Int32Array;
  private readonly vals: Float64Array;
  private readonly mask: number;
  private count = 0;

  constructor(readonly capacity: number) {
    let size = 1;
    while (size < capacity * 2) size <<= 1;
    this.keys = new Int32Array(size).fill(-1);
    this.vals = new Float64Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.keys.byteLength + this.vals.byteLength;
  }

  add(key: number, v: number): void {
    const mask = this.mask;
    let b = (Math.imul(key, 0x9e3779b1) >>> 0) & mask;
    for (;;) {
      const k = this.keys[b];
      if (k === key) {
        this.vals[b] += v;
        return;
      }
      if (k === -1) {
        if (this.count >= this.capacity) return;
        this.keys[b] = key;
        this.vals[b] = v;
        this.count++;
        return;
      }
      b = (b + 1) & mask;
    }
  }

  clear(): void {
    if (this.count === 0) return;
    this.keys.fill(-1);
    this.vals.fill(0);
    this.count = 0;
  }

  /** Entries as a Map (tick path only). */
  toMap(): Map<number, number> {
    const m = new Map<number, number>();
    for (let b = 0; b < this.keys.length; b++) if (this.keys[b] !== -1) m.set(this.keys[b], this.vals[b]);
    return m;
  }
}
