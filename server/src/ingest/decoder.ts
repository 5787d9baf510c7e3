/**
 * FlowDecoder: turns flow-export datagrams (NetFlow v5/v9, IPFIX, sFlow v5) into columnar
 * FlowBatch records, keeping the per-exporter state that needs (templates, samplers, sequence
 * numbers, health counters).
 *
 * Hand-written binary parsing over DataView on purpose (performance: see template.ts). Every
 * read is bounds-checked against the datagram or set length first; a malformed datagram is
 * counted under a reason and the rest of it skipped — decode() never throws on input.
 */
import type { ExporterHealth, FlowProtocol } from '@downstream/shared';
import {
  createFlowBatch,
  ensureCapacity,
  exporterIndex,
  type FlowBatch,
  setV4,
  setV6,
  v4ToString,
  v6GroupsToString,
} from './flow-batch.js';
import { type DecodeErrorReason, ExporterStats, SequenceTracker, type SequenceRule } from './exporter-stats.js';
import { HEADER_ETHERNET, HEADER_IPV4, HEADER_IPV6, parseHeader } from './packet-header.js';
import {
  compileTemplate,
  type DataSetContext,
  decodeDataSet,
  readOptionsSet,
  type Template,
  VARLEN,
} from './template.js';

export interface SamplingConfig {
  default: number;
  exporters: Record<string, number>;
}

export interface DecoderOptions {
  sampling?: SamplingConfig;
  /** How long data that arrived before its template is held (ms); 0 disables holding. */
  pendingMs?: number;
  /** Bounds on held data: sets and bytes over all exporters. */
  maxPendingSets?: number;
  maxPendingBytes?: number;
  /** Share of those bounds one exporter may hold (default 1/4), so one noisy exporter cannot starve the rest. */
  pendingSharePerExporter?: number;
  /** Templates per exporter (all source ids / domains together), and over all exporters. */
  maxTemplatesPerExporter?: number;
  maxTemplatesTotal?: number;
  /** Distinct exporter addresses; datagrams from further ones are dropped and counted. */
  maxExporters?: number;
  /** Initial batch capacity (records). */
  batchCapacity?: number;
}

/** Interface counters from sFlow counter samples (generic interface counters). */
export interface InterfaceCounters {
  agent: string;
  ifIndex: number;
  ifSpeed: number;
  inOctets: number;
  inPackets: number;
  outOctets: number;
  outPackets: number;
  inErrors: number;
  outErrors: number;
  inDiscards: number;
  outDiscards: number;
  at: number;
}

interface Domain {
  templates: Map<number, Template>;
  seq: SequenceTracker;
  /** Sampler id → rate, and the rate of options that name no sampler (0 = none yet). */
  samplers: Map<number, number>;
  rate0: number;
  initTimeMs: number;
}

interface Exporter {
  address: string;
  configRate: number;
  stats: Map<FlowProtocol, ExporterStats>;
  domains: Map<number, Domain>;
  /** Address-wide sampling (options may come under another source id than the data). */
  samplers: Map<number, number>;
  rate0: number;
  anyRate: number;
  templateCount: number;
  /** Data held for a template that has not come yet, oldest first, and its size. */
  pending: Pending[];
  pendingBytes: number;
}

interface Pending {
  protocol: 'netflow-v9' | 'ipfix';
  domainId: number;
  templateId: number;
  data: Uint8Array;
  headerMs: number;
  sysUptime: number;
  receivedAt: number;
}

const MAX_DOMAINS_PER_EXPORTER = 128;
const SAMPLE_BAD = 0;
const SAMPLE_NO_IP = 1;
const SAMPLE_ROW = 2;
const MAX_COUNTER_INTERFACES = 65_536;

export class FlowDecoder {
  batch: FlowBatch;
  private readonly exporters = new Map<string, Exporter>();
  /** Held data over all exporters: the exporters holding some, set count and bytes. */
  private readonly holding = new Set<Exporter>();
  private pendingCount = 0;
  private pendingBytes = 0;
  private readonly sampling: SamplingConfig;
  private readonly pendingMs: number;
  private readonly maxPendingSets: number;
  private readonly maxPendingBytes: number;
  private readonly maxPendingSetsPerExporter: number;
  private readonly maxPendingBytesPerExporter: number;
  private readonly maxTemplates: number;
  private readonly maxTemplatesTotal: number;
  private templatesTotal = 0;
  private readonly maxExporters: number;
  private readonly capacity: number;
  /** Datagrams dropped because the exporter table was full (no stats entry to count them on). */
  droppedExporterLimit = 0;
  readonly counters = new Map<string, InterfaceCounters>();
  private readonly agentNames = new Map<number, string>();

