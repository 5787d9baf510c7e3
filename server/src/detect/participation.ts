import type { DetectionEvent } from '@downstream/shared';
import type { Enricher } from '../context.js';
import { FlowDirection, ShardRole, type EnrichedBatch } from '../enrich/enriched-batch.js';
import type { DetectConfig } from './config.js';
import { InfoCache, estimateDistinct, fmtRate, protoShares, round3, targetOf, topShares } from './events.js';
import {
  TargetTable,
  WATCH_FRACTION,
  emptyStats,
  isDataAnswer,
  keyView,
  type TargetStats,
  type Watch,
} from './target-table.js';

/**
 * ddos-participation: several customer endpoints flooding the same outside target at once —
 * a botnet inside our network. Keyed by the outside target (so it shards like inbound), with
 * the customer endpoints as sources. What tells it from many customers using one popular
 * service is the per-endpoint rate and the absence of completed handshakes; the evidence adds
 * how close in time the endpoints started (coordination).
 */
export class ParticipationDetector {
  readonly table: TargetTable;
  private readonly st: TargetStats = emptyStats();
  private readonly cache: InfoCache;

  constructor(
    private readonly cfg: DetectConfig,
    private readonly enricher: Enricher,
  ) {
    this.table = new TargetTable({
      capacity: cfg.limits.maxOutsideTargets,
      windowSeconds: cfg.participation.windowSeconds,
      hllPrecision: 8,
      maxWatched: cfg.limits.maxWatched,
      maxListedSources: cfg.limits.maxListedSources,
      autoWatchPackets: cfg.participation.minPps * WATCH_FRACTION,
      egressLinks: true,
    });
    this.cache = new InfoCache(enricher);
  }

  process(b: EnrichedBatch): void {
    const dir = b.direction;
    const n = b.length;
    const t = this.table;
    const roles = b.shardRoles;
    for (let i = 0; i < n; i++) {
      if (roles !== undefined && (roles[i] & ShardRole.remote) === 0) continue;
      const d = dir[i];
      if (d === FlowDirection.outbound) t.add(b, i, b.dst, b.src, -1);
      // Only answers with data count: a flooded host's SYN-ACKs, resets and ICMP errors do not.
      else if (d === FlowDirection.inbound && isDataAnswer(b.proto[i], b.packets[i], b.bytes[i])) t.answer(b, i, b.src);
    }
  }

  private rule(s: number, st: TargetStats, pps: number, f: number): boolean {
    const a = this.cfg.participation;
    if (st.recentPackets <= 0 || pps < a.minPps * f) return false;
    if (1 - st.recentAttackPackets / st.recentPackets > a.maxEstablishedShare + (1 - f) * (1 - a.maxEstablishedShare))
      return false;
    // A service our customers use answers them (QUIC video: more back than out); a victim does not.
    if (st.answerPackets > st.packets * a.maxAnswerRatio) return false;
    const d = estimateDistinct(this.table.distinctSources(s), st.rawPackets, st.maxSampling);
    return d >= a.minSources * f && pps / Math.max(1, d) >= a.minPpsPerSource * f;
  }

  tick(nowMs: number, out: DetectionEvent[]): void {
    const t = this.table;
    const st = this.st;
    const at = new Date(nowMs).toISOString();
    for (let s = 0; s < t.keys.capacity; s++) {
      if (!t.keys.used[s]) continue;
      t.stats(s, st);
      const pps = st.recentPackets / st.recentSpan;
      const bps = (st.recentBytes * 8) / st.recentSpan;
      const a = this.cfg.participation;
      if (this.rule(s, st, pps, t.firingKind[s] !== 0 ? 0.5 : 1)) {
        const w = t.fire(s, 1, nowMs, a.minPps * 0.5, Infinity);
        out.push(this.event(s, st, pps, bps, w, at));
      } else if (!t.holding(s))
        t.calm(s, pps >= a.minPps * WATCH_FRACTION && st.recentAttackPackets >= st.recentPackets * 0.25);
    }
    t.advance();
    t.expireIdle();
  }

  private event(
    s: number,
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
    const distinct = estimateDistinct(t.distinctSources(s), st.rawPackets, st.maxSampling);
    const coordination = w ? startSpread(w) : undefined;
    const a = this.cfg.participation;
    const answerRatio = round3(st.answerPackets / Math.max(1, st.packets));
    const syn = w ? w.protoPackets[6] / Math.max(1, w.packets) : 0;
    return {
      detector: 'participation',
      kind: 'ddos-participation',
      direction: 'outbound',
      at,
      key: ip,
      target: targetOf(ip, info),
      sources: {
        distinct: Math.max(distinct, w ? w.sources.size : 0),
        top: v.top,
        asns: v.asns,
      },
      upstreams: v.upstreams,
      rate: v.rate,
      evidence: {
        ...(w ? { ports: topShares(w.dstPorts.toMap(), 5), protocols: protoShares(w.protoPackets) } : {}),
        ...v.evidence,
        ppsPerEndpoint: Math.round(pps / Math.max(1, distinct)),
        answerRatio,
        reason:
          `${distinct} customer endpoints sending ${fmtRate(pps, 'pps')} to ${ip}, ${Math.round(pps / Math.max(1, distinct))} pps each, ` +
          `${Math.round(v.evidence.attackShare * 100)} % outside completed handshakes${syn > 0.5 ? ' (TCP)' : ''}, ` +
          `the target answers ${answerRatio} data packets per packet` +
          `${coordination !== undefined ? `, 90 % started within ${coordination} s` : ''} ` +
          `(thresholds: ≥ ${a.minSources} endpoints, ≥ ${fmtRate(a.minPps, 'pps')}, ≥ ${a.minPpsPerSource} pps each, ≤ ${a.maxAnswerRatio} answers)` +
          (st.maxSampling > 1
            ? `; 1:${st.maxSampling} sampled, ${Math.round(st.rawPackets)} samples (confidence ${v.evidence.confidence})`
            : ''),
        ...(coordination !== undefined ? { startSpreadSeconds: coordination } : {}),
        summary: `${distinct} customer endpoints → ${ip} (${info.asName || 'unknown AS'}), ${fmtRate(pps, 'pps')}, ${fmtRate(bps, 'bps')}, ${meanPacketSize} B mean packet size${coordination !== undefined ? `, 90 % started within ${coordination} s` : ''}`,
      },
    };
  }
}

/** Seconds within which 90 % of the listed endpoints first appeared: small = coordinated. */
function startSpread(w: Watch): number | undefined {
  const ticks: number[] = [];
  w.sources.table.forEach((s) => ticks.push(w.sources.firstTick[s]));
  if (ticks.length < 2) return undefined;
  ticks.sort((a, b) => a - b);
  const k = Math.max(1, Math.ceil(ticks.length * 0.9));
  let best = Infinity;
  for (let i = 0; i + k - 1 < ticks.length; i++) best = Math.min(best, ticks[i + k - 1] - ticks[i]);
  return best;
}
