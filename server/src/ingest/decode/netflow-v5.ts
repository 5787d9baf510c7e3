/** NetFlow v5: a 24-byte header and fixed 48-byte IPv4 records, no templates. */
import { setV4 } from '@downstream/shared';
import { type BatchSink, endRow } from './batch-sink.js';
import { domainKey } from './domain-key.js';
import { countSequence, type ExporterTable } from './exporter-table.js';

const HEADER = 24;
const RECORD = 48;

export class NetflowV5Decoder {
  readonly protocol = 'netflow-v5';

  constructor(
    private readonly table: ExporterTable,
    private readonly sink: BatchSink,
  ) {}

  decode(v: DataView, source: string, nowMs: number): number {
    const e = this.table.exporter(source);
    if (!e) return 0;
    const s = this.table.arrived(e, 'netflow-v5', nowMs);
    const len = v.byteLength;
    if (len < HEADER) {
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
    if (HEADER + count * RECORD > len) {
      s.error('truncated');
      n = Math.floor((len - HEADER) / RECORD);
    }
    const rate = interval > 1 ? interval : e.configRate;
    const d = this.table.domain(e, domainKey('netflow-v5', engine), 'records-before');
    if (d) countSequence(s, d.seq.observe(seq, count, sysUptime));
    const b = this.sink.reserve(n);
    const x = this.sink.exporter(e.address);
    for (let r = 0; r < n; r++) {
      const p = HEADER + r * RECORD;
      const i = b.length;
      setV4(b.src, i, v.getUint32(p));
      setV4(b.dst, i, v.getUint32(p + 4));
      b.inIf[i] = v.getUint16(p + 12);
      b.outIf[i] = v.getUint16(p + 14);
      b.start[i] = headerMs - ((sysUptime - v.getUint32(p + 24)) | 0);
      b.end[i] = headerMs - ((sysUptime - v.getUint32(p + 28)) | 0);
      if (b.end[i] < b.start[i]) b.end[i] = b.start[i];
      b.srcPort[i] = v.getUint16(p + 32);
      b.dstPort[i] = v.getUint16(p + 34);
      b.tcpFlags[i] = v.getUint8(p + 37);
      b.proto[i] = v.getUint8(p + 38);
      endRow(b, i, v.getUint32(p + 16), v.getUint32(p + 20), rate, x);
    }
    s.records += n;
    return n;
  }
}
