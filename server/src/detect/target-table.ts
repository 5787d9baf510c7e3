import type { DetectionEvent, SourceAsnShare, SourceEndpoint } from '@downstream/shared';
import type { AddressInfo, Enricher } from '../context.js';
import type { EnrichedBatch } from '../enrich/enriched-batch.js';
import { addrToString } from '@downstream/shared';
import {
  asnShares,
  egressLink,
  linkShares,
  listSources,
  round3,
  samplingConfidence,
  type InfoCache,
} from './events.js';
import { FiringState } from './firing-state.js';
import { HalfWindowClock } from './half-window.js';
import { hashInt, hashWords } from './hash.js';
import { HllPool } from './hll.js';
import { KeyTable } from './key-table.js';
import { IntCounter } from './int-counter.js';
import { SourceSet } from './source-set.js';
import { WatchPool } from './watch-pool.js';

/** TCP flag bits as NetFlow/IPFIX export them. */
export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

/**
 * True for packets of a TCP flow that completed a handshake: the client's ACK carrying data
 * (PSH) or closing (FIN) after the server's SYN-ACK — what real clients look like. A SYN-ACK
 * alone is the server's half of a handshake (toward one of ours it is an answer or a
 * reflection, never our server's client); floods (UDP, ICMP, SYN-only, RST, bare-ACK) are not.
 */
export function isEstablished(proto: number, flags: number): boolean {
  return proto === 6 && (flags & TCP.ACK) !== 0 && (flags & (TCP.PSH | TCP.FIN)) !== 0;
}

/**
 * TCP packets a reflector sends: the server half of a handshake (SYN-ACK) or a reset, without
 * data — what a host gets when someone spoofs its address in SYNs to many servers.
 */
export function isTcpReflection(flags: number): boolean {
  if ((flags & TCP.PSH) !== 0) return false;
  return (flags & TCP.RST) !== 0 || (flags & (TCP.SYN | TCP.ACK)) === (TCP.SYN | TCP.ACK);
}

/** Mean packet size at or above which an answer carries data (a SYN-ACK, RST or ICMP error does not). */
export const DATA_ANSWER_SIZE = 100;

/** An answer that carries data: what a service sends its clients, unlike what a flooded host sends back. */
export function isDataAnswer(proto: number, packets: number, bytes: number): boolean {
  return proto !== 1 && proto !== 58 && bytes >= DATA_ANSWER_SIZE * packets;
}

/** Window sums for one key, filled by `TargetTable.stats` (one reused object, no allocation). */
export interface TargetStats {
  /** Seconds the window actually covers for this key (≤ windowSeconds while it is new). */
  span: number;
  packets: number;
  bytes: number;
  /** Packets not in completed-handshake TCP flows. */
  attackPackets: number;
  /** Reflection-shaped packets/bytes no request of the key accounts for (set by the owner, see `add`). */
  ampPackets: number;
  ampBytes: number;
  /** Of those, from the key's dominant reflection port bucket (see `reflectionPort`). */
  ampTopPackets: number;
  /** Of those, from the configured well-known reflector ports. */
  ampListedPackets: number;
  /** Packets as the exporters saw them before scale-up (sampled packet count). */
  rawPackets: number;
  /** Flow records, scaled up by their sampling rate like packets. */
  flows: number;
  /** Packets the key sent back (only counted where the owner calls `answer`). */
  answerPackets: number;
  /** Highest 1-in-N sampling rate among the window's records. */
  maxSampling: number;
  /**
   * The same sums over the last few seconds only (RECENT_SECONDS): what rates are judged on,
   * so a detector reacts within seconds and lets go as soon as an attack stops, while distinct
   * counts still cover the whole window.
   */
  recentSpan: number;
  recentPackets: number;
  recentBytes: number;
  recentAttackPackets: number;
  recentAmpPackets: number;
  recentAmpBytes: number;
  recentFlows: number;
}

export const RECENT_SECONDS = 3;

/** Start listing a key's sources at this fraction of the lowest threshold, so the list is full when it fires. */
export const WATCH_FRACTION = 0.25;

