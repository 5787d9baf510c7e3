import type { Incident, Mitigation, ReportRecipient } from '@downstream/shared';
import type { AppContext } from '../context.js';
import type { SqlDb } from '../store/sql-db.js';
import type { MitigationRequestParsed } from './exabgp.js';
import { Mitigator } from './mitigation.js';
import { RdapContacts } from './rdap.js';
import { RemediationList, openActionsDb } from './remediation.js';
import { DAY_MS, RemediationWatch } from './remediation-watch.js';
import { buildArf, buildXarf, recipientsFor, type ReportContext } from './reports.js';
import { WebhookNotifier } from './webhooks.js';

/** How often one incident's endpoints are written to the remediation list while it is active. */
const REMEDIATION_EVERY_MS = 5000;

const VERIFY_EVERY_MS = 60_000;

export class ReportError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404,
    readonly path: string,
  ) {
    super(message);
  }
}

export interface Report {
  recipient: ReportRecipient;
  contentType: string;
  filename: string;
  body: string;
}

/**
 * Everything Downstream does about incidents: abuse reports, the remediation list, outbound
 * webhooks and ExaBGP mitigation. Listens to the incident manager's upsert/resolved events.
 */
export class Actions {
  /** The actions database: the shared PostgreSQL store with storage.postgres, else SQLite (remediation.ts). */
  readonly db: SqlDb;
  readonly remediation: RemediationList;
  /** Verified remediation: incidents reach the list through the watch (recurrences). */
  readonly watch: RemediationWatch;
  readonly mitigator: Mitigator;
  readonly webhooks: WebhookNotifier;
  readonly rdap: RdapContacts;
  private readonly lastRecorded = new Map<string, number>();
  private readonly autoTried = new Set<string>();
  private readonly onUpsert = (i: Incident): void => this.handleUpsert(i);
  private readonly onResolved = (i: Incident): void => this.handleResolved(i);

  /**
   * `leader`: whether this process does what a cluster must do once (webhooks, automatic
   * mitigation); always in a single process, the PostgreSQL lock holder among API processes.
   * Remediation needs no leader: with storage.postgres every API process shares one list, and
   * each change (a recurrence, a verified watch) is made, and audited, by the one process whose
   * transaction made it.
   */
  constructor(
    private readonly ctx: AppContext,
    private readonly leader: () => boolean = () => true,
  ) {
    const a = ctx.config.actions;
    this.db = openActionsDb({
      postgres: ctx.config.storage.postgres,
      path: a.remediation.path,
      storagePath: ctx.config.storage.path,
      logger: ctx.logger,
    });
    this.remediation = new RemediationList(this.db);
    this.watch = new RemediationWatch({
      list: this.remediation,
      watchMs: a.remediation.watch_days * DAY_MS,
      // Recurrences are found on the detection path: written, not awaited; a failure is logged.
      audit: (e) =>
        ctx.store
          .appendAudit(e)
          .catch((err: unknown) => ctx.logger.error({ err, entry: e }, 'could not write audit entry')),
    });
    this.mitigator = new Mitigator({
      db: this.db,
      config: a.mitigation,
      store: ctx.store,
      setMitigating: (id, by, note) => ctx.incidents.setStatus(id, 'mitigating', by, note),
      logger: ctx.logger.child({ module: 'mitigation' }),
    });
    this.webhooks = new WebhookNotifier({
      hooks: a.webhooks,
      baseUrl: a.public_url,
      logger: ctx.logger.child({ module: 'webhooks' }),
      registry: ctx.registry,
    });
    this.webhooks.seed(ctx.incidents.active());
    this.rdap = new RdapContacts(this.db, a.reports.rdap, ctx.logger.child({ module: 'rdap' }));
    ctx.incidents.on('upsert', this.onUpsert);
    ctx.incidents.on('resolved', this.onResolved);
    this.reconciled = this.reconcile().catch((err: unknown) =>
      ctx.logger.error({ err }, 'mitigation reconcile at start-up failed'),
    );
    // Watches that ended quietly are verified clean: checked at start-up and every minute.
    this.verifyWatches();
    this.verifyTimer = setInterval(() => this.verifyWatches(), VERIFY_EVERY_MS);
    this.verifyTimer.unref();
  }

