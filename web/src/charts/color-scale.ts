/** A dark-to-hot ramp (inferno-like) for heatmaps on a dark background. */
const STOPS: [number, number, number][] = [
  [20, 28, 40],
  [60, 30, 110],
  [150, 40, 120],
  [225, 80, 70],
  [250, 160, 40],
  [252, 240, 150],
];

/** t in 0..1 → rgb. */
export function ramp(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Log scale: abuse spans orders of magnitude and one flood must not wash out the rest. */
export function logShare(v: number, max: number): number {
  if (v <= 0 || max <= 0) return 0;
  return Math.log1p(v) / Math.log1p(max);
}

/** Log position of v between the smallest and largest positive values: spreads similar magnitudes. */
export function logRange(v: number, min: number, max: number): number {
  if (v <= 0 || max <= 0) return 0;
  if (max <= min) return 1;
  return Math.log(v / min) / Math.log(max / min);
}
