import { describe, expect, it } from 'vitest';
import { quantile, toCsv } from './csv.js';

describe('toCsv', () => {
  it('quotes only what needs quoting and doubles inner quotes', () => {
    expect(
      toCsv([
        ['name', 'bytes'],
        ['Transit A', 12],
        ['Pool "B", north', null],
      ]),
    ).toBe('name,bytes\r\nTransit A,12\r\n"Pool ""B"", north",');
  });
  it('keeps newlines inside a quoted field', () => {
    expect(toCsv([['a\nb']])).toBe('"a\nb"');
  });
});

describe('quantile', () => {
  it('nearest rank', () => {
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(quantile([], 0.5)).toBeUndefined();
  });
});
