/**
 * Site config compiled for the hot path: customer prefixes (longest-prefix match), allowed SMTP
 * servers and links (exporter + ifindex), all as lookups that do not allocate per flow.
 */
import ipaddr from 'ipaddr.js';
import type { Config } from '../config/config.js';
import { V4Builder, V6Builder, type V4Table, type V6Table } from './range-table.js';

export type Network = Config['network'];
export type LinkRole = Network['links'][number]['role'];

export const LinkRoleCode = { upstream: 1, peer: 2, customer: 3 } as const;

interface PrefixRange {
  start: bigint;
  /** Inclusive. */
  end: bigint;
  len: number;
  value: number;
}

export interface AddressTables {
  v4: V4Table;
  v6: V6Table;
}

/** Parse "a.b.c.d/n" or "x::/n" into a 128-bit range; IPv4 gets the IPv4-mapped form. */
export function prefixRange(cidr: string): { start: bigint; end: bigint; len: number; v4: boolean } {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  if (addr.kind() === 'ipv4') {
    const n = BigInt(
      ipaddr.IPv4.networkAddressFromCIDR(cidr)
        .toByteArray()
        .reduce((a, b) => a * 256 + b, 0),
    );
    const size = 1n << BigInt(32 - len);
    const start = (n / size) * size;
    return { start, end: start + size - 1n, len, v4: true };
  }
  const bytes = (addr as ipaddr.IPv6).toByteArray();
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  const size = 1n << BigInt(128 - len);
  const start = (n / size) * size;
  return { start, end: start + size - 1n, len, v4: false };
}

function words(n: bigint): number[] {
  return [
    Number((n >> 96n) & 0xffffffffn),
    Number((n >> 64n) & 0xffffffffn),
    Number((n >> 32n) & 0xffffffffn),
    Number(n & 0xffffffffn),
  ];
}

/**
 * Flatten possibly nested prefixes into disjoint ranges where each address maps to its most
 * specific prefix's value, so a lookup is one binary search instead of one probe per prefix
 * length. Quadratic in the number of prefixes, at build time only (sites have hundreds to a few
 * thousand prefixes).
 */
export function flatten(prefixes: PrefixRange[]): { start: bigint; end: bigint; value: number }[] {
  const points = new Set<bigint>();
  for (const p of prefixes) {
    points.add(p.start);
    points.add(p.end + 1n);
  }
  const sorted = [...points].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: { start: bigint; end: bigint; value: number }[] = [];
  for (let k = 0; k + 1 < sorted.length; k++) {
    const at = sorted[k];
    let best: PrefixRange | undefined;
    for (const p of prefixes) {
      if (p.start <= at && at <= p.end && (!best || p.len > best.len)) best = p;
    }
    if (!best) continue;
    const end = sorted[k + 1] - 1n;
    const last = out[out.length - 1];
    if (last && last.value === best.value && last.end + 1n === at) last.end = end;
    else out.push({ start: at, end, value: best.value });
  }
  return out;
}

/** Tables mapping an address to `value` of its longest matching prefix (0 = none). */
export function buildPrefixTables(entries: { cidr: string; value: number }[]): AddressTables {
  const v4: PrefixRange[] = [];
  const v6: PrefixRange[] = [];
  for (const e of entries) {
    const r = prefixRange(e.cidr);
    if (!r.v4 && r.len >= 96 && r.start >> 32n === 0xffffn) {
      // ::ffff:a.b.c.d/n is an IPv4 prefix; batches carry IPv4 in that form and look it up as v4.
      v4.push({ start: r.start & 0xffffffffn, end: r.end & 0xffffffffn, len: r.len - 96, value: e.value });
    } else (r.v4 ? v4 : v6).push({ start: r.start, end: r.end, len: r.len, value: e.value });
  }
  const b4 = new V4Builder(64);
  for (const r of flatten(v4)) b4.add(Number(r.start), Number(r.end), r.value);
  const b6 = new V6Builder(64);
  for (const r of flatten(v6)) b6.add(words(r.start), words(r.end), r.value);
  return { v4: b4.build(), v6: b6.build() };
}

/** Canonical text of an address, so "192.0.2.1" and "::ffff:192.0.2.1" name one exporter. */
export function canonicalAddress(s: string): string | undefined {
  try {
    let a = ipaddr.parse(s);
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
    return a.toString();
  } catch {
    return undefined;
  }
}

/** exporter address → ifindex → link index. */
export function buildLinkMap(links: Network['links']): Map<string, Map<number, number>> {
  const m = new Map<string, Map<number, number>>();
  links.forEach((l, i) => {
    const key = canonicalAddress(l.exporter) ?? l.exporter;
    let byIf = m.get(key);
    if (!byIf) m.set(key, (byIf = new Map()));
    if (!byIf.has(l.ifindex)) byIf.set(l.ifindex, i);
  });
  return m;
}
