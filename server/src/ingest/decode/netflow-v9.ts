/** NetFlow v9 (RFC 3954): a 20-byte header, then template / options template / data flowsets. */
import { domainKey } from './domain-key.js';
import { countSequence, type ExporterTable } from './exporter-table.js';
import type { Message, TemplateDialect, TemplateSets } from './template-sets.js';

export const netflowV9: TemplateDialect = {
  protocol: 'netflow-v9',
  templateSetId: 0,
  optionsTemplateSetId: 1,
  variableLength: false,
  readTemplates(v, body, end, options, m, sets) {
    let q = body;
    // a v9 template set may end in padding; a record needs at least its 4-byte header
    while (q + 4 <= end) {
      const tid = v.getUint16(q);
      if (tid === 0) break; // zero padding at the end of the set
      const ies: number[] = [];
      const lens: number[] = [];
      if (!options) {
        const fc = v.getUint16(q + 2);
        q += 4;
        if (q + fc * 4 > end) return m.stats.error('bad-template');
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
        if (scopeLen % 4 !== 0 || optLen % 4 !== 0 || q + scopeLen + optLen > end) return m.stats.error('bad-template');
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
      sets.define(netflowV9, m, tid, options, ies, lens);
    }
  },
};

export class NetflowV9Decoder {
  readonly protocol = 'netflow-v9';
  private readonly m: Message;

  constructor(
    private readonly table: ExporterTable,
    private readonly sets: TemplateSets,
  ) {
    this.m = { exporter: undefined!, domain: undefined!, stats: undefined!, headerMs: 0, sysUptime: 0, nowMs: 0 };
  }

  decode(v: DataView, source: string, nowMs: number): number {
    const e = this.table.exporter(source);
    if (!e) return 0;
    const s = this.table.arrived(e, 'netflow-v9', nowMs);
    const len = v.byteLength;
    if (len < 20) {
      s.error('truncated');
      return 0;
    }
    const sysUptime = v.getUint32(4);
    const seq = v.getUint32(12);
    const sourceId = v.getUint32(16);
    const d = this.table.domain(e, domainKey('netflow-v9', sourceId), 'datagram');
    if (!d) {
      s.error('template-limit');
      return 0;
    }
    const m = this.m;
    m.exporter = e;
    m.domain = d;
    m.stats = s;
    m.headerMs = v.getUint32(8) * 1000;
    m.sysUptime = sysUptime;
    m.nowMs = nowMs;
    const sets = this.sets;
    const r = sets.decode(netflowV9, v, 20, len, m);
    // v9 counts datagrams; an incomplete datagram says nothing about what the exporter counted
    countSequence(s, d.seq.observe(seq, sets.complete ? r + sets.optionRecords : -1, sysUptime));
    return r;
  }
}
