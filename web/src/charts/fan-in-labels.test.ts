import { describe, expect, it } from 'vitest';
import { boxesOverlap, boxHitsDisc, placeLabels, type LabelPlacement } from './fan-in-labels.js';
import { layoutFanIn, type GraphColumns } from './fan-in-layout.js';

/** A fan-in like the demo's: a few networks carry most traffic, dozens carry almost none. */
function attack(networks: number, sources: number, seed = 1): GraphColumns {
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const asn = new Uint32Array(sources);
  const pps = new Float32Array(sources);
  for (let i = 0; i < sources; i++) {
    // Zipf-ish network choice: network k with weight 1/(k+1)^1.6.
    const u = rnd();
    const k = Math.min(networks - 1, Math.floor(networks ** (u ** 2.5)) - 1);
    asn[i] = 1000 + Math.max(0, k);
    pps[i] = 5 + 200 * rnd() ** 3;
  }
  return { count: sources, asn, pps };
}

function check(p: LabelPlacement, width: number, height: number) {
  const problems: string[] = [];
  for (let i = 0; i < p.labels.length; i++) {
    const a = p.labels[i]!;
    if (a.x0 < 0 || a.y0 < 0 || a.x1 > width || a.y1 > height) problems.push(`label ${a.lines[0]} outside the panel`);
    for (let j = i + 1; j < p.labels.length; j++)
      if (boxesOverlap(a, p.labels[j]!)) problems.push(`${a.lines[0]} overlaps ${p.labels[j]!.lines[0]}`);
    for (const d of p.discs) if (boxHitsDisc(a, d)) problems.push(`${a.lines[0]} overlaps disc ${d.cluster}`);
  }
  return problems;
}

const SIZES = [
  { name: '1366 incident page', width: 1300, height: 520, labelPx: 12 },
  { name: '1920 incident page', width: 1850, height: 560, labelPx: 12 },
  { name: '1920 wall', width: 1450, height: 760, labelPx: 18 },
  { name: '3840 wall', width: 2900, height: 1520, labelPx: 37 },
];

describe('placeLabels', () => {
  for (const size of SIZES) {
    it(`keeps labels apart and off the discs (${size.name})`, () => {
      for (const [networks, sources] of [
        [40, 5000],
        [12, 800],
        [3, 50],
        [1, 10],
      ] as const) {
        const l = layoutFanIn(attack(networks, sources), { maxClusters: 20 });
        const p = placeLabels(l, {
          width: size.width,
          height: size.height,
          labelPx: size.labelPx,
          text: (k) => [
            `AS${l.clusters[k]!.asn} ${(l.clusters[k]!.share * 100).toFixed(1)} %`,
            'Some Network Name Ltd',
          ],
          targetLines: ['198.51.100.10', 'via Transit A (Cogent) 62 %'],
        });
        expect(check(p, size.width, size.height)).toEqual([]);
        // Every cluster of at least 1 % has its label where there is room for it.
        const labelled = new Set(p.labels.map((x) => x.cluster));
        expect(labelled.has(-1)).toBe(true);
        expect(labelled.has(0)).toBe(true);
      }
    });
  }

  it('drops the smallest labels when a column cannot hold them all, never overlapping', () => {
    const l = layoutFanIn(attack(60, 8000), { maxClusters: 40, minShare: 0 });
    const p = placeLabels(l, {
      width: 900,
      height: 260,
      labelPx: 14,
      text: (k) => [`AS${l.clusters[k]!.asn}`, 'name'],
      targetLines: ['203.0.113.50'],
    });
    expect(p.labels.length).toBeLessThan(l.clusters.length + 1);
    expect(check(p, 900, 260)).toEqual([]);
  });
});

describe('layoutFanIn sectors', () => {
  it('sizes sectors by share and folds networks under 1 % into "other"', () => {
    // 3 networks with 30 % each, 50 networks sharing 10 %.
    const asns: number[] = [];
    const pps: number[] = [];
    for (let k = 0; k < 3; k++)
      for (let i = 0; i < 10; i++) {
        asns.push(k + 1);
        pps.push(30);
      }
    for (let k = 0; k < 50; k++) {
      asns.push(100 + k);
      pps.push(2);
    }
    const l = layoutFanIn({ count: asns.length, asn: Uint32Array.from(asns), pps: Float32Array.from(pps) });
    expect(l.clusters.map((c) => c.asn)).toEqual([1, 2, 3, -1]);
    const other = l.clusters[3]!;
    expect(other.count).toBe(50);
    expect(other.share).toBeCloseTo(0.1, 5);
    // The big ones get bigger discs than "other".
    expect(l.clusters[0]!.r).toBeGreaterThan(other.r);
  });

  it('uses source counts for shares when no rate is known', () => {
    const l = layoutFanIn({ count: 4, asn: Uint32Array.from([1, 1, 1, 2]), pps: new Float32Array(4) });
    expect(l.clusters.map((c) => [c.asn, c.share])).toEqual([
      [1, 0.75],
      [2, 0.25],
    ]);
  });
});