export function emptyStats(): TargetStats {
  return {
    span: 1,
    packets: 0,
    bytes: 0,
    attackPackets: 0,
    ampPackets: 0,
    ampBytes: 0,
    ampTopPackets: 0,
    ampListedPackets: 0,
    rawPackets: 0,
    flows: 0,
    answerPackets: 0,
    maxSampling: 1,
    recentSpan: 1,
    recentPackets: 0,
    recentBytes: 0,
    recentAttackPackets: 0,
    recentAmpPackets: 0,
    recentAmpBytes: 0,
    recentFlows: 0,
  };
}

/** Events carry a watch's whole source list this often (ticks); the top few in between. */
export const FULL_LIST_EVERY = 5;
export const SHORT_LIST = 100;

/** How many sources the next event of `w` lists: everything on its first event and every few ticks. */
export function listLimit(w: Watch, tick: number, max: number): number {
  if (w.fullListTick < 0 || tick - w.fullListTick >= FULL_LIST_EVERY) {
    // An empty list (the watch began this tick) does not count as sent.
    if (w.sources.size > 0) w.fullListTick = tick;
    return max;
  }
  return Math.min(max, SHORT_LIST);
}

/** What is kept for a watched key: every source (up to a cap), per-ASN/link/proto/port tallies. */
export class Watch {
  slot = -1;
  keyText = '';
  readonly sources: SourceSet;
  readonly asnBytes = new IntCounter(1024);
  /** Keyed by link index + 1 (0 = unknown link). */
  readonly linkBytes = new IntCounter(64);
  readonly protoPackets = new Float64Array(256);
  readonly dstPorts = new IntCounter(512);
  readonly srcPorts = new IntCounter(512);
  packets = 0;
  bytes = 0;
  /** Tick of the last event that carried the whole source list (-1: none yet). */
  fullListTick = -1;

  constructor(maxSources: number) {
    this.sources = new SourceSet(maxSources);
  }

  reset(): void {
    this.slot = -1;
    this.keyText = '';
    this.sources.clear();
    this.asnBytes.clear();
    this.linkBytes.clear();
    this.protoPackets.fill(0);
    this.dstPorts.clear();
    this.srcPorts.clear();
    this.packets = 0;
    this.bytes = 0;
    this.fullListTick = -1;
  }
}

const FIELDS = 9;
const F_PKTS = 0;
const F_BYTES = 1;
const F_ATTACK = 2;
const F_AMP_PKTS = 3;
const F_AMP_BYTES = 4;
const F_RAW = 5;
/** Flow records scaled by their sampling rate (each sampled record stands for `rate` of them). */
const F_FLOWS = 6;
/** Packets coming back from the key (replies): a victim of a flood hardly answers. */
const F_ANSWER = 7;
/** Reflected packets from the configured well-known ports. */
const F_AMP_LISTED = 8;
/** Port buckets per key for the reflection-port concentration (a power of two). */
export const PORT_BUCKETS = 16;

export interface TargetTableOptions {
  capacity: number;
  windowSeconds: number;
  hllPrecision: number;
  maxWatched: number;
  maxListedSources: number;
  /**
   * Start listing a key's sources as soon as this many packets arrive for it within one
   * second, without waiting for the tick, so the first detection already names its sources.
   * Uses at most half the watches; the tick releases those that turn out not to matter.
   */
  autoWatchPackets?: number;
  /**
   * Count links by where flows leave rather than where they enter: a table of outbound flows
   * (participation) names the upstreams that carry our customers' abuse out, not their access links.
   */
  egressLinks?: boolean;
}

/**
 * Per-key sliding-window state for detectors that watch traffic converging on one address:
 * inbound targets (fan-in, volumetric, amplification) and outside victims (ddos-participation).
 *
 * Memory is fixed at construction: `capacity` keys × (window buckets × 7 counters + two
 * HyperLogLog halves for sources + two for reflectors), plus `maxWatched` source lists.
 * Distinct counts use two half-window HyperLogLogs: the estimate covers the last half to
 * full window, and the older half is cleared every windowSeconds/2 ticks.
 */
