import type { DetectionEvent } from '@downstream/shared';
import ipaddr from 'ipaddr.js';
import type { Enricher } from '../context.js';
import { FlowDirection, ShardRole, type EnrichedBatch } from '../enrich/enriched-batch.js';
import { addrToString } from '@downstream/shared';
import type { CustomerThresholds, DetectConfig } from './config.js';
import {
  InfoCache,
  egressLink,
  estimateDistinct,
  fmtRate,
  linkShares,
  round3,
  samplingConfidence,
  topShares,
} from './events.js';
import { hashInt, hashPair, hashWords } from './hash.js';
import { HllPool } from './hll.js';
import { IntCounter } from './int-counter.js';
import { KeyTable } from './key-table.js';
import { FiringState } from './firing-state.js';
import { HalfWindowClock } from './half-window.js';
import { TCP } from './target-table.js';
import { WatchPool } from './watch-pool.js';

const F_PKTS = 0;
const F_BYTES = 1;
const F_FLOWS = 2;
const F_SMTP_FLOWS = 3;
const F_TCP_FLOWS = 4;
const F_SYN_ONLY = 5;
const F_ANSWER = 6;
const F_RAW = 7;
const F_SMTP_PKTS = 8;
/** Flow records scaled by their sampling rate, like packets (F_FLOWS counts the sampled records). */
const F_SCALED_FLOWS = 9;
/** Outbound TCP records with SYN and RST but no ACK: half-open probes (see halfOpenHll). */
const F_HALF_OPEN = 10;
const FIELDS = 11;
/** No record of the kind yet in this half-window. */
const NO_TICK = 0xffffffff;

const SPAM = 1;
const SCAN = 2;

/**
 * A distinct count reaches `need` (× `f`, the sustain factor) when its estimate does and at least
 * 10 of them were seen: fewer samples cannot tell a scan from noise.
 */
function reaches(observed: number, estimate: number, need: number, f: number): boolean {
  return observed >= 10 * f && estimate >= need * f;
}

/** Probability that a flow of `k` packets shows up at all under 1:N packet sampling. */
export function seenProbability(n: number, k: number): number {
  if (n <= 1) return 1;
  return 1 - Math.pow(1 - 1 / n, k);
}

/** What is kept for a firing endpoint: where its traffic goes and which links carry it out. */
class EndpointWatch {
  slot = -1;
  readonly dstPorts = new IntCounter(256);
  /** By link index + 1. */
  readonly linkBytes = new IntCounter(64);
  packets = 0;
  bytes = 0;

  reset(): void {
    this.slot = -1;
    this.dstPorts.clear();
    this.linkBytes.clear();
    this.packets = 0;
    this.bytes = 0;
  }
}

/**
 * Outbound detectors keyed by customer endpoint: spam-bot (SMTP to many distinct servers,
 * not an allowed mail server) and scanner (many hosts or ports, single-packet flows, little
 * answer). One bounded table; window = two half-window epochs of counters and HyperLogLogs
 * (distinct destinations, distinct SMTP destinations, distinct destination ports).
 * Replies (inbound flows to a tracked endpoint) are counted as its answers.
 */
export class OutboundDetector {
  readonly keys: KeyTable;
  private readonly counters: Float64Array;
  private readonly owner: Int16Array;
  private readonly createdTick: Uint32Array;
  private readonly maxSampling: Uint32Array;
  /** Kind bits (SPAM | SCAN) per endpoint. */
  private readonly firing: FiringState;
  private readonly dstHll: HllPool;
  private readonly smtpHll: HllPool;
  private readonly portHll: HllPool;
  /** Distinct (host, port) probes: a scan of many ports on few hosts spreads over pairs, not hosts. */
  private readonly probeHll: HllPool;
  /**
   * Distinct hosts that got a half-open probe: a SYN, then a reset without an ACK in the same
   * flow record. A client's kernel only resets without ACK a SYN-ACK it did not expect; a SYN
   * scanner (nmap -sS, and -A's host discovery) does it on purpose to every open port it finds,
   * then may go on to talk to it normally — so the scan hides among answered sessions except here.
   * Coarse (p = 6, ~13 %): it is compared with a threshold of tens.
   */
  private readonly halfOpenHll: HllPool;
  private readonly smtpPorts = new Uint8Array(65536);
  /** Per slot and half-window: tick of the first SMTP record / first probe-like record (NO_TICK: none). */
  private readonly firstSmtpTick: Uint32Array;
  private readonly firstProbeTick: Uint32Array;
  /** When the endpoint's current spam / scan firing began, ms since epoch (0: not firing). */
  private readonly spamOnset: Float64Array;
  private readonly scanOnset: Float64Array;
  /** One per firing endpoint: as many as the table has keys, built as endpoints start firing. */
  private readonly watches: WatchPool<EndpointWatch>;
  private readonly clock: HalfWindowClock;
  private readonly allowed: Set<string>;
  private readonly cache: InfoCache;

