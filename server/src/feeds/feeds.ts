import {
  DetectionEvent,
  KIND_POLICY,
  FastNetMonNotification,
  GenericFeedEvent,
  type FeedHealth,
  type FeedResult,
} from '@downstream/shared';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { FeedsConfig } from './config.js';
import { fastNetMonToDetection } from './fastnetmon.js';
import { contentKey, FeedHub, type FeedChannel, type SubmitOutcome } from './feed-hub.js';
import { FileTailer } from './file-tailer.js';
import { EveAlert, EveFlow, EveRecord, SuricataMapper, type Mapped } from './suricata.js';
import { buildSources, targetOf, unknownLookup, type Lookup } from './sources.js';

// Events are validated one by one so a batch with a few bad events still delivers the rest.
const GenericFeedBatch = z.strictObject({ events: z.array(z.unknown()).min(1).max(1000) });

export type FeedName = 'fastnetmon' | 'suricata' | 'generic';

/** Input a feed cannot use at all; the HTTP layer answers 400 with these details. */
export class FeedInputError extends Error {
  constructor(
    message: string,
    readonly details: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'FeedInputError';
  }
}

/** The feed is switched off in the config (HTTP 404). */
export class FeedDisabledError extends Error {}

export interface FeedsDeps {
  config: FeedsConfig;
  sink: (event: DetectionEvent) => void;
  lookup?: Lookup;
  /** Customer prefixes ("ours"), for Suricata's direction. */
  customerPrefixes?: string[];
  logger?: Logger;
  registry?: Registry;
  now?: () => number;
}

