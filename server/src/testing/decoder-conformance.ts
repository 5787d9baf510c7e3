/**
 * One conformance suite every protocol decoder runs (decode/netflow-v5.test.ts, netflow-v9,
 * ipfix, sflow-v5): the same properties, fed each protocol's own inputs — datagrams from the
 * simulator's encoder for that protocol, and the real captures of that protocol in
 * ../shared/data/captures (read in place beside the checkout; skipped with a message when the
 * folder is absent) and in ingest/testdata/, against what tshark read from them (expected.json).
 */
import { addrToString, type FlowProtocol } from '@downstream/shared';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { FlowBatch } from '../flow/flow-batch.js';
import {
  comparable,
  type ExpectedCapture,
  decodeCapture,
  loadCorpus,
  recordAsExpected,
} from '../ingest/conformance.js';
import { FlowDecoder } from '../ingest/decoder.js';
import type { SimFlow } from '../sim/sim-flow.js';

export interface ConformanceEncoder {
  encode(flows: SimFlow[], nowMs: number): Uint8Array[];
}

/** Where we knowingly read differently from tshark in one capture (and why, where it is declared). */
export interface CaptureDeviation {
  data_records: number;
  options_data_records: number;
  data_flowsets_without_template: number;
  /** Index of our record that tshark's first record is. */
  first_record_offset: number;
}

export interface DecoderConformanceInputs {
  protocol: FlowProtocol;
  /** The simulator's encoder for this protocol: what a router of this kind would send. */
  encoder(opts: { samplingRate?: number; sourceId?: number }): ConformanceEncoder;
  /** Whether the protocol carries IPv6 flows (NetFlow v5 does not). */
  ipv6: boolean;
  /** The exporter address health() names for datagrams sent from `source` (sFlow: the agent in the datagram). */
  exporter(source: string): string;
  /** Which captures of a corpus (expected.json entries) are this protocol's. */
  isCapture(expected: ExpectedCapture): boolean;
  deviations?: Record<string, CaptureDeviation>;
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const SOURCE = '192.0.2.77';

const CORPORA: [string, string][] = [
  ['shared captures', fileURLToPath(new URL('../../../../shared/data/captures', import.meta.url))],
  ['generated captures', fileURLToPath(new URL('../ingest/testdata', import.meta.url))],
];

function flows(n: number, ipv6: boolean): SimFlow[] {
  return Array.from({ length: n }, (_, i) => {
    const v6 = ipv6 && i % 3 === 0;
    const packets = 1 + (i % 3);
    return {
      src: v6 ? `2001:db8::${(i + 1).toString(16)}` : `198.51.100.${i % 250}`,
      dst: v6 ? '2001:db8:ffff::1' : '203.0.113.7',
      srcPort: 1024 + i,
      dstPort: i % 2 ? 53 : 443,
      proto: i % 2 ? 17 : 6,
      tcpFlags: i % 2 ? 0 : 0x12,
      packets,
      bytes: packets * (100 + i),
      startMs: T0 - 5000 + i,
      endMs: T0 - 1000 + i,
      inIf: 3,
      outIf: 7,
    };
  });
}

const tuple = (src: string, dst: string, sport: number, dport: number, proto: number): string =>
  `${src} ${dst} ${sport} ${dport} ${proto}`;

/** Packets and bytes per 5-tuple: a flow record and the sampled packets of sFlow compare alike. */
function totalsOfFlows(fs: SimFlow[]): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  for (const f of fs) m.set(tuple(f.src, f.dst, f.srcPort, f.dstPort, f.proto), [f.packets, f.bytes]);
  return m;
}

function totalsOfBatch(b: FlowBatch): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  for (let i = 0; i < b.length; i++) {
    const k = tuple(addrToString(b.src, i), addrToString(b.dst, i), b.srcPort[i], b.dstPort[i], b.proto[i]);
    const t = m.get(k) ?? [0, 0];
    m.set(k, [t[0] + b.packets[i], t[1] + b.bytes[i]]);
  }
  return m;
}

const errors = (dec: FlowDecoder): number => dec.health().reduce((a, h) => a + h.decodeErrors, 0);

