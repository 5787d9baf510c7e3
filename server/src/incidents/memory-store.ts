import type { Incident, IncidentListQuery } from '@downstream/shared';
import type { AbuseRollupRow, AuditRecord, ChangedIncident } from '../store/types.js';
import type { IncidentStore } from './manager.js';

/**
 * The incident part of the Store in memory: for tests and benchmarks of the incident manager
 * (the real ones are SQLite and PostgreSQL). Passes the incident and audit sections of
 * store/store-conformance.ts.
 */
export class MemoryStore implements IncidentStore {
  readonly incidents = new Map<string, Incident>();
  readonly audit: AuditRecord[] = [];
  readonly rollups: AbuseRollupRow[] = [];
  private readonly changed = new Map<string, number>();
  private lastChange = 0;
  upserts = 0;

  async upsertIncident(incident: Incident): Promise<void> {
    this.upserts++;
    this.incidents.set(incident.id, structuredClone(incident));
    // Re-inserted so Map order is change order.
    this.changed.delete(incident.id);
    this.lastChange = Math.max(Date.now(), this.lastChange + 1);
    this.changed.set(incident.id, this.lastChange);
  }
  async getIncident(id: string): Promise<Incident | undefined> {
    return this.getSync(id);
  }
  /** For tests that inspect what was stored without awaiting. */
  getSync(id: string): Incident | undefined {
    const i = this.incidents.get(id);
    return i ? structuredClone(i) : undefined;
  }
  async listIncidents(q: IncidentListQuery): Promise<Incident[]> {
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
  async incidentsChangedSince(sinceMs: number, limit = 500): Promise<ChangedIncident[]> {
    const out: ChangedIncident[] = [];
    for (const [id, at] of this.changed) {
      if (at <= sinceMs) continue;
      out.push({ ...structuredClone(this.incidents.get(id)!), changedAt: at });
      if (out.length >= limit) break;
    }
    return out;
  }
  async appendAudit(entry: AuditRecord): Promise<void> {
    this.audit.push(entry);
  }
  async listAudit(incidentId: string): Promise<AuditRecord[]> {
    return this.listAuditSync(incidentId);
  }
  listAuditSync(incidentId: string): AuditRecord[] {
    return this.audit.filter((a) => a.incidentId === incidentId);
  }
  recordAbuse(rows: AbuseRollupRow[]): void {
    this.rollups.push(...rows);
  }

  /** The rows as a store keeps them: those of the same minute, kind, dimension and key added up. */
  summedRollups(): AbuseRollupRow[] {
    const by = new Map<string, AbuseRollupRow>();
    for (const r of this.rollups) {
      const k = `${r.minute}|${r.kind}|${r.dimension}|${r.key}`;
      const s = by.get(k);
      if (s) {
        s.packets += r.packets;
        s.bytes += r.bytes;
        s.flows += r.flows;
      } else by.set(k, { ...r });
    }
    return [...by.values()];
  }
}