  constructor(
    private readonly cfg: DetectConfig,
    private readonly thresholds: { base: CustomerThresholds; byCustomer: CustomerThresholds[] },
    private readonly enricher: Enricher,
    allowedSmtp: string[],
  ) {
    const C = cfg.limits.maxEndpoints;
    this.counters = new Float64Array(C * FIELDS * 2);
    this.owner = new Int16Array(C).fill(-1);
    this.createdTick = new Uint32Array(C);
    this.maxSampling = new Uint32Array(C);
    this.firing = new FiringState(C);
    this.watches = new WatchPool(C, C, () => new EndpointWatch());
    this.firstSmtpTick = new Uint32Array(C * 2).fill(NO_TICK);
    this.firstProbeTick = new Uint32Array(C * 2).fill(NO_TICK);
    this.spamOnset = new Float64Array(C);
    this.scanOnset = new Float64Array(C);
    this.dstHll = new HllPool(8, C * 2);
    this.smtpHll = new HllPool(8, C * 2);
    this.portHll = new HllPool(7, C * 2);
    this.probeHll = new HllPool(8, C * 2);
    this.halfOpenHll = new HllPool(6, C * 2);
    for (const p of cfg.spamBot.ports) this.smtpPorts[p] = 1;
    // Normalised text so "2001:db8::25" and "2001:0db8:0:0::25" match.
    this.allowed = new Set(allowedSmtp.map((a) => ipaddr.process(a).toString()));
    this.clock = new HalfWindowClock(cfg.outbound.windowSeconds);
    this.cache = new InfoCache(enricher);
    this.keys = new KeyTable(
      C,
      (s) =>
        this.firing.kind[s]
          ? Infinity
          : this.counters[s * FIELDS * 2 + F_FLOWS] + this.counters[s * FIELDS * 2 + FIELDS + F_FLOWS],
      (s) => this.resetSlot(s),
    );
  }

  get memoryBytes(): number {
    return (
      this.keys.bytes +
      this.counters.byteLength +
      this.owner.byteLength +
      this.createdTick.byteLength +
      this.maxSampling.byteLength +
      this.firing.bytes +
      this.watches.of.byteLength +
      this.firstSmtpTick.byteLength +
      this.firstProbeTick.byteLength +
      this.spamOnset.byteLength +
      this.scanOnset.byteLength +
      this.dstHll.bytes +
      this.smtpHll.bytes +
      this.portHll.bytes +
      this.probeHll.bytes +
      this.halfOpenHll.bytes +
      this.smtpPorts.byteLength
    );
  }

  private resetSlot(s: number): void {
    this.counters.fill(0, s * FIELDS * 2, (s + 1) * FIELDS * 2);
    this.owner[s] = -1;
    this.maxSampling[s] = 0;
    this.firing.calm(s);
    this.firstSmtpTick.fill(NO_TICK, 2 * s, 2 * s + 2);
    this.firstProbeTick.fill(NO_TICK, 2 * s, 2 * s + 2);
    this.spamOnset[s] = 0;
    this.scanOnset[s] = 0;
    for (const h of [this.dstHll, this.smtpHll, this.portHll, this.probeHll, this.halfOpenHll]) {
      h.clear(2 * s);
      h.clear(2 * s + 1);
    }
    this.watches.release(s);
  }

