import { describe, expect, it } from 'vitest';
import { WatchPool } from './watch-pool.js';

class Tally {
  slot = -1;
  n = 0;
  resets = 0;
  reset(): void {
    this.slot = -1;
    this.n = 0;
    this.resets++;
  }
}

describe('WatchPool', () => {
  it('gives a slot its watch once, reuses released watches, and refuses past max', () => {
    let built = 0;
    const pool = new WatchPool(100, 2, () => (built++, new Tally()));
    const a = pool.take(7)!;
    a.n = 5;
    expect(pool.take(7)).toBe(a); // the same watch, not reset
    expect(a.n).toBe(5);
    expect(a.slot).toBe(7);
    const b = pool.take(9)!;
    expect(pool.take(11)).toBeUndefined();
    expect(pool.inUse).toBe(2);
    pool.release(7);
    expect(pool.of[7]).toBe(-1);
    expect(pool.get(7)).toBeUndefined();
    const c = pool.take(11)!;
    expect(c).toBe(a); // reused, and reset for its new key
    expect([c.slot, c.n]).toEqual([11, 0]);
    expect(pool.at(pool.of[9])).toBe(b);
    expect(built).toBe(2);
  });

  it('reserve builds every watch up front, and taking then allocates nothing', () => {
    let built = 0;
    const pool = new WatchPool(10, 3, () => (built++, new Tally()));
    pool.reserve();
    expect([built, pool.all().length, pool.inUse]).toEqual([3, 3, 0]);
    for (const s of [1, 2, 3]) expect(pool.take(s)).toBeDefined();
    expect(built).toBe(3);
    expect(pool.take(4)).toBeUndefined();
  });
});