  constructor(opts: DecoderOptions = {}) {
    this.sampling = opts.sampling ?? { default: 1, exporters: {} };
    this.pendingMs = opts.pendingMs ?? 2000;
    this.maxPendingSets = opts.maxPendingSets ?? 1024;
    this.maxPendingBytes = opts.maxPendingBytes ?? 4 * 1024 * 1024;
    const share = Math.min(1, Math.max(0, opts.pendingSharePerExporter ?? 0.25));
    this.maxPendingSetsPerExporter = Math.max(1, Math.floor(this.maxPendingSets * share));
    this.maxPendingBytesPerExporter = Math.floor(this.maxPendingBytes * share);
    this.maxTemplates = opts.maxTemplatesPerExporter ?? 2048;
    this.maxTemplatesTotal = opts.maxTemplatesTotal ?? 65_536;
    this.maxExporters = opts.maxExporters ?? 4096;
    this.capacity = opts.batchCapacity ?? 8192;
    this.batch = createFlowBatch(this.capacity);
  }

  /** Hand over the records decoded so far (undefined when none) and start a fresh batch. */
  takeBatch(): FlowBatch | undefined {
    if (this.batch.length === 0) return undefined;
    const b = this.batch;
    this.batch = createFlowBatch(this.capacity);
    return b;
  }

  health(): ExporterHealth[] {
    const out: ExporterHealth[] = [];
    for (const e of this.exporters.values()) for (const s of e.stats.values()) out.push(s.toHealth());
    return out;
  }

  /** Raw stats objects (metrics read these on scrape). */
  *allStats(): Iterable<ExporterStats> {
    for (const e of this.exporters.values()) yield* e.stats.values();
  }

  get pendingSets(): number {
    return this.pendingCount;
  }

  /** Expire held data whose template never came. */
  tick(nowMs: number): void {
    for (const e of this.holding) {
      const keep: Pending[] = [];
      for (const p of e.pending) {
        if (nowMs - p.receivedAt > this.pendingMs) {
          this.statsFor(e, p.protocol).error('pending-expired');
          this.unhold(e, p);
        } else keep.push(p);
      }
      this.setPending(e, keep);
    }
  }

  /**
   * Decode one datagram from `source` (the UDP source address). Returns the number of flow
   * records added to `this.batch`. Never throws on malformed input.
   */
  decode(msg: Uint8Array, source: string, nowMs: number): number {
    try {
      return this.dispatch(msg, source, nowMs);
    } catch (err) {
      // a decoder bug must cost one datagram, never the collector: counted, last one kept
      this.lastInternalError = err as Error;
      return this.headerError(source, guessProtocol(msg), 'internal-error', nowMs, false);
    }
  }

  /** The last exception a datagram caused inside the decoder (there should be none). */
  lastInternalError: Error | undefined;

  private dispatch(msg: Uint8Array, source: string, nowMs: number): number {
    const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    if (msg.byteLength < 4) return this.headerError(source, guessProtocol(msg), 'truncated', nowMs);
    const w = v.getUint16(0);
    if (w === 9) return this.decodeV9(v, source, nowMs);
    if (w === 10) return this.decodeIpfix(v, source, nowMs);
    if (w === 5) return this.decodeV5(v, source, nowMs);
    if (w === 0 && v.getUint16(2) === 5) return this.decodeSflow(v, source, nowMs);
    return this.headerError(source, guessProtocol(msg), 'bad-version', nowMs);
  }

  private headerError(
    source: string,
    protocol: FlowProtocol,
    reason: DecodeErrorReason,
    nowMs: number,
    newDatagram = true,
  ): number {
    const e = this.exporter(source);
    if (!e) return 0;
    const s = this.statsFor(e, protocol);
    if (newDatagram) s.datagrams++;
    s.lastSeen = nowMs;
    s.error(reason);
    return 0;
  }

  /** Counts a datagram from `e` under `protocol`, seen at `nowMs`; returns those stats. */
  private arrived(e: Exporter, protocol: FlowProtocol, nowMs: number): ExporterStats {
    const s = this.statsFor(e, protocol);
    s.datagrams++;
    s.lastSeen = nowMs;
    return s;
  }