export function decoderConformance(inputs: DecoderConformanceInputs): void {
  const { protocol } = inputs;
  const exporter = inputs.exporter(SOURCE);

  describe(`${protocol} decoder conformance`, () => {
    it('returns every encoded flow: addresses, ports, protocol, packets and bytes', () => {
      const fs = flows(120, inputs.ipv6);
      const dgrams = inputs.encoder({}).encode(fs, T0);
      const dec = new FlowDecoder();
      for (const d of dgrams) dec.decode(d, SOURCE, T0);
      expect(totalsOfBatch(dec.batch)).toEqual(totalsOfFlows(fs));
      for (let i = 0; i < dec.batch.length; i++) {
        expect(dec.batch.exporters[dec.batch.exporter[i]], `row ${i} exporter`).toBe(exporter);
        expect(dec.batch.samplingRate[i], `row ${i} rate`).toBe(1);
      }
      expect(dec.lastInternalError).toBeUndefined();
    });

    it(`counts datagrams and records under ${protocol} in health(), with no errors or gaps`, () => {
      const dgrams = inputs.encoder({}).encode(flows(60, inputs.ipv6), T0);
      const dec = new FlowDecoder();
      let rows = 0;
      for (const d of dgrams) rows += dec.decode(d, SOURCE, T0);
      expect(rows).toBe(dec.batch.length);
      expect(dec.health()).toEqual([
        expect.objectContaining({
          address: exporter,
          protocol,
          datagrams: dgrams.length,
          records: rows,
          decodeErrors: 0,
          sequenceGaps: 0,
        }),
      ]);
    });

    it('scales packets and bytes by the sampling rate the exporter states, and keeps the rate', () => {
      const fs = flows(30, inputs.ipv6).map((f) => ({ ...f, packets: f.packets * 40, bytes: f.bytes * 40 }));
      const dec = new FlowDecoder({ sampling: { default: 3, exporters: {} } });
      for (const d of inputs.encoder({ samplingRate: 10 }).encode(fs, T0)) dec.decode(d, SOURCE, T0);
      expect(dec.batch.length).toBeGreaterThan(0);
      for (let i = 0; i < dec.batch.length; i++) {
        expect(dec.batch.samplingRate[i], `row ${i} rate`).toBe(10);
        expect(dec.batch.packets[i] % 10, `row ${i} packets are a multiple of the rate`).toBe(0);
      }
    });

    it('raises one sequence gap for one lost datagram', () => {
      const enc = inputs.encoder({});
      const sent = [0, 1, 2, 3, 4].map((k) => enc.encode(flows(1, false), T0 + k * 1000));
      const dec = new FlowDecoder();
      for (const [k, ds] of sent.entries()) if (k !== 2) for (const d of ds) dec.decode(d, SOURCE, T0);
      expect(dec.health()[0]).toMatchObject({ protocol, sequenceGaps: 1 });
    });

    it('keeps the streams of one exporter (source id / domain / engine / sub-agent) apart in its table', () => {
      const a = inputs.encoder({ sourceId: 1 });
      const b = inputs.encoder({ sourceId: 2 });
      const dec = new FlowDecoder();
      for (let k = 0; k < 4; k++)
        for (const enc of [a, b]) for (const d of enc.encode(flows(3, inputs.ipv6), T0 + k)) dec.decode(d, SOURCE, T0);
      // interleaved sequence numbers of two streams would read as gaps and restarts if they shared one
      expect(dec.health()).toEqual([expect.objectContaining({ protocol, sequenceGaps: 0, decodeErrors: 0 })]);
      expect(dec.batch.length).toBeGreaterThanOrEqual(8 * 3);
    });

    it('never throws on a truncated datagram, and never loses rows without counting an error', () => {
      const dgrams = inputs.encoder({}).encode(flows(40, inputs.ipv6), T0);
      const dec = new FlowDecoder({ pendingMs: 0 });
      for (const d of dgrams) dec.decode(d, SOURCE, T0);
      for (const d of dgrams) {
        const full = dec.decode(d, SOURCE, T0);
        for (let len = 0; len < d.byteLength; len++) {
          const before = errors(dec);
          const rows = dec.decode(d.subarray(0, len), SOURCE, T0);
          expect(rows, `${len} of ${d.byteLength} bytes`).toBeLessThanOrEqual(full);
          // v9 has no length field: a cut at a flowset boundary is only seen as rows missing
          expect(errors(dec) > before || rows < full, `${len} of ${d.byteLength} bytes: lost silently`).toBe(true);
        }
        dec.batch.length = 0;
      }
      expect(dec.lastInternalError).toBeUndefined();
    });

    for (const [name, dir] of CORPORA) {
      const corpus = loadCorpus(dir);
      describe.skipIf(!corpus)(`${name}${corpus ? '' : ` (skipped: no expected.json in ${dir})`}`, () => {
        const files = Object.entries(corpus?.files ?? {}).filter(([, e]) => inputs.isCapture(e));
        // a skipped describe lists no test at all unless it has one: this one carries the reason
        if (files.length === 0) it.skip(`no ${protocol} capture in ${dir}`, () => {});
        else
          it.each(files)('%s decodes as tshark read it', (file, tshark) =>
            protocol === 'sflow-v5'
              ? expectSflowCapture(`${dir}/${file}`, tshark)
              : expectFlowCapture(
                  `${dir}/${file}`,
                  { ...tshark, ...inputs.deviations?.[file] },
                  inputs.deviations?.[file],
                ),
          );
      });
    }
  });
}

