import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Incident, IncidentKind, RemediationEntry, RemediationStatus } from '@downstream/shared';
import Database from 'better-sqlite3';

/**
 * Actions' own SQLite file (remediation list and mitigations), separate from the incident store
 * so it can be backed up, inspected and kept independently of incident retention.
 */
export function openActionsDb(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // Processes of one box may share the file (storage.path): wait for another's lock, do not fail.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS remediation (
      id INTEGER PRIMARY KEY,
      customer TEXT NOT NULL,
      ip TEXT NOT NULL,
      kinds TEXT NOT NULL,
      incidents TEXT NOT NULL,
      evidence TEXT NOT NULL,
      packets REAL NOT NULL,
      bytes REAL NOT NULL,
      first_seen INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      status TEXT NOT NULL,
      status_at INTEGER NOT NULL,
      status_by TEXT,
      note TEXT,
      recurred INTEGER NOT NULL DEFAULT 0,
      UNIQUE (customer, ip)
    );
    CREATE INDEX IF NOT EXISTS remediation_status ON remediation (status, customer);
    CREATE TABLE IF NOT EXISTS mitigations (
      id INTEGER PRIMARY KEY,
      incident_id TEXT NOT NULL,
      type TEXT NOT NULL,
      prefix TEXT NOT NULL,
      announce TEXT NOT NULL,
      withdraw TEXT NOT NULL,
      announced_at INTEGER NOT NULL,
      announced_by TEXT NOT NULL,
      withdrawn_at INTEGER,
      withdrawn_by TEXT
    );
    CREATE INDEX IF NOT EXISTS mitigations_incident ON mitigations (incident_id);
  `);
  return db;
}

interface Row {
  id: number;
  customer: string;
  ip: string;
  kinds: string;
  incidents: string;
  evidence: string;
  packets: number;
  bytes: number;
  first_seen: number;
  last_seen: number;
  status: RemediationStatus;
  status_at: number;
  status_by: string | null;
  note: string | null;
  recurred: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const MAX_INCIDENTS_PER_ENTRY = 50;

function toEntry(r: Row): RemediationEntry {
  return {
    id: r.id,
    customer: r.customer,
    ip: r.ip,
    kinds: JSON.parse(r.kinds) as IncidentKind[],
    incidents: JSON.parse(r.incidents) as string[],
    evidence: r.evidence,
    packets: r.packets,
    bytes: r.bytes,
    firstSeen: iso(r.first_seen),
    lastSeen: iso(r.last_seen),
    status: r.status,
    statusAt: iso(r.status_at),
    statusBy: r.status_by,
    note: r.note,
    recurred: r.recurred === 1,
  };
}

/**
 * Allowed moves: open → notified → remediated (skipping notified when fixed at once), and back to
 * open to reopen. A remediated endpoint is not "notified" again without being reopened first.
 */
const ALLOWED: Record<RemediationStatus, RemediationStatus[]> = {
  open: ['notified', 'remediated'],
  notified: ['remediated', 'open'],
  remediated: ['open'],
};

export class RemediationTransitionError extends Error {}

/**
 * The customer remediation list (RFC 6561 spirit): one row per infected customer endpoint, fed
 * by outbound incidents, with evidence, first/last seen and an operator-driven status.
 */
export class RemediationList {
  private readonly getRow: Database.Statement<[string, string], Row>;
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.getRow = db.prepare('SELECT * FROM remediation WHERE customer = ? AND ip = ?');
    this.insert = db.prepare(
      `INSERT INTO remediation (customer, ip, kinds, incidents, evidence, packets, bytes, first_seen, last_seen, status, status_at)
       VALUES (@customer, @ip, @kinds, @incidents, @evidence, @packets, @bytes, @first, @last, 'open', @first)`,
    );
    this.update = db.prepare(
      `UPDATE remediation SET kinds = @kinds, incidents = @incidents, evidence = @evidence, packets = @packets,
       bytes = @bytes, first_seen = @first, last_seen = @last, status = @status, status_at = @status_at,
       status_by = @status_by, recurred = @recurred WHERE id = @id`,
    );
  }

  /**
   * Record the customer endpoints of an outbound incident. An endpoint marked remediated that
   * shows up again with newer traffic goes back to open, flagged as recurred.
   */
  recordIncident(incident: Incident): number {
    if (incident.direction !== 'outbound') return 0;
    const first = Date.parse(incident.firstSeen);
    const last = Date.parse(incident.lastSeen);
    const evidence = incident.evidence.summary ?? `${incident.kind} (${incident.detectors.join(', ')})`;
    let n = 0;
    const run = this.db.transaction(() => {
      for (const s of incident.sources.top) {
        if (!s.customer) continue;
        n++;
        const cur = this.getRow.get(s.customer, s.ip);
        if (!cur) {
          this.insert.run({
            customer: s.customer,
            ip: s.ip,
            kinds: JSON.stringify([incident.kind]),
            incidents: JSON.stringify([incident.id]),
            evidence,
            packets: s.packets,
            bytes: s.bytes,
            first,
            last,
          });
          continue;
        }
        const kinds = JSON.parse(cur.kinds) as string[];
        if (!kinds.includes(incident.kind)) kinds.push(incident.kind);
        const incidents = JSON.parse(cur.incidents) as string[];
        const isNewIncident = !incidents.includes(incident.id);
        if (isNewIncident) incidents.push(incident.id);
        while (incidents.length > MAX_INCIDENTS_PER_ENTRY) incidents.shift();
        const recurs = cur.status === 'remediated' && last > cur.status_at;
        this.update.run({
          id: cur.id,
          kinds: JSON.stringify(kinds),
          incidents: JSON.stringify(incidents),
          evidence,
          // Per-incident counts are cumulative within an incident; across incidents they add up.
          packets: isNewIncident ? cur.packets + s.packets : Math.max(cur.packets, s.packets),
          bytes: isNewIncident ? cur.bytes + s.bytes : Math.max(cur.bytes, s.bytes),
          first: Math.min(cur.first_seen, first),
          last: Math.max(cur.last_seen, last),
          status: recurs ? 'open' : cur.status,
          status_at: recurs ? last : cur.status_at,
          status_by: recurs ? 'system (seen again)' : cur.status_by,
          recurred: recurs ? 1 : cur.recurred,
        });
      }
    });
    run();
    return n;
  }

  list(q: { customer?: string; status?: RemediationStatus; limit?: number } = {}): RemediationEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.customer) {
      where.push('customer = ?');
      args.push(q.customer);
    }
    if (q.status) {
      where.push('status = ?');
      args.push(q.status);
    }
    const sql = `SELECT * FROM remediation ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY customer, last_seen DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit ?? 10_000) as Row[]).map(toEntry);
  }

  /** Per customer: how many endpoints are open, notified, remediated (the work list at a glance). */
  summary(): { customer: string; open: number; notified: number; remediated: number; lastSeen: string }[] {
    const rows = this.db
      .prepare(
        `SELECT customer, SUM(status = 'open') AS open, SUM(status = 'notified') AS notified,
         SUM(status = 'remediated') AS remediated, MAX(last_seen) AS last
         FROM remediation GROUP BY customer ORDER BY open DESC, notified DESC, customer`,
      )
      .all() as { customer: string; open: number; notified: number; remediated: number; last: number }[];
    return rows.map((r) => ({
      customer: r.customer,
      open: r.open,
      notified: r.notified,
      remediated: r.remediated,
      lastSeen: iso(r.last),
    }));
  }

  get(id: number): RemediationEntry | undefined {
    const r = this.db.prepare('SELECT * FROM remediation WHERE id = ?').get(id) as Row | undefined;
    return r ? toEntry(r) : undefined;
  }

  setStatus(
    id: number,
    status: RemediationStatus,
    by: string,
    note?: string,
    now = Date.now(),
  ): RemediationEntry | undefined {
    const cur = this.get(id);
    if (!cur) return undefined;
    if (cur.status !== status && !ALLOWED[cur.status].includes(status)) {
      throw new RemediationTransitionError(`cannot move from ${cur.status} to ${status}`);
    }
    this.db
      .prepare('UPDATE remediation SET status = ?, status_at = ?, status_by = ?, note = COALESCE(?, note) WHERE id = ?')
      .run(status, now, by, note ?? null, id);
    return this.get(id);
  }

  /** CSV for the customer-care call list. */
  csv(q: { customer?: string; status?: RemediationStatus } = {}): string {
    const esc = (v: unknown): string => {
      const s = v === null || v === undefined ? '' : String(v);
      // A leading =,+,-,@ would run as a formula in a spreadsheet: quote it with a '.
      const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
      return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
    };
    const head =
      'id,customer,ip,kinds,incidents,evidence,packets,bytes,first_seen,last_seen,status,status_at,status_by,recurred,note';
    const rows = this.list({ ...q, limit: 1_000_000 }).map((e) =>
      [
        e.id,
        e.customer,
        e.ip,
        e.kinds.join(' '),
        e.incidents.join(' '),
        e.evidence,
        e.packets,
        e.bytes,
        e.firstSeen,
        e.lastSeen,
        e.status,
        e.statusAt,
        e.statusBy,
        e.recurred ? 'yes' : 'no',
        e.note,
      ]
        .map(esc)
        .join(','),
    );
    return `${[head, ...rows].join('\r\n')}\r\n`;
  }
}
