/**
 * A fixed-capacity hash table keyed by 128-bit addresses (4 words), mapping each key to a
 * dense slot id 0..capacity-1. Detectors keep their per-key state in typed arrays indexed by
 * that slot, so memory is fixed at construction however many distinct addresses arrive.
 *
 * Open addressing with linear probing; deletion by backward shift (no tombstones). When the
 * table is full, `insert` evicts: it samples a few occupied slots and drops the one the owner
 * scores lowest (approximate least-active eviction, O(1) per insert instead of a heap).
 */
export class KeyTable {
  readonly capacity: number;
  readonly keys: Uint32Array;
  readonly hashes: Int32Array;
  /** 1 where the slot holds a key. */
  readonly used: Uint8Array;
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly freeList: Int32Array;
  private freeTop: number;
  private count = 0;
  /** xorshift state in a typed array: a 32-bit value in a plain field would be boxed on every write. */
  private readonly rng = new Int32Array([0x1234567]);
  evictions = 0;

  /**
   * @param score lower = evicted first; called only when the table is full.
   * @param onEvict lets the owner reset the slot's state before it is reused.
   */
  constructor(
    capacity: number,
    private readonly score: (slot: number) => number,
    private readonly onEvict: (slot: number) => void = () => {},
    private readonly sample = 24,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    let size = 1;
    while (size < capacity * 2) size <<= 1;
    this.index = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    this.keys = new Uint32Array(capacity * 4);
    this.hashes = new Int32Array(capacity);
    this.used = new Uint8Array(capacity);
    this.freeList = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeList[i] = capacity - 1 - i;
    this.freeTop = capacity;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table itself (not the owner's per-slot state). */
  get bytes(): number {
    return (
      this.index.byteLength +
      this.keys.byteLength +
      this.hashes.byteLength +
      this.used.byteLength +
      this.freeList.byteLength
    );
  }

  find(words: Uint32Array, off: number, hash: number): number {
    const index = this.index;
    const keys = this.keys;
    const mask = this.mask;
    for (let b = hash & mask; ; b = (b + 1) & mask) {
      const s = index[b];
      if (s < 0) return -1;
      const k = s * 4;
      if (
        this.hashes[s] === hash &&
        keys[k + 3] === words[off + 3] &&
        keys[k + 2] === words[off + 2] &&
        keys[k] === words[off] &&
        keys[k + 1] === words[off + 1]
      )
        return s;
    }
  }

  /** Slot of the key, inserting it (evicting if full) when absent. `isNew` tells which. */
  upsert(words: Uint32Array, off: number, hash: number): number {
    const s = this.find(words, off, hash);
    if (s >= 0) {
      this.isNew = false;
      return s;
    }
    this.isNew = true;
    return this.insertNew(words, off, hash);
  }

  /** Set by the last `upsert`: whether the key was just added. */
  isNew = false;

  private insertNew(words: Uint32Array, off: number, hash: number): number {
    if (this.freeTop === 0) this.evictOne();
    const s = this.freeList[--this.freeTop];
    const k = s * 4;
    this.keys[k] = words[off];
    this.keys[k + 1] = words[off + 1];
    this.keys[k + 2] = words[off + 2];
    this.keys[k + 3] = words[off + 3];
    this.hashes[s] = hash;
    this.used[s] = 1;
    const mask = this.mask;
    let b = hash & mask;
    while (this.index[b] >= 0) b = (b + 1) & mask;
    this.index[b] = s;
    this.count++;
    return s;
  }

  private nextRandom(): number {
    let x = this.rng[0];
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng[0] = x;
    return (x >>> 2) % this.capacity;
  }

  private evictOne(): void {
    let victim = -1;
    let best = Infinity;
    for (let i = 0; i < this.sample; i++) {
      const s = this.nextRandom();
      if (!this.used[s]) continue;
      const sc = this.score(s);
      if (sc < best) {
        best = sc;
        victim = s;
      }
    }
    if (victim < 0) {
      // Every sampled key is protected (score Infinity) or the samples missed: scan for the
      // lowest score, so protected keys go only when nothing else is left.
      for (let s = 0; s < this.capacity; s++) {
        if (!this.used[s]) continue;
        const sc = this.score(s);
        if (victim < 0 || sc < best) {
          best = sc;
          victim = s;
          if (sc !== Infinity) break;
        }
      }
    }
    this.evictions++;
    this.onEvict(victim);
    this.remove(victim);
  }

  /** Remove the key in `slot` (backward-shift deletion keeps probe chains intact). */
  remove(slot: number): void {
    if (!this.used[slot]) return;
    const mask = this.mask;
    let b = this.hashes[slot] & mask;
    while (this.index[b] !== slot) b = (b + 1) & mask;
    this.index[b] = -1;
    let j = (b + 1) & mask;
    while (this.index[j] >= 0) {
      const s = this.index[j];
      const home = this.hashes[s] & mask;
      // Move s back into the hole if its home position is not cyclically in (b, j].
      const inRange = b <= j ? home > b && home <= j : home > b || home <= j;
      if (!inRange) {
        this.index[b] = s;
        this.index[j] = -1;
        b = j;
      }
      j = (j + 1) & mask;
    }
    this.used[slot] = 0;
    this.freeList[this.freeTop++] = slot;
    this.count--;
  }

  /** Calls `fn` for each occupied slot. Removing the current slot inside `fn` is allowed. */
  forEach(fn: (slot: number) => void): void {
    for (let s = 0; s < this.capacity; s++) if (this.used[s]) fn(s);
  }
}
