import type { Incident, RemediationEntry, RemediationEvent, RemediationStatus } from '@downstream/shared';
import type Database from 'better-sqlite3';
import type { AuditRecord } from '../context.js';
import type { RemediationList } from './remediation.js';

export const DAY_MS = 86_400_000;

/**
 * The history of every remediation entry, kept by SQLite triggers on the remediation table so
 * that every status change is recorded whoever makes it (the operator's POST, the notifier that
 * moves a row to `notified`, a reopen by a new incident) without each writer having to remember.
 * Recurrences, reopens and complaints are written by RemediationWatch and the complaint desk.
 */
export function installRemediationHistory(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS remediation_events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      entry_id INTEGER NOT NULL,
      at INTEGER NOT NULL,
      kind TEXT NOT NULL,
      from_status TEXT,
      to_status TEXT,
      by TEXT,
      detail TEXT,
      incident_id TEXT
    );
    CREATE INDEX IF NOT EXISTS remediation_events_entry ON remediation_events (entry_id, seq);
    CREATE TRIGGER IF NOT EXISTS remediation_history_insert AFTER INSERT ON remediation BEGIN
      INSERT INTO remediation_events (entry_id, at, kind, from_status, to_status, by)
      VALUES (new.id, new.status_at, 'status', NULL, new.status, COALESCE(new.status_by, 'system'));
    END;
    CREATE TRIGGER IF NOT EXISTS remediation_history_status AFTER UPDATE OF status ON remediation
    WHEN old.status IS NOT new.status BEGIN
      INSERT INTO remediation_events (entry_id, at, kind, from_status, to_status, by, detail)
      VALUES (new.id, new.status_at, 'status', old.status, new.status, new.status_by,
              CASE WHEN new.note IS NOT old.note THEN new.note END);
    END;
  `);
  // Entries written before the history existed: what is known of them (created; current status).
  db.exec(`
    INSERT INTO remediation_events (entry_id, at, kind, from_status, to_status, by)
      SELECT id, first_seen, 'status', NULL, 'open', 'system' FROM remediation r
      WHERE NOT EXISTS (SELECT 1 FROM remediation_events e WHERE e.entry_id = r.id);
    INSERT INTO remediation_events (entry_id, at, kind, from_status, to_status, by)
      SELECT id, status_at, 'status', 'open', status, status_by FROM remediation r
      WHERE status != 'open' AND (SELECT COUNT(*) FROM remediation_events e WHERE e.entry_id = r.id) = 1;
  `);
}

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
  db: Database.Database;
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
  private readonly rowOf: Database.Statement<
    [string, string],
    { id: number; status: RemediationStatus; status_at: number }
  >;
  private readonly insertEvent: Database.Statement;
  private readonly eventsOf: Database.Statement<[number], EventRow>;
  private readonly recurrenceCounts: Database.Statement<[string], { entry_id: number; n: number }>;
  private readonly endedUnverified: Database.Statement<
    [number],
    { id: number; customer: string; ip: string; status_at: number }
  >;
  private readonly now: () => number;

  constructor(private readonly opts: RemediationWatchOptions) {
    installRemediationHistory(opts.db);
    this.now = opts.now ?? Date.now;
    this.rowOf = opts.db.prepare('SELECT id, status, status_at FROM remediation WHERE customer = ? AND ip = ?');
    this.insertEvent = opts.db.prepare(
      `INSERT INTO remediation_events (entry_id, at, kind, from_status, to_status, by, detail, incident_id)
       VALUES (@entryId, @at, @kind, @from, @to, @by, @detail, @incidentId)`,
    );
    this.eventsOf = opts.db.prepare('SELECT * FROM remediation_events WHERE entry_id = ? ORDER BY at, seq');
    this.recurrenceCounts = opts.db.prepare(
      `SELECT entry_id, COUNT(*) AS n FROM remediation_events WHERE kind = 'recurrence'
       AND entry_id IN (SELECT value FROM json_each(?)) GROUP BY entry_id`,
    );
    this.endedUnverified = opts.db.prepare(
      `SELECT id, customer, ip, status_at FROM remediation r
       WHERE status = 'remediated' AND status_at <= ?
       AND NOT EXISTS (SELECT 1 FROM remediation_events e
                       WHERE e.entry_id = r.id AND e.kind = 'verified' AND e.at >= r.status_at)`,
    );
  }

  /**
   * Entries whose watch ended (remediated at least `watchMs` ago, nothing since) are verified
   * clean: each gets a `verified` event at the end of its watch and an audit entry, once per
   * remediation. Returns how many it verified.
   */
  verifyEnded(nowMs = this.now()): number {
    const rows = this.endedUnverified.all(nowMs - this.opts.watchMs);
    for (const r of rows) {
      const at = r.status_at + this.opts.watchMs;
      const detail = `no abuse from it in the ${ageText(this.opts.watchMs)} after it was marked remediated`;
      this.insertEvent.run({
        entryId: r.id,
        at,
        kind: 'verified',
        from: null,
        to: null,
        by: 'system',
        detail,
        incidentId: null,
      });
      this.opts.audit?.({
        at: new Date(nowMs).toISOString(),
        by: 'system',
        action: 'remediation.verified',
        detail: `${r.customer} ${r.ip}: ${detail}`,
      });
    }
    return rows.length;
  }

  get watchMs(): number {
    return this.opts.watchMs;
  }

  /** RemediationList.recordIncident, plus the watch: what was remediated and is open again. */
  recordIncident(incident: Incident): number {
    if (incident.direction !== 'outbound') return 0;
    const before = new Map<number, { status: RemediationStatus; statusAt: number; customer: string; ip: string }>();
    for (const s of incident.sources.top) {
      if (!s.customer) continue;
      const r = this.rowOf.get(s.customer, s.ip);
      if (r?.status === 'remediated')
        before.set(r.id, { status: r.status, statusAt: r.status_at, customer: s.customer, ip: s.ip });
    }
    const n = this.opts.list.recordIncident(incident);
    for (const [id, b] of before) {
      const after = this.rowOf.get(b.customer, b.ip);
      if (!after || after.status !== 'open') continue;
      this.classify(id, b.customer, b.ip, b.statusAt, after.status_at, `${incident.kind} incident`, incident.id);
    }
    return n;
  }

  /**
   * Abuse from an entry's endpoint at `at` reported by someone else (a complaint): reopens a
   * remediated entry when the abuse is after the remediation. Returns what happened.
   */
  abuseReported(entryId: number, at: number, by: string, what: string): 'recurrence' | 'reopen' | 'none' {
    const e = this.opts.list.get(entryId);
    if (!e || e.status !== 'remediated') return 'none';
    const remediatedAt = Date.parse(e.statusAt);
    if (at <= remediatedAt) return 'none';
    this.opts.list.setStatus(entryId, 'open', by, undefined, at);
    // As a new incident's traffic would: the entry shows it was seen again after remediation.
    this.opts.db.prepare('UPDATE remediation SET recurred = 1 WHERE id = ?').run(entryId);
    return this.classify(entryId, e.customer, e.ip, remediatedAt, at, what, null);
  }

  private classify(
    id: number,
    customer: string,
    ip: string,
    remediatedAt: number,
    at: number,
    what: string,
    incidentId: string | null,
  ): 'recurrence' | 'reopen' {
    const after = at - remediatedAt;
    const within = after <= this.opts.watchMs;
    const kind = within ? 'recurrence' : 'reopen';
    const detail = within
      ? `${what} ${ageText(after)} after it was marked remediated (watch ${ageText(this.opts.watchMs)})`
      : `${what} ${ageText(after)} after it was marked remediated, after the watch ended: a new case`;
    this.insertEvent.run({ entryId: id, at, kind, from: 'remediated', to: 'open', by: 'system', detail, incidentId });
    this.opts.audit?.({
      at: new Date(this.now()).toISOString(),
      by: 'system',
      action: `remediation.${kind}`,
      ...(incidentId ? { incidentId } : {}),
      detail: `${customer} ${ip}: ${detail}`,
    });
    return kind;
  }

  /** Record that a complaint was attached to an entry (its history shows it). */
  complaintAttached(entryId: number, at: number, detail: string, incidentId: string | null): void {
    this.insertEvent.run({
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
  decorate(entries: RemediationEntry[], complaints?: Map<number, number>): RemediationEntry[] {
    if (entries.length === 0) return entries;
    const counts = new Map(
      this.recurrenceCounts.all(JSON.stringify(entries.map((e) => e.id))).map((r) => [r.entry_id, r.n]),
    );
    return entries.map((e) => ({
      ...e,
      recurrences: counts.get(e.id) ?? 0,
      watch: this.watchOf(e),
      ...(complaints ? { complaints: complaints.get(e.id) ?? 0 } : {}),
    }));
  }

  history(entryId: number): StoredRemediationEvent[] {
    return this.eventsOf.all(entryId).map(toEvent);
  }

  /** Every entry's events (for the metrics), oldest first per entry. */
  allEvents(): StoredRemediationEvent[] {
    return (
      this.opts.db.prepare('SELECT * FROM remediation_events ORDER BY entry_id, at, seq').all() as EventRow[]
    ).map(toEvent);
  }
}