export class TargetTable {
  readonly keys: KeyTable;
  readonly window: number;
  private readonly counters: Float64Array;
  private readonly maxSampling: Uint32Array;
  private readonly createdTick: Uint32Array;
  readonly hll: HllPool;
  readonly ampHll: HllPool;
  /** Source lists and tallies of the keys near or over a threshold. */
  readonly watches: WatchPool<Watch>;
  /** `watches.of` and `watches.all()`, read directly by `add` (one load less per record). */
  private readonly watchOf: Int32Array;
  private readonly watchList: readonly Watch[];
  /** Reflected packets per slot × PORT_BUCKETS port buckets, per half-window (two halves like the sketches). */
  private readonly portPackets: Float64Array;
  private readonly portHalf: number;
  /** Last reflection port (proto × 65536 + port) counted in each bucket: the port of a dominant bucket. */
  private readonly portLast: Int32Array;
  private bucket = 0;
  private readonly autoWatch: number;
  private readonly egressLinks: boolean;
  private readonly autoWatchMax: number;
  /** Watches taken by `add` since the last tick. */
  private autoWatched = 0;
  readonly clock: HalfWindowClock;
  private readonly stride: number;
  /** Per-key baselines and firing memory for the owning detector. */
  readonly baselinePps: Float64Array;
  readonly baselineBps: Float64Array;
  readonly firing: FiringState;
  /** `firing.kind`: what each key fires, 0 when it does not. */
  readonly firingKind: Uint8Array;
  /** Customer index of the key (inbound targets), -1 when none. */
  readonly owner: Int16Array;
  /** Packets in the window as of the last `stats` call: a cheap eviction score. */
  private readonly windowPackets: Float64Array;
  /** When the owner's current firing began (ms since epoch, see `onsetMs`), 0 when not firing. */
  readonly onset: Float64Array;

  constructor(private readonly opts: TargetTableOptions) {
    const C = opts.capacity;
    this.window = opts.windowSeconds;
    this.stride = this.window * FIELDS;
    this.counters = new Float64Array(C * this.stride);
    this.maxSampling = new Uint32Array(C);
    this.createdTick = new Uint32Array(C);
    this.baselinePps = new Float64Array(C);
    this.baselineBps = new Float64Array(C);
    this.firing = new FiringState(C);
    this.firingKind = this.firing.kind;
    this.owner = new Int16Array(C).fill(-1);
    this.windowPackets = new Float64Array(C);
    this.onset = new Float64Array(C);
    this.hll = new HllPool(opts.hllPrecision, C * 2);
    this.ampHll = new HllPool(Math.max(4, opts.hllPrecision - 3), C * 2);
    this.watches = new WatchPool(C, opts.maxWatched, () => new Watch(opts.maxListedSources));
    this.watchOf = this.watches.of;
    this.watchList = this.watches.all();
    this.portHalf = C * PORT_BUCKETS;
    this.portPackets = new Float64Array(2 * this.portHalf);
    this.portLast = new Int32Array(this.portHalf).fill(-1);
    this.clock = new HalfWindowClock(this.window);
    this.autoWatch = opts.autoWatchPackets ?? Infinity;
    this.egressLinks = opts.egressLinks ?? false;
    this.autoWatchMax = Math.floor(opts.maxWatched / 2);
    this.keys = new KeyTable(
      C,
      // Never evict a key under watch; otherwise the quietest (last window + this second) goes first.
      (s) =>
        this.watches.of[s] >= 0
          ? Infinity
          : this.windowPackets[s] + this.counters[s * this.stride + this.bucket * FIELDS + F_PKTS],
      (s) => this.resetSlot(s),
    );
  }

