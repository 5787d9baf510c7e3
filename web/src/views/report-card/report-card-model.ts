import type { DurationStats } from '@downstream/shared';
import { age } from '../../format.js';

/** Median duration as "3.2 h", or "–" with no case; the p90 in the title. */
export function durationText(d: DurationStats): { text: string; title: string } {
  if (d.median === null) return { text: '–', title: 'no case in this period' };
  return {
    text: age(d.median),
    title: `median of ${d.n} case${d.n === 1 ? '' : 's'}${d.p90 !== null ? `; 90 % within ${age(d.p90)}` : ''}`,
  };
}

/** A share 0..1 as a percentage; "–" when not known yet. */
export function rateText(r: number | null): string {
  return r === null ? '–' : `${Math.round(r * 100)} %`;
}

/**
 * SVG path of a small bar chart: one bar per value, scaled to the largest, bottom-aligned in a
 * `w` × `h` box; zero values draw nothing. Empty string when every value is zero.
 */
export function sparkBars(values: readonly number[], w: number, h: number): string {
  const max = Math.max(0, ...values);
  if (max <= 0 || values.length === 0) return '';
  const bw = w / values.length;
  const gap = bw > 3 ? 1 : 0;
  return values
    .map((v, i) => {
      if (v <= 0) return '';
      const bh = Math.max(1, (v / max) * h);
      const x = i * bw;
      return `M${x.toFixed(2)} ${(h - bh).toFixed(2)}h${(bw - gap).toFixed(2)}v${bh.toFixed(2)}h${(-(bw - gap)).toFixed(2)}Z`;
    })
    .join('');
}

/** Report card periods: whole UTC days ending today. */
export const CARD_PERIODS = { '7d': 7, '30d': 30, '90d': 90 } as const;
export type CardPeriod = keyof typeof CARD_PERIODS;

export function cardRange(period: CardPeriod, now = Date.now()): { from: number; to: number } {
  const day = 86_400_000;
  const to = Math.floor(now / day) * day + day;
  return { from: to - CARD_PERIODS[period] * day, to };
}
