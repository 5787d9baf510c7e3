import { z } from 'zod';
import { FeedHealth } from './feeds.js';
import { Direction, Incident, IncidentKind, IncidentStatus } from './incident.js';

export const FlowProtocol = z.enum(['netflow-v5', 'netflow-v9', 'ipfix', 'sflow-v5']);
export type FlowProtocol = z.infer<typeof FlowProtocol>;

export const ExporterHealth = z.object({
  address: z.string(),
  protocol: FlowProtocol,
  lastSeen: z.string(),
  datagrams: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  decodeErrors: z.number().int().nonnegative(),
  sequenceGaps: z.number().int().nonnegative(),
  /** Decode errors split by reason, e.g. { truncated: 3, "unknown-template": 12 }. */
  errorsByReason: z.record(z.string(), z.number().int().nonnegative()).optional(),
  templates: z.number().int().nonnegative().optional(),
  /**
   * sFlow only: flow samples the agent says it dropped (over its sample budget, e.g. under a
   * flood). Downstream scales the samples that follow to make up for them; many of them mean
   * the agent's sampling rate is too low for the traffic.
   */
  sampleDrops: z.number().int().nonnegative().optional(),
});
export type ExporterHealth = z.infer<typeof ExporterHealth>;

export const Health = z.object({
  status: z.literal('ok'),
  version: z.string(),
  uptime: z.number().nonnegative(),
  exporters: z.array(ExporterHealth),
  feeds: z.array(FeedHealth).optional(),
});
export type Health = z.infer<typeof Health>;

export const IncidentListQuery = z.object({
  status: IncidentStatus.optional(),
  kind: IncidentKind.optional(),
  direction: Direction.optional(),
  since: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type IncidentListQuery = z.infer<typeof IncidentListQuery>;

export const IncidentList = z.object({ incidents: z.array(Incident) });
export type IncidentList = z.infer<typeof IncidentList>;

/** Every API error: `{ error, details }`, details naming the offending field where there is one. */
export const ApiError = z.object({
  error: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ApiError = z.infer<typeof ApiError>;

/** POST /api/incidents/:id/{ack,resolve} body (optional). */
export const IncidentActionBody = z.strictObject({ note: z.string().trim().min(1).max(10_000).optional() });
export type IncidentActionBody = z.infer<typeof IncidentActionBody>;

/** POST /api/incidents/:id/notes body. */
export const NoteBody = z.strictObject({ text: z.string().trim().min(1, 'text must not be empty').max(10_000) });
export type NoteBody = z.infer<typeof NoteBody>;
