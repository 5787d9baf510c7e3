import type { Incident, IncidentKind, LinkShare, Severity, SourceEndpoint } from '@downstream/shared';
import type { AbuseRollupRow } from '../store/types.js';
import { RollupAccumulator } from '../incidents/rollups.js';
import { EYEBALL_RANGES, HOSTING_RANGES, pickDistinct, rangeOf, type OutsideRange } from './scenarios/address-space.js';
import { HOSTS } from './scenarios/library.js';
import { CUSTOMERS } from './scenarios/network.js';
import { pick, randInt, rngFor, type Rng } from './scenarios/rng.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface SimulatedHistory {
  /** [from, to): the span the history covers, ms since epoch. */
  from: number;
  to: number;
  rollups: AbuseRollupRow[];
  /** Resolved incidents, each with `simulated: true`. */
  incidents: Incident[];
}

export interface HistoryOptions {
  /** End of the history (exclusive): the demo's start. */
  now: number;
  days?: number;
  seed?: number;
}

const UPSTREAMS = ['Transit A (Cogent)', 'Transit B (Lumen)', 'IX peering'] as const;
const RESIDENTIAL = Array.from({ length: 60 }, (_, i) => `198.51.100.${100 + i}`);
const INBOUND_TARGETS = [HOSTS.fanInTarget, HOSTS.ampTarget, HOSTS.volumetricTarget, HOSTS.webServer, '192.0.2.140'];
const AMP_PORTS = [53, 123, 1900, 11211, 389, 19];

function customerOf(ip: string): string {
  if (ip.startsWith('203.0.113.')) return CUSTOMERS.business;
  if (ip.startsWith('192.0.2.')) return CUSTOMERS.hosting;
  return CUSTOMERS.residential;
}

/** Shares that fall off like real attack traffic does: a few networks carry most of it. */
function zipfShares(rng: Rng, n: number): number[] {
  const w = Array.from({ length: n }, (_, i) => (1 / (i + 1) ** 1.1) * (0.6 + 0.8 * rng()));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s).sort((a, b) => b - a);
}

function upstreamShares(rng: Rng): LinkShare[] {
  const w = zipfShares(rng, 3);
  const order = [...UPSTREAMS].sort(() => rng() - 0.5);
  return order.map((name, i) => ({ name, share: w[i]! })).filter((u) => u.share >= 0.01);
}

function severityOf(pps: number, outbound: boolean): Severity {
  if (outbound) return pps > 20_000 ? 'high' : 'medium';
  return pps > 500_000 ? 'critical' : pps > 100_000 ? 'high' : pps > 20_000 ? 'medium' : 'low';
}

interface Plan {
  kind: IncidentKind;
  start: number;
  minutes: number;
  pps: number;
  packetSize: number;
}

/**
 * Thirty days of abuse as the demo's site might have seen it, so Trends, the ASN heatmap and the
 * report pages have a past on the first start: resolved incidents of every built-in kind (more on
 * weekdays, a rough week two weeks ago) and their per-minute rollups, computed by the same
 * accumulator the live incident manager uses. Deterministic per seed. Everything it makes is
 * marked simulated; it is never real traffic.
 */