function expectFlowCapture(path: string, exp: ExpectedCapture, deviation: CaptureDeviation | undefined): void {
  const r = decodeCapture(path);
  const flowStats = r.stats.filter((s) => s.protocol !== 'sflow-v5');
  expect(r.batch.length, 'data records').toBe(exp.data_records);
  expect(
    flowStats.reduce((a, s) => a + s.optionRecords, 0),
    'options records',
  ).toBe(exp.options_data_records);
  expect(new Set(flowStats.map((s) => s.address)), 'exporters').toEqual(new Set(exp.exporters));
  const byReason: Record<string, number> = {};
  for (const s of flowStats) for (const [k, n] of s.errorsByReason) byReason[k] = (byReason[k] ?? 0) + n;
  const undecodable = exp.data_flowsets_without_template ?? 0;
  expect(byReason, 'decode errors').toEqual(undecodable > 0 ? { 'unknown-template': undecodable } : {});
  for (const [i, rec] of (exp.first_records ?? []).entries()) {
    const c = comparable(recordAsExpected(r.batch, i + (deviation?.first_record_offset ?? 0)), rec);
    expect(c.actual, `record ${i}`).toEqual(c.expected);
  }
}

function expectSflowCapture(path: string, exp: ExpectedCapture): void {
  const r = decodeCapture(path);
  const sf = r.stats.filter((s) => s.protocol === 'sflow-v5');
  expect(
    sf.reduce((a, s) => a + s.records, 0),
    'flow samples',
  ).toBe(exp.flow_samples);
  expect(
    sf.reduce((a, s) => a + s.counterSamples, 0),
    'counter samples',
  ).toBe(exp.counter_samples);
  if ((exp.agents ?? []).length > 0) expect(new Set(sf.map((s) => s.address)), 'agents').toEqual(new Set(exp.agents));
  else
    expect(
      sf.reduce((a, s) => a + s.decodeErrors, 0),
      'a capture tshark cannot read is counted as errors',
    ).toBeGreaterThan(0);
  const samples: number[] = [];
  for (let i = 0; i < r.batch.length; i++)
    if (sf.some((s) => s.address === r.batch.exporters[r.batch.exporter[i]])) samples.push(i);
  for (const [k, rec] of (exp.first_records ?? []).entries()) {
    const c = comparable(recordAsExpected(r.batch, samples[k]), rec);
    expect(c.actual, `sample ${k}`).toEqual(c.expected);
  }
}

/** expected.json's protocol family and versions → the decoder that reads the capture (mixed v5+v9: v9). */
export function captureProtocol(e: ExpectedCapture): FlowProtocol | undefined {
  if (e.protocol === 'sflow') return 'sflow-v5';
  if (e.protocol !== 'netflow/ipfix') return undefined;
  const v = Object.keys(e.versions ?? {});
  return v.includes('10') ? 'ipfix' : v.includes('9') ? 'netflow-v9' : v.includes('5') ? 'netflow-v5' : undefined;
}
