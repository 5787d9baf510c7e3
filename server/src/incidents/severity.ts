import type { Incident, Severity } from '@downstream/shared';

const ORDER: Severity[] = ['low', 'medium', 'high', 'critical'];

export function maxSeverity(a: Severity, b: Severity): Severity {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/**
 * Severity from volume and spread. Inbound: what the target suffers (bps, pps, sources).
 * Outbound: how many of our endpoints take part and how hard they send — a single spamming
 * PC is low, a botnet of 50 endpoints flooding someone is critical.
 */
export function severityOf(inc: Pick<Incident, 'kind' | 'direction' | 'peak' | 'sources' | 'evidence'>): Severity {
  const { pps, bps } = inc.peak;
  const n = inc.sources.distinct;
  if (inc.direction === 'inbound') {
    if (bps >= 10e9 || pps >= 5e6) return 'critical';
    if (bps >= 1e9 || pps >= 1e6 || n >= 10_000) return 'high';
    if (bps >= 100e6 || pps >= 100e3 || n >= 1000) return 'medium';
    return 'low';
  }
  const endpoints = Math.max(n, inc.sources.top.length);
  if (inc.kind === 'ddos-participation') {
    if (endpoints >= 50 || bps >= 1e9) return 'critical';
    if (endpoints >= 20 || bps >= 100e6) return 'high';
    return 'medium';
  }
  const targets = typeof inc.evidence.distinctTargets === 'number' ? inc.evidence.distinctTargets : 0;
  if (endpoints >= 50) return 'critical';
  if (endpoints >= 10 || targets >= 10_000) return 'high';
  if (endpoints >= 3 || targets >= 1000) return 'medium';
  return 'low';
}