  /** Bytes of state, all fixed at construction except the watch lists (bounded by maxWatched). */
  get memoryBytes(): number {
    let w = 0;
    for (const x of this.watches.all())
      w +=
        x.sources.memoryBytes +
        x.protoPackets.byteLength +
        x.asnBytes.bytes +
        x.linkBytes.bytes +
        x.dstPorts.bytes +
        x.srcPorts.bytes;
    return (
      this.keys.bytes +
      this.counters.byteLength +
      this.maxSampling.byteLength +
      this.createdTick.byteLength +
      this.baselinePps.byteLength * 2 +
      this.firing.bytes +
      this.owner.byteLength +
      this.windowPackets.byteLength +
      this.onset.byteLength +
      this.hll.bytes +
      this.ampHll.bytes +
      this.watches.of.byteLength +
      this.portPackets.byteLength +
      this.portLast.byteLength +
      w
    );
  }

  private resetSlot(s: number): void {
    this.counters.fill(0, s * this.stride, (s + 1) * this.stride);
    this.maxSampling[s] = 0;
    this.windowPackets[s] = 0;
    this.onset[s] = 0;
    this.baselinePps[s] = 0;
    this.baselineBps[s] = 0;
    this.firing.calm(s);
    this.clearPorts(s, 0);
    this.clearPorts(s, 1);
    this.portLast.fill(-1, s * PORT_BUCKETS, (s + 1) * PORT_BUCKETS);
    this.hll.clear(2 * s);
    this.hll.clear(2 * s + 1);
    this.ampHll.clear(2 * s);
    this.ampHll.clear(2 * s + 1);
    this.watches.release(s);
  }

  /**
   * Account record `i` of `b` to the key at `keyWords[i*4..]` with its source at
   * `srcWords[i*4..]` (dst/src for inbound, dst/src for participation too). `refl` of its
   * packets are reflection-shaped and unasked-for (the owner decides: 0 for participation),
   * from reflection port `reflPort` (proto × 65536 + port), `listed` when a well-known one;
   * `asked` of them are answers to the key's own requests (not attack traffic).
   */
  add(
    b: EnrichedBatch,
    i: number,
    keyWords: Uint32Array,
    srcWords: Uint32Array,
    owner: number,
    refl = 0,
    reflPort = -1,
    listed = false,
    asked = 0,
  ): void {
    const ko = i * 4;
    const kh = hashWords(keyWords, ko);
    const keys = this.keys;
    const s = keys.upsert(keyWords, ko, kh);
    if (keys.isNew) {
      this.createdTick[s] = this.clock.tickCount;
      this.owner[s] = owner;
    }
    const pk = b.packets[i];
    const by = b.bytes[i];
    const proto = b.proto[i];
    const rate = b.samplingRate[i] || 1;
    const c = this.counters;
    const o = s * this.stride + this.bucket * FIELDS;
    c[o + F_PKTS] += pk;
    c[o + F_BYTES] += by;
    c[o + F_RAW] += pk / rate;
    c[o + F_FLOWS] += rate;
    // What the key asked for (answers its requests account for) is no attack, whatever its flags.
    if (!isEstablished(proto, b.tcpFlags[i])) c[o + F_ATTACK] += pk - asked;
    const sh = hashWords(srcWords, ko, 0x5bd1e995);
    const half = this.clock.half;
    this.hll.add(2 * s + half, sh);
    if (refl > 0) {
      c[o + F_AMP_PKTS] += refl;
      c[o + F_AMP_BYTES] += (by * refl) / pk;
      if (listed) c[o + F_AMP_LISTED] += refl;
      // Reflected packets by port bucket: one bucket holds most of a reflection, a random-port
      // flood spreads over all of them (whatever order records or samples arrive in).
      const pb = s * PORT_BUCKETS + (hashInt(reflPort) & (PORT_BUCKETS - 1));
      this.portPackets[half * this.portHalf + pb] += refl;
      this.portLast[pb] = reflPort;
      this.ampHll.add(2 * s + half, sh);
    }
    if (rate > this.maxSampling[s]) this.maxSampling[s] = rate;
    let wi = this.watchOf[s];
    if (wi < 0 && c[o + F_PKTS] >= this.autoWatch && this.autoWatched < this.autoWatchMax) {
      this.autoWatched++;
      this.watch(s, '');
      wi = this.watchOf[s];
    }
    if (wi >= 0) {
      const w = this.watchList[wi];
      w.sources.add(srcWords, ko, sh, pk, by, b.srcAsn[i], b.srcCustomer[i], this.clock.tickCount);
      w.asnBytes.add(b.srcAsn[i], by);
      w.linkBytes.add((this.egressLinks ? egressLink(b, i) : b.inLink[i]) + 1, by);
      w.protoPackets[proto] += pk;
      w.dstPorts.add(b.dstPort[i], pk);
      w.srcPorts.add(b.srcPort[i], pk);
      w.packets += pk;
      w.bytes += by;
    }
  }

