/**
 * One detection merged into the incident it belongs to (merge-key.ts picks which). Built-in
 * verdicts beat every feed verdict: a feed's guess never relabels what the flow detectors
 * measured (which kinds merge per target, and how specific each verdict is, is
 * shared/src/kinds.ts).
 */
import {
  moreSpecific,
  type DetectionEvent,
  type Incident,
  type SourceEndpoint,
  type TimelinePoint,
} from '@downstream/shared';
import type { Logger } from 'pino';
import { MAX_SOURCES, type Live } from './live-incident.js';
import type { RollupAccumulator } from './rollups.js';
import { maxSeverity, severityOf } from './severity.js';
import { sortedSources } from './view.js';

/**
 * A built-in detector "measures" an incident while it reported within this long: detectors
 * report every tick while firing and stay silent for at most 3 ticks of hold time.
 */
const BUILT_IN_FRESH_MS = 5000;

export interface MergeDeps {
  rollups: RollupAccumulator;
  timelinePoints: number;
  logger: Logger;
}

/** How one detection relates to the incident: decided once, read by every step below. */
interface MergeCase {
  /** From a feed (FastNetMon, Suricata, webhook) rather than a built-in detector. */
  feed: boolean;
  /** A customer campaign: events of many endpoints add up. */
  campaign: boolean;
  /**
   * A feed reporting what a built-in detector already measures: listed, its view filed under
   * its own name, but its sample, summary and kind guess do not replace the flow detectors'.
   */
  corroborating: boolean;
  /** Its rate counts (not a feed's while a built-in detector measures the same traffic). */
  measured: boolean;
}

/** Feeds (FastNetMon, Suricata, webhooks) mark their detections with `evidence.feed`. */
export function isFeedDetection(e: DetectionEvent): boolean {
  return typeof e.evidence.feed === 'string';
}

export function mergeDetection(live: Live, e: DetectionEvent, now: number, deps: MergeDeps): void {
  const inc = live.inc;
  const feed = isFeedDetection(e);
  live.lastEventMs = now;
  if (e.at > inc.lastSeen) inc.lastSeen = e.at;
  if (e.at < inc.firstSeen) inc.firstSeen = e.at;
  if (!inc.detectors.includes(e.detector)) inc.detectors.push(e.detector);
  const feeds = new Set(Array.isArray(inc.evidence.feeds) ? (inc.evidence.feeds as string[]) : []);
  if (feed) feeds.add(e.detector);
  const c: MergeCase = {
    feed,
    campaign: live.mergeKey.rule === 'customer-campaign',
    corroborating: feed && live.builtIn,
    measured: !feed || now - live.lastBuiltInMs > BUILT_IN_FRESH_MS,
  };
  mergeVerdict(live, e, now, feeds, deps.logger);
  const { distinct, peakSources } = mergeSources(live, e, c);
  if (c.measured) mergeRates(live, e, now, c, deps.rollups);
  mergeEvidence(live, e, c, feeds, peakSources);
  if (c.measured) mergeTimeline(live, e, distinct, deps.timelinePoints);
  inc.severity = maxSeverity(
    inc.severity,
    severityOf({ ...inc, sources: { ...inc.sources, top: sortedSources(live) } }),
  );
  live.dirty = true;
}

/** Which kind the incident is, and whether a built-in detector has spoken. */
function mergeVerdict(live: Live, e: DetectionEvent, now: number, feeds: Set<string>, logger: Logger): void {
  const inc = live.inc;
  if (!isFeedDetection(e)) {
    if (!live.builtIn && inc.detectors.length > 1) {
      // The first flow detector on an incident only feeds had reported: their samples and
      // evidence step aside (kept under each feed's name) for the full view.
      live.sources.clear();
      inc.evidence = Object.fromEntries(Object.entries(inc.evidence).filter(([k]) => feeds.has(k)));
    }
    if (!live.builtIn || moreSpecific(e.kind, inc.kind)) setKind(inc, e, logger);
    live.builtIn = true;
    live.lastBuiltInMs = now;
  } else if (!live.builtIn && moreSpecific(e.kind, inc.kind)) setKind(inc, e, logger);
}

function setKind(inc: Incident, e: DetectionEvent, logger: Logger): void {
  if (inc.kind !== e.kind)
    logger.info({ id: inc.id, from: inc.kind, to: e.kind, detector: e.detector }, 'incident kind refined');
  inc.kind = e.kind;
  inc.evidence.kindBy = e.detector;
}

/** Target, listed sources, distinct count, ASNs and upstreams. */
function mergeSources(live: Live, e: DetectionEvent, c: MergeCase): { distinct: number; peakSources: number } {
  const inc = live.inc;
  if (!c.corroborating) {
    if (e.target && !c.campaign) inc.target = e.target;
    // Sources: a union, latest figures winning. Detectors send their whole list every few
    // seconds and the heaviest in between; campaigns add endpoints from many events.
    if (e.sources.top.length > 0) {
      for (const s of e.sources.top) live.sources.set(s.ip, s);
      if (live.sources.size > MAX_SOURCES) {
        const kept = [...live.sources.values()].sort((a, b) => b.packets - a.packets).slice(0, MAX_SOURCES);
        live.sources = new Map(kept.map((s) => [s.ip, s]));
      }
    }
  }
  // Distinct sources now (the detector's window), and the most seen at once in the evidence.
  const distinct = c.corroborating
    ? inc.sources.distinct
    : c.campaign
      ? live.sources.size
      : Math.max(e.sources.distinct, e.sources.top.length);
  inc.sources.distinct = distinct;
  const peakSources = Math.max(distinct, typeof inc.evidence.peakSources === 'number' ? inc.evidence.peakSources : 0);
  if (!c.corroborating) {
    if (c.campaign) inc.sources.asns = asnSharesOf(live.sources);
    else if (e.sources.asns.length > 0) inc.sources.asns = e.sources.asns;
    if (e.upstreams.length > 0) inc.upstreams = e.upstreams;
  }
  return { distinct, peakSources };
}

