import { auditActionLabel } from '@downstream/shared';
import type { AuditEntry, Mitigation, ReportRecipient } from '@downstream/shared';

/** What the mitigation panel shows: the active rules, then the history. */
export interface MitigationState {
  active: Mitigation[];
  withdrawn: Mitigation[];
}

export function mitigationState(list: readonly Mitigation[]): MitigationState {
  const byNewest = [...list].sort((a, b) => b.announcedAt.localeCompare(a.announcedAt));
  return {
    active: byNewest.filter((m) => m.withdrawnAt === null),
    withdrawn: byNewest.filter((m) => m.withdrawnAt !== null),
  };
}

export type MitigationProblem =
  { kind: 'not-configured'; text: string } | { kind: 'refused'; text: string } | { kind: 'error'; text: string };

/**
 * The server answers 409 with a reason when it will not mitigate. "Not enabled / no pipe" is a
 * configuration matter for an admin, not something the operator did wrong: say so plainly.
 */
export function mitigationProblem(status: number, message: string): MitigationProblem {
  if (status === 409 && /not enabled|no ExaBGP pipe or command/i.test(message))
    return {
      kind: 'not-configured',
      text:
        'Mitigation is not configured on this server: an admin must set actions.mitigation.enabled ' +
        'with an ExaBGP pipe or command in the config. Nothing was announced.',
    };
  if (status === 409) return { kind: 'refused', text: `The server did not announce anything: ${message}` };
  return { kind: 'error', text: message };
}

/** Recipients with a configured contact first, then by share (the server's order within each). */
export function orderRecipients(list: readonly ReportRecipient[]): ReportRecipient[] {
  return [...list].sort((a, b) => Number(b.email !== null) - Number(a.email !== null) || b.share - a.share);
}

export function reportPath(incidentId: string, format: 'xarf' | 'arf', to?: string): string {
  const q = new URLSearchParams({ format });
  if (to) q.set('to', to);
  return `/api/incidents/${encodeURIComponent(incidentId)}/report?${q.toString()}`;
}

/** `mitigation.announce.rtbh` → "announced RTBH"; statuses read as verbs (shared/src/audit.ts). */
export const auditLabel = auditActionLabel;

/** Oldest first from the server; the page shows newest first. */
export function auditNewestFirst(entries: readonly AuditEntry[]): AuditEntry[] {
  return [...entries].reverse();
}
