/** What a pooled watch needs: the key slot it serves, and a reset for its next key. */
export interface PooledWatch {
  slot: number;
  reset(): void;
}

/**
 * The per-key state a detector keeps only for the few keys near or over a threshold (source
 * lists, port and link tallies): at most `max` of them, built once and reused, so memory is
 * bounded by the config and a key that fires does not allocate on the detection path.
 */
export class WatchPool<W extends PooledWatch> {
  /** Per key slot: the index of its watch, -1 when it has none. Hot paths read it directly. */
  readonly of: Int32Array;
  private readonly watches: W[] = [];
  private readonly free: number[] = [];

  constructor(
    slots: number,
    readonly max: number,
    private readonly make: () => W,
  ) {
    this.of = new Int32Array(slots).fill(-1);
  }

  /** Build every watch now rather than on first use (a shard warming up before traffic). */
  reserve(): void {
    while (this.watches.length < this.max) {
      this.free.push(this.watches.length);
      this.watches.push(this.make());
    }
  }

  /** The watch of `slot`, taken from the pool if it has none; undefined when every watch is in use. */
  take(slot: number): W | undefined {
    if (this.of[slot] >= 0) return this.watches[this.of[slot]];
    let wi = this.free.pop();
    if (wi === undefined) {
      if (this.watches.length >= this.max) return undefined;
      wi = this.watches.length;
      this.watches.push(this.make());
    }
    const w = this.watches[wi];
    w.reset();
    w.slot = slot;
    this.of[slot] = wi;
    return w;
  }

  /** Gives the watch of `slot` (if any) back to the pool. */
  release(slot: number): void {
    const wi = this.of[slot];
    if (wi < 0) return;
    this.watches[wi].reset();
    this.of[slot] = -1;
    this.free.push(wi);
  }

  get(slot: number): W | undefined {
    const wi = this.of[slot];
    return wi >= 0 ? this.watches[wi] : undefined;
  }

  /** The watch at index `wi` of `of` (hot paths that already read `of`). */
  at(wi: number): W {
    return this.watches[wi];
  }

  /** Every watch built so far, in use or not (memory accounting). */
  all(): readonly W[] {
    return this.watches;
  }

  get inUse(): number {
    return this.watches.length - this.free.length;
  }
}
