import type { DetectionEvent, IncidentKind } from '@downstream/shared';
import type { Enricher } from '../context.js';
import { FlowDirection, type EnrichedBatch } from '../enrich/enriched-batch.js';
import type { CustomerThresholds, DetectConfig } from './config.js';
import { InfoCache, estimateDistinct, fmtRate, protoShares, targetOf, topShares } from './events.js';
import { TargetTable, WATCH_FRACTION, emptyStats, keyView, type TargetStats, type Watch } from './target-table.js';

const KIND_NONE = 0;
const KIND_FAN_IN = 1;
const KIND_VOLUMETRIC = 2;
const KIND_AMPLIFICATION = 3;
const KINDS: Record<number, { kind: IncidentKind; detector: string }> = {
  [KIND_FAN_IN]: { kind: 'ddos-fan-in', detector: 'fan-in' },
  [KIND_VOLUMETRIC]: { kind: 'volumetric', detector: 'volumetric' },
  [KIND_AMPLIFICATION]: { kind: 'amplification', detector: 'amplification' },
};

/**
 * Inbound detectors keyed by target address: fan-in, volumetric and amplification share one
 * bounded per-target table (one hash lookup per record) and are told apart at each tick, most
 * specific first — reflected UDP is amplification, many small-packet sources is fan-in, and
 * what is left, far above the target's own EWMA baseline, is volumetric. A target keeps the
 * kind it fired with while that kind's sustain level holds, so incidents do not flap.
 */
export class InboundDetector {
  readonly table: TargetTable;
  private readonly st: TargetStats = emptyStats();
  private readonly cache: InfoCache;
  private readonly alpha: number;

  constructor(
    private readonly cfg: DetectConfig,
    private readonly thresholds: { base: CustomerThresholds; byCustomer: CustomerThresholds[] },
    private readonly enricher: Enricher,
  ) {
    const ampPorts = new Uint8Array(65536);
    for (const p of cfg.amplification.ports) ampPorts[p] = 1;
    this.table = new TargetTable({
      capacity: cfg.limits.maxTargets,
      windowSeconds: cfg.fanIn.windowSeconds,
      hllPrecision: cfg.limits.hllPrecision,
      maxWatched: cfg.limits.maxWatched,
      maxListedSources: cfg.limits.maxListedSources,
      ampPorts,
      autoWatchPackets: Math.min(cfg.fanIn.minPps, cfg.volumetric.minPps, cfg.amplification.minPps) * WATCH_FRACTION,
    });
    this.cache = new InfoCache(enricher);
    this.alpha = 1 - Math.pow(2, -1 / cfg.volumetric.baselineHalfLifeSeconds);
  }

  process(b: EnrichedBatch): void {
    const dir = b.direction;
    const n = b.length;
    const t = this.table;
    for (let i = 0; i < n; i++) {
      if (dir[i] !== FlowDirection.inbound) continue;
      t.add(b, i, b.dst, b.src, b.dstCustomer[i]);
    }
  }

  tick(nowMs: number, out: DetectionEvent[]): void {
    const t = this.table;
    const st = this.st;
    const at = new Date(nowMs).toISOString();
    for (let s = 0; s < t.keys.capacity; s++) {
      if (!t.keys.used[s]) continue;
      t.stats(s, st);
      const th =
        t.owner[s] >= 0 ? (this.thresholds.byCustomer[t.owner[s]] ?? this.thresholds.base) : this.thresholds.base;
      const pps = st.recentPackets / st.recentSpan;
      const bps = (st.recentBytes * 8) / st.recentSpan;
      const was = t.firingKind[s];
      let kind = KIND_NONE;
      if (was !== KIND_NONE && this.rule(was, s, th, st, pps, bps, 0.5)) kind = was;
      // A key that just stopped firing one kind does not turn into another on the way down
      // (a fan-in's tail is not a volumetric attack): only the same kind until the hold ends.
      else if (was === KIND_NONE) kind = this.classify(s, th, st, pps, bps);

      if (kind !== KIND_NONE) {
        // Onset: the first second of the run at the kind's sustain level (half its thresholds).
        const a = kind === KIND_AMPLIFICATION ? th.amplification : kind === KIND_VOLUMETRIC ? th.volumetric : undefined;
        const w = t.fire(s, kind, nowMs, (a ? a.minPps : th.fanIn.minPps) * 0.5, a ? a.minBps / 16 : Infinity);
        if (w) {
          w.firing = KINDS[kind].kind;
          w.peakPps = Math.max(w.peakPps, pps);
          w.peakBps = Math.max(w.peakBps, bps);
        }
        out.push(this.event(kind, s, th, st, pps, bps, w, at));
      } else if (!t.holding(s)) {
        // Baselines learn only from traffic that is not (or no longer) an attack.
        const base = t.baselinePps[s];
        if (base === 0) {
          t.baselinePps[s] = pps;
          t.baselineBps[s] = bps;
        } else {
          t.baselinePps[s] = base + this.alpha * (pps - base);
          t.baselineBps[s] += this.alpha * (bps - t.baselineBps[s]);
        }
        t.calm(s, this.near(th, st, pps, bps));
      }
    }
    t.advance();
    t.expireIdle();
  }

  private near(th: CustomerThresholds, st: TargetStats, pps: number, bps: number): boolean {
    const minPps = Math.min(th.fanIn.minPps, th.volumetric.minPps, th.amplification.minPps);
    const minBps = Math.min(th.volumetric.minBps, th.amplification.minBps);
    const attackShare = st.recentPackets > 0 ? st.recentAttackPackets / st.recentPackets : 0;
    return (pps >= minPps * WATCH_FRACTION || bps >= minBps * WATCH_FRACTION) && attackShare >= 0.25;
  }