/** Rates of one second, the peak, and the per-minute rollups. */
function mergeRates(live: Live, e: DetectionEvent, now: number, c: MergeCase, rollups: RollupAccumulator): void {
  const inc = live.inc;
  // Rates of one second: a campaign's events add up (one per endpoint); any other incident's
  // events each measure the whole attack, so two detectors in one second do not add.
  if (e.at === live.secAt) {
    live.secPps = c.campaign ? live.secPps + e.rate.pps : Math.max(live.secPps, e.rate.pps);
    live.secBps = c.campaign ? live.secBps + e.rate.bps : Math.max(live.secBps, e.rate.bps);
  } else {
    live.secAt = e.at;
    live.secPps = e.rate.pps;
    live.secBps = e.rate.bps;
  }
  inc.peak = { pps: Math.max(inc.peak.pps, live.secPps), bps: Math.max(inc.peak.bps, live.secBps) };
  // Per-minute rollups (trends, heatmaps) count each second of abuse once, under the
  // incident's kind.
  if (c.campaign || live.rolledAt !== e.at) {
    live.rolledAt = e.at;
    rollups.add(e, Date.parse(e.at) || now, 1, inc.kind);
  }
}

function mergeEvidence(live: Live, e: DetectionEvent, c: MergeCase, feeds: Set<string>, peakSources: number): void {
  const inc = live.inc;
  const feedView = c.feed ? feedEvidence(e) : undefined;
  const prevOnset = inc.evidence.onset;
  inc.evidence = {
    ...inc.evidence,
    ...(c.corroborating ? {} : e.evidence),
    ...(feedView ? { [e.detector]: feedView } : {}),
    incidentKey: live.mergeKey.text,
    peakSources,
    ...(feeds.size > 0 ? { feeds: [...feeds] } : {}),
  };
  delete inc.evidence.feed;
  // When the abuse began: the earliest onset any detection stated (time to detect = firstSeen − onset).
  const onset = earliestOnset(prevOnset, e.evidence.onset);
  if (onset) inc.evidence.onset = onset;
  else delete inc.evidence.onset;
  if (c.campaign) {
    inc.evidence.endpoints = live.sources.size;
    const customer = e.sources.top[0]?.customer;
    if (customer) inc.evidence.customer = customer;
    inc.evidence.summary = `${live.sources.size} customer endpoint${live.sources.size === 1 ? '' : 's'}${customer ? ` of ${customer}` : ''}: ${e.evidence.summary ?? e.kind}`;
  }
}

function mergeTimeline(live: Live, e: DetectionEvent, distinct: number, timelinePoints: number): void {
  const last = live.timeline[live.timeline.length - 1];
  const point: TimelinePoint = { t: e.at, pps: live.secPps, bps: live.secBps, sources: distinct };
  if (last && last.t === e.at)
    live.timeline[live.timeline.length - 1] = { ...point, sources: Math.max(last.sources, distinct) };
  else {
    live.timeline.push(point);
    if (live.timeline.length > timelinePoints) live.timeline.splice(0, live.timeline.length - timelinePoints);
  }
}

/** The earlier of two ISO onsets, ignoring anything that is not a valid timestamp. */
function earliestOnset(a: unknown, b: unknown): string | undefined {
  const ta = typeof a === 'string' ? Date.parse(a) : NaN;
  const tb = typeof b === 'string' ? Date.parse(b) : NaN;
  if (Number.isNaN(ta)) return Number.isNaN(tb) ? undefined : new Date(tb).toISOString();
  if (Number.isNaN(tb) || ta <= tb) return new Date(ta).toISOString();
  return new Date(tb).toISOString();
}

/** What a feed said, filed under its name in the incident's evidence. */
function feedEvidence(e: DetectionEvent): Record<string, unknown> {
  const { feed: _feed, ...rest } = e.evidence;
  return { ...rest, kind: e.kind, sources: e.sources.distinct, pps: e.rate.pps, bps: e.rate.bps };
}

function asnSharesOf(sources: Map<string, SourceEndpoint>): Incident['sources']['asns'] {
  const by = new Map<number, { name: string; bytes: number }>();
  let total = 0;
  for (const s of sources.values()) {
    const r = by.get(s.asn) ?? { name: s.asName, bytes: 0 };
    r.bytes += s.bytes;
    total += s.bytes;
    by.set(s.asn, r);
  }
  if (total <= 0) return [];
  return [...by.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, 20)
    .map(([asn, r]) => ({ asn, name: r.name, share: Math.round((r.bytes / total) * 1000) / 1000 }));
}
