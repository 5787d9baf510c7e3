/**
 * What NetFlow v9 and IPFIX share: a message is a list of sets — template sets, options
 * template sets and data sets decoded with a template the exporter defined earlier. The two
 * differ only in their set ids and their template records (TemplateDialect: netflow-v9.ts,
 * ipfix.ts); the set walk, template storage, held data and the record loop are written once here.
 */
import type { ExporterStats } from '../exporter-stats.js';
import {
  compileTemplate,
  type DataSetContext,
  decodeDataSet,
  readOptionsSet,
  type Template,
  VARLEN,
} from './template.js';
import type { BatchSink } from './batch-sink.js';
import type { Domain, Exporter, ExporterTable } from './exporter-table.js';
import type { ExportTime, HeldSets } from './held-sets.js';

/** What one v9 / IPFIX message header says, for all its sets. One object per decoder, reused per datagram. */
export interface Message extends ExportTime {
  exporter: Exporter;
  domain: Domain;
  stats: ExporterStats;
  nowMs: number;
}

/** How one protocol spells its templates. */
export interface TemplateDialect {
  readonly protocol: 'netflow-v9' | 'ipfix';
  readonly templateSetId: number;
  readonly optionsTemplateSetId: number;
  /** Variable-length fields (length 65535) are IPFIX only. */
  readonly variableLength: boolean;
  /** Reads the template records of one template set (options: an options template set) into `sets`. */
  readTemplates(v: DataView, body: number, end: number, options: boolean, m: Message, sets: TemplateSets): void;
}

export class TemplateSets {
  /** Side results of the last decode(): options records read, and whether every set was decodable. */
  optionRecords = 0;
  complete = true;

  private readonly ctx: DataSetContext = {
    exporter: 0,
    headerMs: 0,
    sysUptime: -1,
    initTimeMs: -1,
    defaultRate: 1,
    samplers: undefined,
  };

  constructor(
    private readonly table: ExporterTable,
    private readonly held: HeldSets,
    private readonly sink: BatchSink,
  ) {}

  /**
   * Decodes the sets in [start, len) of message `m`; returns the flow records added. Side results
   * in fields rather than a fresh object per datagram (GC pressure at line rate).
   */
  decode(dialect: TemplateDialect, v: DataView, start: number, len: number, m: Message): number {
    const s = m.stats;
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
      if (setId === dialect.templateSetId) dialect.readTemplates(v, body, end, false, m, this);
      else if (setId === dialect.optionsTemplateSetId) dialect.readTemplates(v, body, end, true, m, this);
      else if (setId >= 256) {
        const t = m.domain.templates.get(setId);
        if (t === undefined) {
          complete = false;
          this.held.hold(m.exporter, s, v, body, end, {
            protocol: dialect.protocol,
            key: m.domain.key,
            templateId: setId,
            headerMs: m.headerMs,
            sysUptime: m.sysUptime,
            receivedAt: m.nowMs,
          });
        } else {
          const r = this.data(v, body, end, t, m, m);
          if (t.options) optionRecords += r;
          else records += r;
        }
      }
      p = end;
    }
    s.templates = m.exporter.templateCount;
    this.optionRecords = optionRecords;
    this.complete = complete;
    return records;
  }

  /**
   * A template record read by a dialect: field ids (-1 = a field we skip: scope fields,
   * enterprise-specific ones) and lengths. Checked, compiled, stored; held data waiting for it
   * is decoded now.
   */
  define(dialect: TemplateDialect, m: Message, id: number, options: boolean, ies: number[], lens: number[]): void {
    const s = m.stats;
    if (id < 256 || (!dialect.variableLength && lens.includes(VARLEN))) {
      s.error('bad-template');
      return;
    }
    const t = compileTemplate(id, options, ies, lens);
    if (!t.variable && t.recordLen === 0) {
      s.error('bad-template');
      return;
    }
    const e = m.exporter;
    if (!this.table.defineTemplate(e, m.domain, t, s) || !this.held.holds(e)) return;
    for (const p of this.held.release(e, m.domain.key, t.id, m.nowMs, s)) {
      const pv = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
      this.data(pv, 0, p.data.byteLength, t, m, p);
    }
  }

  withdraw(m: Message, id: number): void {
    this.table.withdrawTemplate(m.exporter, m.domain, id, m.stats);
  }

  /** Decodes one data set with a known template, sent at `time`; counts records on `m.stats`. */
  private data(v: DataView, body: number, end: number, t: Template, m: Message, time: ExportTime): number {
    const { exporter: e, domain: d, stats: s } = m;
    if (t.options) {
      const n = readOptionsSet(v, body, end, t, (info) => {
        if (info.initTimeMs > 0) d.initTimeMs = info.initTimeMs;
        if (info.rate > 0) this.table.learnSampling(e, d, info.samplerId, info.rate);
      });
      if (n < 0) {
        s.error('bad-record');
        return 0;
      }
      s.optionRecords += n;
      return n;
    }
    const ctx = this.ctx;
    ctx.exporter = this.sink.exporter(e.address);
    ctx.headerMs = time.headerMs;
    ctx.sysUptime = time.sysUptime;
    ctx.initTimeMs = d.initTimeMs;
    ctx.defaultRate = this.table.defaultRate(e, d);
    ctx.samplers = d.samplers.size > 0 ? d.samplers : e.samplers.size > 0 ? e.samplers : undefined;
    let n = decodeDataSet(v, body, end, t, this.sink.batch, ctx);
    if (n < 0) {
      s.error('bad-record');
      n = -(n + 1);
    }
    s.records += n;
    return n;
  }
}
