import type { SimFlow } from '../sim-flow.js';

/**
 * How many of `n` packets a 1-in-`rate` random sampler picks: Binomial(n, 1/rate). Exact
 * (geometric skips, cost ∝ the result) while the expected count is small, normal approximation
 * above that, so a 10-million-packet flood costs the same as a 10-packet flow.
 */
export function sampleCount(n: number, rate: number, random: () => number = Math.random): number {
  if (rate <= 1) return n;
  if (n <= 0) return 0;
  const p = 1 / rate;
  const mean = n * p;
  if (mean > 500) {
    const sd = Math.sqrt(mean * (1 - p));
    // Box–Muller
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.min(n, Math.round(mean + sd * z)));
  }
  const logq = Math.log(1 - p);
  let k = 0;
  let pos = 0;
  for (;;) {
    pos += Math.floor(Math.log(1 - random()) / logq) + 1;
    if (pos > n) return k;
    k++;
  }
}

/**
 * What a router with 1-in-`rate` packet sampling would report for these flows: sampled packet
 * counts (not pre-scaled), bytes in proportion, flows that lost every packet dropped.
 */
export function sampleFlows(flows: SimFlow[], rate: number, random: () => number = Math.random): SimFlow[] {
  if (rate <= 1) return flows;
  const out: SimFlow[] = [];
  for (const f of flows) {
    const k = sampleCount(f.packets, rate, random);
    if (k === 0) continue;
    out.push({ ...f, packets: k, bytes: Math.max(k, Math.round((f.bytes * k) / f.packets)) });
  }
  return out;
}