  private exporter(address: string): Exporter | undefined {
    let e = this.exporters.get(address);
    if (e) return e;
    if (this.exporters.size >= this.maxExporters) {
      this.droppedExporterLimit++;
      return undefined;
    }
    e = {
      address,
      configRate: this.sampling.exporters[address] ?? this.sampling.default,
      stats: new Map(),
      domains: new Map(),
      samplers: new Map(),
      rate0: 0,
      anyRate: 0,
      templateCount: 0,
      pending: [],
      pendingBytes: 0,
    };
    this.exporters.set(address, e);
    return e;
  }

  private statsFor(e: Exporter, protocol: FlowProtocol): ExporterStats {
    let s = e.stats.get(protocol);
    if (!s) {
      s = new ExporterStats(e.address, protocol);
      e.stats.set(protocol, s);
    }
    return s;
  }

  private domain(e: Exporter, key: number, rule: SequenceRule): Domain | undefined {
    let d = e.domains.get(key);
    if (d) return d;
    if (e.domains.size >= MAX_DOMAINS_PER_EXPORTER) return undefined;
    d = { templates: new Map(), seq: new SequenceTracker(rule), samplers: new Map(), rate0: 0, initTimeMs: -1 };
    e.domains.set(key, d);
    return d;
  }

  private defaultRate(e: Exporter, d: Domain): number {
    return d.rate0 || e.rate0 || e.anyRate || e.configRate;
  }

  // ---------------------------------------------------------------- NetFlow v5

  private decodeV5(v: DataView, source: string, nowMs: number): number {
    const e = this.exporter(source);
    if (!e) return 0;
    const s = this.arrived(e, 'netflow-v5', nowMs);
    const len = v.byteLength;
    if (len < 24) {
      s.error('truncated');
      return 0;
    }
    const count = v.getUint16(2);
    const sysUptime = v.getUint32(4);
    const headerMs = v.getUint32(8) * 1000 + Math.floor(v.getUint32(12) / 1e6);
    const seq = v.getUint32(16);
    const engine = v.getUint16(20);
    // the top 2 bits are the sampling mode, the low 14 the interval
    const interval = v.getUint16(22) & 0x3fff;
    let n = count;
    if (24 + count * 48 > len) {
      s.error('truncated');
      n = Math.floor((len - 24) / 48);
    }
    const rate = interval > 1 ? interval : e.configRate;
    const d = this.domain(e, 0x1_0000_0000 + engine, 'records-before');
    if (d) {
      const lost = d.seq.observe(seq, count, sysUptime);
      this.countSequence(s, lost);
    }
    const b = this.batch;
    ensureCapacity(b, b.length + n);
    const x = exporterIndex(b, e.address);
    for (let r = 0; r < n; r++) {
      const p = 24 + r * 48;
      const i = b.length;
      setV4(b.src, i, v.getUint32(p));
      setV4(b.dst, i, v.getUint32(p + 4));
      b.inIf[i] = v.getUint16(p + 12);
      b.outIf[i] = v.getUint16(p + 14);
      const pk = v.getUint32(p + 16);
      const by = v.getUint32(p + 20);
      b.start[i] = headerMs - ((sysUptime - v.getUint32(p + 24)) | 0);
      b.end[i] = headerMs - ((sysUptime - v.getUint32(p + 28)) | 0);
      if (b.end[i] < b.start[i]) b.end[i] = b.start[i];
      b.srcPort[i] = v.getUint16(p + 32);
      b.dstPort[i] = v.getUint16(p + 34);
      b.tcpFlags[i] = v.getUint8(p + 37);
      b.proto[i] = v.getUint8(p + 38);
      b.packets[i] = pk * rate;
      b.bytes[i] = by * rate;
      b.samplingRate[i] = rate;
      b.exporter[i] = x;
      b.length = i + 1;
    }
    s.records += n;
    return n;
  }

  private countSequence(s: ExporterStats, lost: number): void {
    if (lost > 0) {
      s.sequenceGaps++;
      s.lost += lost;
    } else if (lost < 0) s.restarts++;
  }

  // ---------------------------------------------------------------- NetFlow v9 / IPFIX

  private decodeV9(v: DataView, source: string, nowMs: number): number {
    const e = this.exporter(source);
    if (!e) return 0;
    const s = this.arrived(e, 'netflow-v9', nowMs);
    const len = v.byteLength;
    if (len < 20) {
      s.error('truncated');
      return 0;
    }
    const sysUptime = v.getUint32(4);
    const headerMs = v.getUint32(8) * 1000;
    const seq = v.getUint32(12);
    const sourceId = v.getUint32(16);
    const d = this.domain(e, sourceId, 'datagram');
    if (!d) {
      s.error('template-limit');
      return 0;
    }
    const r = this.decodeSets(v, 20, len, e, d, s, 'netflow-v9', sourceId, headerMs, sysUptime, nowMs);
    this.countSequence(s, d.seq.observe(seq, this.setsComplete ? r + this.setsOptionRecords : -1, sysUptime));
    return r;
  }