  process(b: EnrichedBatch): void {
    const n = b.length;
    const dir = b.direction;
    const keys = this.keys;
    const c = this.counters;
    const ep = this.clock.half;
    const tick = this.clock.tickCount;
    const roles = b.shardRoles;
    for (let i = 0; i < n; i++) {
      const d = dir[i];
      if (roles !== undefined && (roles[i] & ShardRole.local) === 0) continue;
      const o4 = i * 4;
      if (d === FlowDirection.inbound) {
        // A reply to an endpoint we track: evidence that its peers answer.
        if (keys.size === 0) continue;
        const s = keys.find(b.dst, o4, hashWords(b.dst, o4));
        if (s >= 0) c[(s * 2 + ep) * FIELDS + F_ANSWER] += b.packets[i];
        continue;
      }
      if (d !== FlowDirection.outbound) continue;
      const s = keys.upsert(b.src, o4, hashWords(b.src, o4));
      if (keys.isNew) {
        this.owner[s] = b.srcCustomer[i];
        this.createdTick[s] = tick;
      }
      const pk = b.packets[i];
      const by = b.bytes[i];
      const rate = b.samplingRate[i] || 1;
      const o = (s * 2 + ep) * FIELDS;
      c[o + F_PKTS] += pk;
      c[o + F_BYTES] += by;
      c[o + F_FLOWS] += 1;
      c[o + F_RAW] += pk / rate;
      c[o + F_SCALED_FLOWS] += rate;
      if (rate > this.maxSampling[s]) this.maxSampling[s] = rate;
      const dh = hashWords(b.dst, o4, 0x5bd1e995);
      this.dstHll.add(2 * s + ep, dh);
      const dport = b.dstPort[i];
      this.portHll.add(2 * s + ep, hashInt(dport));
      this.probeHll.add(2 * s + ep, hashPair(dh, dport));
      const se = 2 * s + ep;
      if (b.proto[i] === 6) {
        c[o + F_TCP_FLOWS] += 1;
        const fl = b.tcpFlags[i];
        if ((fl & TCP.ACK) === 0) {
          c[o + F_SYN_ONLY] += 1;
          if (this.firstProbeTick[se] === NO_TICK) this.firstProbeTick[se] = tick;
          // A reset without ACK answers a segment that carried one: here the SYN-ACK of a host
          // the endpoint's kernel never asked (a raw-socket SYN scan). In a flow record it sits
          // beside the scanner's SYN; in an sFlow packet sample it is a record of its own.
          if ((fl & TCP.RST) !== 0) {
            c[o + F_HALF_OPEN] += 1;
            this.halfOpenHll.add(se, dh);
          }
        }
        // SMTP sessions, not probes of port 25: a mail client's packets carry ACK from the
        // second one on, a port scan's SYNs and resets never do (masscan over ports 0-1000 read
        // as a spam bot in sFlow samples).
        if (this.smtpPorts[dport] === 1 && (fl & TCP.ACK) !== 0) {
          c[o + F_SMTP_FLOWS] += 1;
          c[o + F_SMTP_PKTS] += pk;
          this.smtpHll.add(se, dh);
          if (this.firstSmtpTick[se] === NO_TICK) this.firstSmtpTick[se] = tick;
        }
      } else if (this.firstProbeTick[se] === NO_TICK) this.firstProbeTick[se] = tick;
      const wi = this.watches.of[s];
      if (wi >= 0) {
        const w = this.watches.at(wi);
        w.dstPorts.add(dport, pk);
        w.linkBytes.add(egressLink(b, i) + 1, by);
        w.packets += pk;
        w.bytes += by;
      }
    }
  }

  /**
   * Start of the earliest second (of the two half-windows) with a record in `first`, given that
   * records counted under the current tick arrived in the second ending at `nowMs`.
   */
  private onsetMs(first: Uint32Array, s: number, nowMs: number): number {
    const t = Math.min(first[2 * s], first[2 * s + 1]);
    const now = this.clock.tickCount;
    const ago = t === NO_TICK || t > now ? 1 : now - t + 1;
    return nowMs - ago * 1000;
  }