export function simulateHistory(o: HistoryOptions): SimulatedHistory {
  const days = o.days ?? 30;
  const seed = o.seed ?? 1;
  const to = Math.floor(o.now / MINUTE) * MINUTE;
  const from = to - days * DAY;
  const acc = new RollupAccumulator();
  const rollups: AbuseRollupRow[] = [];
  const incidents: Incident[] = [];
  let n = 0;

  for (let d = 0; d < days; d++) {
    const rng = rngFor(seed, 9000, d);
    const dayStart = from + d * DAY;
    const daysAgo = days - d;
    // A campaign two weeks ago; otherwise a slow rise toward today.
    const rough = daysAgo >= 12 && daysAgo <= 16 ? 2 : 1;
    const plans: Plan[] = [];
    const add = (kind: IncidentKind, count: number, minutes: [number, number], pps: [number, number], size: number) => {
      for (let k = 0; k < count; k++) {
        plans.push({
          kind,
          start: dayStart + randInt(rng, 0, 24 * 60 - 1) * MINUTE,
          minutes: randInt(rng, minutes[0], minutes[1]),
          pps: pps[0] + (pps[1] - pps[0]) * rng() ** 2,
          packetSize: size,
        });
      }
    };
    add('ddos-fan-in', randInt(rng, 0, 2) * rough, [8, 45], [40_000, 600_000], 64);
    add('amplification', randInt(rng, 0, 1) + (rough > 1 ? 1 : 0), [5, 30], [20_000, 300_000], 1100);
    add('volumetric', rng() < 0.3 ? 1 : 0, [5, 20], [50_000, 400_000], 900);
    add('spam-bot', randInt(rng, 1, 2 + (d > days / 2 ? 1 : 0)), [30, 180], [200, 2_000], 600);
    add('scanner', randInt(rng, 0, 2), [20, 120], [500, 8_000], 60);
    add('ddos-participation', rng() < 0.25 * rough ? 1 : 0, [5, 25], [5_000, 60_000], 120);

    for (const p of plans) {
      const end = Math.min(p.start + p.minutes * MINUTE, to - MINUTE);
      if (end <= p.start) continue;
      const outbound = p.kind === 'spam-bot' || p.kind === 'scanner' || p.kind === 'ddos-participation';
      const upstreams = upstreamShares(rng);
      let top: SourceEndpoint[];
      let distinct: number;
      let target: Incident['target'];
      let ranges: readonly OutsideRange[];
      if (outbound) {
        const bots = p.kind === 'ddos-participation' ? randInt(rng, 6, 30) : p.kind === 'spam-bot' ? 1 : 1;
        const ips =
          p.kind === 'scanner'
            ? [pick(rng, [HOSTS.scanner, '203.0.113.78', '192.0.2.170'])]
            : Array.from(new Set(Array.from({ length: bots }, () => pick(rng, RESIDENTIAL))));
        distinct = ips.length;
        top = ips.map((ip) => ({
          ip,
          asn: 64500,
          asName: 'Downstream demo network',
          country: 'DE',
          customer: customerOf(ip),
          packets: 0,
          bytes: 0,
        }));
        if (p.kind === 'ddos-participation') {
          const victim = pickDistinct(rng, HOSTING_RANGES, 1)[0]!;
          const r = rangeOf(victim, HOSTING_RANGES)!;
          target = { ip: victim, asn: r.asn, asName: r.name };
        }
        ranges = [];
      } else {
        const ip = pick(rng, INBOUND_TARGETS);
        target = { ip, asn: 64500, asName: 'Downstream demo network', customer: customerOf(ip) };
        ranges = p.kind === 'amplification' ? [...HOSTING_RANGES, ...EYEBALL_RANGES.slice(0, 6)] : EYEBALL_RANGES;
        distinct =
          p.kind === 'ddos-fan-in'
            ? randInt(rng, 2_000, 40_000)
            : p.kind === 'amplification'
              ? randInt(rng, 200, 3_000)
              : randInt(rng, 1, 40);
        top = pickDistinct(rng, ranges, Math.min(distinct, 60)).map((ip) => {
          const r = rangeOf(ip, ranges)!;
          return { ip, asn: r.asn, asName: r.name, country: '', packets: 0, bytes: 0 };
        });
      }
      // Source ASN shares: the listed sources' networks, weighted toward a few of them.
      const asnNames = new Map<number, string>();
      for (const s of top) asnNames.set(s.asn, s.asName);
      const asnList = [...asnNames.keys()].sort(() => rng() - 0.5);
      const asnW = zipfShares(rng, asnList.length);
      const asns = asnList
        .map((asn, i) => ({ asn, name: asnNames.get(asn)!, share: asnW[i]! }))
        .sort((a, b) => b.share - a.share);

      let peakPps = 0;
      let totalPackets = 0;
      const minutes = Math.round((end - p.start) / MINUTE);
      for (let m = 0; m < minutes; m++) {
        // Ramp up, plateau, ramp down, with jitter.
        const x = (m + 0.5) / minutes;
        const env = Math.min(1, x * 5, (1 - x) * 4) * (0.75 + 0.5 * rng());
        const pps = Math.max(1, p.pps * env);
        peakPps = Math.max(peakPps, pps);
        totalPackets += pps * 60;
        const at = p.start + m * MINUTE;
        acc.add(
          {
            detector: 'history',
            kind: p.kind,
            direction: outbound ? 'outbound' : 'inbound',
            at: new Date(at).toISOString(),
            key: target?.ip ?? top[0]!.ip,
            ...(target ? { target } : {}),
            sources: { distinct, top, asns: outbound ? [] : asns },
            upstreams,
            rate: { pps, bps: pps * p.packetSize * 8 },
            evidence: { flowsPerSecond: pps / (outbound ? 3 : 1.5) },
          },
          at,
          60,
        );
      }
      rollups.push(...acc.take(0, true));
      const perSource = top.length > 0 ? totalPackets / Math.max(distinct, top.length) : 0;
      for (const s of top) {
        s.packets = Math.round(perSource * (0.5 + rng()));
        s.bytes = s.packets * p.packetSize;
      }
      const ports = p.kind === 'amplification' ? [{ port: pick(rng, AMP_PORTS), share: 1 }] : undefined;
      incidents.push({
        id: `sim-${seed}-${String(++n).padStart(4, '0')}`,
        kind: p.kind,
        direction: outbound ? 'outbound' : 'inbound',
        severity: severityOf(peakPps, outbound),
        status: 'resolved',
        firstSeen: new Date(p.start).toISOString(),
        lastSeen: new Date(end).toISOString(),
        ...(target ? { target } : {}),
        sources: { distinct, top, asns: outbound ? [] : asns },
        upstreams,
        peak: { pps: Math.round(peakPps), bps: Math.round(peakPps * p.packetSize * 8) },
        evidence: {
          meanPacketSize: p.packetSize,
          ...(ports ? { ports } : {}),
          summary: `simulated history: ${distinct.toLocaleString('en-US')} sources, ${p.packetSize} B mean packet size`,
        },
        detectors: ['simulated-history'],
        notes: [],
        simulated: true,
      });
    }
  }
  return { from, to, rollups, incidents };
}
