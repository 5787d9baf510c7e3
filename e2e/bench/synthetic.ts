import type { GraphNode, IncidentDetail, IncidentKind, Summary, TimelinePoint } from '@downstream/shared';

/** Deterministic PRNG (mulberry32) so every benchmark run draws the same graph. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COUNTRIES = [
  'US',
  'CN',
  'BR',
  'IN',
  'RU',
  'DE',
  'VN',
  'ID',
  'FR',
  'GB',
  'KR',
  'TR',
  'UA',
  'NL',
  'MX',
  'AR',
  'EG',
  'TH',
  'PL',
  'JP',
];
const AS_NAMES = [
  'CHINANET-BACKBONE',
  'CLARO S.A.',
  'Reliance Jio',
  'Rostelecom',
  'Deutsche Telekom AG',
  'VNPT Corp',
  'Telkomnet',
  'Orange',
  'BT',
  'Korea Telecom',
];

/**
 * A fan-in incident with `sources` graph nodes spread over a long tail of ASNs (Zipf-like), as
 * a botnet flood looks: a few big networks and thousands of small ones.
 */
export function syntheticIncident(opts: {
  id?: string;
  sources: number;
  seed?: number;
  kind?: IncidentKind;
  at?: number;
}): IncidentDetail {
  const rand = rng(opts.seed ?? 7);
  const at = opts.at ?? Date.now();
  const asnCount = Math.max(5, Math.round(Math.sqrt(opts.sources) * 2));
  const asns = Array.from({ length: asnCount }, (_, k) => ({
    asn: 4000 + k * 17,
    name: `${AS_NAMES[k % AS_NAMES.length]}${k >= AS_NAMES.length ? ` ${k}` : ''}`,
    country: COUNTRIES[k % COUNTRIES.length]!,
  }));
  const nodes: GraphNode[] = [];
  for (let n = 0; n < opts.sources; n++) {
    // Zipf-ish pick: low ranks much more likely.
    const k = Math.min(asnCount - 1, Math.floor(Math.pow(rand(), 2.2) * asnCount));
    const a = asns[k]!;
    nodes.push({
      ip: `${(n >> 16) + 11}.${(n >> 8) & 255}.${n & 255}.${1 + Math.floor(rand() * 250)}`,
      asn: a.asn,
      country: a.country,
      pps: Math.round(50 + rand() * rand() * 4000),
    });
  }
  const byAsn = new Map<number, number>();
  let total = 0;
  for (const n of nodes) {
    byAsn.set(n.asn, (byAsn.get(n.asn) ?? 0) + n.pps);
    total += n.pps;
  }
  const asnShares = [...byAsn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([asn, pps]) => ({ asn, name: asns.find((x) => x.asn === asn)!.name, share: pps / total }));
  const top = [...nodes]
    .sort((a, b) => b.pps - a.pps)
    .slice(0, 100)
    .map((n) => ({
      ip: n.ip,
      asn: n.asn,
      asName: asns.find((x) => x.asn === n.asn)!.name,
      country: n.country,
      packets: n.pps * 60,
      bytes: n.pps * 60 * 64,
    }));
  const timeline: TimelinePoint[] = Array.from({ length: 120 }, (_, k) => {
    const ramp = Math.min(1, k / 20);
    return {
      t: new Date(at - (120 - k) * 5000).toISOString(),
      pps: Math.round(total * ramp * (0.9 + rand() * 0.2)),
      bps: Math.round(total * ramp * 512 * (0.9 + rand() * 0.2)),
      sources: Math.round(opts.sources * ramp),
    };
  });
  return {
    id: opts.id ?? 'bench-fan-in',
    kind: opts.kind ?? 'ddos-fan-in',
    direction: 'inbound',
    severity: 'critical',
    status: 'open',
    firstSeen: new Date(at - 600_000).toISOString(),
    lastSeen: new Date(at).toISOString(),
    target: { ip: '198.51.100.77', asn: 64500, customer: 'Residential pool A' },
    sources: { distinct: opts.sources, top, asns: asnShares },
    upstreams: [
      { name: 'Transit A', share: 0.62 },
      { name: 'Transit B', share: 0.31 },
      { name: 'IX peering', share: 0.07 },
    ],
    peak: { pps: total, bps: total * 512 },
    evidence: {
      ports: [
        { port: 80, share: 0.7 },
        { port: 443, share: 0.3 },
      ],
      meanPacketSize: 64,
      summary: `${opts.sources} sources, 64 B mean packet size`,
    },
    detectors: ['fan-in'],
    notes: [],
    timeline,
    graph: { nodes },
  };
}

export function syntheticSummary(active: number, at = Date.now()): Summary {
  return {
    at: new Date(at).toISOString(),
    flowsPerSecond: 120_000 + Math.round(Math.random() * 5000),
    packetsPerSecond: 9_000_000,
    bitsPerSecond: 40e9,
    activeIncidents: active,
    byKind: {
      'ddos-fan-in': active,
      volumetric: 0,
      amplification: 0,
      'spam-bot': 0,
      scanner: 0,
      'ddos-participation': 0,
      external: 0,
    },
    inbound: active,
    outbound: 0,
    exporters: 4,
  };
}
