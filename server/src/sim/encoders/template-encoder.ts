import type { SimFlow } from '../sim-flow.js';
import { ByteWriter, MAX_DATAGRAM, isV6, type EncoderOptions } from './writer.js';

/** (field type, length) pairs of one template, in record order. */
export type TemplateFields = [number, number][];

/**
 * What NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) lay out differently; the rest — sets of
 * records under a 4-byte (set ID, length) header, one data set per template, templates
 * re-sent every `templateEvery` datagrams — is the same in both.
 */
export interface TemplateLayout {
  /** Set ID of the template set: 0 in NetFlow v9, 2 in IPFIX. */
  templateSetId: number;
  /** NetFlow v9 pads every flowset to 32 bits; IPFIX sets are not padded. */
  padSets: boolean;
  /** NetFlow v9's header count includes template records; IPFIX's sequence counts data records only. */
  countTemplateRecords: boolean;
  v4: { id: number; fields: TemplateFields };
  v6: { id: number; fields: TemplateFields };
}

const recordLength = (fields: TemplateFields): number => fields.reduce((n, [, len]) => n + len, 0);

/** Datagrams of template-based flow export: the format's header, templates, and data sets of v4/v6 records. */
export abstract class TemplateEncoder {
  private sinceTemplate = Infinity;
  readonly samplingRate: number;
  readonly templateEvery: number;
  private readonly v4Length: number;
  private readonly v6Length: number;

  constructor(
    private readonly layout: TemplateLayout,
    opts: EncoderOptions,
  ) {
    this.samplingRate = opts.samplingRate ?? 1;
    this.templateEvery = opts.templateEvery ?? 20;
    this.v4Length = recordLength(layout.v4.fields);
    this.v6Length = recordLength(layout.v6.fields);
  }

  /** The message header, with placeholders `endDatagram` fills in. */
  protected abstract writeHeader(w: ByteWriter, nowMs: number): void;
  /** Completes the header once the datagram holds `records` records (as the format counts them). */
  protected abstract endDatagram(w: ByteWriter, records: number): void;
  /** One data record, in the field order of the v4 or v6 template. */
  protected abstract writeRecord(w: ByteWriter, f: SimFlow, v6: boolean): void;
  /** Options template and record announcing the sampling rate; returns the records it counts. */
  protected abstract writeSamplingOptions(w: ByteWriter): number;

  encode(flows: SimFlow[], nowMs: number): Uint8Array[] {
    const { padSets, v4, v6: v6Template } = this.layout;
    const out: Uint8Array[] = [];
    let w: ByteWriter | undefined;
    let records = 0;
    let setStart = -1;
    let setTemplate = -1;
    const closeSet = (): void => {
      if (!w || setStart < 0) return;
      if (padSets) w.pad4();
      w.setU16(setStart + 2, w.pos - setStart);
      setStart = -1;
      setTemplate = -1;
    };
    const finish = (): void => {
      if (!w) return;
      closeSet();
      this.endDatagram(w, records);
      out.push(w.take());
      w = undefined;
    };
    const begin = (): ByteWriter => {
      const nw = new ByteWriter(MAX_DATAGRAM + 64);
      this.writeHeader(nw, nowMs);
      records = 0;
      if (this.sinceTemplate >= this.templateEvery) {
        this.sinceTemplate = 0;
        records += this.writeTemplates(nw);
      }
      this.sinceTemplate++;
      return nw;
    };
    for (const f of flows) {
      const v6 = isV6(f.src) || isV6(f.dst);
      const tid = v6 ? v6Template.id : v4.id;
      w ??= begin();
      // room for a new set header, the record, and the padding that may close the set
      const needed = (setTemplate === tid ? 0 : 4) + (v6 ? this.v6Length : this.v4Length) + (padSets ? 3 : 0);
      if (w.pos + needed > MAX_DATAGRAM) {
        finish();
        w = begin();
      }
      if (setTemplate !== tid) {
        closeSet();
        setStart = w.pos;
        setTemplate = tid;
        w.u16(tid).u16(0);
      }
      this.writeRecord(w, f, v6);
      records++;
    }
    finish();
    return out;
  }

  /** A set: its header, `body`, padding where the format pads, and the length filled in. */
  protected writeSet(w: ByteWriter, setId: number, body: () => void): void {
    const start = w.pos;
    w.u16(setId).u16(0);
    body();
    if (this.layout.padSets) w.pad4();
    w.setU16(start + 2, w.pos - start);
  }

  /** Template set (v4 and v6 data templates), plus the sampling options when sampled; returns records counted. */
  private writeTemplates(w: ByteWriter): number {
    const templates = [this.layout.v4, this.layout.v6];
    this.writeSet(w, this.layout.templateSetId, () => {
      for (const { id, fields } of templates) {
        w.u16(id).u16(fields.length);
        for (const [t, l] of fields) w.u16(t).u16(l);
      }
    });
    const counted = this.layout.countTemplateRecords ? templates.length : 0;
    return counted + (this.samplingRate > 1 ? this.writeSamplingOptions(w) : 0);
  }
}
