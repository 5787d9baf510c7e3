import type { FlowProtocol } from '@downstream/shared';
import { type DecodeErrorReason, ExporterStats } from './exporter-stats.js';

/** ExporterStats as plain data, to cross a worker boundary. */
export interface StatsSnapshot {
  address: string;
  protocol: FlowProtocol;
  datagrams: number;
  records: number;
  optionRecords: number;
  counterSamples: number;
  decodeErrors: number;
  sequenceGaps: number;
  lost: number;
  restarts: number;
  sampleDrops: number;
  templates: number;
  lastSeen: number;
  errorsByReason: [string, number][];
}

export function snapshotStats(s: ExporterStats): StatsSnapshot {
  return {
    address: s.address,
    protocol: s.protocol,
    datagrams: s.datagrams,
    records: s.records,
    optionRecords: s.optionRecords,
    counterSamples: s.counterSamples,
    decodeErrors: s.decodeErrors,
    sequenceGaps: s.sequenceGaps,
    lost: s.lost,
    restarts: s.restarts,
    sampleDrops: s.sampleDrops,
    templates: s.templates,
    lastSeen: s.lastSeen,
    errorsByReason: [...s.errorsByReason],
  };
}

export function statsFromSnapshot(x: StatsSnapshot): ExporterStats {
  const s = new ExporterStats(x.address, x.protocol);
  s.datagrams = x.datagrams;
  s.records = x.records;
  s.optionRecords = x.optionRecords;
  s.counterSamples = x.counterSamples;
  s.decodeErrors = x.decodeErrors;
  s.sequenceGaps = x.sequenceGaps;
  s.lost = x.lost;
  s.restarts = x.restarts;
  s.sampleDrops = x.sampleDrops;
  s.templates = x.templates;
  s.lastSeen = x.lastSeen;
  for (const [k, n] of x.errorsByReason) s.errorsByReason.set(k as DecodeErrorReason, n);
  return s;
}
