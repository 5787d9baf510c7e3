import type { Incident, RemediationEntry, RemediationEvent, RemediationStatus } from '@downstream/shared';
import type { AuditRecord } from '../context.js';
import { placeholders, type SqlDb, type SqlRunner } from '../store/sql-db.js';
import type { RemediationList } from './remediation.js';

export const DAY_MS = 86_400_000;

// verifyEnded's check-then-insert runs under this transaction lock on PostgreSQL, so API
// processes verifying at once write each verification once (SQLite's write lock does the same).
const VERIFY_LOCK = 0x76657269; // 'veri'

interface EventRow {
  entry_id: number;
  at: number;
  kind: RemediationEvent['kind'];
  from_status: RemediationStatus | null;
  to_status: RemediationStatus | null;
  by: string | null;
  detail: string | null;
  incident_id: string | null;
}

export interface StoredRemediationEvent {
  entryId: number;
  at: number;
  kind: RemediationEvent['kind'];
  from: RemediationStatus | null;
  to: RemediationStatus | null;
  by: string | null;
  detail: string | null;
  incidentId: string | null;
}

const toEvent = (r: EventRow): StoredRemediationEvent => ({
  entryId: r.entry_id,
  at: r.at,
  kind: r.kind,
  from: r.from_status,
  to: r.to_status,
  by: r.by,
  detail: r.detail,
  incidentId: r.incident_id,
});

export interface RemediationWatchOptions {
  list: RemediationList;
  /** actions.remediation.watch_days in ms. */
  watchMs: number;
  /** Where recurrences are audited (the incident store's trail); none in unit tests. */
  audit?: (e: AuditRecord) => Promise<void> | void;
  now?: () => number;
}

