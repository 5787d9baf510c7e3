import { describe, expect, it } from 'vitest';
import { edgeWidth, layoutFanIn, RING, type GraphColumns } from './fan-in-layout.js';

function graph(asns: number[], pps: number[]): GraphColumns {
  return { count: asns.length, asn: Uint32Array.from(asns), pps: Float32Array.from(pps) };
}

describe('layoutFanIn', () => {
  it('makes one cluster per ASN with counts and shares that add up', () => {
    const g = graph([1, 1, 1, 2, 2, 3], [10, 10, 10, 30, 30, 10]);
    const l = layoutFanIn(g);
    expect(l.clusters.map((c) => c.asn)).toEqual([2, 1, 3]);
    expect(l.clusters.map((c) => c.count)).toEqual([2, 3, 1]);
    expect(l.clusters.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 6);
    expect(l.totalPps).toBe(100);
    // Node i is placed in the cluster of its own ASN.
    for (let i = 0; i < g.count; i++) expect(l.clusters[l.clusterOf[i]!]!.asn).toBe(g.asn[i]);
  });

  it('merges the long tail into an "other" cluster beyond maxClusters', () => {
    const asns = Array.from({ length: 50 }, (_, k) => k + 1);
    const l = layoutFanIn(
      graph(
        asns,
        asns.map((a) => 1000 - a),
      ),
      { maxClusters: 10 },
    );
    expect(l.clusters).toHaveLength(10);
    const other = l.clusters[9]!;
    expect(other.asn).toBe(-1);
    expect(other.count).toBe(41);
    expect(l.clusters[0]!.asn).toBe(1);
  });

  it('places every node inside its cluster disc, and no disc over the target', () => {
    const n = 5000;
    const asns = Array.from({ length: n }, (_, i) => (i * 7919) % 37);
    const pps = Array.from({ length: n }, (_, i) => 1 + ((i * 104729) % 997));
    const l = layoutFanIn(graph(asns, pps), { maxClusters: 20 });
    for (let i = 0; i < n; i++) {
      const c = l.clusters[l.clusterOf[i]!]!;
      const d = Math.hypot(l.positions[2 * i]! - c.x, l.positions[2 * i + 1]! - c.y);
      expect(d).toBeLessThanOrEqual(c.r + 1e-3);
      expect(Number.isFinite(l.radii[i]!)).toBe(true);
    }
    for (const c of l.clusters) expect(Math.hypot(c.x, c.y) - c.r).toBeGreaterThan(0.3 * RING);
    expect(l.extent).toBeGreaterThan(RING);
  });

  it('puts the heaviest source of a cluster at its centre', () => {
    const l = layoutFanIn(graph([5, 5, 5, 5], [1, 2, 100, 3]));
    const c = l.clusters[0]!;
    const dist = (i: number) => Math.hypot(l.positions[2 * i]! - c.x, l.positions[2 * i + 1]! - c.y);
    expect(dist(2)).toBeLessThan(Math.min(dist(0), dist(1), dist(3)));
  });

  it('handles an empty graph', () => {
    const l = layoutFanIn(graph([], []));
    expect(l.count).toBe(0);
    expect(l.clusters).toEqual([]);
  });
});

describe('edgeWidth', () => {
  it('grows with share and never vanishes', () => {
    expect(edgeWidth(0)).toBe(1);
    expect(edgeWidth(0.5)).toBeGreaterThan(edgeWidth(0.1));
    expect(edgeWidth(1, 20)).toBe(20);
  });
});
