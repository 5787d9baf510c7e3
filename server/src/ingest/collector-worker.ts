/**
 * Worker-thread collector: owns the UDP sockets and the decoder, so receiving and decoding keep
 * pace even while the main thread is busy with enrichment, detection, HTTP and sockets. Batches
 * travel to the main thread as transferred typed-array buffers (no copy); stats follow as
 * snapshots with every flush.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/config.js';
import { FlowDecoder, type DecoderOptions, type InterfaceCounters } from './decoder.js';
import { flowBatchBuffers, type FlowBatch } from '../flow/flow-batch.js';
import { snapshotStats, type StatsSnapshot } from './stats-snapshot.js';
import { bindCollectorSockets } from './udp-sockets.js';

export interface WorkerInit {
  collectors: Config['collectors'];
  decoder: Omit<DecoderOptions, 'sampling'>;
  flushRecords: number;
  flushMs: number;
}

export type FromWorker =
  | { type: 'ready'; ports: Record<string, number>; rcvbuf: Record<string, number> }
  | { type: 'error'; message: string }
  | { type: 'socket-error'; collector: string; message: string }
  | { type: 'batch'; batch: FlowBatch }
  | {
      type: 'stats';
      stats: StatsSnapshot[];
      pendingSets: number;
      droppedExporterLimit: number;
      flushId?: number;
      /** sFlow interface counters, about once a second (they change at the agents' polling interval). */
      counters?: InterfaceCounters[];
    }
  | { type: 'stopped' };

export type ToWorker = { type: 'flush'; id: number } | { type: 'stop' };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const init = workerData as WorkerInit;
  const decoder = new FlowDecoder({ ...init.decoder, sampling: init.collectors.sampling });
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  const flush = (): void => {
    const b = decoder.takeBatch();
    if (b) post({ type: 'batch', batch: b }, flowBatchBuffers(b));
  };
  const sendStats = (flushId?: number, withCounters = false): void =>
    post({
      type: 'stats',
      stats: [...decoder.allStats()].map(snapshotStats),
      pendingSets: decoder.pendingSets,
      droppedExporterLimit: decoder.droppedExporterLimit,
      flushId,
      counters: withCounters ? [...decoder.counters.values()] : undefined,
    });
  let bound;
  try {
    bound = await bindCollectorSockets(
      init.collectors,
      (msg, address) => {
        decoder.decode(msg, address, Date.now());
        if (decoder.batch.length >= init.flushRecords) flush();
      },
      (err, collector) => post({ type: 'socket-error', collector, message: err.message }),
    );
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
    return;
  }
  const sockets = bound;
  post({ type: 'ready', ports: sockets.ports as Record<string, number>, rcvbuf: sockets.rcvbuf });
  let ticks = 0;
  const timer = setInterval(() => {
    flush();
    decoder.tick(Date.now());
    // stats at most every 2 ticks: cheap, and health is never more than ~200 ms old
    if (++ticks % 2 === 0) sendStats(undefined, ticks % 10 === 0);
  }, init.flushMs);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'flush') {
      flush();
      sendStats(m.id, true);
    } else if (m.type === 'stop') {
      clearInterval(timer);
      void sockets.close().then(() => {
        flush();
        sendStats(undefined, true);
        post({ type: 'stopped' });
        port.close();
      });
    }
  });
}

void main();
