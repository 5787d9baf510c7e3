/**
 * The clock every detector table runs on: one tick a second, and a window kept as two
 * half-windows for what cannot be summed per second (HyperLogLogs, port buckets, request
 * credits, first-seen ticks). When a half-window ends, the older half is cleared and written
 * next, so distinct counts always cover the last one to one and a half windows at the cost of
 * two sketches per key instead of one per second.
 */
export class HalfWindowClock {
  /** Ticks ended so far; what a tick stamps (a key's creation, a first record) is compared with it. */
  tickCount = 0;
  /** The half (0 or 1) written during this tick. */
  half = 0;
  readonly halfTicks: number;

  constructor(windowSeconds: number) {
    this.halfTicks = Math.max(1, Math.floor(windowSeconds / 2));
  }

  /**
   * Ends the current tick. True when that also ended a half-window: `half` then names the
   * older half, which the caller clears before anything is written to it.
   */
  advance(): boolean {
    this.tickCount++;
    if (this.tickCount % this.halfTicks !== 0) return false;
    this.half ^= 1;
    return true;
  }
}
