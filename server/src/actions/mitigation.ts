import { mergesByTarget, type Incident, type Mitigation, type MitigationType } from '@downstream/shared';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import type { ActionsConfig } from './config.js';
import {
  commandSink,
  exabgpLines,
  MitigationError,
  pipeSink,
  type ExaBgpSink,
  type MitigationRequestParsed,
} from './exabgp.js';

const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;

interface Row {
  id: number;
  incident_id: string;
  type: MitigationType;
  prefix: string;
  announce: string;
  withdraw: string;
  announced_at: number;
  announced_by: string;
  withdrawn_at: number | null;
  withdrawn_by: string | null;
}

const toMitigation = (r: Row): Mitigation => ({
  id: r.id,
  incidentId: r.incident_id,
  type: r.type,
  prefix: r.prefix,
  announce: r.announce,
  withdraw: r.withdraw,
  announcedAt: new Date(r.announced_at).toISOString(),
  announcedBy: r.announced_by,
  withdrawnAt: r.withdrawn_at === null ? null : new Date(r.withdrawn_at).toISOString(),
  withdrawnBy: r.withdrawn_by,
});

export interface MitigatorDeps {
  db: Database.Database;
  config: ActionsConfig['mitigation'];
  store: Pick<Store, 'appendAudit'>;
  /** Moves the incident to `mitigating` (ctx.incidents.setStatus). */
  setMitigating?: (incidentId: string, by: string, note?: string) => Promise<unknown> | void;
  logger?: Logger;
  sink?: ExaBgpSink;
  now?: () => number;
}

/**
 * RTBH / FlowSpec for inbound targets via ExaBGP: operator-triggered (automatic only when
 * `actions.mitigation.auto.enabled`), persisted so a restart can still withdraw, withdrawn when
 * the incident resolves, and every announce/withdraw written to the audit trail.
 */
export class Mitigator {
  private readonly sink: ExaBgpSink | undefined;
  // Serialise announce/withdraw so lines reach ExaBGP in the order they were decided.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: MitigatorDeps) {
    const c = deps.config;
    this.sink = deps.sink ?? (c.pipe ? pipeSink(c.pipe) : c.command ? commandSink(c.command) : undefined);
  }

  get enabled(): boolean {
    return this.deps.config.enabled && this.sink !== undefined;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  list(incidentId?: string, activeOnly = false): Mitigation[] {
    const where: string[] = [];
    const args: string[] = [];
    if (incidentId) {
      where.push('incident_id = ?');
      args.push(incidentId);
    }
    if (activeOnly) where.push('withdrawn_at IS NULL');
    const sql = `SELECT * FROM mitigations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT 1000`;
    return (this.deps.db.prepare(sql).all(...args) as Row[]).map(toMitigation);
  }

  /** Announce a mitigation for an inbound incident's target. */
  mitigate(incident: Incident, req: MitigationRequestParsed, by: string): Promise<Mitigation> {
    return this.serial(async () => {
      if (!this.enabled)
        throw new MitigationError('mitigation is not enabled (actions.mitigation.enabled with a pipe or command)');
      // Attacks on one of our addresses: the kinds that merge per target (shared/src/kinds.ts).
      if (!mergesByTarget(incident.kind, incident.direction)) {
        throw new MitigationError(
          `only inbound incidents can be mitigated; this one is ${incident.direction} ${incident.kind}`,
        );
      }
      if (incident.status === 'resolved') throw new MitigationError('incident is resolved');
      const lines = exabgpLines(incident, req, this.deps.config);
      const dup = this.list(incident.id, true).find((m) => m.announce === lines.announce);
      if (dup) return dup;
      await this.sink!.send(lines.announce);
      const at = this.now();
      const info = this.deps.db
        .prepare(
          'INSERT INTO mitigations (incident_id, type, prefix, announce, withdraw, announced_at, announced_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(incident.id, req.type, lines.prefix, lines.announce, lines.withdraw, at, by);
      await this.deps.store.appendAudit({
        at: new Date(at).toISOString(),
        by,
        action: `mitigation.announce.${req.type}`,
        incidentId: incident.id,
        detail: req.note ? `${lines.announce} — ${req.note}` : lines.announce,
      });
      this.deps.logger?.warn({ incident: incident.id, by, line: lines.announce }, 'mitigation announced');
      try {
        await this.deps.setMitigating?.(incident.id, by, req.note);
      } catch (err) {
        this.deps.logger?.error({ err, incident: incident.id }, 'could not mark incident mitigating');
      }
      return toMitigation(
        this.deps.db.prepare('SELECT * FROM mitigations WHERE id = ?').get(info.lastInsertRowid) as Row,
      );
    });
  }

  /** Withdraw every active mitigation of an incident (operator, or the incident resolving). */
  withdrawAll(incidentId: string, by: string, reason?: string): Promise<Mitigation[]> {
    return this.serial(async () => {
      const active = this.list(incidentId, true);
      const done: Mitigation[] = [];
      for (const m of active) {
        if (!this.sink) throw new MitigationError('no ExaBGP pipe or command configured to withdraw through');
        await this.sink.send(m.withdraw);
        const at = this.now();
        this.deps.db
          .prepare('UPDATE mitigations SET withdrawn_at = ?, withdrawn_by = ? WHERE id = ?')
          .run(at, by, m.id);
        await this.deps.store.appendAudit({
          at: new Date(at).toISOString(),
          by,
          action: `mitigation.withdraw.${m.type}`,
          incidentId,
          detail: reason ? `${m.withdraw} — ${reason}` : m.withdraw,
        });
        this.deps.logger?.warn({ incident: incidentId, by, line: m.withdraw }, 'mitigation withdrawn');
        done.push({ ...m, withdrawnAt: new Date(at).toISOString(), withdrawnBy: by });
      }
      return done;
    });
  }

  /** Automatic mitigation, only when configured: inbound kind in the list, severity high enough. */
  shouldAuto(incident: Incident): boolean {
    const a = this.deps.config.auto;
    return (
      this.enabled &&
      a.enabled &&
      incident.direction === 'inbound' &&
      incident.status !== 'resolved' &&
      incident.target !== undefined &&
      a.kinds.includes(incident.kind) &&
      SEVERITY_RANK[incident.severity] >= SEVERITY_RANK[a.min_severity] &&
      // Once per incident: an operator's withdraw must not be undone by the next update.
      this.list(incident.id).length === 0
    );
  }
}