  private decodeIpfix(v: DataView, source: string, nowMs: number): number {
    const e = this.exporter(source);
    if (!e) return 0;
    const s = this.arrived(e, 'ipfix', nowMs);
    if (v.byteLength < 16) {
      s.error('truncated');
      return 0;
    }
    let len = v.getUint16(2);
    if (len > v.byteLength) {
      s.error('truncated');
      len = v.byteLength;
    } else if (len < 16) {
      s.error('bad-header');
      return 0;
    }
    const headerMs = v.getUint32(4) * 1000;
    const seq = v.getUint32(8);
    const domainId = v.getUint32(12);
    const d = this.domain(e, 0x3_0000_0000 + domainId, 'records-before');
    if (!d) {
      s.error('template-limit');
      return 0;
    }
    const r = this.decodeSets(v, 16, len, e, d, s, 'ipfix', domainId, headerMs, -1, nowMs);
    // IPFIX counts data records (options records included), not datagrams
    this.countSequence(s, d.seq.observe(seq, this.setsComplete ? r + this.setsOptionRecords : -1));
    return r;
  }

  private decodeSets(
    v: DataView,
    start: number,
    len: number,
    e: Exporter,
    d: Domain,
    s: ExporterStats,
    protocol: 'netflow-v9' | 'ipfix',
    domainId: number,
    headerMs: number,
    sysUptime: number,
    nowMs: number,
  ): number {
    const ipfix = protocol === 'ipfix';
    let p = start;
    let records = 0;
    let optionRecords = 0;
    let complete = true;
    while (p + 4 <= len) {
      const setId = v.getUint16(p);
      const setLen = v.getUint16(p + 2);
      if (setLen < 4 || p + setLen > len) {
        s.error(setLen < 4 ? 'bad-set' : 'truncated');
        complete = false;
        break;
      }
      const body = p + 4;
      const end = p + setLen;
      if ((!ipfix && setId === 0) || (ipfix && setId === 2)) {
        this.readTemplates(v, body, end, e, d, s, false, ipfix, protocol, domainId, nowMs);
      } else if ((!ipfix && setId === 1) || (ipfix && setId === 3)) {
        this.readTemplates(v, body, end, e, d, s, true, ipfix, protocol, domainId, nowMs);
      } else if (setId >= 256) {
        const t = d.templates.get(setId);
        if (t === undefined) {
          complete = false;
          this.hold(e, protocol, domainId, setId, v, body, end, headerMs, sysUptime, nowMs, s);
        } else {
          const r = this.decodeData(v, body, end, t, e, d, s, headerMs, sysUptime);
          if (t.options) optionRecords += r;
          else records += r;
        }
      }
      p = end;
    }
    s.templates = e.templateCount;
    // side results in fields rather than a fresh object per datagram (GC pressure at line rate)
    this.setsOptionRecords = optionRecords;
    this.setsComplete = complete;
    return records;
  }

  /** Decode one data set with a known template; counts records on `s`. */
  private decodeData(
    v: DataView,
    body: number,
    end: number,
    t: Template,
    e: Exporter,
    d: Domain,
    s: ExporterStats,
    headerMs: number,
    sysUptime: number,
  ): number {
    if (t.options) {
      const n = readOptionsSet(v, body, end, t, (info) => {
        if (info.initTimeMs > 0) d.initTimeMs = info.initTimeMs;
        if (info.rate > 0) {
          e.anyRate = info.rate;
          if (info.samplerId === 0) {
            d.rate0 = info.rate;
            e.rate0 = info.rate;
          } else {
            if (d.samplers.size < 1024) d.samplers.set(info.samplerId, info.rate);
            if (e.samplers.size < 1024) e.samplers.set(info.samplerId, info.rate);
          }
        }
      });
      if (n < 0) {
        s.error('bad-record');
        return 0;
      }
      s.optionRecords += n;
      return n;
    }
    const ctx = this.ctx;
    ctx.exporter = exporterIndex(this.batch, e.address);
    ctx.headerMs = headerMs;
    ctx.sysUptime = sysUptime;
    ctx.initTimeMs = d.initTimeMs;
    ctx.defaultRate = this.defaultRate(e, d);
    ctx.samplers = d.samplers.size > 0 ? d.samplers : e.samplers.size > 0 ? e.samplers : undefined;
    let n = decodeDataSet(v, body, end, t, this.batch, ctx);
    if (n < 0) {
      s.error('bad-record');
      n = -(n + 1);
    }
    s.records += n;
    return n;
  }

