import { z } from 'zod';
import { SubscriberBinding } from './subscribers.js';

/** Every abuse kind Downstream knows; per-kind policy is kinds.ts. */
export const IncidentKind = z.enum([
  'ddos-fan-in',
  'volumetric',
  'amplification',
  'spam-bot',
  'scanner',
  'ddos-participation',
  'external',
]);
export type IncidentKind = z.infer<typeof IncidentKind>;

/** `inbound` = toward our customers, `outbound` = from them. */
export const Direction = z.enum(['inbound', 'outbound']);
export type Direction = z.infer<typeof Direction>;

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const IncidentStatus = z.enum(['open', 'acknowledged', 'mitigating', 'resolved']);
export type IncidentStatus = z.infer<typeof IncidentStatus>;

/** ISO-8601 timestamps everywhere on the wire: readable in curl output and sortable. */
export const Timestamp = z.string().datetime({ offset: true });

export const Target = z.object({
  ip: z.string(),
  asn: z.number().int().nonnegative().optional(),
  asName: z.string().optional(),
  customer: z.string().optional(),
});
export type Target = z.infer<typeof Target>;

export const SourceEndpoint = z.object({
  ip: z.string(),
  asn: z.number().int().nonnegative(),
  asName: z.string(),
  country: z.string(),
  customer: z.string().optional(),
  packets: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  /** Who held the address when the abuse happened (outbound kinds, detail endpoint; from RADIUS/DHCP). */
  subscriber: SubscriberBinding.optional(),
});
export type SourceEndpoint = z.infer<typeof SourceEndpoint>;

export const SourceAsnShare = z.object({
  asn: z.number().int().nonnegative(),
  name: z.string(),
  /** Fraction 0..1 of the incident's traffic (bytes) from this ASN. */
  share: z.number().min(0).max(1),
});
export type SourceAsnShare = z.infer<typeof SourceAsnShare>;

export const Sources = z.object({
  /** Estimated distinct source addresses (HyperLogLog where large). */
  distinct: z.number().int().nonnegative(),
  top: z.array(SourceEndpoint),
  asns: z.array(SourceAsnShare),
});
export type Sources = z.infer<typeof Sources>;

export const LinkShare = z.object({
  name: z.string(),
  /** Fraction 0..1 of the incident's traffic that entered on this link. */
  share: z.number().min(0).max(1),
});
export type LinkShare = z.infer<typeof LinkShare>;

export const Peak = z.object({ pps: z.number().nonnegative(), bps: z.number().nonnegative() });
export type Peak = z.infer<typeof Peak>;

export const PortCount = z.object({ port: z.number().int().min(0).max(65535), share: z.number().min(0).max(1) });

/** Flow-level features that made the detector fire; open-ended so detectors can add their own. */
export const Evidence = z
  .object({
    ports: z.array(PortCount).optional(),
    protocols: z.array(z.object({ proto: z.number().int(), share: z.number() })).optional(),
    meanPacketSize: z.number().nonnegative().optional(),
    /** Distinct destination hosts contacted (outbound kinds). */
    distinctTargets: z.number().int().nonnegative().optional(),
    /** Lowest sampling rate in the evidence: 1 = every packet seen. */
    samplingRate: z.number().int().positive().optional(),
    /** 0..1 — how sure the detector is given sampling and volume. */
    confidence: z.number().min(0).max(1).optional(),
    /** Human readable reason, e.g. "12,403 sources, 64 B mean packet size, 380 kpps". */
    summary: z.string().optional(),
    /**
     * Why the detector fired, in words an operator can check against the flows: the evidence and
     * the threshold it crossed, e.g. "2,000 reflectors from UDP 123, 468-byte packets, no
     * requests from the target toward that port (thresholds: …)".
     */
    reason: z.string().optional(),
  })
  .catchall(z.unknown());
export type Evidence = z.infer<typeof Evidence>;

export const Note = z.object({ at: Timestamp, by: z.string(), text: z.string() });
export type Note = z.infer<typeof Note>;

export const TimelinePoint = z.object({
  t: Timestamp,
  pps: z.number().nonnegative(),
  bps: z.number().nonnegative(),
  sources: z.number().int().nonnegative(),
});
export type TimelinePoint = z.infer<typeof TimelinePoint>;

export const Incident = z.object({
  id: z.string(),
  kind: IncidentKind,
  direction: Direction,
  severity: Severity,
  status: IncidentStatus,
  firstSeen: Timestamp,
  lastSeen: Timestamp,
  target: Target.optional(),
  sources: Sources,
  upstreams: z.array(LinkShare),
  peak: Peak,
  evidence: Evidence,
  /** Which built-in detectors or feeds reported it, e.g. ["fan-in", "fastnetmon"]. */
  detectors: z.array(z.string()),
  notes: z.array(Note).default([]),
  /** True for the demo's backfilled history (`demo --no-history` turns it off): never observed traffic. */
  simulated: z.boolean().optional(),
});
export type Incident = z.infer<typeof Incident>;

/** A fan-in graph node: one source endpoint, placed by the client around its ASN cluster. */
export const GraphNode = z.object({
  ip: z.string(),
  asn: z.number().int(),
  country: z.string(),
  customer: z.string().optional(),
  pps: z.number().nonnegative(),
});
export type GraphNode = z.infer<typeof GraphNode>;

/** GET /api/incidents/:id — the incident plus everything a drill-down page needs. */
export const IncidentDetail = Incident.extend({
  timeline: z.array(TimelinePoint),
  graph: z.object({ nodes: z.array(GraphNode) }),
});
export type IncidentDetail = z.infer<typeof IncidentDetail>;