  private clearPorts(s: number, half: number): void {
    const o = half * this.portHalf + s * PORT_BUCKETS;
    this.portPackets.fill(0, o, o + PORT_BUCKETS);
  }

  /** The bucket with most reflected packets over both halves, -1 when none. */
  private topPortBucket(s: number): number {
    let best = -1;
    let max = 0;
    const o = s * PORT_BUCKETS;
    for (let k = 0; k < PORT_BUCKETS; k++) {
      const v = this.portPackets[o + k] + this.portPackets[this.portHalf + o + k];
      if (v > max) {
        max = v;
        best = k;
      }
    }
    return best;
  }

  /** The key's dominant reflection port (proto × 65536 + port), -1 when none. */
  reflectionPort(s: number): number {
    const k = this.topPortBucket(s);
    return k < 0 ? -1 : this.portLast[s * PORT_BUCKETS + k];
  }

  /** Count record `i` as a reply from the key at `keyWords[i*4..]`, if that key is tracked. */
  answer(b: EnrichedBatch, i: number, keyWords: Uint32Array): void {
    if (this.keys.size === 0) return;
    const s = this.keys.find(keyWords, i * 4, hashWords(keyWords, i * 4));
    if (s >= 0) this.counters[s * this.stride + this.bucket * FIELDS + F_ANSWER] += b.packets[i];
  }

  stats(s: number, out: TargetStats): TargetStats {
    const c = this.counters;
    const base = s * this.stride;
    let pk = 0,
      by = 0,
      at = 0,
      ap = 0,
      ab = 0,
      alist = 0,
      raw = 0,
      fl = 0,
      an = 0;
    for (let b = 0; b < this.window; b++) {
      const o = base + b * FIELDS;
      pk += c[o + F_PKTS];
      by += c[o + F_BYTES];
      at += c[o + F_ATTACK];
      ap += c[o + F_AMP_PKTS];
      ab += c[o + F_AMP_BYTES];
      alist += c[o + F_AMP_LISTED];
      raw += c[o + F_RAW];
      fl += c[o + F_FLOWS];
      an += c[o + F_ANSWER];
    }
    this.windowPackets[s] = pk;
    const age = this.clock.tickCount - this.createdTick[s] + 1;
    out.span = Math.max(1, Math.min(this.window, age));
    const r = Math.max(1, Math.min(RECENT_SECONDS, this.window, age));
    let rp = 0,
      rb = 0,
      ra = 0,
      rap = 0,
      rab = 0,
      rf = 0;
    for (let k = 0; k < r; k++) {
      const o = base + ((this.bucket - k + this.window) % this.window) * FIELDS;
      rp += c[o + F_PKTS];
      rb += c[o + F_BYTES];
      ra += c[o + F_ATTACK];
      rap += c[o + F_AMP_PKTS];
      rab += c[o + F_AMP_BYTES];
      rf += c[o + F_FLOWS];
    }
    out.recentSpan = r;
    out.recentPackets = rp;
    out.recentBytes = rb;
    out.recentAttackPackets = ra;
    out.recentAmpPackets = rap;
    out.recentAmpBytes = rab;
    out.recentFlows = rf;
    out.packets = pk;
    out.bytes = by;
    out.attackPackets = at;
    out.ampPackets = ap;
    out.ampBytes = ab;
    // The dominant port bucket's share of what the port buckets hold (they span 5–10 s, the
    // window 10 s), applied to the window's reflected packets.
    const k = this.topPortBucket(s);
    let portTotal = 0;
    for (let j = 0; j < PORT_BUCKETS; j++)
      portTotal += this.portPackets[s * PORT_BUCKETS + j] + this.portPackets[this.portHalf + s * PORT_BUCKETS + j];
    out.ampTopPackets =
      k < 0 || portTotal <= 0
        ? 0
        : (ap * (this.portPackets[s * PORT_BUCKETS + k] + this.portPackets[this.portHalf + s * PORT_BUCKETS + k])) /
          portTotal;
    out.ampListedPackets = alist;
    out.rawPackets = raw;
    out.flows = fl;
    out.answerPackets = an;
    out.maxSampling = this.maxSampling[s] || 1;
    return out;
  }