  /** Side results of the last decodeSets(): options records read, and whether every set was decodable. */
  private setsOptionRecords = 0;
  private setsComplete = true;

  private readonly ctx: DataSetContext = {
    exporter: 0,
    headerMs: 0,
    sysUptime: -1,
    initTimeMs: -1,
    defaultRate: 1,
    samplers: undefined,
  };

  private readTemplates(
    v: DataView,
    body: number,
    end: number,
    e: Exporter,
    d: Domain,
    s: ExporterStats,
    options: boolean,
    ipfix: boolean,
    protocol: 'netflow-v9' | 'ipfix',
    domainId: number,
    nowMs: number,
  ): void {
    let q = body;
    // a v9 template set may end in padding; a record needs at least its 4-byte header
    while (q + 4 <= end) {
      const tid = v.getUint16(q);
      if (tid === 0) break; // zero padding at the end of the set
      const ies: number[] = [];
      const lens: number[] = [];
      if (ipfix) {
        const fc = v.getUint16(q + 2);
        let scope = 0;
        q += 4;
        if (options) {
          if (fc === 0) {
            // options template withdrawal has a 4-byte record
            this.withdraw(e, d, tid, s);
            continue;
          }
          if (q + 2 > end) return s.error('bad-template');
          scope = v.getUint16(q);
          q += 2;
          if (scope === 0 || scope > fc) return s.error('bad-template');
        } else if (fc === 0) {
          this.withdraw(e, d, tid, s);
          continue;
        }
        for (let k = 0; k < fc; k++) {
          if (q + 4 > end) return s.error('bad-template');
          const id = v.getUint16(q);
          const flen = v.getUint16(q + 2);
          q += 4;
          let ie = id;
          if (id & 0x8000) {
            if (q + 4 > end) return s.error('bad-template');
            q += 4;
            ie = -1; // enterprise-specific: skipped by its length
          }
          ies.push(k < scope ? -1 : ie);
          lens.push(flen);
        }
      } else if (!options) {
        const fc = v.getUint16(q + 2);
        q += 4;
        if (q + fc * 4 > end) return s.error('bad-template');
        for (let k = 0; k < fc; k++) {
          ies.push(v.getUint16(q));
          lens.push(v.getUint16(q + 2));
          q += 4;
        }
      } else {
        if (q + 6 > end) return;
        const scopeLen = v.getUint16(q + 2);
        const optLen = v.getUint16(q + 4);
        q += 6;
        if (scopeLen % 4 !== 0 || optLen % 4 !== 0 || q + scopeLen + optLen > end) return s.error('bad-template');
        for (let k = 0; k < scopeLen / 4; k++) {
          ies.push(-1); // scope types (system, interface…) reuse low numbers: never map them to columns
          lens.push(v.getUint16(q + 2));
          q += 4;
        }
        for (let k = 0; k < optLen / 4; k++) {
          ies.push(v.getUint16(q));
          lens.push(v.getUint16(q + 2));
          q += 4;
        }
      }
      if (tid < 256 || (!ipfix && lens.includes(VARLEN))) {
        s.error('bad-template');
        continue;
      }
      const t = compileTemplate(tid, options, ies, lens);
      if (!t.variable && t.recordLen === 0) {
        s.error('bad-template');
        continue;
      }
      this.store(e, d, t, s, protocol, domainId, nowMs);
    }
  }

  private withdraw(e: Exporter, d: Domain, tid: number, s: ExporterStats): void {
    if (tid === 2 || tid === 3) {
      // withdraw all (options) templates of this domain
      for (const [id, t] of d.templates) {
        if (t.options === (tid === 3)) {
          d.templates.delete(id);
          e.templateCount--;
          this.templatesTotal--;
        }
      }
    } else if (d.templates.delete(tid)) {
      e.templateCount--;
      this.templatesTotal--;
    }
    s.templates = e.templateCount;
  }

