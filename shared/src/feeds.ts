import { z } from 'zod';
import { Direction, IncidentKind, Timestamp } from './incident.js';
import { SubscriberBinding } from './subscribers.js';

/*
 * Wire types of the feeds (detectors outside Downstream posting to it) and of the actions
 * (reports, remediation list, mitigation) the UI and scripts use.
 */

const Ip = z.union([z.ipv4(), z.ipv6()]);

/**
 * `POST /api/feeds/generic` — the documented schema any other detector can post.
 *
 * ```json
 * { "detector": "my-ids", "id": "alert-123", "kind": "scanner", "direction": "outbound",
 *   "at": "2026-01-01T00:00:00Z", "target": "203.0.113.9",
 *   "sources": [{ "ip": "198.51.100.23", "packets": 1000, "bytes": 64000 }],
 *   "pps": 1200, "bps": 614400, "summary": "SYN scan of /16", "confidence": 0.8 }
 * ```
 * `kind` defaults to `external`. `id` deduplicates: the same detector + id inside the dedup
 * window is one detection. The body may also be `{ "events": [ … ] }` (at most 1000).
 */
export const GenericFeedEvent = z.strictObject({
  /** Name of the detector, shown in the incident's `detectors`. */
  detector: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, 'letters, digits, ".", "_" or "-", at most 63'),
  /** The detector's own id for this alert; used for deduplication when present. */
  id: z.string().min(1).max(200).optional(),
  kind: IncidentKind.default('external'),
  direction: Direction,
  at: Timestamp.optional(),
  /** Inbound: the attacked address (ours). Outbound: the outside victim, when there is one. */
  target: Ip.optional(),
  /** Outbound: the offending customer endpoints; inbound: sample attacking sources. */
  sources: z
    .array(
      z.strictObject({
        ip: Ip,
        packets: z.number().nonnegative().default(0),
        bytes: z.number().nonnegative().default(0),
      }),
    )
    .max(10_000)
    .default([]),
  pps: z.number().nonnegative().default(0),
  bps: z.number().nonnegative().default(0),
  summary: z.string().max(1000).optional(),
  confidence: z.number().min(0).max(1).optional(),
  ports: z.array(z.number().int().min(0).max(65535)).max(100).optional(),
  protocol: z.enum(['tcp', 'udp', 'icmp', 'other']).optional(),
});
export type GenericFeedEvent = z.input<typeof GenericFeedEvent>;

export const GenericFeedBody = z.union([
  GenericFeedEvent,
  z.strictObject({ events: z.array(GenericFeedEvent).min(1).max(1000) }),
]);

/**
 * `POST /api/feeds/fastnetmon` — what `server/bin/fastnetmon-notify` posts: FastNetMon's four
 * notify-script arguments and, for `ban` / `attack_details`, the attack details it wrote on stdin.
 */
export const FastNetMonNotification = z.strictObject({
  ip: Ip,
  direction: z.enum(['incoming', 'outgoing', 'internal', 'other', 'unknown']),
  pps: z.number().nonnegative(),
  action: z.enum(['ban', 'unban', 'attack_details', 'partial_block']),
  details: z.string().max(1_000_000).default(''),
});
export type FastNetMonNotification = z.input<typeof FastNetMonNotification>;

/** One feed's health, in `/api/health` `feeds` and the UI. */
export const FeedHealth = z.object({
  name: z.string(),
  lastEvent: z.string().nullable(),
  events: z.number(),
  errors: z.number(),
  duplicates: z.number().optional(),
  rateLimited: z.number().optional(),
  lastError: z.string().nullable().optional(),
});
export type FeedHealth = z.infer<typeof FeedHealth>;

