import type { Direction, IncidentKind } from './incident.js';

/**
 * How incidents of one kind are merged: `target` — every inbound verdict on one address is one
 * incident (detectors and feeds draw the line between these kinds differently);
 * `customer-campaign` — outbound, one incident per kind and customer (twelve spamming PCs of
 * one customer are one campaign); `kind-key` — kind + direction + detection key.
 */
export type MergeRule = 'target' | 'customer-campaign' | 'kind-key';

/**
 * Which scale an incident's severity is read on when it is outbound (inbound incidents are
 * always read on what the target suffers — server/src/incidents/severity.ts):
 * `participants` — how many of our endpoints flood someone and how hard; `endpoints` — how many
 * of our endpoints take part and how many targets they reach.
 */
export type OutboundSeverity = 'participants' | 'endpoints';

export interface KindPolicy {
  /** What the dashboard calls it. */
  label: string;
  /** One colour per kind for tables, graphs and maps alike; RGB for deck.gl. */
  rgb: readonly [number, number, number];
  /** Which way the traffic flows; `either` for feed verdicts that carry their own direction. */
  direction: Direction | 'either';
  merge: MergeRule;
  /**
   * For `target` kinds: how specific a verdict on one target is; the incident takes the most
   * specific one seen. Amplification names the reflection (source ports to filter, reflectors to
   * report) and fan-in the many-small-sources shape — what mitigation and the abuse reports
   * need; volumetric only says "far above baseline", which both of those are too; external says
   * nothing of the shape.
   */
  specificity?: number;
  severity: OutboundSeverity;
  /** What an outbound detection is keyed by: the outside victim, or our endpoint sending. */
  outboundKey: 'target' | 'source';
  /** X-ARF `ReportType` and the plain-text description in abuse reports. */
  report: { xarfType: 'DDoS' | 'Port-Scan' | 'Spam' | 'Botnet'; text: string };
}

/** Per-kind policy in one place: the server (merge, severity, mitigation, reports, feeds) and the web read it. */
export const KIND_POLICY = {
  'ddos-fan-in': {
    label: 'DDoS fan-in',
    rgb: [255, 82, 82],
    direction: 'inbound',
    merge: 'target',
    specificity: 2,
    severity: 'endpoints',
    outboundKey: 'source',
    report: { xarfType: 'DDoS', text: 'distributed denial-of-service (many sources, small packets, one target)' },
  },
  volumetric: {
    label: 'Volumetric',
    rgb: [255, 152, 0],
    direction: 'inbound',
    merge: 'target',
    specificity: 1,
    severity: 'endpoints',
    outboundKey: 'source',
    report: { xarfType: 'DDoS', text: 'volumetric denial-of-service flood' },
  },
  amplification: {
    label: 'Amplification',
    rgb: [255, 214, 0],
    direction: 'inbound',
    merge: 'target',
    specificity: 3,
    severity: 'endpoints',
    outboundKey: 'source',
    report: { xarfType: 'DDoS', text: 'reflection/amplification denial-of-service' },
  },
  'spam-bot': {
    label: 'Spam bot',
    rgb: [186, 104, 255],
    direction: 'outbound',
    merge: 'customer-campaign',
    severity: 'endpoints',
    outboundKey: 'source',
    report: { xarfType: 'Spam', text: 'spam sending (SMTP to many hosts)' },
  },
  scanner: {
    label: 'Scanner',
    rgb: [64, 196, 255],
    direction: 'outbound',
    merge: 'customer-campaign',
    severity: 'endpoints',
    outboundKey: 'source',
    report: { xarfType: 'Port-Scan', text: 'network scanning' },
  },
  'ddos-participation': {
    label: 'DDoS participation',
    rgb: [255, 64, 170],
    direction: 'outbound',
    merge: 'kind-key',
    severity: 'participants',
    outboundKey: 'target',
    report: {
      xarfType: 'DDoS',
      text: 'participation in a denial-of-service attack (botnet flooding)',
    },
  },
  external: {
    label: 'External',
    rgb: [160, 170, 180],
    direction: 'either',
    merge: 'target',
    specificity: 0,
    severity: 'endpoints',
    outboundKey: 'source',
    report: { xarfType: 'Botnet', text: 'abusive traffic reported by an external detector' },
  },
} as const satisfies Record<IncidentKind, KindPolicy>;

export function kindPolicy(kind: IncidentKind): KindPolicy {
  return KIND_POLICY[kind];
}

/** Kinds that only ever flow `direction` (not the `either` ones). */
export function kindsFacing(direction: Direction): IncidentKind[] {
  return (Object.keys(KIND_POLICY) as IncidentKind[]).filter((k) => KIND_POLICY[k].direction === direction);
}

/**
 * Whether a detection of `kind` going `direction` merges per target address. The `target`
 * rule is an inbound one: an outbound external verdict merges by kind and key.
 */
export function mergesByTarget(kind: IncidentKind, direction: Direction): boolean {
  return direction === 'inbound' && KIND_POLICY[kind].merge === 'target';
}

/** Whether a detection of `kind` going `direction` is one customer's campaign. */
export function mergesByCustomer(kind: IncidentKind, direction: Direction): boolean {
  return direction === 'outbound' && KIND_POLICY[kind].merge === 'customer-campaign';
}

/** True when `a` is a more specific verdict on a target than `b` (kinds outside the ranking never are). */
export function moreSpecific(a: IncidentKind, b: IncidentKind): boolean {
  const ra = kindPolicy(a).specificity;
  const rb = kindPolicy(b).specificity;
  return ra !== undefined && rb !== undefined && ra > rb;
}
