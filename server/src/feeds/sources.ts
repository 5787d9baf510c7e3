import type { Sources } from '@downstream/shared';
import type { AddressInfo } from '../enrich/types.js';

export type Lookup = (ip: string) => AddressInfo;

/** Used when no enricher is wired (unit tests, tools): everything unknown. */
export const unknownLookup: Lookup = () => ({ asn: 0, asName: 'unknown', country: '??' });

export interface SourceSample {
  ip: string;
  packets: number;
  bytes: number;
}

const MAX_TOP = 10_000;

/**
 * Feed samples → the shared `Sources` shape: merged per address, enriched (ASN, country,
 * customer), sorted by bytes, ASN shares by bytes (by packets, then by count, when the feed
 * gave no volumes). `distinct` is a lower bound: feeds only ever show a sample.
 */
export function buildSources(samples: readonly SourceSample[], lookup: Lookup, distinctAtLeast = 0): Sources {
  const byIp = new Map<string, SourceSample>();
  for (const s of samples) {
    const cur = byIp.get(s.ip);
    if (cur) {
      cur.packets += s.packets;
      cur.bytes += s.bytes;
    } else byIp.set(s.ip, { ...s });
  }
  const rows = [...byIp.values()].sort((a, b) => b.bytes - a.bytes || b.packets - a.packets || (a.ip < b.ip ? -1 : 1));
  const top = rows.slice(0, MAX_TOP).map((r) => {
    const info = lookup(r.ip);
    return {
      ip: r.ip,
      asn: info.asn,
      asName: info.asName,
      country: info.country,
      ...(info.customer !== undefined ? { customer: info.customer } : {}),
      packets: r.packets,
      bytes: r.bytes,
    };
  });
  const weight = (r: { packets: number; bytes: number }): number => {
    if (totalBytes > 0) return r.bytes;
    if (totalPackets > 0) return r.packets;
    return 1;
  };
  const totalBytes = top.reduce((a, r) => a + r.bytes, 0);
  const totalPackets = top.reduce((a, r) => a + r.packets, 0);
  const asnW = new Map<number, { name: string; w: number }>();
  let total = 0;
  for (const r of top) {
    const w = weight(r);
    total += w;
    const cur = asnW.get(r.asn);
    if (cur) cur.w += w;
    else asnW.set(r.asn, { name: r.asName, w });
  }
  const asns = [...asnW.entries()]
    .map(([asn, v]) => ({ asn, name: v.name, share: total > 0 ? Math.min(1, v.w / total) : 0 }))
    .sort((a, b) => b.share - a.share);
  return { distinct: Math.max(distinctAtLeast, byIp.size), top, asns };
}

/** Target block for an address, with whatever enrich knows about it. */
export function targetOf(ip: string, lookup: Lookup): { ip: string; asn?: number; asName?: string; customer?: string } {
  const info = lookup(ip);
  return {
    ip,
    ...(info.asn ? { asn: info.asn, asName: info.asName } : {}),
    ...(info.customer !== undefined ? { customer: info.customer } : {}),
  };
}

/** Each key's share of the total, largest first; for `evidence.ports` / `evidence.protocols`. */
export function shares<K>(counts: Map<K, number>, limit = 10): { key: K; share: number }[] {
  let total = 0;
  for (const v of counts.values()) total += v;
  if (total <= 0) return [];
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, v]) => ({ key, share: v / total }));
}
