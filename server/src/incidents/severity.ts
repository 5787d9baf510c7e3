import { KIND_POLICY, type Incident, type Severity } from '@downstream/shared';

const ORDER: Severity[] = ['low', 'medium', 'high', 'critical'];

export function maxSeverity(a: Severity, b: Severity): Severity {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/** Below this a target's baseline says nothing of harm: 5 Mbit/s on a quiet host is still small. */
export const BASELINE_FLOOR_BPS = 10e6;

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0;
}

/**
 * Inbound: the highest of what the volume is in absolute terms, against the target's baseline
 * (from 10× it, floored at BASELINE_FLOOR_BPS) and against the customer's link
 * (`evidence.capacityBps`, from network.customers[].capacity_bps: 20 % medium, 50 % high, 90 %
 * critical). Source counts weigh for floods (thousands of senders is a botnet), not for
 * reflection, whose reflectors say nothing of its strength: a few thousand reflectors at some
 * hundred packets/s is low.
 */
function inboundSeverity(inc: Pick<Incident, 'kind' | 'peak' | 'sources' | 'evidence'>): Severity {
  const { pps, bps } = inc.peak;
  const n = inc.sources.distinct;
  let level = 0;
  if (bps >= 10e9 || pps >= 5e6) level = 3;
  else if (bps >= 1e9 || pps >= 1e6) level = 2;
  else if (bps >= 100e6 || pps >= 100e3) level = 1;
  if (inc.kind !== 'amplification') {
    if (n >= 10_000) level = Math.max(level, 2);
    else if (n >= 1000) level = Math.max(level, 1);
  }
  const base = num(inc.evidence.baselineBps);
  const factor = bps / Math.max(base, BASELINE_FLOOR_BPS);
  if (factor >= 100) level = Math.max(level, 2);
  else if (factor >= 10) level = Math.max(level, 1);
  const cap = num(inc.evidence.capacityBps);
  if (cap > 0) {
    const share = bps / cap;
    if (share >= 0.9) level = 3;
    else if (share >= 0.5) level = Math.max(level, 2);
    else if (share >= 0.2) level = Math.max(level, 1);
  }
  return ORDER[level];
}

/**
 * Severity from volume and spread. Inbound: what the target suffers (see inboundSeverity).
 * Outbound: how many of our endpoints take part and how hard they send — a single spamming
 * PC is low, a botnet of 50 endpoints flooding someone is critical.
 */
export function severityOf(inc: Pick<Incident, 'kind' | 'direction' | 'peak' | 'sources' | 'evidence'>): Severity {
  const { bps } = inc.peak;
  const n = inc.sources.distinct;
  if (inc.direction === 'inbound') return inboundSeverity(inc);
  const endpoints = Math.max(n, inc.sources.top.length);
  if (KIND_POLICY[inc.kind].severity === 'participants') {
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
