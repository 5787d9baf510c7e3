import { z } from 'zod';
import { Incident, IncidentKind, Timestamp } from './incident.js';
import { SubscriberBinding } from './subscribers.js';

/**
 * History REST responses (server/src/api/history.ts): heatmaps, trends, scorecards, drill-downs
 * over the stored per-minute rollups (hourly beyond 7 days, daily for long steps).
 *
 * Query conventions shared by every history endpoint:
 * - `from`, `to`: ISO-8601 with offset (`2026-11-24T10:00:00Z`) or epoch milliseconds
 *   (`1795552200000`); the range is [from, to).
 * - `step`: a positive whole number of minutes, hours or days: `1m`, `5m`, `1h`, `6h`, `1d`.
 *   Buckets are aligned to multiples of the step since the epoch (UTC days for `1d`). Steps under
 *   an hour need `from` within the last 7 days (older minute rows are folded to hourly).
 */

export const HistoryResolution = z.enum(['minute', 'hour', 'day']);
export type HistoryResolution = z.infer<typeof HistoryResolution>;

export const TrafficTotals = z.object({
  packets: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  flows: z.number().nonnegative(),
});
export type TrafficTotals = z.infer<typeof TrafficTotals>;

/** Bytes of abusive traffic per incident kind. */
export const BytesByKind = z.partialRecord(IncidentKind, z.number().nonnegative());

/**
 * The part of a response's range that holds the demo's simulated history (backfilled on the first
 * start, see `demo --no-history`), or null when none of it does: the UI marks such data.
 */
export const SimulatedSpan = z.object({ from: Timestamp, to: Timestamp }).nullable();
export type SimulatedSpan = z.infer<typeof SimulatedSpan>;

/** The time axis every series response shares. */
export const SeriesAxis = z.object({
  from: Timestamp,
  to: Timestamp,
  step: z.string(),
  stepMs: z.number().int().positive(),
  /** Which rollup granularity answered. */
  resolution: HistoryResolution,
  /** Bucket starts; every series array below has one value per bucket. */
  buckets: z.array(Timestamp),
  kind: IncidentKind.optional(),
  simulated: SimulatedSpan.optional(),
});
export type SeriesAxis = z.infer<typeof SeriesAxis>;

/** One row or line of a series response: totals over the range plus per-bucket values. */
export const SeriesValues = z.object({
  total: TrafficTotals,
  byKind: BytesByKind,
  packets: z.array(z.number().nonnegative()),
  bytes: z.array(z.number().nonnegative()),
  flows: z.array(z.number().nonnegative()),
  /** Start of the last minute (hour, beyond 7 days) with abusive traffic in the range. */
  lastSeen: Timestamp.nullable(),
});

/** GET /api/asns/heatmap — source ASN × time matrix, top ASNs by bytes first. */
export const AsnHeatmap = SeriesAxis.extend({
  rows: z.array(SeriesValues.extend({ asn: z.number().int().nonnegative(), name: z.string() })),
});
export type AsnHeatmap = z.infer<typeof AsnHeatmap>;

/** GET /api/upstreams/trends — abusive traffic per upstream/peer link over time. */
export const UpstreamTrends = SeriesAxis.extend({
  upstreams: z.array(
    SeriesValues.extend({
      name: z.string(),
      /** From the site config's links, when the name is one of them. */
      role: z.enum(['upstream', 'peer', 'customer']).optional(),
      asn: z.number().int().nonnegative().optional(),
    }),
  ),
});
export type UpstreamTrends = z.infer<typeof UpstreamTrends>;

export const IncidentCounts = z.object({
  total: z.number().int().nonnegative(),
  /** Not yet resolved (open, acknowledged, mitigating). */
  active: z.number().int().nonnegative(),
  byKind: z.partialRecord(IncidentKind, z.number().int().nonnegative()),
});
export type IncidentCounts = z.infer<typeof IncidentCounts>;

/** GET /api/customers — the scorecard: who among our customers is involved in abuse. */
export const CustomerScorecard = z.object({
  from: Timestamp,
  to: Timestamp,
  simulated: SimulatedSpan.optional(),
  customers: z.array(
    z.object({
      name: z.string(),
      /** From the site config; empty for a customer known only from stored data. */
      prefixes: z.array(z.string()),
      /** Distinct customer endpoints with abusive traffic or named by an incident in the range. */
      endpoints: z.number().int().nonnegative(),
      incidents: IncidentCounts,
      traffic: TrafficTotals,
      byKind: BytesByKind,
      lastSeen: Timestamp.nullable(),
    }),
  ),
});
export type CustomerScorecard = z.infer<typeof CustomerScorecard>;

export const RollupEntry = z.object({
  /** Minute (or hour) start. */
  t: Timestamp,
  resolution: z.enum(['minute', 'hour']),
  kind: IncidentKind,
  packets: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  flows: z.number().nonnegative(),
});
export type RollupEntry = z.infer<typeof RollupEntry>;

/** GET /api/endpoints/:ip — every incident and rollup for one address. */
export const EndpointHistory = z.object({
  ip: z.string(),
  asn: z.number().int().nonnegative(),
  asName: z.string(),
  country: z.string(),
  customer: z.string().optional(),
  from: Timestamp,
  to: Timestamp,
  simulated: SimulatedSpan.optional(),
  total: TrafficTotals,
  byKind: BytesByKind,
  /** Newest first, at most `limit` (default 100); `sources.top` trimmed to 20 entries. */
  incidents: z.array(Incident),
  /** Newest first: minute rows for the last 7 days, hourly before; at most 10,000. */
  rollups: z.array(RollupEntry),
  /** Who held the address during the range (RADIUS sessions, DHCP leases), newest first. */
  subscribers: z.array(SubscriberBinding).optional(),
});
export type EndpointHistory = z.infer<typeof EndpointHistory>;

/** GET /api/asns/:asn — one source ASN: its series, incidents and the links it came in on. */
export const AsnHistory = z.object({
  asn: z.number().int().nonnegative(),
  name: z.string(),
  series: SeriesAxis.extend(SeriesValues.shape),
  /** Newest first, at most `limit` (default 100); `sources.top` trimmed to 20 entries. */
  incidents: z.array(Incident),
});
export type AsnHistory = z.infer<typeof AsnHistory>;
