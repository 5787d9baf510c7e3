/**
 * Places a fan-in graph: the target in the middle, sources grouped into clusters (one per
 * source ASN, the long tail merged into "other") on a ring around it, each cluster a
 * sunflower disc of its sources, biggest senders in the middle.
 *
 * Why this shape: at 50,000 sources one line per source costs ~6× the points alone and shows
 * nothing but a solid blur. One bundled edge per cluster, its width by the cluster's traffic,
 * carries the information (which networks send how much) at the cost of a few dozen lines.
 * Output is typed arrays so deck.gl uploads them as-is (no per-point accessor calls).
 */

/** The graph as columns: the shape of shared's DecodedGraph, so live frames need no copy. */
export interface GraphColumns {
  count: number;
  asn: Uint32Array;
  pps: Float32Array;
  /** 4 words per node (shared/graph-frame.ts); optional for synthetic benches. */
  ip?: Uint32Array;
  country?: Uint8Array;
  customer?: Int16Array;
  customers?: string[];
}

export interface FanInCluster {
  /** Source ASN, or -1 for the merged long tail. */
  asn: number;
  count: number;
  pps: number;
  /** Fraction of all pps (of all sources where no pps is known). */
  share: number;
  x: number;
  y: number;
  /** Disc radius, layout units. */
  r: number;
  /** Direction from the target, radians. */
  angle: number;
}

export interface FanInLayout {
  count: number;
  /** x,y per node, in node order of the input (so picking index = input index). */
  positions: Float32Array;
  /** Visual radius per node, layout units. */
  radii: Float32Array;
  /** Cluster index per node. */
  clusterOf: Uint16Array;
  clusters: FanInCluster[];
  /** Half-size of the square that contains everything, labels included. */
  extent: number;
  /** [minX, minY, maxX, maxY] of the discs and the target (labels are placed around it). */
  bounds: [number, number, number, number];
  totalPps: number;
}

/** Ring radius in layout units; everything else scales from it. */
export const RING = 1000;
const GOLDEN = Math.PI * (3 - Math.sqrt(5));

export interface LayoutOptions {
  /** Most clusters drawn separately; the rest of the ASNs merge into "other". */
  maxClusters?: number;
  /** Networks with a smaller share of the traffic merge into "other" (default 0.01). */
  minShare?: number;
}

