import type {
  AuditAction,
  Incident,
  RemediationEntry,
  RemediationSubscriber,
  SubscriberBinding,
  SubscriberContact,
  SubscriberNotice,
  WalledGardenAction,
  WalledGardenStep,
} from '@downstream/shared';
import type Database from 'better-sqlite3';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import type { AppContext } from '../context.js';
import { migrate } from '../store/migrations.js';
import type { SubscribersConfig } from '../subscribers/config.js';
import type { Actions } from './actions.js';
import { sendDynamicAuth, type DynamicAuthRequest } from './coa.js';
import { renderNotice } from './notice-templates.js';
import { NoticeMailer } from './notify.js';
import type { RemediationList } from './remediation.js';

/** Notices and walled-garden steps, in the actions database beside the remediation rows they act on. */
const MIGRATIONS = [
  `CREATE TABLE subscriber_notices (
     id INTEGER PRIMARY KEY,
     remediation_id INTEGER NOT NULL,
     at_ms INTEGER NOT NULL,
     by TEXT NOT NULL,
     subscriber TEXT NOT NULL,
     recipient TEXT NOT NULL,
     subject TEXT NOT NULL,
     message_id TEXT,
     result TEXT NOT NULL,
     error TEXT
   );
   CREATE INDEX subscriber_notices_row ON subscriber_notices (remediation_id, id);
   CREATE TABLE walled_garden_steps (
     id INTEGER PRIMARY KEY,
     remediation_id INTEGER NOT NULL,
     action TEXT NOT NULL,
     at_ms INTEGER NOT NULL,
     by TEXT NOT NULL,
     request TEXT NOT NULL,
     nas TEXT NOT NULL,
     subscriber TEXT NOT NULL,
     session TEXT,
     result TEXT NOT NULL,
     detail TEXT
   );
   CREATE INDEX walled_garden_steps_row ON walled_garden_steps (remediation_id, id);`,
];

/** How often one incident's endpoints are checked for automatic notices / holds while it is active. */
const AUTO_EVERY_MS = 5000;

