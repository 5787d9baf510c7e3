/**
 * Per-exporter decoder state: one entry per exporter address, one domain per DomainKey under
 * it (templates, samplers, sequence numbers), and the health counters per protocol. Bounded
 * everywhere (exporters, domains, templates) because every entry is created by whoever can
 * send a UDP datagram.
 */
import type { ExporterHealth, FlowProtocol } from '@downstream/shared';
import { type DecodeErrorReason, ExporterStats, SequenceTracker, type SequenceRule } from '../exporter-stats.js';
import type { Template } from './template.js';
import type { DomainKey } from './domain-key.js';

export interface SamplingConfig {
  default: number;
  exporters: Record<string, number>;
}

export interface Domain {
  readonly key: DomainKey;
  templates: Map<number, Template>;
  seq: SequenceTracker;
  /** Sampler id → rate, and the rate of options that name no sampler (0 = none yet). */
  samplers: Map<number, number>;
  rate0: number;
  initTimeMs: number;
}

export interface Exporter {
  address: string;
  configRate: number;
  stats: Map<FlowProtocol, ExporterStats>;
  domains: Map<DomainKey, Domain>;
  /** Address-wide sampling (options may come under another source id than the data). */
  samplers: Map<number, number>;
  rate0: number;
  anyRate: number;
  templateCount: number;
  /** sFlow: per data source, the agent's `drops` last seen and the smoothed drops per sample (decode/sflow-v5.ts). */
  sflowDrops: Map<number, { drops: number; perSample: number }>;
}

export interface ExporterTableLimits {
  sampling: SamplingConfig;
  /** Templates per exporter (all domains together), and over all exporters. */
  maxTemplatesPerExporter: number;
  maxTemplatesTotal: number;
  /** Distinct exporter addresses; datagrams from further ones are dropped and counted. */
  maxExporters: number;
}

const MAX_DOMAINS_PER_EXPORTER = 128;
const MAX_SAMPLERS = 1024;

export class ExporterTable {
  private readonly exporters = new Map<string, Exporter>();
  private templatesTotal = 0;
  /** Datagrams dropped because the table was full (no stats entry to count them on). */
  droppedExporterLimit = 0;

  constructor(private readonly limits: ExporterTableLimits) {}

  get size(): number {
    return this.exporters.size;
  }

  /** The entry for `address`, created on first sight; undefined when the table is full. */
  exporter(address: string): Exporter | undefined {
    let e = this.exporters.get(address);
    if (e) return e;
    if (this.exporters.size >= this.limits.maxExporters) {
      this.droppedExporterLimit++;
      return undefined;
    }
    e = {
      address,
      configRate: this.limits.sampling.exporters[address] ?? this.limits.sampling.default,
      stats: new Map(),
      domains: new Map(),
      samplers: new Map(),
      rate0: 0,
      anyRate: 0,
      templateCount: 0,
      sflowDrops: new Map(),
    };
    this.exporters.set(address, e);
    return e;
  }

  /** `e`'s domain `key`, created on first sight; undefined past the per-exporter limit. */
  domain(e: Exporter, key: DomainKey, rule: SequenceRule): Domain | undefined {
    let d = e.domains.get(key);
    if (d) return d;
    if (e.domains.size >= MAX_DOMAINS_PER_EXPORTER) return undefined;
    d = { key, templates: new Map(), seq: new SequenceTracker(rule), samplers: new Map(), rate0: 0, initTimeMs: -1 };
    e.domains.set(key, d);
    return d;
  }

  stats(e: Exporter, protocol: FlowProtocol): ExporterStats {
    let s = e.stats.get(protocol);
    if (!s) {
      s = new ExporterStats(e.address, protocol);
      e.stats.set(protocol, s);
    }
    return s;
  }

  /** Counts a datagram from `e` under `protocol`, seen at `nowMs`; returns those stats. */
  arrived(e: Exporter, protocol: FlowProtocol, nowMs: number): ExporterStats {
    const s = this.stats(e, protocol);
    s.datagrams++;
    s.lastSeen = nowMs;
    return s;
  }

  /** A datagram from `address` rejected before its exporter was known: counted under `reason`. Returns 0 records. */
  rejected(address: string, protocol: FlowProtocol, reason: DecodeErrorReason, nowMs: number, newDatagram = true): 0 {
    const e = this.exporter(address);
    if (!e) return 0;
    const s = this.stats(e, protocol);
    if (newDatagram) s.datagrams++;
    s.lastSeen = nowMs;
    s.error(reason);
    return 0;
  }

  /** Rate for records that carry no sampling of their own (options, then v5 header, then config). */
  defaultRate(e: Exporter, d: Domain): number {
    return d.rate0 || e.rate0 || e.anyRate || e.configRate;
  }

  /** Sampling learnt from an options record of domain `d`. */
  learnSampling(e: Exporter, d: Domain, samplerId: number, rate: number): void {
    e.anyRate = rate;
    if (samplerId === 0) {
      d.rate0 = rate;
      e.rate0 = rate;
    } else {
      if (d.samplers.size < MAX_SAMPLERS) d.samplers.set(samplerId, rate);
      if (e.samplers.size < MAX_SAMPLERS) e.samplers.set(samplerId, rate);
    }
  }

  /**
   * Stores template `t` in `d` (a redefinition replaces the old one). False when a new template
   * would pass the limits (counted as `template-limit` on `s`).
   */
  defineTemplate(e: Exporter, d: Domain, t: Template, s: ExporterStats): boolean {
    const old = d.templates.get(t.id);
    if (old === undefined) {
      if (
        e.templateCount >= this.limits.maxTemplatesPerExporter ||
        this.templatesTotal >= this.limits.maxTemplatesTotal
      ) {
        s.error('template-limit');
        return false;
      }
      e.templateCount++;
      this.templatesTotal++;
    }
    // a redefinition with another layout simply replaces the old one: later data uses the new layout
    if (old === undefined || old.layout !== t.layout) d.templates.set(t.id, t);
    s.templates = e.templateCount;
    return true;
  }

  /** IPFIX withdrawal: template `tid` of `d`, or all (options) templates for tid 2 (3). */
  withdrawTemplate(e: Exporter, d: Domain, tid: number, s: ExporterStats): void {
    if (tid === 2 || tid === 3) {
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

  health(): ExporterHealth[] {
    const out: ExporterHealth[] = [];
    for (const e of this.exporters.values()) for (const s of e.stats.values()) out.push(s.toHealth());
    return out;
  }

  *allStats(): Iterable<ExporterStats> {
    for (const e of this.exporters.values()) yield* e.stats.values();
  }
}

/** Records what a sequence tracker said about one datagram on its stats. */
export function countSequence(s: ExporterStats, lost: number): void {
  if (lost > 0) {
    s.sequenceGaps++;
    s.lost += lost;
  } else if (lost < 0) s.restarts++;
}
