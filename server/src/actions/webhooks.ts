import type { Incident, Severity } from '@downstream/shared';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { ActionsConfig } from './config.js';

type Hook = ActionsConfig['webhooks'][number];
export type WebhookEvent = 'new' | 'escalated';

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const COLOR: Record<Severity, string> = { low: '#439fe0', medium: '#daa038', high: '#e8702a', critical: '#d00000' };

/** Slack incoming-webhook JSON (also accepted by Mattermost, Rocket.Chat, Teams' Slack mode). */
export function slackMessage(incident: Incident, event: WebhookEvent, baseUrl?: string): Record<string, unknown> {
  const where = incident.target
    ? ` on ${incident.target.ip}${incident.target.customer ? ` (${incident.target.customer})` : ''}`
    : '';
  const src = incident.direction === 'outbound' && incident.sources.top[0] ? ` from ${incident.sources.top[0].ip}` : '';
  const headline = `${event === 'new' ? 'New' : 'Escalated'} ${incident.severity.toUpperCase()} incident: ${incident.kind}${where}${src}`;
  const link = baseUrl ? `${baseUrl.replace(/\/+$/, '')}/incidents/${encodeURIComponent(incident.id)}` : undefined;
  const facts = [
    `*Peak:* ${Math.round(incident.peak.pps).toLocaleString('en-US')} pps, ${(incident.peak.bps / 1e6).toFixed(1)} Mbit/s`,
    `*Sources:* ${incident.sources.distinct.toLocaleString('en-US')}${incident.sources.asns[0] ? ` (top AS${incident.sources.asns[0].asn} ${incident.sources.asns[0].name})` : ''}`,
    ...(incident.upstreams[0] ? [`*Upstream:* ${incident.upstreams.map((u) => u.name).join(', ')}`] : []),
    `*Detectors:* ${incident.detectors.join(', ')}`,
  ];
  return {
    text: headline,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${headline}*\n${facts.join('\n')}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: link ? `<${link}|${incident.id}>` : incident.id }] },
    ],
    attachments: [{ color: COLOR[incident.severity], fallback: headline }],
  };
}

export interface WebhookDeps {
  hooks: Hook[];
  logger?: Logger;
  registry?: Registry;
  /** Public UI address for links in messages. */
  baseUrl?: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

/**
 * Outbound webhooks on new or escalated incidents, per-severity. Delivery retries network
 * errors, timeouts, 429 and 5xx with exponential backoff (jittered, honouring Retry-After);
 * other 4xx are final. Deliveries run in the background and never block the incident path.
 */
export class WebhookNotifier {
  private readonly known = new Map<string, number>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly counter: Counter<'hook' | 'result'> | undefined;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: WebhookDeps) {
    this.fetch = deps.fetch ?? fetch;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    if (deps.registry) {
      this.counter =
        (deps.registry.getSingleMetric('downstream_webhook_deliveries_total') as
          Counter<'hook' | 'result'> | undefined) ??
        new Counter({
          name: 'downstream_webhook_deliveries_total',
          help: 'Outbound webhook deliveries by hook and result (ok, failed, retry)',
          labelNames: ['hook', 'result'],
          registers: [deps.registry],
        });
    }
  }

  /** Incidents already open at start-up are not "new" again after a restart. */
  seed(incidents: Incident[]): void {
    for (const i of incidents) this.known.set(i.id, RANK[i.severity]);
  }

  /**
   * Feed every incident upsert here; returns the event it caused, if any. With `send` false it
   * only keeps track (a process that is not the cluster's actions leader), so a process that
   * becomes leader does not announce incidents it has already seen as new.
   */
  onUpsert(incident: Incident, send = true): WebhookEvent | undefined {
    const before = this.known.get(incident.id);
    const rank = RANK[incident.severity];
    if (incident.status === 'resolved') {
      this.known.delete(incident.id);
      return undefined;
    }
    let event: WebhookEvent | undefined;
    if (before === undefined) event = 'new';
    else if (rank > before) event = 'escalated';
    this.known.set(incident.id, Math.max(rank, before ?? -1));
    if (this.known.size > 100_000) this.known.delete(this.known.keys().next().value as string);
    if (!event || !send) return event;
    for (const hook of this.deps.hooks) {
      if (!hook.events.includes(event) || !hook.severities.includes(incident.severity)) continue;
      const p = this.deliver(hook, slackMessage(incident, event, this.deps.baseUrl)).finally(() =>
        this.inflight.delete(p),
      );
      this.inflight.add(p);
    }
    return event;
  }

  onResolved(incident: Incident): void {
    this.known.delete(incident.id);
  }

  /** Wait for deliveries in flight (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  async deliver(hook: Hook, payload: unknown): Promise<DeliveryResult> {
    const name = hook.name ?? new URL(hook.url).host;
    const body = JSON.stringify(payload);
    let last: DeliveryResult = { ok: false, attempts: 0 };
    for (let attempt = 1; attempt <= hook.retries + 1; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const res = await this.fetch(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'Downstream-webhook', ...hook.headers },
          body,
          signal: AbortSignal.timeout(hook.timeout_ms),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.counter?.inc({ hook: name, result: 'ok' });
          return { ok: true, attempts: attempt, status: res.status };
        }
        last = { ok: false, attempts: attempt, status: res.status, error: `HTTP ${res.status}` };
        if (res.status !== 429 && res.status < 500) break;
        const ra = Number(res.headers.get('retry-after'));
        if (Number.isFinite(ra) && ra > 0) retryAfterMs = Math.min(60_000, ra * 1000);
      } catch (err) {
        last = { ok: false, attempts: attempt, error: (err as Error).message };
      }
      if (attempt <= hook.retries) {
        this.counter?.inc({ hook: name, result: 'retry' });
        const base = Math.min(60_000, hook.backoff_ms * 2 ** (attempt - 1));
        const jittered = base * (0.8 + Math.random() * 0.4);
        await this.sleep(retryAfterMs ?? jittered);
      }
    }
    this.counter?.inc({ hook: name, result: 'failed' });
    this.deps.logger?.error({ hook: name, ...last }, 'webhook delivery failed');
    return last;
  }
}