export class SubscriberActionError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409 | 502,
    readonly path: string,
  ) {
    super(message);
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

interface NoticeRow {
  id: number;
  remediation_id: number;
  at_ms: number;
  by: string;
  subscriber: string;
  recipient: string;
  subject: string;
  message_id: string | null;
  result: 'sent' | 'failed';
  error: string | null;
}
interface StepRow {
  id: number;
  remediation_id: number;
  action: WalledGardenAction;
  at_ms: number;
  by: string;
  request: DynamicAuthRequest;
  nas: string;
  subscriber: string;
  session: string | null;
  result: WalledGardenStep['result'];
  detail: string | null;
}

const toNotice = (r: NoticeRow): SubscriberNotice => ({
  id: r.id,
  remediationId: r.remediation_id,
  at: iso(r.at_ms),
  by: r.by,
  subscriber: r.subscriber,
  to: r.recipient,
  subject: r.subject,
  messageId: r.message_id,
  result: r.result,
  error: r.error,
});
const toStep = (r: StepRow): WalledGardenStep => ({
  id: r.id,
  remediationId: r.remediation_id,
  action: r.action,
  at: iso(r.at_ms),
  by: r.by,
  request: r.request,
  nas: r.nas,
  subscriber: r.subscriber,
  session: r.session,
  result: r.result,
  detail: r.detail,
});

/**
 * Telling the subscriber who held an infected endpoint's address (e-mail notice per abuse kind)
 * and, where configured, holding their session in the walled garden with RFC 5176 CoA /
 * Disconnect-Request. Every step lands in the audit trail; a sent notice moves the remediation row
 * to `notified`. Nothing happens to a subscriber automatically unless `subscribers.notify.auto` or
 * `subscribers.walled_garden.auto` says so.
 */
export class SubscriberActions {
  private readonly db: Database.Database;
  private readonly remediation: RemediationList;
  private readonly cfg: SubscribersConfig;
  private readonly log: Logger;
  private mailer?: NoticeMailer;
  private readonly lastAuto = new Map<string, number>();
  /** Rows an automatic notice / hold was tried for (once each until the process restarts). */
  private readonly autoTried = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly now: () => number;
  private readonly onUpsert = (i: Incident): void => this.auto(i);

  /**
   * `automatic`: whether this process runs the automatic notices and holds the config asks for.
   * Only one role does (`all`, or the detect role that owns the incidents); an API process
   * serves the operator's buttons and would otherwise send each notice once more.
   */
  constructor(
    private readonly ctx: AppContext,
    actions: Actions,
    { automatic = true, now = Date.now }: { automatic?: boolean; now?: () => number } = {},
  ) {
    this.now = now;
    this.db = actions.db;
    this.remediation = actions.remediation;
    this.cfg = ctx.config.subscribers;
    this.log = ctx.logger.child({ module: 'subscriber-actions' });
    migrate(this.db, 'subscriber-actions', MIGRATIONS);
    if (automatic && (this.cfg.notify.auto.enabled || this.cfg.walled_garden.auto.enabled))
      ctx.incidents.on('upsert', this.onUpsert);
  }

  get canNotify(): boolean {
    return this.cfg.notify.enabled && this.ctx.subscribers !== undefined;
  }

  get canWalledGarden(): boolean {
    return this.cfg.walled_garden.enabled && this.ctx.subscribers !== undefined;
  }

  private entry(id: number): RemediationEntry {
    const e = this.remediation.get(id);
    if (!e) throw new SubscriberActionError(`no remediation entry ${id}`, 404, 'params.id');
    return e;
  }

  /** Who held the row's address at its last abuse (else while its abuse lasted). */
  binding(e: RemediationEntry): SubscriberBinding | undefined {
    return this.ctx.subscribers?.holder(e.ip, Date.parse(e.firstSeen), Date.parse(e.lastSeen));
  }

  private notices(id: number): SubscriberNotice[] {
    return (
      this.db
        .prepare('SELECT * FROM subscriber_notices WHERE remediation_id = ? ORDER BY id DESC LIMIT 50')
        .all(id) as NoticeRow[]
    ).map(toNotice);
  }

  private steps(id: number): WalledGardenStep[] {
    return (
      this.db
        .prepare('SELECT * FROM walled_garden_steps WHERE remediation_id = ? ORDER BY id DESC LIMIT 50')
        .all(id) as StepRow[]
    ).map(toStep);
  }

  private lastAck(id: number): StepRow | undefined {
    return this.db
      .prepare("SELECT * FROM walled_garden_steps WHERE remediation_id = ? AND result = 'ack' ORDER BY id DESC LIMIT 1")
      .get(id) as StepRow | undefined;
  }

  /** The row with the subscriber who held its address, the last notice and the walled-garden state. */
  annotate(e: RemediationEntry): RemediationEntry {
    const b = this.binding(e);
    const last = this.db
      .prepare("SELECT MAX(at_ms) AS at FROM subscriber_notices WHERE remediation_id = ? AND result = 'sent'")
      .get(e.id) as { at: number | null };
    const ack = this.lastAck(e.id);
    return {
      ...e,
      ...(b ? { subscriber: b } : {}),
      ...(last.at !== null ? { lastNotice: iso(last.at) } : {}),
      ...(ack ? { walledGarden: ack.action === 'hold' ? ('held' as const) : ('released' as const) } : {}),
    };
  }

  async state(id: number): Promise<RemediationSubscriber> {
    const e = this.entry(id);
    const b = this.binding(e) ?? null;
    let contact: SubscriberContact | null = null;
    if (b) {
      try {
        contact = (await this.ctx.subscribers?.contact(b.subscriber)) ?? null;
      } catch (err) {
        this.log.warn({ err: (err as Error).message, subscriber: b.subscriber }, 'subscriber contact lookup failed');
      }
    }
    const ack = this.lastAck(id);
    return {
      binding: b,
      contact,
      notices: this.notices(id),
      walledGarden: { held: ack?.action === 'hold', steps: this.steps(id) },
      canNotify: this.canNotify,
      canWalledGarden: this.canWalledGarden,
    };
  }

  private audit(e: RemediationEntry, by: string, action: AuditAction, detail: string): Promise<void> {
    return this.ctx.store.appendAudit({
      at: iso(this.now()),
      by,
      action,
      // On the row's latest incident, so the notice shows in that incident's audit trail too.
      incidentId: e.incidents[e.incidents.length - 1],
      detail: `${e.customer} ${e.ip} — ${detail}`,
    });
  }

  /** E-mail the abuse notice to the subscriber who held the row's address; moves the row to notified. */
  async notify(id: number, by: string, opts: { to?: string; note?: string } = {}): Promise<SubscriberNotice> {
    if (!this.cfg.notify.enabled)
      throw new SubscriberActionError('subscriber notices are not enabled (subscribers.notify.enabled)', 409, 'notify');
    const e = this.entry(id);
    if (e.status === 'remediated')
      throw new SubscriberActionError('the endpoint is marked remediated: reopen it before notifying', 409, 'status');
    const b = this.binding(e);
    if (!b)
      throw new SubscriberActionError(
        `nobody is known to have held ${e.ip} between ${e.firstSeen} and ${e.lastSeen} (no RADIUS session or DHCP lease)`,
        409,
        'subscriber',
      );
    let contact: SubscriberContact | null = null;
    try {
      contact = (await this.ctx.subscribers?.contact(b.subscriber)) ?? null;
    } catch (err) {
      if (!opts.to)
        throw new SubscriberActionError(
          `contact lookup for ${b.subscriber} failed: ${(err as Error).message}`,
          502,
          'contact',
        );
    }
    const to = opts.to ?? contact?.email;
    if (!to) throw new SubscriberActionError(`no e-mail address known for subscriber ${b.subscriber}`, 409, 'contact');
    const reference = `REM-${e.id}`;
    const n = this.cfg.notify;
    const msg = renderNotice({
      org: n.org,
      reference,
      subscriberName: contact?.name,
      subscriber: b.subscriber,
      ip: e.ip,
      kinds: e.kinds,
      // Only the abuse while this subscriber held the address: a row can outlive a re-assignment.
      firstSeen: Date.parse(b.from) > Date.parse(e.firstSeen) ? b.from : e.firstSeen,
      lastSeen: e.lastSeen,
      evidence: e.evidence,
      packets: e.packets,
      bytes: e.bytes,
      help: { url: n.help.url, phone: n.help.phone, email: n.help.email ?? n.reply_to ?? n.from },
    });
    this.mailer ??= new NoticeMailer(n);
    let messageId: string | null = null;
    let error: string | null = null;
    try {
      messageId = (await this.mailer.send({ to, subject: msg.subject, text: msg.text, reference })).messageId;
    } catch (err) {
      error = (err as Error).message;
    }
    const at = this.now();
    const row = this.db
      .prepare(
        `INSERT INTO subscriber_notices (remediation_id, at_ms, by, subscriber, recipient, subject, message_id, result, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(e.id, at, by, b.subscriber, to, msg.subject, messageId, error ? 'failed' : 'sent', error) as NoticeRow;
    if (error) {
      await this.audit(e, by, 'subscriber.notice-failed', `notice to ${b.subscriber} <${to}> failed: ${error}`);
      throw new SubscriberActionError(`SMTP: ${error}`, 502, 'smtp');
    }
    await this.audit(
      e,
      by,
      'subscriber.notice',
      `notice "${msg.subject}" sent to ${b.subscriber} <${to}>${messageId ? ` (${messageId})` : ''}${opts.note ? `: ${opts.note}` : ''}`,
    );
    if (e.status === 'open') {
      this.remediation.setStatus(e.id, 'notified', by, opts.note ?? `notice sent to ${to}`, at);
      await this.audit(e, by, 'remediation.notified', 'moved to notified: abuse notice sent');
    }
    return toNotice(row);
  }

  private target(nas: string): { host: string; port: number; secret: string } | undefined {
    const w = this.cfg.walled_garden;
    const o = w.nas[nas];
    const secret = o?.secret ?? w.secret;
    if (!secret) return undefined;
    return { host: o?.host ?? nas, port: o?.port ?? w.port, secret };
  }

  /** CoA / Disconnect-Request to the BNG holding the subscriber's session: hold in or release from the walled garden. */
  async walledGarden(id: number, action: WalledGardenAction, by: string, note?: string): Promise<WalledGardenStep> {
    const w = this.cfg.walled_garden;
    if (!w.enabled)
      throw new SubscriberActionError(
        'the walled garden is not configured (subscribers.walled_garden)',
        409,
        'walled_garden',
      );
    const e = this.entry(id);
    // The subscriber who held the address at the abuse, wherever they are connected now: their
    // address may have changed since, and the one at the abuse may belong to someone else.
    const who = action === 'hold' ? this.binding(e)?.subscriber : this.lastAck(e.id)?.subscriber;
    if (!who)
      throw new SubscriberActionError(
        action === 'hold'
          ? `no subscriber known for ${e.ip} at its abuse`
          : 'the endpoint was never held in the walled garden',
        409,
        'subscriber',
      );
    const open = this.ctx.subscribers?.openSessions(who) ?? [];
    const held = action === 'release' ? this.lastAck(e.id) : undefined;
    // Releasing a session the BNG already ended is still sent: its NAK (or ACK) is the record.
    const b = open[0] ?? (held ? { subscriber: held.subscriber, session: held.session, nas: held.nas } : undefined);
    if (!b || !b.session || !b.nas)
      throw new SubscriberActionError(
        `${who} has no open RADIUS session now (a DHCP lease or an ended session cannot be changed on the BNG)`,
        409,
        'subscriber',
      );
    const target = this.target(b.nas);
    if (!target) throw new SubscriberActionError(`no CoA secret for NAS ${b.nas}`, 409, 'walled_garden.nas');
    const spec = action === 'hold' ? w.hold : w.release;
    const request: DynamicAuthRequest = spec.request === 'disconnect' ? 'Disconnect-Request' : 'CoA-Request';
    // RFC 5176 §3: identify the NAS and the session; the policy change comes from the config.
    const attrs: [string, string | number][] = [];
    if (ipaddr.IPv4.isValidFourPartDecimal(b.nas)) attrs.push(['NAS-IP-Address', b.nas]);
    attrs.push(['User-Name', b.subscriber], ['Acct-Session-Id', b.session]);
    const framed = 'prefix' in b && typeof b.prefix === 'string' ? b.prefix.replace(/\/32$/, '') : undefined;
    if (framed && ipaddr.IPv4.isValidFourPartDecimal(framed)) attrs.push(['Framed-IP-Address', framed]);
    if (request === 'CoA-Request') for (const [k, v] of Object.entries(spec.attributes)) attrs.push([k, v]);
    const r = await sendDynamicAuth(target, request, attrs, { timeoutMs: w.timeout_ms, retries: w.retries });
    const at = this.now();
    const row = this.db
      .prepare(
        `INSERT INTO walled_garden_steps (remediation_id, action, at_ms, by, request, nas, subscriber, session, result, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(e.id, action, at, by, request, b.nas, b.subscriber, b.session, r.result, r.detail) as StepRow;
    await this.audit(
      e,
      by,
      r.result === 'ack' ? (`walled-garden.${action}` as const) : (`walled-garden.${action}-${r.result}` as const),
      `${request} for ${b.subscriber} session ${b.session} to ${target.host}:${target.port}: ${r.result}${r.detail ? ` (${r.detail})` : ''}${note ? ` — ${note}` : ''}`,
    );
    return toStep(row);
  }

  /** Automatic notices / holds for new remediation rows, only as configured. */
  private auto(incident: Incident): void {
    if (incident.direction !== 'outbound') return;
    const t = this.now();
    if (t - (this.lastAuto.get(incident.id) ?? 0) < AUTO_EVERY_MS) return;
    this.lastAuto.set(incident.id, t);
    const n = this.cfg.notify.auto;
    const w = this.cfg.walled_garden.auto;
    const wantNotice = this.canNotify && n.enabled && (!n.kinds || n.kinds.includes(incident.kind));
    const wantHold = this.canWalledGarden && w.enabled && (!w.kinds || w.kinds.includes(incident.kind));
    if (!wantNotice && !wantHold) return;
    const customers = new Set(incident.sources.top.filter((s) => s.customer).map((s) => s.customer!));
    for (const customer of customers) {
      const ips = new Set(incident.sources.top.filter((s) => s.customer === customer).map((s) => s.ip));
      for (const e of this.remediation.list({ customer, status: 'open' })) {
        if (!ips.has(e.ip)) continue;
        if (wantNotice && !this.autoTried.has(`n${e.id}`)) {
          this.autoTried.add(`n${e.id}`);
          this.track(
            this.notify(e.id, 'auto').catch((err: Error) =>
              this.log.warn({ id: e.id, err: err.message }, 'automatic notice not sent'),
            ),
          );
        }
        if (wantHold && !this.autoTried.has(`w${e.id}`)) {
          this.autoTried.add(`w${e.id}`);
          this.track(
            this.walledGarden(e.id, 'hold', 'auto', 'automatic (subscribers.walled_garden.auto)').catch((err: Error) =>
              this.log.warn({ id: e.id, err: err.message }, 'automatic walled-garden hold not done'),
            ),
          );
        }
      }
    }
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Wait for automatic actions under way (tests, shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    this.ctx.incidents.off('upsert', this.onUpsert);
    await this.drain();
    this.mailer?.close();
  }
}
