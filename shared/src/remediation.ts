import { z } from 'zod';
import { RemediationEntry, RemediationStatus } from './feeds.js';
import { BytesByKind } from './history.js';
import { Direction, IncidentKind, Timestamp } from './incident.js';

/*
 * Closing the loop on remediation (README, Configuration: `actions.remediation.watch_days`,
 * `feeds.complaints`): the watch after an endpoint is marked remediated,
 * remediation metrics per customer and downstream, complaints other networks send (ARF, X-ARF),
 * and the downstream report card.
 */

/** One line of a remediation entry's history, oldest first. */
export const RemediationEvent = z.object({
  at: Timestamp,
  /**
   * `status`: the entry moved (`from` null when it was created); `recurrence`: abuse again within
   * the watch after it was marked remediated; `reopen`: abuse again after the watch had ended;
   * `complaint`: an abuse report about the endpoint was attached; `verified`: the watch after it
   * was marked remediated ended with no abuse from it (verified clean).
   */
  kind: z.enum(['status', 'recurrence', 'reopen', 'complaint', 'verified']),
  from: RemediationStatus.nullable(),
  to: RemediationStatus.nullable(),
  by: z.string().nullable(),
  detail: z.string().nullable(),
  incidentId: z.string().nullable(),
});
export type RemediationEvent = z.infer<typeof RemediationEvent>;

/** `GET /api/remediation/:id/history` */
export const RemediationHistory = z.object({
  entry: RemediationEntry,
  events: z.array(RemediationEvent),
});
export type RemediationHistory = z.infer<typeof RemediationHistory>;

/** Durations in milliseconds over `n` cases; null when there is none. */
export const DurationStats = z.object({
  n: z.number().int().nonnegative(),
  median: z.number().nonnegative().nullable(),
  p90: z.number().nonnegative().nullable(),
});
export type DurationStats = z.infer<typeof DurationStats>;

export const RemediationMetrics = z.object({
  name: z.string(),
  /** Cases (an endpoint opened, or reopened after a remediation) that began in the range. */
  cases: z.number().int().nonnegative(),
  notified: z.number().int().nonnegative(),
  remediated: z.number().int().nonnegative(),
  /** Opened (abuse first seen) → first notified. */
  timeToNotify: DurationStats,
  /** Opened → marked remediated. */
  timeToRemediate: DurationStats,
  /** Remediations followed by abuse within the watch period. */
  recurrences: z.number().int().nonnegative(),
  /** Remediations whose watch ended with no abuse. */
  verified: z.number().int().nonnegative(),
  /** Remediations still being watched (outcome not known yet). */
  watching: z.number().int().nonnegative(),
  /** recurrences / (recurrences + verified); null before any watch has ended. */
  recurrenceRate: z.number().min(0).max(1).nullable(),
});
export type RemediationMetrics = z.infer<typeof RemediationMetrics>;

/** `GET /api/remediation/trends` — per customer network and per downstream. */
export const RemediationTrends = z.object({
  from: Timestamp,
  to: Timestamp,
  /** actions.remediation.watch_days, in days. */
  watchDays: z.number().positive(),
  total: RemediationMetrics,
  customers: z.array(RemediationMetrics.extend({ downstream: z.string().nullable() })),
  downstreams: z.array(RemediationMetrics.extend({ customers: z.array(z.string()) })),
});
export type RemediationTrends = z.infer<typeof RemediationTrends>;

export const ComplaintFormat = z.enum(['arf', 'xarf-0.2', 'xarf-3']);
export type ComplaintFormat = z.infer<typeof ComplaintFormat>;

/** An abuse report another network sent us, parsed and matched to our evidence. */
export const Complaint = z.object({
  id: z.number().int(),
  receivedAt: Timestamp,
  via: z.enum(['http', 'maildir']),
  format: ComplaintFormat,
  /** Who sent it (X-ARF Reported-From / ReporterOrgEmail, the mail's From). */
  reporter: z.string().nullable(),
  /** What they report: ARF Feedback-Type, X-ARF Report-Type / ReportType (spam, login-attack, DDoS…). */
  type: z.string(),
  /** The address they complain about. */
  ip: z.string(),
  /** When the abuse happened, as they say. */
  reportedAt: Timestamp,
  subject: z.string().nullable(),
  summary: z.string(),
  direction: Direction,
  /** Incidents this complaint is attached to (matched evidence, or the external one it opened). */
  incidents: z.array(z.string()),
  remediation: z.array(z.number().int()),
  /** Downstream saw nothing: the complaint opened an `external` incident. */
  opened: z.string().nullable(),
});
export type Complaint = z.infer<typeof Complaint>;

export const ComplaintList = z.object({ complaints: z.array(Complaint) });
export type ComplaintList = z.infer<typeof ComplaintList>;

/** `POST /api/feeds/complaints` answer. */
export const ComplaintResult = z.object({
  complaint: Complaint,
  /** The same report (Message-ID, Report-ID or content) was received before. */
  duplicate: z.boolean(),
  /** Incidents with flow evidence for that address and time. */
  matched: z.number().int().nonnegative(),
});
export type ComplaintResult = z.infer<typeof ComplaintResult>;

export const ReportCardRow = z.object({
  name: z.string(),
  /** Customers: the downstream they belong to; downstreams: null. */
  downstream: z.string().nullable(),
  /** Downstreams: their customer networks; customers: [name]. */
  customers: z.array(z.string()),
  /** Outbound abusive bytes per day (one value per `days` entry). */
  abusePerDay: z.array(z.number().nonnegative()),
  abuseBytes: z.number().nonnegative(),
  abuseByKind: BytesByKind,
  /** Endpoints on the remediation list now, by status. */
  endpoints: z.object({
    open: z.number().int().nonnegative(),
    notified: z.number().int().nonnegative(),
    remediated: z.number().int().nonnegative(),
  }),
  /** Endpoints marked remediated within the range. */
  remediatedInRange: z.number().int().nonnegative(),
  timeToRemediate: DurationStats,
  recurrenceRate: z.number().min(0).max(1).nullable(),
  complaints: z.number().int().nonnegative(),
});
export type ReportCardRow = z.infer<typeof ReportCardRow>;

/** `GET /api/report-card` (and `.csv`): what each downstream sends upstream and how fast it is cleaned. */
export const ReportCard = z.object({
  from: Timestamp,
  to: Timestamp,
  /** UTC day starts; `abusePerDay` has one value per day. */
  days: z.array(Timestamp),
  kinds: z.array(IncidentKind),
  customers: z.array(ReportCardRow),
  downstreams: z.array(ReportCardRow),
});
export type ReportCard = z.infer<typeof ReportCard>;
