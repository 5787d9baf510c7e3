import type { Incident, IncidentListQuery } from '@downstream/shared';
import type { AbuseRollupRow, AuditEntry } from '../context.js';
import type { IncidentStore } from './manager.js';

/** A Store in memory: for tests and benchmarks of the incident manager (the real one is SQLite). */
export class MemoryStore implements IncidentStore {
  readonly incidents = new Map<string, Incident>();
  readonly audit: AuditEntry[] = [];
  readonly rollups: AbuseRollupRow[] = [];
  upserts = 0;

  upsertIncident(incident: Incident): void {
    this.upserts++;
    this.incidents.set(incident.id, structuredClone(incident));
  }
  getIncident(id: string): Incident | undefined {
    const i = this.incidents.get(id);
    return i ? structuredClone(i) : undefined;
  }
  listIncidents(q: IncidentListQuery): Incident[] {
    return [...this.incidents.values()]
      .filter(
        (i) =>
          (!q.status || i.status === q.status) &&
          (!q.kind || i.kind === q.kind) &&
          (!q.direction || i.direction === q.direction) &&
          (!q.since || i.lastSeen >= q.since),
      )
      .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : -1))
      .slice(0, q.limit ?? 100)
      .map((i) => structuredClone(i));
  }
  appendAudit(entry: AuditEntry): void {
    this.audit.push(entry);
  }
  listAudit(incidentId: string): AuditEntry[] {
    return this.audit.filter((a) => a.incidentId === incidentId);
  }
  recordAbuse(rows: AbuseRollupRow[]): void {
    this.rollups.push(...rows);
  }
}
