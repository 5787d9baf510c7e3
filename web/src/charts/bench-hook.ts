/**
 * The web benchmark (e2e/bench/web.ts) installs `window.__dsBench` before the app loads; when
 * it is there, deck.gl views register their Deck and frame times with it. Absent otherwise:
 * production pages pay one property lookup per frame.
 */
export interface BenchHook {
  /** The most recently mounted Deck instance (deck.gl's class; typed loosely on purpose). */
  deck?: unknown;
  /** performance.now() of each frame that drew at least one source. */
  frames: number[];
}

export function benchHook(): BenchHook | undefined {
  return (window as unknown as { __dsBench?: BenchHook }).__dsBench;
}
