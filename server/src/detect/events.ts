import type { DetectionEvent, SourceAsnShare, SourceEndpoint } from '@downstream/shared';
import type { AddressInfo, Enricher } from '../context.js';
import type { EnrichedBatch } from '../enrich/enriched-batch.js';
import { addrToString } from '@downstream/shared';
import type { SourceSet } from './source-set.js';

/**
 * The `target` block of an event: ASN and AS name only when known — an address the data set
 * does not cover (and that is not ours, see the enricher) has none, rather than "AS0, ''".
 */
export function targetOf(ip: string, info: AddressInfo, customer?: string): NonNullable<DetectionEvent['target']> {
  return {
    ip,
    ...(info.asn > 0 ? { asn: info.asn, asName: info.asName || `AS${info.asn}` } : {}),
    ...(customer ? { customer } : {}),
  };
}

/** IP → enrichment, bounded: names are looked up once per listed source, not per record. */
export class InfoCache {
  private readonly map = new Map<string, AddressInfo>();
  /** AS names met so far (bounded by the number of ASNs), for shares of sources not listed this time. */
  readonly asnNames = new Map<number, string>();
  constructor(
    private readonly enricher: Enricher,
    private readonly max = 200_000,
  ) {}

  get(ip: string): AddressInfo {
    let v = this.map.get(ip);
    if (!v) {
      if (this.map.size >= this.max) this.map.clear();
      v = this.enricher.lookup(ip);
      this.map.set(ip, v);
      if (v.asName && !this.asnNames.has(v.asn)) this.asnNames.set(v.asn, v.asName);
    }
    return v;
  }
}

export interface ListedSources {
  top: SourceEndpoint[];
  asnNames: Map<number, string>;
}

/** The listed sources of a watch as wire objects, heaviest first. */
export function listSources(set: SourceSet, limit: number, cache: InfoCache, enricher: Enricher): ListedSources {
  const top: SourceEndpoint[] = [];
  const asnNames = new Map<number, string>();
  for (const s of set.slotsByPackets(limit)) {
    const ip = addrToString(set.table.keys, s);
    const info = cache.get(ip);
    const cust = set.customer[s] >= 0 ? enricher.customerName(set.customer[s]) : info.customer;
    const e: SourceEndpoint = {
      ip,
      asn: info.asn,
      asName: info.asName,
      country: info.country,
      packets: Math.round(set.packets[s]),
      bytes: Math.round(set.bytes[s]),
    };
    if (cust) e.customer = cust;
    top.push(e);
    if (!asnNames.has(info.asn)) asnNames.set(info.asn, info.asName);
  }
  return { top, asnNames };
}

/** Byte shares by ASN, biggest first, the tail folded away (shares of what is listed). */
export function asnShares(asnBytes: Map<number, number>, names: Map<number, string>, limit = 20): SourceAsnShare[] {
  let total = 0;
  for (const v of asnBytes.values()) total += v;
  if (total <= 0) return [];
  return [...asnBytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([asn, v]) => ({
      asn,
      name: names.get(asn) ?? (asn === 0 ? 'unknown' : `AS${asn}`),
      share: round3(v / total),
    }));
}

/**
 * The link an outbound flow leaves by (the upstream or peer that carries it out), or the one it
 * came in on when the exporter does not map its output interface.
 */
export function egressLink(b: EnrichedBatch, i: number): number {
  const lo = b.outLink[i];
  return lo >= 0 ? lo : b.inLink[i];
}

/** @param offset what was added to link indexes when counting (1 when -1 = unknown was stored as 0). */
export function linkShares(
  linkBytes: Map<number, number>,
  enricher: Enricher,
  offset = 0,
): DetectionEvent['upstreams'] {
  let total = 0;
  for (const v of linkBytes.values()) total += v;
  if (total <= 0) return [];
  const byName = new Map<string, number>();
  for (const [k, v] of linkBytes) {
    const idx = k - offset;
    const name = (idx >= 0 ? enricher.linkName(idx) : undefined) ?? 'unknown link';
    byName.set(name, (byName.get(name) ?? 0) + v);
  }
  return [...byName.entries()].sort((a, b) => b[1] - a[1]).map(([name, v]) => ({ name, share: round3(v / total) }));
}

export function topShares(m: Map<number, number>, limit: number): { port: number; share: number }[] {
  let total = 0;
  for (const v of m.values()) total += v;
  if (total <= 0) return [];
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([port, v]) => ({ port, share: round3(v / total) }));
}

export function protoShares(pk: Float64Array): { proto: number; share: number }[] {
  let total = 0;
  for (let p = 0; p < 256; p++) total += pk[p];
  if (total <= 0) return [];
  const out: { proto: number; share: number }[] = [];
  for (let p = 0; p < 256; p++) if (pk[p] > 0) out.push({ proto: p, share: round3(pk[p] / total) });
  return out.sort((a, b) => b.share - a.share);
}

/**
 * How sure a rate-based decision is, given how many packets were actually sampled: the
 * relative standard error of a 1:N packet-sampled count is about 1/sqrt(samples), so 100
 * samples give ±10 % and 10,000 give ±1 %. Confidence = 1 − that error, floored at 0.
 */
export function samplingConfidence(rawPackets: number, maxSampling: number): number {
  if (maxSampling <= 1) return 1;
  return round3(Math.max(0, 1 - 1 / Math.sqrt(Math.max(1, rawPackets))));
}

/**
 * Distinct sources behind what packet sampling let through. `observed` distinct addresses among
 * `samples` sampled packets: if K sources send alike, observed ≈ K·(1 − e^(−samples/K)) (the
 * occupancy / coupon-collector expectation), solved for K by bisection. Repeats are what carry
 * the information: with none at all the count is bounded only by samples × rate, so one repeat
 * is added to what was seen (a conservative reading). Unsampled data: observed as is.
 */
export function estimateDistinct(observed: number, samples: number, rate: number): number {
  if (rate <= 1 || observed <= 1) return observed;
  const n = Math.max(samples, observed);
  // One pseudo-repeat: with few repeats the estimate is unstable, and this errs low.
  const d = Math.min(observed, n) - 1;
  let lo = d;
  let hi = Math.max(d, n * rate);
  const f = (k: number) => k * (1 - Math.exp(-n / k)) - d;
  if (f(hi) < 0) return Math.round(hi);
  for (let i = 0; i < 50 && hi - lo > 0.5; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return Math.max(observed, Math.round(hi));
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function fmtRate(x: number, unit: string): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(1)} G${unit}`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)} M${unit}`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k${unit}`;
  return `${Math.round(x)} ${unit}`;
}
