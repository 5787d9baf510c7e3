/**
 * Whether an attack can be told apart at all at 1-in-N packet sampling, from what sampling
 * leaves of it — so the detection matrix and the tests can say "not detectable at this
 * sampling" (with the numbers) instead of counting a miss against a detector that had nothing
 * to see. A floor, not a promise: an attack above it that no incident names is a miss.
 */

/** Sampled attack packets in the detection window below which no detector can tell a shape from noise (as amplification.minSamples). */
export const MIN_ATTACK_SAMPLES = 20;
/** Signature units expected to be seen whole, below which the signature is not observable (the scanner's floor of 10 observed). */
export const MIN_SIGNATURE_UNITS = 10;
/** The window the inbound and participation detectors judge in (seconds, their default windowSeconds). */
export const DETECT_WINDOW_SECONDS = 10;
/** The outbound per-endpoint detectors' window (spam-bot, scanner: outbound.windowSeconds). */
export const OUTBOUND_WINDOW_SECONDS = 60;

/** The window a detector of `kind` judges in, by default. */
export function detectWindowSeconds(kind: string | null): number {
  return kind === 'scanner' || kind === 'spam-bot' ? OUTBOUND_WINDOW_SECONDS : DETECT_WINDOW_SECONDS;
}

/**
 * An attack's tell where it is not every packet: units of `packets` packets that must all be
 * sampled to be seen (a half-open probe is a SYN and its reset in one flow record); under 1:N
 * packet sampling a unit is seen whole with probability N^-packets.
 */
export interface AttackSignature {
  what: string;
  packets: number;
}

export interface Detectability {
  detectable: boolean;
  /** The numbers behind the verdict, in words. */
  why: string;
}

const fmt = (x: number): string => (x >= 10 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(2));

/**
 * `packets`: the attack's packets on the wire within the detection window; `signature` with
 * `units` of it on the wire in that window, when the attack has one.
 */
export function detectability(o: {
  packets: number;
  windowSeconds: number;
  rate: number;
  signature?: AttackSignature & { units: number };
}): Detectability {
  const rate = Math.max(1, o.rate);
  const samples = o.packets / rate;
  if (samples < MIN_ATTACK_SAMPLES)
    return {
      detectable: false,
      why: `${fmt(samples)} sampled attack packets expected in ${o.windowSeconds} s at 1:${rate} (fewer than ${MIN_ATTACK_SAMPLES})`,
    };
  if (o.signature) {
    const seen = o.signature.units / Math.pow(rate, o.signature.packets);
    if (seen < MIN_SIGNATURE_UNITS)
      return {
        detectable: false,
        why: `${fmt(seen)} of ${fmt(o.signature.units)} ${o.signature.what} expected to be seen whole at 1:${rate} (fewer than ${MIN_SIGNATURE_UNITS})`,
      };
  }
  return {
    detectable: true,
    why: `${fmt(samples)} sampled attack packets expected in ${o.windowSeconds} s at 1:${rate}`,
  };
}