  private store(
    e: Exporter,
    d: Domain,
    t: Template,
    s: ExporterStats,
    protocol: 'netflow-v9' | 'ipfix',
    domainId: number,
    nowMs: number,
  ): void {
    const old = d.templates.get(t.id);
    if (old === undefined) {
      if (e.templateCount >= this.maxTemplates || this.templatesTotal >= this.maxTemplatesTotal) {
        s.error('template-limit');
        return;
      }
      e.templateCount++;
      this.templatesTotal++;
    }
    // a redefinition with another layout simply replaces the old one: later data uses the new layout
    if (old === undefined || old.layout !== t.layout) d.templates.set(t.id, t);
    s.templates = e.templateCount;
    if (e.pending.length > 0) this.release(e, protocol, domainId, d, t, s, nowMs);
  }

  private hold(
    e: Exporter,
    protocol: 'netflow-v9' | 'ipfix',
    domainId: number,
    templateId: number,
    v: DataView,
    body: number,
    end: number,
    headerMs: number,
    sysUptime: number,
    nowMs: number,
    s: ExporterStats,
  ): void {
    const size = end - body;
    if (this.pendingMs <= 0) {
      s.error('unknown-template');
      return;
    }
    if (size > this.maxPendingBytesPerExporter) {
      s.error('pending-overflow');
      return;
    }
    // room within the exporter's share: its own oldest sets go first
    while (
      e.pending.length >= this.maxPendingSetsPerExporter ||
      e.pendingBytes + size > this.maxPendingBytesPerExporter
    )
      if (!this.evictOldest(e)) break;
    // room in the global budget: taken from whichever exporter holds the most (this one on a tie),
    // so an exporter within its share keeps its data however many others flood
    while (this.pendingCount >= this.maxPendingSets || this.pendingBytes + size > this.maxPendingBytes) {
      if (!this.evictOldest(this.largestHolder(e))) {
        s.error('pending-overflow'); // a zero budget: nothing to make room from
        return;
      }
    }
    const data = new Uint8Array(size);
    data.set(new Uint8Array(v.buffer, v.byteOffset + body, size));
    e.pending.push({ protocol, domainId, templateId, data, headerMs, sysUptime, receivedAt: nowMs });
    e.pendingBytes += size;
    this.pendingCount++;
    this.pendingBytes += size;
    this.holding.add(e);
  }

  /** Drops `e`'s oldest held set (counted on its stats as `pending-evicted`). */
  private evictOldest(e: Exporter): boolean {
    const p = e.pending.shift();
    if (p === undefined) return false;
    this.statsFor(e, p.protocol).error('pending-evicted');
    this.unhold(e, p);
    if (e.pending.length === 0) this.holding.delete(e);
    return true;
  }

  /** The exporter using the largest part of the held-data budget (sets or bytes); `prefer` wins ties. */
  private largestHolder(prefer: Exporter): Exporter {
    const load = (x: Exporter): number =>
      Math.max(x.pending.length / this.maxPendingSets, x.pendingBytes / this.maxPendingBytes);
    let best = prefer;
    let most = load(prefer);
    for (const x of this.holding) {
      const l = load(x);
      if (l > most) {
        best = x;
        most = l;
      }
    }
    return best;
  }

  /** Takes `p` (already removed from, or about to leave, `e.pending`) off the held-data totals. */
  private unhold(e: Exporter, p: Pending): void {
    e.pendingBytes -= p.data.byteLength;
    this.pendingCount--;
    this.pendingBytes -= p.data.byteLength;
  }

  private setPending(e: Exporter, list: Pending[]): void {
    e.pending = list;
    if (list.length === 0) this.holding.delete(e);
  }

  private release(
    e: Exporter,
    protocol: 'netflow-v9' | 'ipfix',
    domainId: number,
    d: Domain,
    t: Template,
    s: ExporterStats,
    nowMs: number,
  ): void {
    const keep: Pending[] = [];
    for (const p of e.pending) {
      if (p.protocol === protocol && p.domainId === domainId && p.templateId === t.id) {
        this.unhold(e, p);
        if (nowMs - p.receivedAt > this.pendingMs) {
          s.error('pending-expired');
          continue;
        }
        const pv = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
        this.decodeData(pv, 0, p.data.byteLength, t, e, d, s, p.headerMs, p.sysUptime);
      } else keep.push(p);
    }
    this.setPending(e, keep);
  }

  // ---------------------------------------------------------------- sFlow v5

