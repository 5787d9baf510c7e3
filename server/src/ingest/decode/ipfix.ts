/** IPFIX (RFC 7011): a 16-byte message header, then template / options template / data sets. */
import { domainKey } from './domain-key.js';
import { countSequence, type ExporterTable } from './exporter-table.js';
import type { Message, TemplateDialect, TemplateSets } from './template-sets.js';

export const ipfix: TemplateDialect = {
  protocol: 'ipfix',
  templateSetId: 2,
  optionsTemplateSetId: 3,
  variableLength: true,
  readTemplates(v, body, end, options, m, sets) {
    const s = m.stats;
    let q = body;
    while (q + 4 <= end) {
      const tid = v.getUint16(q);
      if (tid === 0) break; // zero padding at the end of the set
      const ies: number[] = [];
      const lens: number[] = [];
      const fc = v.getUint16(q + 2);
      let scope = 0;
      q += 4;
      if (fc === 0) {
        // a template record without fields withdraws the template (RFC 7011 §8.1); the options
        // template withdrawal has a 4-byte record too
        sets.withdraw(m, tid);
        continue;
      }
      if (options) {
        if (q + 2 > end) return s.error('bad-template');
        scope = v.getUint16(q);
        q += 2;
        if (scope === 0 || scope > fc) return s.error('bad-template');
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
      sets.define(ipfix, m, tid, options, ies, lens);
    }
  },
};

export class IpfixDecoder {
  readonly protocol = 'ipfix';
  private readonly m: Message;

  constructor(
    private readonly table: ExporterTable,
    private readonly sets: TemplateSets,
  ) {
    this.m = { exporter: undefined!, domain: undefined!, stats: undefined!, headerMs: 0, sysUptime: -1, nowMs: 0 };
  }

  decode(v: DataView, source: string, nowMs: number): number {
    const e = this.table.exporter(source);
    if (!e) return 0;
    const s = this.table.arrived(e, 'ipfix', nowMs);
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
    const seq = v.getUint32(8);
    const d = this.table.domain(e, domainKey('ipfix', v.getUint32(12)), 'records-before');
    if (!d) {
      s.error('template-limit');
      return 0;
    }
    const m = this.m;
    m.exporter = e;
    m.domain = d;
    m.stats = s;
    m.headerMs = v.getUint32(4) * 1000;
    m.sysUptime = -1;
    m.nowMs = nowMs;
    const sets = this.sets;
    const r = sets.decode(ipfix, v, 16, len, m);
    // IPFIX counts data records (options records included), not datagrams
    countSequence(s, d.seq.observe(seq, sets.complete ? r + sets.optionRecords : -1));
    return r;
  }
}
