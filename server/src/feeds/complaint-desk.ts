import { mkdirSync } from 'node:fs';
import { readdir, rename, stat, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Complaint, ComplaintResult, DetectionEvent, Incident } from '@downstream/shared';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { RemediationList } from '../actions/remediation.js';
import type { RemediationWatch } from '../actions/remediation-watch.js';
import type { Actions } from '../actions/actions.js';
import type { AppContext, AuditRecord, IncidentManager, Store } from '../context.js';
import { ComplaintParseError, parseComplaint, type ParsedComplaint } from './complaints.js';
import type { FeedChannel } from './feed-hub.js';
import { makeIsOurs, type Feeds } from './feeds.js';
import { buildSources, type Lookup } from './sources.js';

/** The complaint feed is over its rate: try again later (HTTP 429; the maildir keeps the file). */
export class ComplaintRateLimited extends Error {}

export interface ComplaintDeskDeps {
  /** The actions database (remediation list): complaints live beside the entries they name. */
  db: Database.Database;
  store: Pick<Store, 'incidentsFor' | 'appendAudit'>;
  incidents: Pick<IncidentManager, 'on' | 'off' | 'get'>;
  /** feeds' `complaints` channel: dedup, rate limit, health; its sink is the incident manager. */
  channel: FeedChannel;
  lookup: Lookup;
  isOurs: (ip: string) => boolean;
  list: RemediationList;
  watch: RemediationWatch;
  /** feeds.complaints.match_window_minutes in ms. */
  windowMs: number;
  logger?: Logger;
  now?: () => number;
}

interface Row {
  id: number;
  received_at: number;
  via: Complaint['via'];
  format: Complaint['format'];
  reporter: string | null;
  type: string;
  ip: string;
  customer: string | null;
  reported_at: number;
  subject: string | null;
  summary: string;
  direction: Complaint['direction'];
  incidents: string;
  remediation: string;
  opened: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const toComplaint = (r: Row): Complaint => ({
  id: r.id,
  receivedAt: iso(r.received_at),
  via: r.via,
  format: r.format,
  reporter: r.reporter,
  type: r.type,
  ip: r.ip,
  reportedAt: iso(r.reported_at),
  subject: r.subject,
  summary: r.summary,
  direction: r.direction,
  incidents: JSON.parse(r.incidents) as string[],
  remediation: JSON.parse(r.remediation) as number[],
  opened: r.opened,
});

/** Allowed clock skew for a reported time in the future. */
const MAX_SKEW_MS = 5 * 60_000;

/**
 * Complaints others send: parsed (complaints.ts), matched to the flow evidence for that address
 * and time (incidents naming the address as target or source, active within the match window of
 * the reported time), attached to those incidents (audit trail) and to the remediation entries
 * of the address (history; a remediated endpoint complained about again is a recurrence). When
 * Downstream saw nothing, the complaint opens an `external` incident through the feed channel.
 */
export class ComplaintDesk {
  private readonly now: () => number;

  constructor(private readonly deps: ComplaintDeskDeps) {
    this.now = deps.now ?? Date.now;
    deps.db.exec(`
      CREATE TABLE IF NOT EXISTS complaints (
        id INTEGER PRIMARY KEY,
        dedup_key TEXT NOT NULL UNIQUE,
        received_at INTEGER NOT NULL,
        via TEXT NOT NULL,
        format TEXT NOT NULL,
        reporter TEXT,
        type TEXT NOT NULL,
        ip TEXT NOT NULL,
        customer TEXT,
        reported_at INTEGER NOT NULL,
        subject TEXT,
        summary TEXT NOT NULL,
        direction TEXT NOT NULL,
        incidents TEXT NOT NULL,
        remediation TEXT NOT NULL,
        opened TEXT
      );
      CREATE INDEX IF NOT EXISTS complaints_ip ON complaints (ip, reported_at);
      CREATE INDEX IF NOT EXISTS complaints_received ON complaints (received_at);
    `);
  }