  /**
   * When the key's traffic crossed into abnormal: the start of the earliest second of the
   * current run in the window with at least `minAttackPackets` attack packets or `minBytes`
   * bytes (one quieter second inside the run does not end it), as ms since epoch given that
   * the current bucket is the second ending at `nowMs`. Call before `advance`. At least the
   * current second: a detector fires on what it has just seen.
   */
  onsetMs(s: number, nowMs: number, minAttackPackets: number, minBytes: number): number {
    const c = this.counters;
    const base = s * this.stride;
    const age = Math.min(this.window, this.clock.tickCount - this.createdTick[s] + 1);
    let run = 1;
    let gap = 0;
    for (let k = 0; k < age; k++) {
      const o = base + ((this.bucket - k + this.window) % this.window) * FIELDS;
      if (c[o + F_ATTACK] >= minAttackPackets || c[o + F_BYTES] >= minBytes) {
        run = k + 1;
        gap = 0;
      } else if (++gap > 1 && k > 0) break;
    }
    return nowMs - run * 1000;
  }

  /**
   * Key `s` fires `kind` (not 0) this tick: latches its onset (`onsetMs` with these levels) when
   * it starts firing, lists its sources, ends any hold. Undefined when every watch is in use.
   */
  fire(s: number, kind: number, nowMs: number, minAttackPackets: number, minBytes: number): Watch | undefined {
    if (this.firing.kind[s] === 0) this.onset[s] = this.onsetMs(s, nowMs, minAttackPackets, minBytes);
    this.firing.fire(s, kind);
    return this.watchFor(s) ?? this.watch(s, addrToString(this.keys.keys, s));
  }

  /**
   * Whether a firing key that did not fire this tick is within its hold time: silent (the
   * incident manager has its own quiet period), but it keeps its kind, sustain thresholds and
   * source list, so a brief dip neither splits nor relabels the attack.
   */
  holding(s: number): boolean {
    // Held only while its source list is kept: without one it could not go on as the same attack.
    return this.watches.of[s] >= 0 && this.firing.holding(s);
  }

  /** Key `s` is not (or no longer) firing: forgets its kind and onset; its sources are listed while it is `near` firing. */
  calm(s: number, near: boolean): void {
    this.firing.calm(s);
    this.onset[s] = 0;
    const watched = this.watches.of[s] >= 0;
    if (near && !watched) this.watch(s, addrToString(this.keys.keys, s));
    else if (!near && watched) this.unwatch(s);
  }

  /** Packets in the bucket being filled right now (the current second). */
  lastSecondPackets(s: number): number {
    return this.counters[s * this.stride + this.bucket * FIELDS + F_PKTS];
  }

  distinctSources(s: number): number {
    return this.hll.estimate(2 * s, 2 * s + 1);
  }

  distinctReflectors(s: number): number {
    return this.ampHll.estimate(2 * s, 2 * s + 1);
  }

  /**
   * Build every watch now (maxWatched source lists and tallies, ~2 ms each) instead of on first
   * use: created lazily, a detector shard built 60+ of them in its first second of traffic, while
   * records queued behind it. Memory is then what `limits` says from the start.
   */
  reserveWatches(): void {
    this.watches.reserve();
  }

  /** Start listing sources for the key in `slot`; undefined when every watch is in use. */
  watch(slot: number, keyText: string): Watch | undefined {
    const w = this.watches.take(slot);
    if (w && !w.keyText) w.keyText = keyText;
    return w;
  }

  unwatch(slot: number): void {
    this.watches.release(slot);
  }

