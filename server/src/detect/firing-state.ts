/** A firing key lets go of its kind after this many ticks below the sustain level (half the thresholds). */
export const HOLD_TICKS = 3;

/**
 * What every detector table remembers of a key between ticks: what it fires (a kind, or a
 * set of kind bits) and how long it has been below its sustain level. A detector fires a key
 * on higher thresholds than it sustains it on (half), and a key that drops below even those
 * is held for a few silent ticks before it lets go, so a brief dip neither splits an attack
 * into two incidents nor relabels it. The onset (when the firing began) is each detector's
 * own: it is latched when `fire` says the key started.
 */
export class FiringState {
  /** Per slot: what the key fires, 0 when it does not. */
  readonly kind: Uint8Array;
  /** Per slot: consecutive ticks below the sustain level while firing. */
  private readonly quiet: Uint8Array;

  constructor(slots: number) {
    this.kind = new Uint8Array(slots);
    this.quiet = new Uint8Array(slots);
  }

  /** Key `s` fires `kind` (not 0) this tick. True when it was not firing before: latch its onset now. */
  fire(s: number, kind: number): boolean {
    const started = this.kind[s] === 0;
    this.kind[s] = kind;
    this.quiet[s] = 0;
    return started;
  }

  /**
   * Key `s` did not fire this tick: true while it is firing and within its hold, when it stays
   * silent but keeps its kind (and so its sustain thresholds).
   */
  holding(s: number): boolean {
    return this.kind[s] !== 0 && ++this.quiet[s] < HOLD_TICKS;
  }

  /** Key `s` is not (or no longer) firing. */
  calm(s: number): void {
    this.kind[s] = 0;
    this.quiet[s] = 0;
  }

  get bytes(): number {
    return this.kind.byteLength + this.quiet.byteLength;
  }
}