  private decodeSflow(v: DataView, source: string, nowMs: number): number {
    const len = v.byteLength;
    if (len < 28) return this.headerError(source, 'sflow-v5', 'truncated', nowMs);
    const addrType = v.getUint32(4);
    let agent: string;
    let p: number;
    if (addrType === 1) {
      // cached: formatting the address per datagram is a measurable share of sFlow decoding
      const a = v.getUint32(8);
      let name = this.agentNames.get(a);
      if (name === undefined) {
        name = v4ToString(a);
        if (this.agentNames.size < this.maxExporters) this.agentNames.set(a, name);
      }
      agent = name;
      p = 12;
    } else if (addrType === 2) {
      if (len < 40) return this.headerError(source, 'sflow-v5', 'truncated', nowMs);
      const g: number[] = [];
      for (let k = 0; k < 8; k++) g.push(v.getUint16(8 + 2 * k));
      agent = v6GroupsToString(g);
      p = 24;
    } else return this.headerError(source, 'sflow-v5', 'bad-header', nowMs);
    // sFlow names its exporter in the datagram: the agent address, not the UDP source
    const e = this.exporter(agent);
    if (!e) return 0;
    const s = this.arrived(e, 'sflow-v5', nowMs);
    if (p + 16 > len) {
      s.error('truncated');
      return 0;
    }
    const subAgent = v.getUint32(p);
    const seq = v.getUint32(p + 4);
    const uptime = v.getUint32(p + 8);
    const numSamples = v.getUint32(p + 12);
    p += 16;
    const d = this.domain(e, 0x2_0000_0000 + subAgent, 'datagram');
    if (d) this.countSequence(s, d.seq.observe(seq, numSamples, uptime));
    const b = this.batch;
    let x = -1;
    let added = 0;
    for (let k = 0; k < numSamples; k++) {
      if (p + 8 > len) {
        s.error('truncated');
        break;
      }
      const fmt = v.getUint32(p);
      const slen = v.getUint32(p + 4);
      const body = p + 8;
      const end = body + slen;
      if (end > len || slen > len) {
        s.error('truncated');
        break;
      }
      p = end;
      if (fmt >>> 12 !== 0) continue; // enterprise-specific sample: skip by its length
      const format = fmt & 0xfff;
      if (format === 1 || format === 3) {
        if (x < 0) x = exporterIndex(b, e.address);
        ensureCapacity(b, b.length + 1);
        const r = this.flowSample(v, body, end, format === 3, b, x, e, nowMs);
        if (r === SAMPLE_BAD) s.error('bad-sample');
        else {
          s.records++;
          if (r === SAMPLE_ROW) added++;
        }
      } else if (format === 2 || format === 4) {
        if (this.counterSample(v, body, end, format === 4, agent, nowMs)) s.counterSamples++;
        else s.error('bad-sample');
      }
    }
    return added;
  }