  tick(nowMs: number, out: DetectionEvent[]): void {
    const at = new Date(nowMs).toISOString();
    const keys = this.keys;
    const c = this.counters;
    const sum = new Float64Array(FIELDS);
    for (let s = 0; s < keys.capacity; s++) {
      if (!keys.used[s]) continue;
      const o = s * 2 * FIELDS;
      for (let f = 0; f < FIELDS; f++) sum[f] = c[o + f] + c[o + FIELDS + f];
      if (sum[F_FLOWS] === 0) {
        if (this.firing.kind[s] === 0) {
          this.resetSlot(s);
          keys.remove(s);
          continue;
        }
      }
      const th =
        this.owner[s] >= 0 ? (this.thresholds.byCustomer[this.owner[s]] ?? this.thresholds.base) : this.thresholds.base;
      const span = Math.max(
        1,
        Math.min(this.cfg.outbound.windowSeconds, this.clock.tickCount - this.createdTick[s] + 1),
      );
      const n = this.maxSampling[s] || 1;
      let fire = 0;
      const smtpDistinct = sum[F_SMTP_FLOWS] > 0 ? this.smtpHll.estimate(2 * s, 2 * s + 1) : 0;
      const spamNeed = Math.max(3, th.spamBot.minDistinctTargets * seenProbability(n, th.spamBot.sessionPackets));
      let ip: string | undefined;
      const wasSpam = (this.firing.kind[s] & SPAM) !== 0;
      if (smtpDistinct >= spamNeed * (wasSpam ? 0.5 : 1)) {
        ip = addrToString(keys.keys, s);
        if (!this.allowed.has(ip)) fire |= SPAM;
      }
      // Distinct hosts, ports and (host, port) probes as sampled, and what they stand for: under
      // 1:N sampling an occupancy estimate from how often samples repeat (a vertical scan of
      // few hosts repeats its hosts in every sample; multiplying by N would count thousands).
      const dstDistinct = this.dstHll.estimate(2 * s, 2 * s + 1);
      const portDistinct = this.portHll.estimate(2 * s, 2 * s + 1);
      const probeDistinct = this.probeHll.estimate(2 * s, 2 * s + 1);
      const samples = sum[F_RAW];
      const dstEst = estimateDistinct(dstDistinct, samples, n);
      const portEst = estimateDistinct(portDistinct, samples, n);
      const probeEst = estimateDistinct(probeDistinct, samples, n);
      const wasScan = (this.firing.kind[s] & SCAN) !== 0;
      const f = wasScan ? 0.5 : 1;
      if (
        reaches(dstDistinct, dstEst, th.scanner.minDistinctTargets, f) ||
        reaches(portDistinct, portEst, th.scanner.minDistinctPorts, f) ||
        reaches(probeDistinct, probeEst, th.scanner.minDistinctProbes, f)
      ) {
        const pktsPerFlow = sum[F_RAW] / Math.max(1, sum[F_FLOWS]);
        const unanswered = sum[F_TCP_FLOWS] > 0 ? sum[F_SYN_ONLY] / sum[F_TCP_FLOWS] : 0;
        const answerRatio = sum[F_ANSWER] / Math.max(1, sum[F_PKTS]);
        // TCP probes tell on themselves (no ACK ever); for UDP/ICMP probes, count what comes back.
        const mostlyTcp = sum[F_TCP_FLOWS] >= sum[F_FLOWS] / 2;
        const unansweredOk = mostlyTcp
          ? unanswered >= th.scanner.minUnansweredShare
          : answerRatio <= th.scanner.maxAnswerRatio;
        // Probes spread out: nearly every (sampled) packet goes to a new host or port. A bot
        // flooding one victim while browsing has plenty of distinct peers too, but few per packet.
        // Distinct (host, port) probes per packet: ~1 for a scan however it splits hosts and ports.
        const spread = Math.max(dstDistinct, portDistinct, probeDistinct) / Math.max(1, sum[F_RAW]);
        if (pktsPerFlow <= th.scanner.maxPacketsPerFlow && spread >= th.scanner.minSpread && unansweredOk) fire |= SCAN;
      }
      // Half-open probes: a scan of a few hosts that answer (nmap -A finds port 80 open, then
      // talks HTTP to it) has too few hosts and too many answered sessions for the rule above.
      // Seen whole only in unsampled flow records (both packets of a two-packet flow must be
      // sampled), hence no scale-up: under packet sampling this rule stays silent.
      const halfOpen = sum[F_HALF_OPEN] > 0 ? this.halfOpenHll.estimate(2 * s, 2 * s + 1) : 0;
      const halfOpenScan =
        (fire & SCAN) === 0 &&
        reaches(halfOpen, halfOpen, th.scanner.minHalfOpenTargets, f) &&
        halfOpen >= th.scanner.minHalfOpenShare * f * dstDistinct;
      if (halfOpenScan) fire |= SCAN;
      // Hold: a firing kind that drops out keeps reporting a few ticks so incidents do not split.
      // Hold time: silent, but the endpoint keeps its (lower) sustain thresholds for a few ticks.
      let w = this.watches.get(s);
      if (fire === 0 && w && this.firing.holding(s)) continue;
      if (fire === 0) {
        this.firing.calm(s);
        this.spamOnset[s] = 0;
        this.scanOnset[s] = 0;
        this.watches.release(s);
        continue;
      }
      // Onset: the first second of the window with the offending traffic (SMTP; probe-like
      // records: TCP without ACK, or not TCP), latched when the kind starts firing.
      if (fire & SPAM) {
        if (this.spamOnset[s] === 0) this.spamOnset[s] = this.onsetMs(this.firstSmtpTick, s, nowMs);
      } else this.spamOnset[s] = 0;
      if (fire & SCAN) {
        if (this.scanOnset[s] === 0) this.scanOnset[s] = this.onsetMs(this.firstProbeTick, s, nowMs);
      } else this.scanOnset[s] = 0;
      // The pool holds one watch per key slot: it cannot run out.
      w ??= this.watches.take(s)!;
      this.firing.fire(s, fire);
      ip ??= addrToString(keys.keys, s);
      const pps = sum[F_PKTS] / span;
      const bps = (sum[F_BYTES] * 8) / span;
      const info = this.cache.get(ip);
      const customer = this.owner[s] >= 0 ? this.enricher.customerName(this.owner[s]) : info.customer;
      const endpoint = {
        ip,
        asn: info.asn,
        asName: info.asName,
        country: info.country,
        packets: Math.round(sum[F_PKTS]),
        bytes: Math.round(sum[F_BYTES]),
        ...(customer ? { customer } : {}),
      };
      const common = {
        direction: 'outbound' as const,
        at,
        key: ip,
        sources: { distinct: 1, top: [endpoint], asns: [{ asn: info.asn, name: info.asName, share: 1 }] },
        upstreams: linkShares(w.linkBytes.toMap(), this.enricher, 1),
        rate: { pps: Math.round(pps), bps: Math.round(bps) },
      };
      const confidence = samplingConfidence(sum[F_RAW], n);
      const flowsPerSecond = Math.round(sum[F_SCALED_FLOWS] / span);
      if (fire & SPAM) {
        const p = seenProbability(n, th.spamBot.sessionPackets);
        const est = Math.round(smtpDistinct / p);
        out.push({
          ...common,
          detector: 'spam-bot',
          kind: 'spam-bot',
          evidence: {
            ports: topShares(w.dstPorts.toMap(), 5),
            protocols: [{ proto: 6, share: round3(sum[F_SMTP_PKTS] / Math.max(1, sum[F_PKTS])) }],
            distinctTargets: est,
            observedDistinctTargets: smtpDistinct,
            smtpFlows: Math.round(sum[F_SMTP_FLOWS]),
            samplingRate: n,
            confidence: n > 1 ? round3(Math.min(confidence, 1 - 1 / Math.sqrt(Math.max(1, smtpDistinct)))) : 1,
            windowSeconds: span,
            flowsPerSecond,
            onset: new Date(this.spamOnset[s]).toISOString(),
            summary: `${est.toLocaleString('en-US')} distinct SMTP servers in ${span} s, not an allowed mail server`,
            reason:
              `${est.toLocaleString('en-US')} distinct mail servers on TCP ${th.spamBot.ports.join('/')} in ${span} s` +
              `${n > 1 ? ` (${smtpDistinct} seen at 1:${n} sampling)` : ''}, not in network.allowed_smtp ` +
              `(threshold: ≥ ${th.spamBot.minDistinctTargets} distinct servers)`,
          },
        });
      }
      if (fire & SCAN) {
        out.push({
          ...common,
          detector: 'scanner',
          kind: 'scanner',
          evidence: {
            ports: topShares(w.dstPorts.toMap(), 5),
            distinctTargets: dstEst,
            observedDistinctTargets: dstDistinct,
            distinctPorts: portEst,
            observedDistinctPorts: portDistinct,
            distinctProbes: probeEst,
            observedDistinctProbes: probeDistinct,
            spread: round3(Math.max(dstDistinct, portDistinct, probeDistinct) / Math.max(1, sum[F_RAW])),
            halfOpenTargets: Math.min(halfOpen, dstEst),
            unansweredShare: round3(sum[F_TCP_FLOWS] > 0 ? sum[F_SYN_ONLY] / sum[F_TCP_FLOWS] : 0),
            answerRatio: round3(sum[F_ANSWER] / Math.max(1, sum[F_PKTS])),
            samplingRate: n,
            confidence: n > 1 ? round3(Math.min(confidence, 1 - 1 / Math.sqrt(Math.max(1, dstDistinct)))) : 1,
            windowSeconds: span,
            flowsPerSecond,
            onset: new Date(this.scanOnset[s]).toISOString(),
            summary: halfOpenScan
              ? `${Math.min(halfOpen, dstEst).toLocaleString('en-US')} hosts half-open probed (SYN, then reset) in ${span} s, ${fmtRate(pps, 'pps')}`
              : `${dstEst.toLocaleString('en-US')} hosts, ${portEst.toLocaleString('en-US')} ports probed in ${span} s, ${fmtRate(pps, 'pps')}, little answer`,
            reason: halfOpenScan
              ? `${Math.min(halfOpen, dstEst).toLocaleString('en-US')} of ${dstEst.toLocaleString('en-US')} hosts contacted in ${span} s ` +
                `got half-open probes: a SYN, then a reset without ACK after the host answered ` +
                `(a SYN scanner's probe, as nmap -sS / -A sends; a client seldom resets an answer it asked for) ` +
                `(thresholds: ≥ ${th.scanner.minHalfOpenTargets} hosts and ≥ ${Math.round(th.scanner.minHalfOpenShare * 100)} % ` +
                `of the hosts contacted)`
              : `${dstEst.toLocaleString('en-US')} hosts / ${portEst.toLocaleString('en-US')} ports / ` +
                `${probeEst.toLocaleString('en-US')} distinct (host, port) probes in ${span} s` +
                (n > 1 ? ` (${dstDistinct} / ${portDistinct} / ${probeDistinct} seen at 1:${n})` : '') +
                `, ` +
                `${round3(sum[F_RAW] / Math.max(1, sum[F_FLOWS]))} packets per flow, ` +
                (sum[F_TCP_FLOWS] >= sum[F_FLOWS] / 2
                  ? `${Math.round((sum[F_SYN_ONLY] / Math.max(1, sum[F_TCP_FLOWS])) * 100)} % of TCP flows never acknowledged`
                  : `${round3(sum[F_ANSWER] / Math.max(1, sum[F_PKTS]))} packets answered per packet sent`) +
                ` (thresholds: ≥ ${th.scanner.minDistinctTargets} hosts, ≥ ${th.scanner.minDistinctPorts} ports ` +
                `or ≥ ${th.scanner.minDistinctProbes} probes, ` +
                `≤ ${th.scanner.maxPacketsPerFlow} packets per flow)` +
                (n > 1 ? `; 1:${n} sampled, ${Math.round(sum[F_RAW])} samples` : ''),
          },
        });
      }
    }
    if (this.clock.advance()) {
      // Retire the older half-window: its counters and sketches become the new current half.
      const ep = this.clock.half;
      for (let s = 0; s < keys.capacity; s++) {
        if (!keys.used[s]) continue;
        c.fill(0, (s * 2 + ep) * FIELDS, (s * 2 + ep + 1) * FIELDS);
        this.dstHll.clear(2 * s + ep);
        this.smtpHll.clear(2 * s + ep);
        this.portHll.clear(2 * s + ep);
        this.probeHll.clear(2 * s + ep);
        this.halfOpenHll.clear(2 * s + ep);
        this.firstSmtpTick[2 * s + ep] = NO_TICK;
        this.firstProbeTick[2 * s + ep] = NO_TICK;
      }
    }
  }
}
