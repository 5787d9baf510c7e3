import { describe, expect, it } from 'vitest';
import { FiringState, HOLD_TICKS } from './firing-state.js';

describe('FiringState', () => {
  it('says when a key starts firing, holds it HOLD_TICKS - 1 quiet ticks, then lets go', () => {
    const f = new FiringState(4);
    expect(f.holding(2)).toBe(false); // never fired: nothing to hold
    expect(f.fire(2, 1)).toBe(true);
    expect(f.fire(2, 1)).toBe(false); // still the same firing: the onset stays
    const held: boolean[] = [];
    for (let i = 0; i < HOLD_TICKS; i++) held.push(f.holding(2));
    expect(held).toEqual([...Array<boolean>(HOLD_TICKS - 1).fill(true), false]);
    expect(f.kind[2]).toBe(1); // the owner decides to calm it
    f.calm(2);
    expect(f.kind[2]).toBe(0);
    expect(f.fire(2, 3)).toBe(true);
  });

  it('a tick that fires again ends the hold', () => {
    const f = new FiringState(1);
    f.fire(0, 2);
    f.holding(0);
    f.holding(0);
    f.fire(0, 2);
    expect(f.holding(0)).toBe(true); // the quiet count started over
  });
});