  private flowSample(
    v: DataView,
    p: number,
    end: number,
    expanded: boolean,
    b: FlowBatch,
    x: number,
    e: Exporter,
    nowMs: number,
  ): number {
    let rate: number;
    let input: number;
    let output: number;
    let nrec: number;
    if (expanded) {
      if (p + 44 > end) return SAMPLE_BAD;
      rate = v.getUint32(p + 12);
      const inFmt = v.getUint32(p + 24);
      input = inFmt === 0 ? v.getUint32(p + 28) : 0;
      const outFmt = v.getUint32(p + 32);
      output = outFmt === 0 ? v.getUint32(p + 36) : 0;
      nrec = v.getUint32(p + 40);
      p += 44;
    } else {
      if (p + 32 > end) return SAMPLE_BAD;
      rate = v.getUint32(p + 8);
      const inRaw = v.getUint32(p + 20);
      const outRaw = v.getUint32(p + 24);
      // compact interface form: top 2 bits are the format (1 = discarded, 2 = several)
      input = inRaw >>> 30 === 0 ? inRaw & 0x3fffffff : 0;
      output = outRaw >>> 30 === 0 ? outRaw & 0x3fffffff : 0;
      nrec = v.getUint32(p + 28);
      p += 32;
    }
    const i = b.length;
    setV4(b.src, i, 0);
    setV4(b.dst, i, 0);
    b.srcPort[i] = 0;
    b.dstPort[i] = 0;
    b.proto[i] = 0;
    b.tcpFlags[i] = 0;
    let bytes = 0;
    let found = 0; // 2 = raw header parsed, 1 = sampled IP record
    for (let k = 0; k < nrec; k++) {
      if (p + 8 > end) return SAMPLE_BAD;
      const fmt = v.getUint32(p);
      const rlen = v.getUint32(p + 4);
      const body = p + 8;
      if (rlen > end - body) return SAMPLE_BAD;
      p = body + rlen;
      if (fmt >>> 12 !== 0) continue;
      const format = fmt & 0xfff;
      if (format === 1 && found < 2) {
        if (rlen < 16) return SAMPLE_BAD;
        const proto = v.getUint32(body);
        const frameLen = v.getUint32(body + 4);
        const hlen = v.getUint32(body + 12);
        if (hlen > rlen - 16) return SAMPLE_BAD;
        if (
          parseHeader(
            v,
            body + 16,
            hlen,
            proto === HEADER_IPV4
              ? HEADER_IPV4
              : proto === HEADER_IPV6
                ? HEADER_IPV6
                : proto === HEADER_ETHERNET
                  ? HEADER_ETHERNET
                  : -1,
            b,
            i,
          )
        ) {
          found = 2;
          bytes = frameLen;
        } else if (bytes === 0) bytes = frameLen;
      } else if (format === 3 && found < 1) {
        if (rlen < 32) return SAMPLE_BAD;
        bytes = v.getUint32(body);
        b.proto[i] = v.getUint32(body + 4) & 0xff;
        setV4(b.src, i, v.getUint32(body + 8));
        setV4(b.dst, i, v.getUint32(body + 12));
        b.srcPort[i] = v.getUint32(body + 16) & 0xffff;
        b.dstPort[i] = v.getUint32(body + 20) & 0xffff;
        b.tcpFlags[i] = v.getUint32(body + 24) & 0xff;
        found = 1;
      } else if (format === 4 && found < 1) {
        if (rlen < 56) return SAMPLE_BAD;
        bytes = v.getUint32(body);
        b.proto[i] = v.getUint32(body + 4) & 0xff;
        setV6(b.src, i, v, body + 8);
        setV6(b.dst, i, v, body + 24);
        b.srcPort[i] = v.getUint32(body + 40) & 0xffff;
        b.dstPort[i] = v.getUint32(body + 44) & 0xffff;
        b.tcpFlags[i] = v.getUint32(body + 48) & 0xff;
        found = 1;
      }
    }
    // a sample of non-IP traffic (ARP, LLDP…) is counted but adds no flow row
    if (found === 0) return SAMPLE_NO_IP;
    if (rate < 1) rate = e.configRate;
    b.start[i] = nowMs;
    b.end[i] = nowMs;
    b.packets[i] = rate;
    b.bytes[i] = bytes * rate;
    b.samplingRate[i] = rate;
    b.inIf[i] = input;
    b.outIf[i] = output;
    b.exporter[i] = x;
    b.length = i + 1;
    return SAMPLE_ROW;
  }

  private counterSample(v: DataView, p: number, end: number, expanded: boolean, agent: string, nowMs: number): boolean {
    const hdr = expanded ? 12 : 8;
    if (p + hdr + 4 > end) return false;
    const nrec = v.getUint32(p + hdr);
    p += hdr + 4;
    for (let k = 0; k < nrec; k++) {
      if (p + 8 > end) return false;
      const fmt = v.getUint32(p);
      const rlen = v.getUint32(p + 4);
      const body = p + 8;
      if (rlen > end - body) return false;
      p = body + rlen;
      if (fmt === 1 && rlen >= 88) {
        const ifIndex = v.getUint32(body);
        const key = `${agent}/${ifIndex}`;
        if (!this.counters.has(key) && this.counters.size >= MAX_COUNTER_INTERFACES) continue;
        const u64 = (o: number): number => v.getUint32(o) * 4294967296 + v.getUint32(o + 4);
        this.counters.set(key, {
          agent,
          ifIndex,
          ifSpeed: u64(body + 8),
          inOctets: u64(body + 24),
          inPackets: v.getUint32(body + 32) + v.getUint32(body + 36) + v.getUint32(body + 40),
          inDiscards: v.getUint32(body + 44),
          inErrors: v.getUint32(body + 48),
          outOctets: u64(body + 56),
          outPackets: v.getUint32(body + 64) + v.getUint32(body + 68) + v.getUint32(body + 72),
          outDiscards: v.getUint32(body + 76),
          outErrors: v.getUint32(body + 80),
          at: nowMs,
        });
      }
    }
    return true;
  }
}

function guessProtocol(msg: Uint8Array): FlowProtocol {
  if (msg.byteLength >= 2) {
    const w = (msg[0] << 8) | msg[1];
    if (w === 5) return 'netflow-v5';
    if (w === 10) return 'ipfix';
    if (w === 0) return 'sflow-v5';
  }
  return 'netflow-v9';
}