  private readonly verifyTimer: NodeJS.Timeout;
  /** Writes to the actions database under way (recording incidents, verifying watches): awaited at close. */
  private readonly pending = new Set<Promise<unknown>>();

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Settles when the writes started so far (incident recording, watch checks) are done (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private verifyWatches(): void {
    this.track(
      this.watch.verifyEnded().then(
        (n) => {
          if (n > 0) this.ctx.logger.info({ entries: n }, 'remediation watch ended clean');
        },
        (err: unknown) => this.ctx.logger.error({ err }, 'could not verify ended remediation watches'),
      ),
    );
  }

  private record(incident: Incident): void {
    this.track(
      this.watch
        .recordIncident(incident)
        .catch((err: unknown) => this.ctx.logger.error({ err, incident: incident.id }, 'remediation update failed')),
    );
  }

  /** Settles once start-up reconciliation has queued its withdrawals (reading incidents is async). */
  readonly reconciled: Promise<void>;

  /**
   * A blackhole must not outlive its incident: mitigations still announced for incidents that
   * resolved (or vanished) while Downstream was down are withdrawn at start-up.
   */
  private async reconcile(): Promise<void> {
    const stale = new Set<string>();
    for (const m of await this.mitigator.list(undefined, true)) {
      const inc = await this.ctx.incidents.get(m.incidentId);
      if (!inc || inc.status === 'resolved') stale.add(m.incidentId);
    }
    for (const id of stale) {
      this.mitigator
        .withdrawAll(id, 'system', 'incident resolved while Downstream was down')
        .catch((err: Error) => this.ctx.logger.error({ err, incident: id }, 'withdraw at start-up failed'));
    }
  }

  private reportContext(): ReportContext {
    return { reports: this.ctx.config.actions.reports, ownAsn: this.ctx.config.network.asn, version: this.ctx.version };
  }

  private handleUpsert(incident: Incident): void {
    try {
      const leader = this.leader();
      this.webhooks.onUpsert(incident, leader);
      if (this.ctx.config.actions.remediation.enabled && incident.direction === 'outbound') {
        const now = Date.now();
        const last = this.lastRecorded.get(incident.id) ?? 0;
        if (now - last >= REMEDIATION_EVERY_MS) {
          this.lastRecorded.set(incident.id, now);
          this.record(incident);
        }
      }
      if (leader && !this.autoTried.has(incident.id)) this.autoMitigate(incident);
    } catch (err) {
      this.ctx.logger.error({ err, incident: incident.id }, 'incident actions failed');
    }
  }

  private autoMitigate(incident: Incident): void {
    const a = this.ctx.config.actions.mitigation;
    // Cheap checks first: most incidents never need the database's answer.
    if (!this.mitigator.enabled || !a.auto.enabled || incident.direction !== 'inbound') return;
    this.autoTried.add(incident.id);
    this.track(
      this.mitigator
        .shouldAuto(incident)
        .then((yes) =>
          yes
            ? this.mitigator.mitigate(
                incident,
                { type: a.auto.type, action: 'discard', note: 'automatic (actions.mitigation.auto)' },
                'auto',
              )
            : // Not yet (severity may still rise): the next update asks again.
              void this.autoTried.delete(incident.id),
        )
        .catch((err: Error) => this.ctx.logger.error({ err, incident: incident.id }, 'automatic mitigation failed')),
    );
  }

  private handleResolved(incident: Incident): void {
    this.webhooks.onResolved(incident);
    this.lastRecorded.delete(incident.id);
    this.autoTried.delete(incident.id);
    if (this.ctx.config.actions.remediation.enabled) this.record(incident);
    this.mitigator
      .withdrawAll(incident.id, 'system', 'incident resolved')
      .catch((err: Error) => this.ctx.logger.error({ err, incident: incident.id }, 'withdraw on resolve failed'));
  }

  private async incident(id: string): Promise<Incident> {
    const inc = await this.ctx.incidents.get(id);
    if (!inc) throw new ReportError(`no incident ${id}`, 404, 'params.id');
    return inc;
  }

  /** Fill in unknown ASN contacts from RDAP when enabled. */
  private async withContacts(list: ReportRecipient[]): Promise<ReportRecipient[]> {
    return Promise.all(
      list.map(async (r) => {
        if (r.email !== null || r.asn === undefined || r.kind === 'upstream') return r;
        const email = await this.rdap.lookup(r.asn);
        return email ? { ...r, email } : r;
      }),
    );
  }

  async recipients(id: string): Promise<ReportRecipient[]> {
    return this.withContacts(recipientsFor(await this.incident(id), this.reportContext()));
  }

  /** One report: for recipient `to` (an id from recipients()), else the first (largest share). */
  async report(id: string, format: 'xarf' | 'arf', to?: string): Promise<Report> {
    const inc = await this.incident(id);
    const rc = this.reportContext();
    const all = recipientsFor(inc, rc);
    const picked = to === undefined ? all[0] : all.find((r) => r.id === to);
    const recipient = picked ? (await this.withContacts([picked]))[0] : undefined;
    if (!recipient) {
      if (to === undefined)
        throw new ReportError('incident has no source ASN, upstream or target network to report to', 404, 'params.id');
      throw new ReportError(`no recipient ${to}; one of: ${all.map((r) => r.id).join(', ')}`, 400, 'query.to');
    }
    const safeId = id.replace(/[^A-Za-z0-9._-]/g, '_');
    const safeTo = recipient.id.replace(/[^A-Za-z0-9._-]/g, '_');
    if (format === 'xarf') {
      return {
        recipient,
        contentType: 'application/json',
        filename: `incident-${safeId}-${safeTo}.xarf.json`,
        body: JSON.stringify(buildXarf(inc, recipient, rc), null, 2),
      };
    }
    return {
      recipient,
      contentType: 'message/rfc822',
      filename: `incident-${safeId}-${safeTo}.eml`,
      body: buildArf(inc, recipient, rc),
    };
  }

  async mitigate(id: string, req: MitigationRequestParsed, by: string): Promise<Mitigation> {
    return this.mitigator.mitigate(await this.incident(id), req, by);
  }

  /** Mitigations of an incident; an unknown incident is a 404, not an empty list. */
  async mitigations(id: string): Promise<Mitigation[]> {
    const list = await this.mitigator.list(id);
    // Mitigation rows can outlive a purged incident: they are still its history.
    if (list.length === 0) await this.incident(id);
    return list;
  }

  async withdraw(id: string, by: string): Promise<Mitigation[]> {
    await this.incident(id);
    return this.mitigator.withdrawAll(id, by, 'withdrawn by operator');
  }

  async close(): Promise<void> {
    clearInterval(this.verifyTimer);
    this.ctx.incidents.off('upsert', this.onUpsert);
    this.ctx.incidents.off('resolved', this.onResolved);
    await this.webhooks.drain();
    await this.reconciled;
    await this.settled();
    await this.db.close();
  }
}