function ageText(ms: number): string {
  if (ms >= DAY_MS) return `${(ms / DAY_MS).toFixed(1)} d`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${Math.round(ms / 60_000)} min`;
}

/**
 * Verified remediation: an endpoint marked remediated is watched for `watchMs`. Abuse from it in
 * that time (a new outbound incident naming it, or a complaint about it) reopens the entry as a
 * recurrence, audited and counted; abuse after the watch ended reopens it as a new case. An
 * entry whose watch ends quietly is verified clean: `verifyEnded` writes that to its history and
 * the audit trail once.
 */
export class RemediationWatch {
  private readonly now: () => number;
  private readonly db: SqlDb;

  constructor(private readonly opts: RemediationWatchOptions) {
    this.now = opts.now ?? Date.now;
    this.db = opts.list.db;
  }

  private async insertEvent(
    q: SqlRunner,
    e: {
      entryId: number;
      at: number;
      kind: RemediationEvent['kind'];
      from: RemediationStatus | null;
      to: RemediationStatus | null;
      by: string;
      detail: string;
      incidentId: string | null;
    },
  ): Promise<void> {
    await q.run(
      `INSERT INTO remediation_events (entry_id, at, kind, from_status, to_status, by, detail, incident_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [e.entryId, e.at, e.kind, e.from, e.to, e.by, e.detail, e.incidentId],
    );
  }

  private audit(records: AuditRecord[]): void {
    for (const r of records) void this.opts.audit?.(r);
  }

  /**
   * Entries whose watch ended (remediated at least `watchMs` ago, nothing since) are verified
   * clean: each gets a `verified` event at the end of its watch and an audit entry, once per
   * remediation. Returns how many it verified.
   */
  async verifyEnded(nowMs = this.now()): Promise<number> {
    const audits: AuditRecord[] = [];
    const n = await this.db.tx(async (q) => {
      if (q.dialect === 'pg') await q.run('SELECT pg_advisory_xact_lock($1)', [VERIFY_LOCK]);
      const rows = await q.all<{ id: number; customer: string; ip: string; status_at: number }>(
        `SELECT id, customer, ip, status_at FROM remediation r
         WHERE status = 'remediated' AND status_at <= $1
         AND NOT EXISTS (SELECT 1 FROM remediation_events e
                         WHERE e.entry_id = r.id AND e.kind = 'verified' AND e.at >= r.status_at)
         ORDER BY id`,
        [nowMs - this.opts.watchMs],
      );
      for (const r of rows) {
        const at = r.status_at + this.opts.watchMs;
        const detail = `no abuse from it in the ${ageText(this.opts.watchMs)} after it was marked remediated`;
        await this.insertEvent(q, {
          entryId: r.id,
          at,
          kind: 'verified',
          from: null,
          to: null,
          by: 'system',
          detail,
          incidentId: null,
        });
        audits.push({
          at: new Date(nowMs).toISOString(),
          by: 'system',
          action: 'remediation.verified',
          detail: `${r.customer} ${r.ip}: ${detail}`,
        });
      }
      return rows.length;
    });
    this.audit(audits);
    return n;
  }

  get watchMs(): number {
    return this.opts.watchMs;
  }

  /** RemediationList.recordIncident, plus the watch: what was remediated and is open again. */
  async recordIncident(incident: Incident): Promise<number> {
    const audits: AuditRecord[] = [];
    const n = await this.opts.list.recordIncident(incident, async (q, reopened) => {
      for (const r of reopened)
        audits.push(
          await this.classify(
            q,
            r.id,
            r.customer,
            r.ip,
            r.remediatedAt,
            r.at,
            `${incident.kind} incident`,
            incident.id,
          ),
        );
    });
    this.audit(audits);
    return n;
  }

  /**
   * Abuse from an entry's endpoint at `at` reported by someone else (a complaint): reopens a
   * remediated entry when the abuse is after the remediation. Returns what happened.
   */
  async abuseReported(
    entryId: number,
    at: number,
    by: string,
    what: string,
  ): Promise<'recurrence' | 'reopen' | 'none'> {
    const audits: AuditRecord[] = [];
    const kind = await this.db.tx((q) => this.abuseReportedIn(q, audits, entryId, at, by, what));
    this.audit(audits);
    return kind;
  }

  /** abuseReported in the caller's transaction; the audit entries to write once it commits go to `audits`. */
  async abuseReportedIn(
    q: SqlRunner,
    audits: AuditRecord[],
    entryId: number,
    at: number,
    by: string,
    what: string,
  ): Promise<'recurrence' | 'reopen' | 'none'> {
    const cur = await q.get<{ status: RemediationStatus }>('SELECT status FROM remediation WHERE id = $1 FOR UPDATE', [
      entryId,
    ]);
    if (cur?.status !== 'remediated') return 'none';
    const e = (await this.opts.list.get(entryId, q))!;
    const remediatedAt = Date.parse(e.statusAt);
    if (at <= remediatedAt) return 'none';
    await this.opts.list.setStatus(entryId, 'open', by, undefined, at, q);
    // As a new incident's traffic would: the entry shows it was seen again after remediation.
    await this.opts.list.markRecurred(entryId, q);
    const audit = await this.classify(q, entryId, e.customer, e.ip, remediatedAt, at, what, null);
    audits.push(audit);
    return audit.action === 'remediation.recurrence' ? 'recurrence' : 'reopen';
  }

  private async classify(
    q: SqlRunner,
    id: number,
    customer: string,
    ip: string,
    remediatedAt: number,
    at: number,
    what: string,
    incidentId: string | null,
  ): Promise<AuditRecord> {
    const after = at - remediatedAt;
    const within = after <= this.opts.watchMs;
    const kind = within ? 'recurrence' : 'reopen';
    const detail = within
      ? `${what} ${ageText(after)} after it was marked remediated (watch ${ageText(this.opts.watchMs)})`
      : `${what} ${ageText(after)} after it was marked remediated, after the watch ended: a new case`;
    await this.insertEvent(q, {
      entryId: id,
      at,
      kind,
      from: 'remediated',
      to: 'open',
      by: 'system',
      detail,
      incidentId,
    });
    return {
      at: new Date(this.now()).toISOString(),
      by: 'system',
      action: `remediation.${kind}`,
      ...(incidentId ? { incidentId } : {}),
      detail: `${customer} ${ip}: ${detail}`,
    };
  }

  /** Record that a complaint was attached to an entry (its history shows it). */
  async complaintAttached(
    entryId: number,
    at: number,
    detail: string,
    incidentId: string | null,
    q: SqlRunner = this.db,
  ): Promise<void> {
    await this.insertEvent(q, {
      entryId,
      at,
      kind: 'complaint',
      from: null,
      to: null,
      by: 'complaints',
      detail,
      incidentId,
    });
  }

  watchOf(e: Pick<RemediationEntry, 'status' | 'statusAt'>): RemediationEntry['watch'] {
    if (e.status !== 'remediated') return null;
    const until = Date.parse(e.statusAt) + this.opts.watchMs;
    return { state: this.now() < until ? 'watching' : 'verified', until: new Date(until).toISOString() };
  }

  /** Entries with their recurrence count and watch state. */
  async decorate(entries: RemediationEntry[], complaints?: Map<number, number>): Promise<RemediationEntry[]> {
    if (entries.length === 0) return entries;
    const counts = new Map<number, number>();
    // In slices: both engines cap the parameters of one statement.
    for (let i = 0; i < entries.length; i += 1000) {
      const ids = entries.slice(i, i + 1000).map((e) => e.id);
      const rows = await this.db.all<{ entry_id: number; n: number }>(
        `SELECT entry_id, COUNT(*) AS n FROM remediation_events WHERE kind = 'recurrence'
         AND entry_id IN (${placeholders(ids.length)}) GROUP BY entry_id`,
        ids,
      );
      for (const r of rows) counts.set(r.entry_id, r.n);
    }
    return entries.map((e) => ({
      ...e,
      recurrences: counts.get(e.id) ?? 0,
      watch: this.watchOf(e),
      ...(complaints ? { complaints: complaints.get(e.id) ?? 0 } : {}),
    }));
  }

  async history(entryId: number): Promise<StoredRemediationEvent[]> {
    return (
      await this.db.all<EventRow>('SELECT * FROM remediation_events WHERE entry_id = $1 ORDER BY at, seq', [entryId])
    ).map(toEvent);
  }

  /** Every entry's events (for the metrics), oldest first per entry. */
  async allEvents(): Promise<StoredRemediationEvent[]> {
    return (await this.db.all<EventRow>('SELECT * FROM remediation_events ORDER BY entry_id, at, seq')).map(toEvent);
  }
}
