import type { Incident } from '@downstream/shared';
import type { IncidentStore } from '../incidents/index.js';

/** Statuses only people (and the actions module acting for them) set; detection never does. */
const OPERATOR_STATUSES: readonly Incident['status'][] = ['acknowledged', 'mitigating'];

/**
 * What an API process wrote to an incident a detect process holds in memory must survive that
 * process's next save: an operator's ack, the actions module's "mitigating", every note. The
 * detect process's copy wins for what it measures (traffic, sources, lastSeen); the stored copy
 * wins for status when a person set it while detection still calls the incident open, and notes
 * are the union of both. Detection's own transitions (quiet → resolved, a reopen) still apply.
 */
export function mergeOperatorState(ours: Incident, stored: Incident | undefined): Incident {
  if (!stored) return ours;
  const keep = ours.status === 'open' && OPERATOR_STATUSES.includes(stored.status);
  const seen = new Set(ours.notes.map((n) => `${n.at}|${n.by}|${n.text}`));
  const extra = stored.notes.filter((n) => !seen.has(`${n.at}|${n.by}|${n.text}`));
  if (!keep && extra.length === 0) return ours;
  return {
    ...ours,
    ...(keep ? { status: stored.status } : {}),
    notes: [...ours.notes, ...extra].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)),
  };
}

/**
 * The store as a detect process's incident manager sees it: every save first reads the stored
 * row and keeps what operators wrote there (mergeOperatorState). A read before each write costs
 * one indexed lookup per changed incident per second; an operator action landing between the
 * read and the write (milliseconds) can still be overwritten, and is seen again by the API
 * process's change feed as a status change — what a transaction in the store would close.
 */
export function keepingOperatorState(store: IncidentStore): IncidentStore {
  return {
    getIncident: (id) => store.getIncident(id),
    listIncidents: (q) => store.listIncidents(q),
    appendAudit: (e) => store.appendAudit(e),
    recordAbuse: (rows) => store.recordAbuse(rows),
    async upsertIncident(inc) {
      await store.upsertIncident(mergeOperatorState(inc, await store.getIncident(inc.id)));
    },
  };
}
