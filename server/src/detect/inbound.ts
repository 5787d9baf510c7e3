import type { DetectionEvent, IncidentKind } from '@downstream/shared';
import type { Enricher } from '../context.js';
import { FlowDirection, ShardRole, type EnrichedBatch } from '../enrich/enriched-batch.js';
import type { CustomerThresholds, DetectConfig } from './config.js';
import { InfoCache, estimateDistinct, fmtRate, protoShares, round3, targetOf, topShares } from './events.js';
import { FRAGMENT_PORT, RequestCredits } from './request-credits.js';
import {
  TargetTable,
  WATCH_FRACTION,
  emptyStats,
  isDataAnswer,
  isTcpReflection,
  keyView,
  type TargetStats,
  type Watch,
} from './target-table.js';

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
  /** What our customers asked for, by service port: the answers it accounts for are not reflection. */
  readonly credits = new RequestCredits();
  private readonly st: TargetStats = emptyStats();
  private readonly cache: InfoCache;
  private readonly alpha: number;
  private readonly ampPorts = new Uint8Array(65536);

  /** @param capacityBps per customer (index into network.customers): its link's capacity, 0 when not configured. */
  constructor(
    private readonly cfg: DetectConfig,
    private readonly thresholds: { base: CustomerThresholds; byCustomer: CustomerThresholds[] },
    private readonly enricher: Enricher,
    private readonly capacityBps: number[] = [],
  ) {
    for (const p of cfg.amplification.ports) this.ampPorts[p] = 1;
    this.table = new TargetTable({
      capacity: cfg.limits.maxTargets,
      windowSeconds: cfg.fanIn.windowSeconds,
      hllPrecision: cfg.limits.hllPrecision,
      maxWatched: cfg.limits.maxWatched,
      maxListedSources: cfg.limits.maxListedSources,
      // Reflection opens at a few hundred packets/s; the auto-watch is for what may become big.
      autoWatchPackets: Math.min(cfg.fanIn.minPps, cfg.volumetric.minPps) * WATCH_FRACTION,
    });
    this.cache = new InfoCache(enricher);
    this.alpha = 1 - Math.pow(2, -1 / cfg.volumetric.baselineHalfLifeSeconds);
  }

  process(b: EnrichedBatch): void {
    const dir = b.direction;
    const n = b.length;
    const t = this.table;
    const roles = b.shardRoles;
    const cr = this.credits;
    // Requests first, so a query and its answer in one batch match whatever their order: what a
    // customer sends toward a service port is credit for answers from it.
    for (let i = 0; i < n; i++) {
      if (dir[i] !== FlowDirection.outbound) continue;
      if (roles !== undefined && (roles[i] & ShardRole.local) === 0) continue;
      const p = b.proto[i];
      if (p === 17 || p === 6) cr.request(b.src, i * 4, p, b.dstPort[i], b.packets[i]);
    }
    const minSize = this.cfg.amplification.minPacketSize;
    for (let i = 0; i < n; i++) {
      if (dir[i] !== FlowDirection.inbound) continue;
      if (roles !== undefined && (roles[i] & ShardRole.local) === 0) continue;
      const p = b.proto[i];
      const pk = b.packets[i];
      let refl = 0;
      let asked = 0;
      let port = -1;
      let listed = false;
      // Non-first IPv6 fragments, where the exporter stops at the Fragment header: its number
      // (44) or none at all (softflowd 1.1 says protocol 0), and no ports.
      const frag6 = (p === 44 || p === 0) && b.srcPort[i] === 0 && b.dstPort[i] === 0;
      if (p === 17 || frag6) {
        const sp = frag6 ? FRAGMENT_PORT : b.srcPort[i];
        // Non-first IP fragments carry no ports: UDP 0 → 0 (or the IPv6 forms above).
        const frag = frag6 || (sp === FRAGMENT_PORT && b.dstPort[i] === 0);
        // Fragments count with the listed ports: a fragmented DNS answer is its first fragment
        // from 53 and the rest from no port (softflowd: 57 % / 43 % in the RRSIG capture).
        listed = frag || this.ampPorts[sp] === 1;
        if (listed || b.bytes[i] >= minSize * pk) {
          port = 17 * 65536 + sp;
          asked = cr.consume(cr.slot(b.dst, i * 4, 17, sp), pk);
          refl = pk - asked;
        }
      } else if (p === 6 && isTcpReflection(b.tcpFlags[i])) {
        const sp = b.srcPort[i];
        port = 6 * 65536 + sp;
        asked = cr.consume(cr.slot(b.dst, i * 4, 6, sp), pk);
        refl = pk - asked;
      }
      t.add(b, i, b.dst, b.src, b.dstCustomer[i], refl, port, listed, asked);
    }
    // Answers last, once this batch's senders made the target a key: data a target sends back
    // is the evidence a served crowd gives and a flooded host does not.
    for (let i = 0; i < n; i++) {
      if (dir[i] !== FlowDirection.outbound) continue;
      if (roles !== undefined && (roles[i] & ShardRole.local) === 0) continue;
      if (isDataAnswer(b.proto[i], b.packets[i], b.bytes[i])) t.answer(b, i, b.src);
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
    // The credits run on the table's half-windows: a request is credit for as long as the
    // sketches that count its answers remember them.
    const rotated = t.advance();
    t.expireIdle();
    if (rotated) this.credits.rotate();
  }

  private near(th: CustomerThresholds, st: TargetStats, pps: number, bps: number): boolean {
    const minPps = Math.min(th.fanIn.minPps, th.volumetric.minPps, th.volumetric.floorPps);
    const attackShare = st.recentPackets > 0 ? st.recentAttackPackets / st.recentPackets : 0;
    if ((pps >= minPps * WATCH_FRACTION || bps >= th.volumetric.minBps * WATCH_FRACTION) && attackShare >= 0.25)
      return true;
    // Unasked-for reflection is listed from a quarter of its (low) thresholds.
    const a = th.amplification;
    const ampPps = st.recentAmpPackets / st.recentSpan;
    const ampBps = (st.recentAmpBytes * 8) / st.recentSpan;
    return (
      (ampPps >= a.minPps * WATCH_FRACTION || ampBps >= a.minBps * WATCH_FRACTION) &&
      st.recentAmpBytes >= st.recentBytes * 0.25
    );
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
        if (st.ampPackets / st.maxSampling < a.minSamples * f) return false;
        // One service port (or the well-known ones together): reflection, not a random-port flood.
        if (Math.max(st.ampTopPackets, st.ampListedPackets) < st.ampPackets * a.minPortShare * f) return false;
        return this.reflectors(s, st) >= a.minReflectors * f;
      }
      case KIND_FAN_IN: {
        const a = th.fanIn;
        if (pps < a.minPps * f) return false;
        if (st.recentBytes / st.recentPackets > a.maxMeanPacketSize / f) return false;
        if (1 - attackShare > a.maxEstablishedShare + (1 - f) * (1 - a.maxEstablishedShare)) return false;
        if (st.answerPackets > (st.attackPackets * a.maxAnswerRatio) / f) return false;
        return this.sources(s, st) >= a.minSources * f;
      }
      case KIND_VOLUMETRIC: {
        const a = th.volumetric;
        if (1 - attackShare > a.maxEstablishedShare + (1 - f) * (1 - a.maxEstablishedShare)) return false;
        if (st.answerPackets > (st.attackPackets * a.maxAnswerRatio) / f) return false;
        // The absolute floor needs no baseline: a new or quiet target has none.
        if (pps >= a.floorPps * f && this.sources(s, st) >= a.floorSources * f) return true;
        if (pps < a.minPps * f && bps < a.minBps * f) return false;
        const bp = t.baselinePps[s];
        const bb = t.baselineBps[s];
        return pps >= a.factor * f * bp || bps >= a.factor * f * bb;
      }
      default:
        return false;
    }
  }

  /** Distinct reflectors in the window, scaled up for what sampling hid. */
  private reflectors(s: number, st: TargetStats): number {
    return estimateDistinct(this.table.distinctReflectors(s), st.ampPackets / st.maxSampling, st.maxSampling);
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
    const owner = t.owner[s];
    const customer = owner >= 0 ? this.enricher.customerName(owner) : info.customer;
    const capacity = owner >= 0 ? (this.capacityBps[owner] ?? 0) : 0;
    const observed = t.distinctSources(s);
    const distinct = this.sources(s, st);
    const { kind: k, detector } = KINDS[kind];
    const amp = kind === KIND_AMPLIFICATION;
    const reflectors = amp ? this.reflectors(s, st) : undefined;
    // Data sent back per packet outside completed handshakes: a served crowd answers, a flooded host does not.
    const answerRatio = round3(st.answerPackets / Math.max(1, st.attackPackets));
    const parts = [
      `${distinct.toLocaleString('en-US')} sources`,
      `${meanPacketSize} B mean packet size`,
      `${fmtRate(pps, 'pps')}`,
      `${fmtRate(bps, 'bps')}`,
    ];
    if (kind === KIND_VOLUMETRIC)
      parts.push(`${(pps / Math.max(1, t.baselinePps[s])).toFixed(0)}× baseline ${fmtRate(t.baselinePps[s], 'pps')}`);
    let reason: string;
    let reflection: Record<string, unknown> = {};
    if (amp) {
      const rp = t.reflectionPort(s);
      const proto = rp >= 0 ? rp >>> 16 : 17;
      const port = rp >= 0 ? rp & 0xffff : 0;
      const listedShare = st.ampListedPackets / Math.max(1, st.ampPackets);
      const topShare = st.ampTopPackets / Math.max(1, st.ampPackets);
      const from =
        proto === 6
          ? `TCP ${port} (SYN-ACK/RST: TCP reflection)`
          : port === FRAGMENT_PORT
            ? 'IP fragments (no ports)'
            : `UDP ${port}`;
      const fromText =
        listedShare <= topShare || listedShare < 0.5
          ? from
          : port === FRAGMENT_PORT && proto === 17
            ? `${from} and well-known reflector ports`
            : `well-known reflector ports (top ${from})`;
      const reflSize = Math.round(st.recentAmpBytes / Math.max(1, st.recentAmpPackets));
      const a = th.amplification;
      parts.push(`${reflectors} reflectors`);
      reason =
        `${(reflectors ?? 0).toLocaleString('en-US')} reflectors from ${fromText}, ${reflSize}-byte packets, ` +
        `${fmtRate(st.recentAmpPackets / st.recentSpan, 'pps')} / ${fmtRate((st.recentAmpBytes * 8) / st.recentSpan, 'bps')}, ` +
        `no requests from the target toward that port ` +
        `(thresholds: ≥ ${a.minReflectors} reflectors, ≥ ${fmtRate(a.minPps, 'pps')} or ${fmtRate(a.minBps, 'bps')}, ` +
        `≥ ${Math.round(a.minShare * 100)} % of the target's bytes, ≥ ${Math.round(a.minPortShare * 100)} % from one port)`;
      reflection = {
        reflection: proto === 6 ? 'tcp' : port === FRAGMENT_PORT ? 'fragments' : 'udp',
        reflectionProto: proto,
        reflectionPort: port,
        reflectedShare: round3(st.recentAmpBytes / Math.max(1, st.recentBytes)),
        reflectedMeanPacketSize: reflSize,
        ...(proto === 6 ? { tcpReflection: true } : {}),
      };
    } else if (kind === KIND_FAN_IN) {
      const a = th.fanIn;
      reason =
        `${distinct.toLocaleString('en-US')} sources, ${meanPacketSize}-byte packets, ${fmtRate(pps, 'pps')}, ` +
        `${Math.round(v.evidence.attackShare * 100)} % outside completed handshakes, target answers ${answerRatio} data packets per packet outside handshakes ` +
        `(thresholds: ≥ ${a.minSources} sources, ≥ ${fmtRate(a.minPps, 'pps')}, ≤ ${a.maxMeanPacketSize} B, ` +
        `≤ ${Math.round(a.maxEstablishedShare * 100)} % handshakes, ≤ ${a.maxAnswerRatio} answers)`;
    } else {
      const a = th.volumetric;
      const floor = pps >= a.floorPps && distinct >= a.floorSources;
      reason = floor
        ? `${fmtRate(pps, 'pps')} from ${distinct.toLocaleString('en-US')} sources, over the absolute floor, no baseline needed; ` +
          `target answers ${answerRatio} data packets per packet outside handshakes ` +
          `(thresholds: ≥ ${fmtRate(a.floorPps, 'pps')} from ≥ ${a.floorSources} sources, ≤ ${a.maxAnswerRatio} answers)`
        : `${fmtRate(pps, 'pps')} / ${fmtRate(bps, 'bps')}, ${(pps / Math.max(1, t.baselinePps[s])).toFixed(0)}× the target's baseline ` +
          `${fmtRate(t.baselinePps[s], 'pps')} / ${fmtRate(t.baselineBps[s], 'bps')} ` +
          `(thresholds: ≥ ${a.factor}× baseline and ≥ ${fmtRate(a.minPps, 'pps')} or ${fmtRate(a.minBps, 'bps')})`;
    }
    if (capacity > 0)
      reason += `; ${Math.round((bps / capacity) * 100)} % of the customer's ${fmtRate(capacity, 'bps')} link`;
    if (st.maxSampling > 1)
      reason += `; 1:${st.maxSampling} sampled, ${Math.round(st.rawPackets).toLocaleString('en-US')} samples (confidence ${v.evidence.confidence})`;
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
        ports: w ? topShares((amp ? w.srcPorts : w.dstPorts).toMap(), 5) : undefined,
        protocols: w ? protoShares(w.protoPackets) : undefined,
        ...v.evidence,
        summary: parts.join(', '),
        reason,
        sampledPackets: Math.round(st.rawPackets),
        answerRatio,
        // Severity grows with volume against these (incidents/severity.ts).
        baselinePps: Math.round(t.baselinePps[s]),
        baselineBps: Math.round(t.baselineBps[s]),
        ...(capacity > 0 ? { capacityBps: capacity } : {}),
        ...(st.maxSampling > 1 ? { observedSources: observed } : {}),
        ...(reflectors !== undefined ? { reflectors, reflectorPorts: w ? topShares(w.srcPorts.toMap(), 5) : [] } : {}),
        ...reflection,
        ...(kind === KIND_FAN_IN ? { minSources: th.fanIn.minSources } : {}),
      },
    };
    if (!e.evidence.ports) delete e.evidence.ports;
    if (!e.evidence.protocols) delete e.evidence.protocols;
    return e;
  }
}
