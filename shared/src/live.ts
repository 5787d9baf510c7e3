import { z } from 'zod';
import { Incident, IncidentKind, Timestamp, TimelinePoint } from './incident.js';

/** socket.io `summary` (≤ 1 Hz): the header and wall numbers. */
export const Summary = z.object({
  at: Timestamp,
  flowsPerSecond: z.number().nonnegative(),
  packetsPerSecond: z.number().nonnegative(),
  bitsPerSecond: z.number().nonnegative(),
  activeIncidents: z.number().int().nonnegative(),
  byKind: z.record(IncidentKind, z.number().int().nonnegative()),
  inbound: z.number().int().nonnegative(),
  outbound: z.number().int().nonnegative(),
  exporters: z.number().int().nonnegative(),
});
export type Summary = z.infer<typeof Summary>;

/** The consistent view a client gets on every (re)connect. */
export const Snapshot = z.object({
  summary: Summary,
  incidents: z.array(Incident),
  /** Monotonic revision: deltas with rev ≤ this are already contained. */
  rev: z.number().int().nonnegative(),
});
export type Snapshot = z.infer<typeof Snapshot>;

export const IncidentUpsert = z.object({ rev: z.number().int().nonnegative(), incident: Incident });
export type IncidentUpsert = z.infer<typeof IncidentUpsert>;

export const IncidentResolved = z.object({ rev: z.number().int().nonnegative(), id: z.string(), at: Timestamp });
export type IncidentResolved = z.infer<typeof IncidentResolved>;

export const SubscribeRequest = z.object({ incident: z.string().min(1) });
export type SubscribeRequest = z.infer<typeof SubscribeRequest>;

export const IncidentSeries = z.object({ id: z.string(), points: z.array(TimelinePoint) });

/**
 * Answer to `subscribe` / `unsubscribe` (socket.io acknowledgement): `{ ok: true }`, or
 * `{ ok: false, error, details }` when the request was malformed or over the per-socket limit.
 * After a successful `subscribe` the socket receives `incident:series` (IncidentSeries, JSON)
 * and `incident:graph` (GraphFrame: binary columns, layout in graph-frame.ts) at once, then
 * again as the incident changes (each at most about once a second).
 */
export const SubscribeAck = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({
    ok: z.literal(false),
    error: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
]);
export type SubscribeAck = z.infer<typeof SubscribeAck>;
export type IncidentSeries = z.infer<typeof IncidentSeries>;

/** Socket event names, one place so server and client cannot drift. */
export const LiveEvents = {
  summary: 'summary',
  snapshot: 'snapshot',
  upsert: 'incident:upsert',
  resolved: 'incident:resolved',
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  series: 'incident:series',
  /** Binary GraphFrame, see graph-frame.ts. */
  graph: 'incident:graph',
} as const;
export const LIVE_NAMESPACE = '/live';