  /** Parse, match, attach; throws ComplaintParseError (400) or ComplaintRateLimited (429). */
  async receive(body: Buffer, contentType: string, via: Complaint['via']): Promise<ComplaintResult> {
    let c: ParsedComplaint;
    try {
      c = await parseComplaint(body, contentType);
    } catch (err) {
      if (err instanceof ComplaintParseError)
        this.deps.channel.error(`${err.message}: ${err.details.map((d) => `${d.path}: ${d.message}`).join('; ')}`);
      throw err;
    }
    // Before the duplicate check: from there to the insert nothing awaits, so two copies of one
    // report arriving at once cannot both pass it.
    const matched = await this.match(c.ip, c.reportedAt);
    const now = this.now();
    const dup = this.deps.db.prepare('SELECT * FROM complaints WHERE dedup_key = ?').get(c.dedupKey) as Row | undefined;
    if (dup) {
      this.deps.channel.record('duplicate');
      return { complaint: toComplaint(dup), duplicate: true, matched: (JSON.parse(dup.incidents) as string[]).length };
    }
    if (c.reportedAt > now + MAX_SKEW_MS) {
      const err = new ComplaintParseError('report is dated in the future', [
        { path: 'date', message: `${iso(c.reportedAt)} is after now (${iso(now)}): clock skew?` },
      ]);
      this.deps.channel.error(err.details[0]!.message);
      throw err;
    }
    const info = this.deps.lookup(c.ip);
    const ours = this.deps.isOurs(c.ip);
    if (matched.length === 0 && !ours) {
      const err = new ComplaintParseError('the reported address is not ours', [
        {
          path: 'source',
          message: `${c.ip} is in no network.customers prefix and no incident names it around ${iso(c.reportedAt)}`,
        },
      ]);
      this.deps.channel.error(err.details[0]!.message);
      throw err;
    }
    let opened: string | null = null;
    // Opening an incident goes through the channel (counted there); attaching is counted here.
    if (matched.length === 0) opened = this.openExternal(c);
    else this.deps.channel.record('accepted');

    const detail = `${c.format} ${c.type} report${c.reporter ? ` from ${c.reporter}` : ''} about ${c.ip} at ${iso(c.reportedAt)}${c.subject ? `: ${c.subject}` : ''}`;
    const incidents = opened ? [opened] : matched.map((i) => i.id);
    const entries = this.deps.db.prepare('SELECT id FROM remediation WHERE ip = ?').all(c.ip) as { id: number }[];
    const direction = ours ? 'outbound' : (matched[0]?.direction ?? 'outbound');
    const row = this.deps.db.transaction(() => {
      const r = this.deps.db
        .prepare(
          `INSERT INTO complaints (dedup_key, received_at, via, format, reporter, type, ip, customer, reported_at, subject,
           summary, direction, incidents, remediation, opened)
           VALUES (@dedup, @received, @via, @format, @reporter, @type, @ip, @customer, @reported, @subject, @summary,
           @direction, @incidents, @remediation, @opened) RETURNING *`,
        )
        .get({
          dedup: c.dedupKey,
          received: now,
          via,
          format: c.format,
          reporter: c.reporter,
          type: c.type,
          ip: c.ip,
          customer: info.customer ?? null,
          reported: c.reportedAt,
          subject: c.subject,
          summary: c.summary,
          direction,
          incidents: JSON.stringify(incidents),
          remediation: JSON.stringify(entries.map((e) => e.id)),
          opened,
        }) as Row;
      for (const e of entries) {
        this.deps.watch.complaintAttached(e.id, now, detail, incidents[0] ?? null);
        this.deps.watch.abuseReported(e.id, c.reportedAt, 'system (complaint)', `${c.type} complaint`);
      }
      return r;
    })();
    for (const id of incidents) {
      const a: AuditRecord = { at: iso(now), by: 'complaints', action: 'complaint', incidentId: id, detail };
      await this.deps.store.appendAudit(a);
    }
    this.deps.logger?.info({ complaint: row.id, ip: c.ip, format: c.format, incidents, opened }, 'complaint received');
    return { complaint: toComplaint(row), duplicate: false, matched: matched.length };
  }

