import { z } from 'zod';
import { MitigationType, RemediationStatus } from './feeds.js';
import { IncidentStatus, Timestamp } from './incident.js';
import { WalledGardenAction } from './subscribers.js';

/**
 * Every `action` an audit entry can carry — the one vocabulary the incident manager, the
 * mitigation and remediation services, the API and the web's audit trail share.
 */
export const IncidentAuditAction = z.enum(['ack', 'mitigate', 'resolve', 'reopen', 'note']);
export type IncidentAuditAction = z.infer<typeof IncidentAuditAction>;

export const AuditAction = z.union([
  IncidentAuditAction,
  z.templateLiteral(['mitigation.', z.enum(['announce', 'withdraw']), '.', MitigationType]),
  z.templateLiteral(['remediation.', RemediationStatus]),
  z.enum(['subscriber.notice', 'subscriber.notice-failed']),
  z.templateLiteral(['walled-garden.', WalledGardenAction]),
  z.templateLiteral(['walled-garden.', WalledGardenAction, '-', z.enum(['nak', 'timeout', 'error'])]),
  // Verified remediation: abuse again within the watch (recurrence) or after it (reopen), or
  // the watch ended with none (verified).
  z.templateLiteral(['remediation.', z.enum(['recurrence', 'reopen', 'verified'])]),
  // An abuse report from another network attached to the incident (feeds/complaint-desk.ts).
  z.literal('complaint'),
]);
export type AuditAction = z.infer<typeof AuditAction>;

/** What a status change is recorded as (`open` is only ever reached by re-opening). */
export const STATUS_AUDIT_ACTION = {
  acknowledged: 'ack',
  mitigating: 'mitigate',
  resolved: 'resolve',
  open: 'reopen',
} as const satisfies Record<IncidentStatus, IncidentAuditAction>;

const INCIDENT_ACTION_WORDS: Record<IncidentAuditAction, string> = {
  ack: 'acknowledged',
  resolve: 'resolved',
  mitigate: 'marked mitigating',
  reopen: 'reopened',
  note: 'noted',
};

/**
 * How the audit trail reads an action: `mitigation.announce.rtbh` → "announced RTBH", statuses
 * as verbs. Anything else (an entry written by a later server) reads as itself.
 */
export function auditActionLabel(action: string): string {
  const m = /^mitigation\.(announce|withdraw)\.(\w+)$/.exec(action);
  if (m) return `${m[1] === 'announce' ? 'announced' : 'withdrew'} ${m[2] === 'rtbh' ? 'RTBH' : 'FlowSpec'}`;
  if (action === 'remediation.recurrence') return 'saw an endpoint again within its remediation watch';
  if (action === 'remediation.reopen') return 'reopened an endpoint after its remediation watch';
  if (action === 'remediation.verified') return 'verified an endpoint clean: no abuse during its remediation watch';
  if (action === 'complaint') return 'received a complaint';
  const r = /^remediation\.(\w+)$/.exec(action);
  if (r) return `marked an endpoint ${r[1]}`;
  if (action === 'subscriber.notice') return 'sent an abuse notice';
  if (action === 'subscriber.notice-failed') return 'failed to send an abuse notice';
  const w = /^walled-garden\.(hold|release)(?:-(\w+))?$/.exec(action);
  // A NAK or timeout means the BNG did not do it: say "tried", never "held" / "released".
  if (w && w[2])
    return `tried to ${w[1] === 'hold' ? 'hold the subscriber in' : 'release the subscriber from'} the walled garden (${w[2]})`;
  if (w)
    return w[1] === 'hold'
      ? 'held the subscriber in the walled garden'
      : 'released the subscriber from the walled garden';
  const incident = IncidentAuditAction.safeParse(action);
  return incident.success ? INCIDENT_ACTION_WORDS[incident.data] : action;
}

/**
 * One line of an incident's audit trail (`GET /api/incidents/:id/audit`), oldest first.
 * `action` is an {@link AuditAction}; it is read back as text so that a row written by a later
 * server still lists. `by` is the token name, `system` or `auto`; `detail` the note or the
 * announced/withdrawn rule.
 */
export const AuditEntry = z.object({
  at: Timestamp,
  by: z.string(),
  action: z.string(),
  incidentId: z.string().optional(),
  detail: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** An entry as the server writes it: the action is always one of {@link AuditAction}. */
export type AuditRecord = Omit<AuditEntry, 'action'> & { action: AuditAction };

export const AuditList = z.object({ entries: z.array(AuditEntry) });
export type AuditList = z.infer<typeof AuditList>;