  watchFor(slot: number): Watch | undefined {
    return this.watches.get(slot);
  }

  /**
   * Close the current one-second bucket. Call after evaluating the window (so the closing
   * second counts), i.e. evaluate → advance. True when a half-window ended with it (the
   * sketches of its older half were cleared), for state the owner keeps by half-window.
   */
  advance(): boolean {
    const rotated = this.clock.advance();
    this.autoWatched = 0;
    this.bucket = (this.bucket + 1) % this.window;
    const c = this.counters;
    const keys = this.keys;
    for (let s = 0; s < keys.capacity; s++) {
      if (!keys.used[s]) continue;
      const o = s * this.stride + this.bucket * FIELDS;
      for (let f = 0; f < FIELDS; f++) c[o + f] = 0;
    }
    if (rotated) {
      const half = this.clock.half;
      for (let s = 0; s < keys.capacity; s++) {
        if (!keys.used[s]) continue;
        this.hll.clear(2 * s + half);
        this.ampHll.clear(2 * s + half);
        this.clearPorts(s, half);
      }
    }
    return rotated;
  }

  /** Drop keys that saw nothing for a whole window and are not watched. */
  expireIdle(): void {
    const keys = this.keys;
    const c = this.counters;
    for (let s = 0; s < keys.capacity; s++) {
      if (!keys.used[s] || this.watches.of[s] >= 0) continue;
      let p = 0;
      const base = s * this.stride;
      for (let b = 0; b < this.window; b++) p += c[base + b * FIELDS + F_FLOWS];
      if (p === 0 && this.baselinePps[s] < 1) {
        this.resetSlot(s);
        keys.remove(s);
      }
    }
  }
}

/** What every event on a key of a TargetTable says about the key and its watch. */
export interface KeyView {
  ip: string;
  info: AddressInfo;
  /** Listed sources: all of them on the watch's first event and every few ticks, the heaviest in between. */
  top: SourceEndpoint[];
  asns: SourceAsnShare[];
  upstreams: DetectionEvent['upstreams'];
  /** Over the last RECENT_SECONDS, what rates are judged on. */
  rate: DetectionEvent['rate'];
  /** Evidence every such event carries. */
  evidence: {
    meanPacketSize: number;
    samplingRate: number;
    confidence: number;
    windowSeconds: number;
    attackShare: number;
    /** Flow records a second at the window rate, scaled by sampling like packets. */
    flowsPerSecond: number;
    /** While firing: when it began. */
    onset?: string;
  };
}

/** The key in `s` of `t` (with its watch `w`, if any) as events describe it; `st` from `t.stats(s)`. */
export function keyView(
  t: TargetTable,
  s: number,
  w: Watch | undefined,
  st: TargetStats,
  maxListed: number,
  cache: InfoCache,
  enricher: Enricher,
): KeyView {
  if (w && !w.keyText) w.keyText = addrToString(t.keys.keys, s);
  const ip = w?.keyText || addrToString(t.keys.keys, s);
  return {
    ip,
    info: cache.get(ip),
    top: w ? listSources(w.sources, listLimit(w, t.clock.tickCount, maxListed), cache, enricher).top : [],
    asns: w ? asnShares(w.asnBytes.toMap(), cache.asnNames) : [],
    upstreams: w ? linkShares(w.linkBytes.toMap(), enricher, 1) : [],
    rate: { pps: Math.round(st.recentPackets / st.recentSpan), bps: Math.round((st.recentBytes * 8) / st.recentSpan) },
    evidence: {
      meanPacketSize: st.recentPackets > 0 ? Math.round(st.recentBytes / st.recentPackets) : 0,
      samplingRate: st.maxSampling,
      confidence: samplingConfidence(st.rawPackets, st.maxSampling),
      windowSeconds: st.span,
      attackShare: round3(st.recentAttackPackets / Math.max(1, st.recentPackets)),
      flowsPerSecond: Math.round(st.recentFlows / st.recentSpan),
      ...(t.onset[s] > 0 ? { onset: new Date(t.onset[s]).toISOString() } : {}),
    },
  };
}