export function layoutFanIn(g: GraphColumns, opts: LayoutOptions = {}): FanInLayout {
  const n = g.count;
  const maxClusters = Math.max(2, opts.maxClusters ?? 32);

  // 1. Traffic and size per ASN.
  const byAsn = new Map<number, { count: number; pps: number }>();
  let totalPps = 0;
  for (let i = 0; i < n; i++) {
    const a = g.asn[i]!;
    const p = g.pps[i]!;
    totalPps += p;
    const c = byAsn.get(a);
    if (c) {
      c.count++;
      c.pps += p;
    } else byAsn.set(a, { count: 1, pps: p });
  }
  const ranked = [...byAsn.entries()].sort((a, b) => b[1].pps - a[1].pps || b[1].count - a[1].count || a[0] - b[0]);
  // Share by traffic; by source count where no rate is known (stored incidents carry none).
  const byCount = !(totalPps > 0);
  const shareOf = (c: { count: number; pps: number }) => (byCount ? c.count / (n || 1) : c.pps / totalPps);
  // Networks under 1 % of the traffic fold into "other": dozens of 0.0 % discs only crowd the ring.
  const minShare = opts.minShare ?? 0.01;
  let keep = ranked.filter(([, c], k) => k === 0 || shareOf(c) >= minShare);
  if (keep.length > maxClusters || (keep.length < ranked.length && keep.length === maxClusters))
    keep = keep.slice(0, maxClusters - 1);
  const clusterIndex = new Map<number, number>();
  const clusters: FanInCluster[] = keep.map(([asn, c], k) => {
    clusterIndex.set(asn, k);
    return { asn, count: c.count, pps: c.pps, share: shareOf(c), x: 0, y: 0, r: 0, angle: 0 };
  });
  if (ranked.length > keep.length) {
    const other: FanInCluster = { asn: -1, count: 0, pps: 0, share: 0, x: 0, y: 0, r: 0, angle: 0 };
    for (const [, c] of ranked.slice(keep.length)) {
      other.count += c.count;
      other.pps += c.pps;
    }
    other.share = shareOf(other);
    clusters.push(other);
  }

  // 2. Clusters on the ring, each sector sized by its share of the traffic (with a floor so a
  // 1 % network still gets a visible disc), biggest first, clockwise from the top.
  const FLOOR = 0.035;
  const weights = clusters.map((c) => Math.max(c.share, FLOOR));
  const wsum = weights.reduce((a, b) => a + b, 0) || 1;
  let cursor = Math.PI / 2;
  let maxR = 0;
  clusters.forEach((c, k) => {
    const span = (2 * Math.PI * weights[k]!) / wsum;
    c.angle = cursor - span / 2;
    cursor -= span;
    // Fits the arc, and never reaches the target: one huge cluster becomes a big disc off-centre.
    c.r = Math.max(12, Math.min(RING * Math.sin(Math.min(span, Math.PI) / 2) * 0.88, RING * 0.62));
    c.x = Math.cos(c.angle) * RING;
    c.y = Math.sin(c.angle) * RING;
    maxR = Math.max(maxR, c.r);
  });

  // 3. Nodes: Vogel spiral per cluster, ordered by pps so the heaviest sit in the middle.
  const clusterOf = new Uint16Array(n);
  const members: number[][] = clusters.map(() => []);
  const otherIdx = clusters.length - 1;
  for (let i = 0; i < n; i++) clusterOf[i] = clusterIndex.get(g.asn[i]!) ?? otherIdx;
  // One native numeric sort instead of a comparator per cluster (the hot spot at 50,000
  // sources): key = descending quantised pps, then index, packed into a float64.
  const keys = new Float64Array(n);
  const IDX = 2 ** 20;
  const QMAX = 2 ** 32 - 1;
  for (let i = 0; i < n; i++) keys[i] = (QMAX - Math.min(QMAX, Math.round(g.pps[i]! * 16))) * IDX + i;
  keys.sort();
  for (let j = 0; j < n; j++) {
    const i = keys[j]! % IDX;
    members[clusterOf[i]!]!.push(i);
  }
  const positions = new Float32Array(2 * n);
  const radii = new Float32Array(n);
  let maxPps = 0;
  for (let i = 0; i < n; i++) if (g.pps[i]! > maxPps) maxPps = g.pps[i]!;
  const logMax = Math.log1p(maxPps) || 1;
  members.forEach((idx, k) => {
    const c = clusters[k]!;
    const m = idx.length;
    const spacing = c.r / Math.sqrt(m + 0.5);
    for (let j = 0; j < m; j++) {
      const i = idx[j]!;
      const rr = c.r * Math.sqrt((j + 0.5) / m);
      const th = j * GOLDEN;
      positions[2 * i] = c.x + Math.cos(th) * rr;
      positions[2 * i + 1] = c.y + Math.sin(th) * rr;
      // Size by log pps, capped by spacing so discs stay readable rather than one blob.
      const rel = Math.log1p(g.pps[i]!) / logMax;
      radii[i] = Math.max(0.6, spacing * (0.25 + 0.45 * rel));
    }
  });

  // Bounds: the target and each disc; labels get their room in screen space (fan-in-labels.ts).
  const b: [number, number, number, number] = [-160, -160, 160, 160];
  for (const c of clusters) {
    b[0] = Math.min(b[0], c.x - c.r - 10);
    b[1] = Math.min(b[1], c.y - c.r - 10);
    b[2] = Math.max(b[2], c.x + c.r + 10);
    b[3] = Math.max(b[3], c.y + c.r + 10);
  }
  return { count: n, positions, radii, clusterOf, clusters, extent: RING + maxR + 180, bounds: b, totalPps };
}

/** Edge width in pixels for a cluster's bundled edge: by share of traffic, always visible. */
export function edgeWidth(share: number, maxPx = 28): number {
  return Math.max(1, Math.sqrt(share) * maxPx);
}