/** What every feed endpoint answers. */
export const FeedResult = z.object({
  accepted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  /** Valid but not a detection (FastNetMon unban, Suricata flow without an alert…). */
  ignored: z.number().int().nonnegative(),
  rateLimited: z.number().int().nonnegative(),
  /** Per-item problems in a batch; the request fails (400) only when nothing in it was valid. */
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type FeedResult = z.infer<typeof FeedResult>;

// ---- actions ----

export const RemediationStatus = z.enum(['open', 'notified', 'remediated']);
export type RemediationStatus = z.infer<typeof RemediationStatus>;

/** One infected customer endpoint on the remediation list (RFC 6561 spirit). */
export const RemediationEntry = z.object({
  id: z.number().int(),
  customer: z.string(),
  ip: z.string(),
  kinds: z.array(IncidentKind),
  incidents: z.array(z.string()),
  evidence: z.string(),
  packets: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  firstSeen: Timestamp,
  lastSeen: Timestamp,
  status: RemediationStatus,
  statusAt: Timestamp,
  statusBy: z.string().nullable(),
  note: z.string().nullable(),
  /** Seen again after it was marked remediated. */
  recurred: z.boolean(),
  /** Who held the address at the row's last abuse (RADIUS accounting / DHCP leases), when known. */
  subscriber: SubscriberBinding.optional(),
  /** When the subscriber was last e-mailed an abuse notice. */
  lastNotice: Timestamp.optional(),
  /** Walled-garden state from the last acknowledged CoA step. */
  walledGarden: z.enum(['held', 'released']).optional(),
  /** Abuse again within the watch after being marked remediated (actions.remediation.watch_days). */
  recurrences: z.number().int().nonnegative().optional(),
  /** After `remediated`: watched until `until`, then verified clean. */
  watch: z
    .object({ state: z.enum(['watching', 'verified']), until: Timestamp })
    .nullable()
    .optional(),
  /** Abuse reports from other networks attached to this endpoint. */
  complaints: z.number().int().nonnegative().optional(),
});
export type RemediationEntry = z.infer<typeof RemediationEntry>;

export const RemediationList = z.object({ entries: z.array(RemediationEntry) });
export type RemediationList = z.infer<typeof RemediationList>;

export const RemediationQuery = z.object({
  customer: z.string().optional(),
  status: RemediationStatus.optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
});

export const RemediationUpdate = z.strictObject({
  status: RemediationStatus,
  note: z.string().max(2000).optional(),
});

export const MitigationType = z.enum(['rtbh', 'flowspec']);
export type MitigationType = z.infer<typeof MitigationType>;

/** `POST /api/incidents/:id/mitigation` body. */
export const MitigationRequest = z.strictObject({
  type: MitigationType.default('rtbh'),
  /** FlowSpec only: drop, or police to this many bytes per second. */
  action: z.enum(['discard', 'rate-limit']).default('discard'),
  rateLimit: z.number().int().positive().optional(),
  note: z.string().max(2000).optional(),
});
export type MitigationRequest = z.input<typeof MitigationRequest>;

export const Mitigation = z.object({
  id: z.number().int(),
  incidentId: z.string(),
  type: MitigationType,
  prefix: z.string(),
  announce: z.string(),
  withdraw: z.string(),
  announcedAt: Timestamp,
  announcedBy: z.string(),
  withdrawnAt: Timestamp.nullable(),
  withdrawnBy: z.string().nullable(),
});
export type Mitigation = z.infer<typeof Mitigation>;

/** A report recipient: the abuse contact of a source ASN, or an upstream's NOC. */
export const ReportRecipient = z.object({
  /** `asn:174` or `upstream:Transit A` — pass as `to=` to pick this recipient's report. */
  id: z.string(),
  kind: z.enum(['asn', 'upstream', 'target-asn']),
  name: z.string(),
  asn: z.number().int().optional(),
  /** Configured abuse contact; null when unknown (look it up in RDAP/WHOIS before sending). */
  email: z.string().nullable(),
  share: z.number().min(0).max(1),
});
export type ReportRecipient = z.infer<typeof ReportRecipient>;

export const ReportFormat = z.enum(['xarf', 'arf']);
export const ReportQuery = z.object({ format: ReportFormat.default('xarf'), to: z.string().optional() });
