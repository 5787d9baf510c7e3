import { describe, expect, it } from 'vitest';
import { HalfWindowClock } from './half-window.js';

describe('HalfWindowClock', () => {
  it('ends a half-window every windowSeconds/2 ticks and alternates the half written', () => {
    const c = new HalfWindowClock(10);
    const rotations: { tick: number; half: number }[] = [];
    for (let i = 0; i < 12; i++) if (c.advance()) rotations.push({ tick: c.tickCount, half: c.half });
    expect(rotations).toEqual([
      { tick: 5, half: 1 },
      { tick: 10, half: 0 },
    ]);
    expect(c.tickCount).toBe(12);
  });

  it('rotates every tick for a window shorter than two seconds', () => {
    const c = new HalfWindowClock(1);
    expect([c.advance(), c.half, c.advance(), c.half]).toEqual([true, 1, true, 0]);
  });
});