  /** Incidents naming `ip` (target or source) active within the window around `at`. */
  private async match(ip: string, at: number): Promise<Incident[]> {
    const w = this.deps.windowMs;
    return (await this.deps.store.incidentsFor('endpoint', ip, 200)).filter(
      (i) => Date.parse(i.firstSeen) - w <= at && at <= Date.parse(i.lastSeen) + w,
    );
  }

  /** An `external` outbound incident for our endpoint; its id, from the manager's upsert. */
  private openExternal(c: ParsedComplaint): string | null {
    const event: DetectionEvent = {
      detector: 'complaints',
      kind: 'external',
      direction: 'outbound',
      at: iso(c.reportedAt),
      key: c.ip,
      sources: buildSources([{ ip: c.ip, packets: 0, bytes: 0 }], this.deps.lookup),
      upstreams: [],
      rate: { pps: 0, bps: 0 },
      evidence: {
        feed: 'complaints',
        summary: `${c.type} complaint${c.reporter ? ` from ${c.reporter}` : ''}; no flow evidence seen by Downstream`,
        complaint: { format: c.format, type: c.type, reporter: c.reporter, reportedAt: iso(c.reportedAt) },
      },
    };
    let id: string | null = null;
    const grab = (inc: Incident): void => {
      if (id === null && inc.detectors.includes('complaints') && inc.sources.top.some((s) => s.ip === c.ip))
        id = inc.id;
    };
    this.deps.incidents.on('upsert', grab);
    try {
      const outcome = this.deps.channel.submit(event, `complaint:${c.dedupKey}`);
      if (outcome === 'rate-limited') throw new ComplaintRateLimited('complaint feed rate limit exceeded');
    } finally {
      this.deps.incidents.off('upsert', grab);
    }
    return id;
  }

  list(q: { incident?: string; remediation?: number; ip?: string; limit?: number } = {}): Complaint[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.incident) {
      where.push('EXISTS (SELECT 1 FROM json_each(incidents) WHERE value = ?)');
      args.push(q.incident);
    }
    if (q.remediation !== undefined) {
      where.push('EXISTS (SELECT 1 FROM json_each(remediation) WHERE value = ?)');
      args.push(q.remediation);
    }
    if (q.ip) {
      where.push('ip = ?');
      args.push(q.ip);
    }
    const sql = `SELECT * FROM complaints ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at DESC, id DESC LIMIT ?`;
    return (this.deps.db.prepare(sql).all(...args, q.limit ?? 1000) as Row[]).map(toComplaint);
  }

  /** Complaints per remediation entry (the remediation view's column). */
  countsByEntry(ids: number[]): Map<number, number> {
    const rows = this.deps.db
      .prepare(
        `SELECT CAST(j.value AS INTEGER) AS id, COUNT(*) AS n FROM complaints c, json_each(c.remediation) j
         WHERE CAST(j.value AS INTEGER) IN (SELECT value FROM json_each(?)) GROUP BY j.value`,
      )
      .all(JSON.stringify(ids)) as { id: number; n: number }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  /** Complaints received in [from, to) per customer network of the reported address. */
  countsByCustomer(from: number, to: number): Map<string, number> {
    const rows = this.deps.db
      .prepare(
        `SELECT customer, COUNT(*) AS n FROM complaints WHERE customer IS NOT NULL AND received_at >= ? AND received_at < ?
         GROUP BY customer`,
      )
      .all(from, to) as { customer: string; n: number }[];
    return new Map(rows.map((r) => [r.customer, r.n]));
  }
}

export interface MaildirOptions {
  path: string;
  /** Unreadable reports go here with a `.error.txt`; default `<path>/failed`. */
  failed?: string;
  pollMs: number;
  maxBytes: number;
  handle: (body: Buffer, name: string) => Promise<unknown>;
  logger?: Logger;
}

/**
 * A maildir (new/, cur/, tmp/) the abuse mailbox delivers to. Each message in new/ is handed to
 * `handle`; done (or a duplicate), it moves to cur/ marked seen (`:2,S`); unreadable, it moves
 * to the failed folder beside a `.error.txt` saying why. A rate-limited or failing handler leaves
 * it in new/ for the next poll, so nothing delivered is lost.
 */
export class MaildirInbox {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly failed: string;