function issuesOf(error: z.core.$ZodError, prefix: string): { path: string; message: string }[] {
  return error.issues.flatMap((i) => {
    const base = i.path.reduce<string>(
      (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
      prefix,
    );
    if (i.code === 'unrecognized_keys')
      return i.keys.map((k) => ({ path: base ? `${base}.${k}` : k, message: 'unknown field' }));
    return [{ path: base || '(root)', message: i.message }];
  });
}

export function makeIsOurs(prefixes: readonly string[]): (ip: string) => boolean {
  const nets = prefixes.map((p) => ipaddr.parseCIDR(p));
  return (ip) => {
    if (!ipaddr.isValid(ip)) return false;
    let a = ipaddr.parse(ip);
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
    for (const [net, len] of nets) if (net.kind() === a.kind() && a.match(net, len)) return true;
    return false;
  };
}

/**
 * Every feed of one server: validation, mapping to detections, dedup, rate limit, health, and
 * the Suricata EVE file tailers. The HTTP routes (api/feeds.ts) are a thin layer over this.
 */
export class Feeds {
  readonly hub: FeedHub;
  private readonly lookup: Lookup;
  private readonly suricataMapper: SuricataMapper;
  private readonly tailers: FileTailer[] = [];
  private started = false;

  constructor(private readonly deps: FeedsDeps) {
    const c = deps.config;
    this.hub = new FeedHub({
      // Feeds say what they saw, in their own words (`evidence.feed` marks them); merging with
      // built-in detections on the same target — kind, sources, rates — is the incident
      // manager's rule (incidents/manager.ts mergeKeyOf), not each feed's.
      sink: (e) => deps.sink(e),
      dedupWindowMs: c.dedup_window_s * 1000,
      ratePerSecond: c.rate_limit.per_second,
      burst: c.rate_limit.burst,
      logger: deps.logger,
      registry: deps.registry,
      now: deps.now,
    });
    this.lookup = deps.lookup ?? unknownLookup;
    this.suricataMapper = new SuricataMapper({
      lookup: this.lookup,
      isOurs: makeIsOurs(deps.customerPrefixes ?? []),
      rules: c.suricata.signatures,
    });
    // Health lists every enabled feed from the start, not only after its first event.
    for (const name of ['fastnetmon', 'suricata', 'generic'] as const) if (c[name].enabled) this.hub.channel(name);
  }

  health(): FeedHealth[] {
    return this.hub.health();
  }

  private channel(name: FeedName): FeedChannel {
    if (!this.deps.config[name].enabled) throw new FeedDisabledError(`feed ${name} is disabled in the config`);
    return this.hub.channel(name);
  }

  private now(): Date {
    return new Date(this.deps.now?.() ?? Date.now());
  }

  /** A detection from the future would keep an incident open forever: allow 5 min of clock skew. */
  private future(at: string | undefined, path: string): { path: string; message: string } | undefined {
    if (!at) return undefined;
    const skew = Date.parse(at) - this.now().getTime();
    return skew > 5 * 60_000
      ? { path, message: `${Math.round(skew / 1000)} s in the future (clock skew?)` }
      : undefined;
  }

  /** Count an input rejected before it reached a feed (body too large, not JSON). */
  rejected(name: FeedName, message: string): void {
    if (this.deps.config[name].enabled) this.hub.channel(name).error(message);
  }

  /** One FastNetMon notify-script call (see server/bin/fastnetmon-notify). */
  fastnetmon(body: unknown): FeedResult {
    const ch = this.channel('fastnetmon');
    const r = FastNetMonNotification.safeParse(body);
    if (!r.success) return this.fail(ch, 'invalid FastNetMon notification', issuesOf(r.error, 'body'));
    const ev = fastNetMonToDetection(r.data, this.lookup, this.now());
    const res = emptyResult();
    if (!ev) {
      ch.ignored();
      res.ignored++;
      return res;
    }
    tally(res, ch.submit(ev, `fnm:${contentKey(r.data)}`));
    return res;
  }

  /** Generic webhook: one event or `{ events: [...] }`. */
  generic(body: unknown): FeedResult {
    const ch = this.channel('generic');
    // Decide the shape first so errors name fields of that shape, not "invalid union".
    if (body && typeof body === 'object' && !Array.isArray(body) && 'events' in body) {
      const b = GenericFeedBatch.safeParse(body);
      if (!b.success) return this.fail(ch, 'invalid generic feed batch', issuesOf(b.error, 'body'));
      return this.batch(ch, b.data.events, (item, i) => {
        const e = GenericFeedEvent.safeParse(item);
        if (!e.success) return { errors: issuesOf(e.error, `body.events[${i}]`) };
        const late = this.future(e.data.at, `body.events[${i}].at`);
        return late ? { errors: [late] } : { mapped: this.mapGeneric(e.data) };
      });
    }
    const r = GenericFeedEvent.safeParse(body);
    if (!r.success) return this.fail(ch, 'invalid generic feed event', issuesOf(r.error, 'body'));
    const late = this.future(r.data.at, 'body.at');
    if (late) return this.fail(ch, 'invalid generic feed event', [late]);
    const res = emptyResult();
    const m = this.mapGeneric(r.data);
    tally(res, ch.submit(m.event, m.dedupKey));
    return res;
  }

  /** Suricata EVE records: an array of objects, one object, or NDJSON text (as in eve.json). */
  suricata(body: unknown): FeedResult {
    const ch = this.channel('suricata');
    let records: unknown[];
    if (typeof body === 'string') {
      records = [];
      const lines = body.split('\n');
      const errors: { path: string; message: string }[] = [];
      lines.forEach((line, i) => {
        if (!line.trim()) return;
        try {
          records.push(JSON.parse(line));
        } catch {
          errors.push({ path: `line ${i + 1}`, message: 'not JSON' });
          records.push(undefined);
        }
      });
      if (records.length === 0) return this.fail(ch, 'empty EVE input', [{ path: 'body', message: 'no records' }]);
    } else if (Array.isArray(body)) records = body;
    else records = [body];
    if (records.length > 10_000) {
      return this.fail(ch, 'too many EVE records', [
        { path: 'body', message: `${records.length} records, at most 10000` },
      ]);
    }
    return this.batch(ch, records, (item, i) => this.mapEve(item, `body[${i}]`));
  }

  /** One line of a tailed EVE file. */
  suricataLine(line: string): void {
    const ch = this.hub.channel('suricata');
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      ch.error(`EVE line is not JSON: ${line.slice(0, 80)}`);
      return;
    }
    const m = this.mapEve(rec, 'line');
    if (m.errors) ch.error(m.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    else if (m.mapped) ch.submit(m.mapped.event, m.mapped.dedupKey);
    else ch.ignored();
  }

  private mapEve(item: unknown, path: string): { mapped?: Mapped; errors?: { path: string; message: string }[] } {
    if (item === undefined) return { errors: [{ path, message: 'not JSON' }] };
    const base = EveRecord.safeParse(item);
    if (!base.success) return { errors: issuesOf(base.error, path) };
    if (base.data.event_type === 'alert') {
      const a = EveAlert.safeParse(item);
      if (!a.success) return { errors: issuesOf(a.error, path) };
      return { mapped: this.suricataMapper.alert(a.data) };
    }
    if (base.data.event_type === 'flow') {
      const f = EveFlow.safeParse(item);
      if (!f.success) return { errors: issuesOf(f.error, path) };
      const m = this.suricataMapper.flow(f.data);
      return m ? { mapped: m } : {};
    }
    return {};
  }

  private mapGeneric(e: z.infer<typeof GenericFeedEvent>): Mapped {
    const inbound = e.direction === 'inbound';
    // Keys line up with the built-in detectors: inbound → target; participation → the outside
    // victim; spam-bot/scanner → the customer endpoint (the first source).
    const firstSource = e.sources[0]?.ip;
    const key =
      inbound || KIND_POLICY[e.kind].outboundKey === 'target' ? (e.target ?? firstSource) : (firstSource ?? e.target);
    const event: DetectionEvent = {
      detector: e.detector,
      kind: e.kind,
      direction: e.direction,
      at: e.at ? new Date(e.at).toISOString() : this.now().toISOString(),
      key: key ?? 'unknown',
      ...(e.target ? { target: targetOf(e.target, this.lookup) } : {}),
      sources: buildSources(e.sources, this.lookup),
      upstreams: [],
      rate: { pps: e.pps, bps: e.bps },
      evidence: {
        ...(e.ports?.length ? { ports: e.ports.map((port) => ({ port, share: 1 / e.ports!.length })) } : {}),
        ...(e.protocol && e.protocol !== 'other'
          ? { protocols: [{ proto: { tcp: 6, udp: 17, icmp: 1 }[e.protocol], share: 1 }] }
          : {}),
        ...(e.confidence !== undefined ? { confidence: e.confidence } : {}),
        ...(e.summary ? { summary: e.summary } : {}),
        feed: 'generic',
      },
    };
    const dedupKey = e.id ? `id:${e.detector}:${e.id}` : `c:${contentKey(e)}`;
    return { event, dedupKey };
  }

  private batch(
    ch: FeedChannel,
    items: unknown[],
    map: (item: unknown, i: number) => { mapped?: Mapped; errors?: { path: string; message: string }[] },
  ): FeedResult {
    const res = emptyResult();
    const errors: { path: string; message: string }[] = [];
    let valid = 0;
    items.forEach((item, i) => {
      const m = map(item, i);
      if (m.errors) {
        errors.push(...m.errors);
        ch.error(m.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
        return;
      }
      valid++;
      if (m.mapped) tally(res, ch.submit(m.mapped.event, m.mapped.dedupKey));
      else {
        ch.ignored();
        res.ignored++;
      }
    });
    if (valid === 0 && errors.length > 0) throw new FeedInputError(`no valid ${ch.name} input`, errors.slice(0, 100));
    if (errors.length) res.errors = errors.slice(0, 100);
    return res;
  }

  private fail(ch: FeedChannel, message: string, details: { path: string; message: string }[]): never {
    ch.error(`${message}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`);
    throw new FeedInputError(message, details);
  }

  /** Start tailing the configured EVE files. */
  start(): void {
    const s = this.deps.config.suricata;
    if (!s.enabled || this.started) return;
    this.started = true;
    for (const path of s.eve_files) {
      const ch = this.hub.channel('suricata');
      const t = new FileTailer(path, {
        pollMs: s.poll_ms,
        fromStart: s.from_start,
        logger: this.deps.logger,
        onLine: (line) => this.suricataLine(line),
        onError: (message) => ch.error(message),
      });
      t.start();
      this.tailers.push(t);
    }
  }

  /** Read whatever the tailed files have now (tests; a clean stop). */
  async pollFiles(): Promise<void> {
    await Promise.all(this.tailers.map((t) => t.poll()));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.tailers.splice(0).map((t) => t.stop()));
  }
}

function emptyResult(): FeedResult {
  return { accepted: 0, duplicates: 0, ignored: 0, rateLimited: 0 };
}

function tally(res: FeedResult, outcome: SubmitOutcome): void {
  if (outcome === 'accepted') res.accepted++;
  else if (outcome === 'duplicate') res.duplicates++;
  else res.rateLimited++;
}

/** The feed service of an app context: detections from FastNetMon, Suricata and webhooks go to its incidents. */
export function createFeeds(ctx: AppContext): Feeds {
  return new Feeds({
    config: ctx.config.feeds,
    sink: (e) => ctx.incidents.ingest(e),
    lookup: (ip) => ctx.enricher.lookup(ip),
    customerPrefixes: ctx.config.network.customers.flatMap((c) => c.prefixes),
    logger: ctx.logger.child({ module: 'feeds' }),
    registry: ctx.registry,
  });
}
