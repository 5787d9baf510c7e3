/**
 * An ingest worker: decodes the datagrams of its share of the exporters (the receiver sends it
 * every datagram of those, so templates and sequence numbers stay per exporter), enriches each
 * batch, and splits it by detector key (detect/shard.ts) to the detector shards, as
 * transferred typed-array columns. Exporter stats and traffic totals go to the main thread.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '../../config/config.js';
import { batchBuffers, partitionBatch } from '../../detect/shard.js';
import type { EnrichedBatch } from '../../enrich/enriched-batch.js';
import { batchTotals } from '../../flow/flow-batch.js';
import { createEnricher } from '../../enrich/index.js';
import { FlowDecoder, type DecoderOptions, type InterfaceCounters } from '../../ingest/decoder.js';
import { snapshotStats, type StatsSnapshot } from '../../ingest/stats-snapshot.js';
import type { FromIngest, ToIngest } from './receiver.js';
import { ownThreadId } from './spawn.js';

export interface IngestInit {
  index: number;
  config: Config;
  decoder: Omit<DecoderOptions, 'sampling'>;
  flushRecords: number;
  flushMs: number;
  receiver: MessagePort;
  /** One port per detector shard, in shard order. */
  shards: MessagePort[];
}

export type IngestToMain =
  | { type: 'ready'; tid?: number }
  | {
      type: 'stats';
      index: number;
      stats: StatsSnapshot[];
      pendingSets: number;
      droppedExporterLimit: number;
      /** Decoded since the last stats message, for the traffic meter. */
      traffic: { flows: number; packets: number; bytes: number };
      /** Records shed since the last stats message because a shard was MAX_INFLIGHT_BATCHES behind. */
      shed: number;
      counters?: InterfaceCounters[];
      /** Set when these stats answer a flush: everything received before it is decoded. */
      flushId?: number;
    };

/** A shard's receipt for one batch: credit for the next (bounded queue per shard). */
export type ShardToIngest = { type: 'done' };

/**
 * Batches in flight to one shard (~0.5 s of records at 1 M/s, ≤ ~55 MiB of columns). The first
 * seconds after a start are the tight spot: every key is new and the shard runs behind while
 * the receive pool's backlog arrives at once; at 32 it shed 0.3–0.6 M records there on 4 runs
 * in 5 at 1 M records/s, at 64 none on 3 of 3. A shard that falls further behind gets nothing
 * until it catches up: the records are shed and counted (detection would otherwise lag
 * without bound, and memory grow with it). A tick waits behind at most this much work.
 */
export const MAX_INFLIGHT_BATCHES = 64;

export type IngestToShard = { type: 'batch'; batch: EnrichedBatch } | { type: 'flush'; id: number; from: number };

function main(): void {
  const parent = parentPort;
  if (!parent) return;
  const init = workerData as IngestInit;
  const { config } = init;
  const decoder = new FlowDecoder({ ...init.decoder, sampling: config.collectors.sampling });
  const enricher = createEnricher(config.network);
  const shards = init.shards;
  const names: string[] = [];
  const traffic = { flows: 0, packets: 0, bytes: 0 };
  const inflight = new Int32Array(shards.length);
  let shed = 0;
  shards.forEach((port, s) => {
    port.on('message', (m: ShardToIngest) => {
      if (m.type === 'done') inflight[s]--;
    });
  });
  const post = (m: IngestToMain): void => parent.postMessage(m);

  const flush = (): void => {
    const b = decoder.takeBatch();
    if (!b || b.length === 0) return;
    const t = batchTotals(b);
    traffic.flows += b.length;
    traffic.packets += t.packets;
    traffic.bytes += t.bytes;
    const parts = partitionBatch(enricher.enrich(b), shards.length);
    parts.forEach((part, s) => {
      if (!part) return;
      if (inflight[s] >= MAX_INFLIGHT_BATCHES) {
        shed += part.length;
        return;
      }
      inflight[s]++;
      const m: IngestToShard = { type: 'batch', batch: part };
      shards[s].postMessage(m, batchBuffers(part));
    });
  };
  const sendStats = (withCounters: boolean, flushId?: number): void => {
    post({
      type: 'stats',
      index: init.index,
      stats: [...decoder.allStats()].map(snapshotStats),
      pendingSets: decoder.pendingSets,
      droppedExporterLimit: decoder.droppedExporterLimit,
      traffic: { ...traffic },
      shed,
      counters: withCounters ? [...decoder.counters.values()] : undefined,
      flushId,
    });
    traffic.flows = traffic.packets = traffic.bytes = 0;
    shed = 0;
  };

  init.receiver.on('message', (m: ToIngest) => {
    if (m.type === 'dgrams') {
      const view = new DataView(m.buf);
      const now = Date.now();
      for (let off = 0; off < m.used;) {
        const len = view.getUint32(off);
        const address = names[view.getUint16(off + 4)];
        decoder.decode(new Uint8Array(m.buf, off + 6, len), address, now);
        off += 6 + len;
        if (decoder.batch.length >= init.flushRecords) flush();
      }
      const back: FromIngest = { type: 'free', buf: m.buf };
      init.receiver.postMessage(back, [m.buf]);
    } else if (m.type === 'exporter') {
      names[m.id] = m.address;
    } else if (m.type === 'flush') {
      flush();
      sendStats(true, m.id);
      // after this worker's batches on each shard's port: the shard knows this worker is drained
      for (const s of shards) {
        const f: IngestToShard = { type: 'flush', id: m.id, from: init.index };
        s.postMessage(f);
      }
    }
  });
  let ticks = 0;
  setInterval(() => {
    flush();
    decoder.tick(Date.now());
    // stats at most every 2 ticks: health is never more than ~200 ms old
    if (++ticks % 2 === 0) sendStats(ticks % 10 === 0);
  }, init.flushMs);
  post({ type: 'ready', tid: ownThreadId() });
}

main();