  constructor(private readonly o: MaildirOptions) {
    this.failed = o.failed ?? join(o.path, 'failed');
  }

  start(): void {
    for (const d of ['new', 'cur', 'tmp']) mkdirSync(join(this.o.path, d), { recursive: true });
    mkdirSync(this.failed, { recursive: true });
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.o.pollMs);
    this.timer.unref();
    void this.poll();
  }

  /** Process what is in new/ now (one pass at a time). */
  poll(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    const dir = join(this.o.path, 'new');
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      this.o.logger?.error({ err, dir }, 'cannot read the complaints maildir');
      return;
    }
    for (const name of names) {
      const file = join(dir, name);
      try {
        const st = await stat(file);
        if (!st.isFile()) continue;
        if (st.size > this.o.maxBytes) {
          await this.fail(
            name,
            file,
            `message is ${st.size} bytes, larger than feeds.max_body_bytes (${this.o.maxBytes})`,
          );
          continue;
        }
        await this.o.handle(await readFile(file), name);
        const base = name.includes(':2,') ? name : `${name}:2,S`;
        await rename(file, join(this.o.path, 'cur', base));
      } catch (err) {
        if (err instanceof ComplaintParseError) {
          await this.fail(
            name,
            file,
            `${err.message}\n${err.details.map((d) => `${d.path}: ${d.message}`).join('\n')}`,
          );
        } else {
          // Rate limit or a transient failure: keep it in new/ and try again next poll.
          this.o.logger?.warn({ err, file }, 'complaint left in new/ for the next poll');
        }
      }
    }
  }

  private async fail(name: string, file: string, why: string): Promise<void> {
    await rename(file, join(this.failed, name));
    await writeFile(join(this.failed, `${name}.error.txt`), `${why}\n`);
    this.o.logger?.warn({ file: join(this.failed, name), error: why.split('\n')[0] }, 'complaint rejected');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** The complaint desk of a server, and the maildir it reads when one is configured. */
export interface Complaints {
  desk: ComplaintDesk;
  inbox?: MaildirInbox;
}

/**
 * Complaints attach to the remediation rows of `actions` and count on the `complaints` channel
 * of `feeds`. Nothing runs until main/services.ts starts the inbox.
 */
export function openComplaints(ctx: AppContext, actions: Actions, feeds: Feeds): Complaints {
  const cfg = ctx.config.feeds.complaints;
  const desk = new ComplaintDesk({
    db: actions.db,
    store: ctx.store,
    incidents: ctx.incidents,
    channel: feeds.hub.channel('complaints'),
    lookup: (ip) => ctx.enricher.lookup(ip),
    isOurs: makeIsOurs(ctx.config.network.customers.flatMap((cu) => cu.prefixes)),
    list: actions.remediation,
    watch: actions.watch,
    windowMs: cfg.match_window_minutes * 60_000,
    logger: ctx.logger.child({ module: 'complaints' }),
  });
  if (!cfg.enabled || !cfg.maildir) return { desk };
  const inbox = new MaildirInbox({
    path: cfg.maildir.path,
    failed: cfg.maildir.failed,
    pollMs: cfg.maildir.poll_ms,
    maxBytes: ctx.config.feeds.max_body_bytes,
    handle: (body) => desk.receive(body, '', 'maildir'),
    logger: ctx.logger.child({ module: 'complaints-maildir' }),
  });
  return { desk, inbox };
}
