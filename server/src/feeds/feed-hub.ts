import { createHash } from 'node:crypto';
import type { DetectionEvent, FeedHealth } from '@downstream/shared';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

export type SubmitOutcome = 'accepted' | 'duplicate' | 'rate-limited';

export interface FeedHubOptions {
  /** Where detections go: `ctx.incidents.ingest` in the server. */
  sink: (event: DetectionEvent) => void;
  dedupWindowMs: number;
  ratePerSecond: number;
  burst: number;
  logger?: Logger;
  registry?: Registry;
  now?: () => number;
  /** Most dedup keys remembered at once; oldest forgotten first so memory stays bounded. */
  maxDedupKeys?: number;
}

/** Stable content hash of any JSON value, for deduplicating identical alerts. */
export function contentKey(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('base64url');
}

/**
 * One feed's front door: every detection a feed produces passes dedup and a token-bucket rate
 * limit here before it reaches the incident manager, and its health counters are kept here.
 */
export class FeedChannel {
  private events = 0;
  private errors = 0;
  private duplicates = 0;
  private rateLimited = 0;
  private lastEvent: number | null = null;
  private lastError: string | null = null;
  private tokens: number;
  private tokensAt: number;
  // Insertion-ordered map doubles as an expiry queue: the oldest key is always first.
  private readonly seen = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly hub: FeedHub,
    private readonly opts: FeedHubOptions,
  ) {
    this.tokens = opts.burst;
    this.tokensAt = opts.now?.() ?? Date.now();
  }

  /**
   * Hand one detection on unless `dedupKey` was seen within the window or the feed is over its
   * rate. A rate-limited event does not mark its key as seen, so a retry later is accepted.
   */
  submit(event: DetectionEvent, dedupKey: string): SubmitOutcome {
    const now = this.opts.now?.() ?? Date.now();
    this.expire(now);
    const exp = this.seen.get(dedupKey);
    if (exp !== undefined && exp > now) {
      this.duplicates++;
      this.hub.count(this.name, 'duplicate');
      return 'duplicate';
    }
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.opts.ratePerSecond);
    this.tokensAt = now;
    if (this.tokens < 1) {
      this.rateLimited++;
      this.hub.count(this.name, 'rate-limited');
      return 'rate-limited';
    }
    this.tokens -= 1;
    this.seen.delete(dedupKey);
    this.seen.set(dedupKey, now + this.opts.dedupWindowMs);
    const max = this.opts.maxDedupKeys ?? 100_000;
    while (this.seen.size > max) this.seen.delete(this.seen.keys().next().value as string);
    this.events++;
    this.lastEvent = now;
    this.hub.count(this.name, 'accepted');
    try {
      this.opts.sink(event);
    } catch (err) {
      // A bad event must not take the feed down; it shows up as an error in health.
      this.error(`incident manager rejected event: ${(err as Error).message}`);
    }
    return 'accepted';
  }

  /**
   * Count an input a feed used without handing a detection on (a complaint attached to an
   * existing incident), or one it had already seen.
   */
  record(outcome: 'accepted' | 'duplicate'): void {
    if (outcome === 'duplicate') this.duplicates++;
    else {
      this.events++;
      this.lastEvent = this.opts.now?.() ?? Date.now();
    }
    this.hub.count(this.name, outcome);
  }

  /** Count an input that could not be used (malformed, oversized…). */
  error(message: string): void {
    this.errors++;
    this.lastError = message;
    this.hub.count(this.name, 'error');
    this.opts.logger?.warn({ feed: this.name, error: message }, 'feed input rejected');
  }

  /** Count a valid input that is not a detection (FastNetMon unban, a plain Suricata flow…). */
  ignored(): void {
    this.hub.count(this.name, 'ignored');
  }

  health(): FeedHealth {
    return {
      name: this.name,
      lastEvent: this.lastEvent === null ? null : new Date(this.lastEvent).toISOString(),
      events: this.events,
      errors: this.errors,
      duplicates: this.duplicates,
      rateLimited: this.rateLimited,
      lastError: this.lastError,
    };
  }

  private expire(now: number): void {
    for (const [k, exp] of this.seen) {
      if (exp > now) break;
      this.seen.delete(k);
    }
  }
}

/** All feeds of one server: creates channels on demand and reports their health. */
export class FeedHub {
  private readonly channels = new Map<string, FeedChannel>();
  private readonly counter: Counter<'feed' | 'result'> | undefined;

  constructor(private readonly opts: FeedHubOptions) {
    if (opts.registry) {
      const existing = opts.registry.getSingleMetric('downstream_feed_events_total');
      this.counter =
        (existing as Counter<'feed' | 'result'> | undefined) ??
        new Counter({
          name: 'downstream_feed_events_total',
          help: 'Feed inputs by feed and result (accepted, duplicate, rate-limited, ignored, error)',
          labelNames: ['feed', 'result'],
          registers: [opts.registry],
        });
    }
  }

  channel(name: string): FeedChannel {
    let ch = this.channels.get(name);
    if (!ch) {
      ch = new FeedChannel(name, this, this.opts);
      this.channels.set(name, ch);
    }
    return ch;
  }

  health(): FeedHealth[] {
    return [...this.channels.values()].map((c) => c.health());
  }

  /** @internal */
  count(feed: string, result: string): void {
    this.counter?.inc({ feed, result });
  }
}
