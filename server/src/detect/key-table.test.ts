import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashWords } from './hash.js';
import { KeyTable } from './key-table.js';

const key = (a: number) => new Uint32Array([0, 0, 0xffff, a >>> 0]);

describe('KeyTable', () => {
  it('behaves like a Map under any sequence of inserts and removes (while not full)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 200 })), { maxLength: 400 }), (ops) => {
        const t = new KeyTable(256, () => 0);
        const model = new Map<number, number>();
        for (const [insert, a] of ops) {
          const w = key(a);
          const h = hashWords(w, 0);
          if (insert) {
            const s = t.upsert(w, 0, h);
            if (model.has(a)) expect(s).toBe(model.get(a));
            else model.set(a, s);
          } else {
            const s = t.find(w, 0, h);
            expect(s).toBe(model.get(a) ?? -1);
            if (s >= 0) {
              t.remove(s);
              model.delete(a);
            }
          }
        }
        expect(t.size).toBe(model.size);
        for (const [a, s] of model) expect(t.find(key(a), 0, hashWords(key(a), 0))).toBe(s);
      }),
    );
  });

  it('stays at capacity and evicts the lowest-scored keys when full', () => {
    const weight = new Float64Array(64);
    const t = new KeyTable(64, (s) => weight[s]);
    // 32 heavy keys stay while 10,000 light ones churn through the rest.
    const heavy: number[] = [];
    for (let a = 0; a < 32; a++) {
      const s = t.upsert(key(1_000_000 + a), 0, hashWords(key(1_000_000 + a), 0));
      weight[s] = 1000;
      heavy.push(a);
    }
    for (let a = 0; a < 10_000; a++) {
      const s = t.upsert(key(a), 0, hashWords(key(a), 0));
      weight[s] = 1;
    }
    expect(t.size).toBe(64);
    expect(t.evictions).toBeGreaterThan(9000);
    const kept = heavy.filter((a) => t.find(key(1_000_000 + a), 0, hashWords(key(1_000_000 + a), 0)) >= 0).length;
    expect(kept).toBe(32);
  });
});
