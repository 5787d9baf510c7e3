/**
 * The shared conformance harness: decode every datagram of a capture and compare with what
 * tshark read from it (expected.json and SOURCES.md in ../shared/data/captures, read in place
 * beside the checkout). Used by testing/decoder-conformance.ts for the third-party captures and for our
 * own generated ones in testdata/.
 */
import { addrToString } from '@downstream/shared';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlowDecoder } from './decoder.js';
import { type FlowBatch } from '../flow/flow-batch.js';
import { readPcapFile } from './pcap.js';
import type { ExporterStats } from './exporter-stats.js';

export interface ExpectedRecord {
  src_addr?: string | null;
  dst_addr?: string | null;
  src_port?: number | null;
  dst_port?: number | null;
  protocol?: number | null;
  bytes?: number | null;
  packets?: number | null;
  sampling_rate?: number | null;
}

export interface ExpectedCapture {
  protocol: 'netflow/ipfix' | 'sflow' | string;
  export_packets: number;
  exporters: string[];
  agents?: string[];
  versions?: Record<string, number>;
  data_records?: number;
  options_data_records?: number;
  data_flowsets_without_template?: number;
  flow_samples?: number;
  counter_samples?: number;
  first_records?: ExpectedRecord[];
}

export interface Corpus {
  dir: string;
  files: Record<string, ExpectedCapture>;
}

/** The corpus in `dir` (expected.json + pcaps), or undefined when the folder is absent. */
export function loadCorpus(dir: string): Corpus | undefined {
  const f = join(dir, 'expected.json');
  if (!existsSync(f)) return undefined;
  const json = JSON.parse(readFileSync(f, 'utf8')) as { files: Record<string, ExpectedCapture> };
  return { dir, files: json.files };
}

export interface DecodedCapture {
  datagrams: number;
  batch: FlowBatch;
  stats: ExporterStats[];
  decoder: FlowDecoder;
}

/** Decode one capture with a fresh decoder. `pendingMs: 0` matches tshark, which never holds data. */
export function decodeCapture(file: string, pendingMs = 0): DecodedCapture {
  const packets = readPcapFile(file);
  const decoder = new FlowDecoder({ pendingMs, batchCapacity: 64 });
  let datagrams = 0;
  for (const p of packets) {
    decoder.decode(p.payload, p.src, p.timeMs);
    datagrams++;
  }
  return { datagrams, batch: decoder.batch, stats: [...decoder.allStats()], decoder };
}

/** Record `i` of `b` in expected.json's terms (counts unscaled, as the exporter sent them). */
export function recordAsExpected(b: FlowBatch, i: number): Required<ExpectedRecord> {
  const rate = b.samplingRate[i] || 1;
  return {
    src_addr: addrToString(b.src, i),
    dst_addr: addrToString(b.dst, i),
    src_port: b.srcPort[i],
    dst_port: b.dstPort[i],
    protocol: b.proto[i],
    bytes: b.bytes[i] / rate,
    packets: b.packets[i] / rate,
    sampling_rate: rate,
  };
}

/** Keep only the keys the expectation states (null = tshark had no such field). */
export function comparable(
  actual: Required<ExpectedRecord>,
  expected: ExpectedRecord,
): { actual: ExpectedRecord; expected: ExpectedRecord } {
  const a: Record<string, unknown> = {};
  const e: Record<string, unknown> = {};
  for (const k of [
    'src_addr',
    'dst_addr',
    'src_port',
    'dst_port',
    'protocol',
    'bytes',
    'packets',
    'sampling_rate',
  ] as const) {
    const x = expected[k];
    if (x === undefined || x === null) continue;
    e[k] = x;
    a[k] = actual[k];
  }
  return { actual: a, expected: e };
}
