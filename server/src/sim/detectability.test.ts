import { describe, expect, it } from 'vitest';
import { detectability, detectWindowSeconds } from './detectability.js';

describe('detectability at 1:N packet sampling', () => {
  it('a low-volume reflection (400 pps) is not detectable at 1:1000: 4 samples in 10 s', () => {
    const d = detectability({ packets: 4000, windowSeconds: 10, rate: 1000 });
    expect(d).toEqual({
      detectable: false,
      why: '4.0 sampled attack packets expected in 10 s at 1:1000 (fewer than 20)',
    });
    expect(detectability({ packets: 4000, windowSeconds: 10, rate: 100 }).detectable).toBe(true);
  });

  it('a two-packet signature is seen whole with probability N^-2: 47 half-open probes at 1:1 yes, at 1:10 no', () => {
    const signature = { what: 'half-open probes', packets: 2, units: 47 };
    expect(detectability({ packets: 20_000, windowSeconds: 10, rate: 1, signature }).detectable).toBe(true);
    const d = detectability({ packets: 20_000, windowSeconds: 10, rate: 10, signature });
    expect(d).toEqual({
      detectable: false,
      why: '0.47 of 47 half-open probes expected to be seen whole at 1:10 (fewer than 10)',
    });
  });

  it('outbound per-endpoint kinds judge over a minute, the rest over 10 s', () => {
    expect(detectWindowSeconds('scanner')).toBe(60);
    expect(detectWindowSeconds('spam-bot')).toBe(60);
    expect(detectWindowSeconds('amplification')).toBe(10);
  });
});