  private classify(s: number, th: CustomerThresholds, st: TargetStats, pps: number, bps: number): number {
    if (this.rule(KIND_AMPLIFICATION, s, th, st, pps, bps, 1)) return KIND_AMPLIFICATION;
    if (this.rule(KIND_FAN_IN, s, th, st, pps, bps, 1)) return KIND_FAN_IN;
    if (this.rule(KIND_VOLUMETRIC, s, th, st, pps, bps, 1)) return KIND_VOLUMETRIC;
    return KIND_NONE;
  }

  /** Whether `kind`'s rule holds with thresholds scaled by `f` (1 to fire, 0.5 to sustain). */
  private rule(
    kind: number,
    s: number,
    th: CustomerThresholds,
    st: TargetStats,
    pps: number,
    bps: number,
    f: number,
  ): boolean {
    if (st.recentPackets <= 0) return false;
    const attackShare = st.recentAttackPackets / st.recentPackets;
    const t = this.table;
    switch (kind) {
      case KIND_AMPLIFICATION: {
        const a = th.amplification;
        const ampPps = st.recentAmpPackets / st.recentSpan;
        const ampBps = (st.recentAmpBytes * 8) / st.recentSpan;
        if (st.recentBytes <= 0 || st.recentAmpBytes / st.recentBytes < a.minShare * f) return false;
        if (ampPps < a.minPps * f && ampBps < a.minBps * f) return false;
        return (
          estimateDistinct(t.distinctReflectors(s), st.ampPackets / st.maxSampling, st.maxSampling) >=
          a.minReflectors * f
        );
      }
      case KIND_FAN_IN: {
        const a = th.fanIn;
        if (pps < a.minPps * f) return false;
        if (st.recentBytes / st.recentPackets > a.maxMeanPacketSize / f) return false;
        if (1 - attackShare > a.maxEstablishedShare + (1 - f) * (1 - a.maxEstablishedShare)) return false;
        return this.sources(s, st) >= a.minSources * f;
      }
      case KIND_VOLUMETRIC: {
        const a = th.volumetric;
        if (pps < a.minPps * f && bps < a.minBps * f) return false;
        if (1 - attackShare > a.maxEstablishedShare + (1 - f) * (1 - a.maxEstablishedShare)) return false;
        const bp = t.baselinePps[s];
        const bb = t.baselineBps[s];
        return pps >= a.factor * f * bp || bps >= a.factor * f * bb;
      }
      default:
        return false;
    }
  }

  /** Distinct sources in the window, scaled up for what sampling hid. */
  private sources(s: number, st: TargetStats): number {
    return estimateDistinct(this.table.distinctSources(s), st.rawPackets, st.maxSampling);
  }

  private event(
    kind: number,
    s: number,
    th: CustomerThresholds,
    st: TargetStats,
    pps: number,
    bps: number,
    w: Watch | undefined,
    at: string,
  ): DetectionEvent {
    const t = this.table;
    const v = keyView(t, s, w, st, this.cfg.limits.maxListedSources, this.cache, this.enricher);
    const { ip, info } = v;
    const { meanPacketSize } = v.evidence;
    const customer = t.owner[s] >= 0 ? this.enricher.customerName(t.owner[s]) : info.customer;
    const observed = t.distinctSources(s);
    const distinct = this.sources(s, st);
    const { kind: k, detector } = KINDS[kind];
    const reflectors =
      kind === KIND_AMPLIFICATION
        ? estimateDistinct(t.distinctReflectors(s), st.ampPackets / st.maxSampling, st.maxSampling)
        : undefined;
    const parts = [
      `${distinct.toLocaleString('en-US')} sources`,
      `${meanPacketSize} B mean packet size`,
      `${fmtRate(pps, 'pps')}`,
      `${fmtRate(bps, 'bps')}`,
    ];
    if (kind === KIND_VOLUMETRIC)
      parts.push(`${(pps / Math.max(1, t.baselinePps[s])).toFixed(0)}× baseline ${fmtRate(t.baselinePps[s], 'pps')}`);
    if (reflectors !== undefined) parts.push(`${reflectors} reflectors`);
    const e: DetectionEvent = {
      detector,
      kind: k,
      direction: 'inbound',
      at,
      key: ip,
      target: targetOf(ip, info, customer),
      sources: { distinct, top: v.top, asns: v.asns },
      upstreams: v.upstreams,
      rate: v.rate,
      evidence: {
        ports: w ? topShares((kind === KIND_AMPLIFICATION ? w.srcPorts : w.dstPorts).toMap(), 5) : undefined,
        protocols: w ? protoShares(w.protoPackets) : undefined,
        ...v.evidence,
        summary: parts.join(', '),
        sampledPackets: Math.round(st.rawPackets),
        ...(st.maxSampling > 1 ? { observedSources: observed } : {}),
        ...(kind === KIND_VOLUMETRIC
          ? { baselinePps: Math.round(t.baselinePps[s]), baselineBps: Math.round(t.baselineBps[s]) }
          : {}),
        ...(reflectors !== undefined ? { reflectors, reflectorPorts: w ? topShares(w.srcPorts.toMap(), 5) : [] } : {}),
        ...(kind === KIND_FAN_IN ? { minSources: th.fanIn.minSources } : {}),
      },
    };
    if (!e.evidence.ports) delete e.evidence.ports;
    if (!e.evidence.protocols) delete e.evidence.protocols;
    return e;
  }
}
