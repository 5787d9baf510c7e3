/**
 * UDP collectors: one socket per configured protocol port, one FlowDecoder behind them all, and
 * a flusher that hands FlowBatches to the pipeline when they fill up or every FLUSH_MS.
 *
 * Two modes, same API: in a worker thread (the default when running compiled JavaScript), so
 * the socket is drained even while the main thread is busy; or in-process (the default under
 * tsx/vitest, where a worker cannot load a .ts file without a loader, and where tests want
 * synchronous flush()).
 */
import { Worker } from 'node:worker_threads';
import type { ExporterHealth } from '@downstream/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { CollectorSet } from './types.js';
import type { FromWorker, ToWorker, WorkerInit } from './collector-worker.js';
import { FlowDecoder, type DecoderOptions, type InterfaceCounters } from './decoder.js';
import type { ExporterStats } from './exporter-stats.js';
import type { FlowBatch } from '../flow/flow-batch.js';
import { registerIngestMetrics, type StatsSource } from './metrics.js';
import { statsFromSnapshot } from './stats-snapshot.js';
import { bindCollectorSockets } from './udp-sockets.js';

export { FlowDecoder } from './decoder.js';
export type { DecoderOptions, InterfaceCounters, SamplingConfig } from './decoder.js';
export type { FlowBatch } from '../flow/flow-batch.js';

/** Batches are handed on at this size… */
export const FLUSH_RECORDS = 8192;
/** …or at least this often (ms), so detection latency stays well under its 2 s budget. */
export const FLUSH_MS = 100;
/** Room for the datagram that crosses FLUSH_RECORDS, so a batch is not regrown (and copied) just before it goes. */
export const BATCH_CAPACITY = FLUSH_RECORDS + 2048;

export interface StartCollectorsOptions {
  collectors: Config['collectors'];
  logger: Logger;
  registry: Registry;
  onBatch: (batch: FlowBatch) => void;
  /** Overrides (pending hold time, limits), mostly for tests. */
  decoder?: Omit<DecoderOptions, 'sampling'>;
  /**
   * Decode in a worker thread. Default: yes when this module runs as compiled .js, no under
   * tsx/vitest (where forcing it loads the .ts worker through tsx's loader).
   */
  worker?: boolean;
}

export interface Collectors extends CollectorSet {
  /** True when decoding runs in a worker thread. */
  readonly threaded: boolean;
  /** In-process mode only: the decoder (tests, interface counters). */
  readonly decoder?: FlowDecoder;
  /**
   * Hand over whatever is buffered now. In-process: synchronous. Worker mode: the batch
   * arrives through onBatch when the returned promise resolves (health() is fresh then too).
   */
  flush(): Promise<void>;
  /** Latest sFlow interface counters per (agent, ifIndex); in worker mode at most ~1 s old. */
  interfaceCounters(): InterfaceCounters[];
}

export async function startCollectors(opts: StartCollectorsOptions): Promise<Collectors> {
  const useWorker = opts.worker ?? import.meta.url.endsWith('.js');
  return useWorker ? startInWorker(opts) : startInProcess(opts);
}

function safeOnBatch(onBatch: (b: FlowBatch) => void, log: Logger): (b: FlowBatch) => void {
  let failures = 0;
  return (b) => {
    try {
      onBatch(b);
    } catch (err) {
      // a failing consumer must not stop ingest
      failures++;
      if (failures <= 10 || failures % 1000 === 0) log.error({ err, failures }, 'onBatch threw');
    }
  };
}

/**
 * What both modes give their decoder. One function so that the worker and the in-process
 * collector cannot drift apart again (the worker once ran without BATCH_CAPACITY).
 */
export function collectorDecoderOptions(opts: StartCollectorsOptions): Omit<DecoderOptions, 'sampling'> {
  return { batchCapacity: BATCH_CAPACITY, ...opts.decoder };
}

async function startInProcess(opts: StartCollectorsOptions): Promise<Collectors> {
  const log = opts.logger.child({ module: 'ingest' });
  const decoder = new FlowDecoder({ ...collectorDecoderOptions(opts), sampling: opts.collectors.sampling });
  const deliver = safeOnBatch(opts.onBatch, log);
  const flushNow = (): void => {
    const b = decoder.takeBatch();
    if (b) deliver(b);
  };
  const bound = await bindCollectorSockets(
    opts.collectors,
    (msg, address) => {
      decoder.decode(msg, address, Date.now());
      if (decoder.batch.length >= FLUSH_RECORDS) flushNow();
    },
    (err, collector) => log.error({ err, collector }, 'UDP socket error'),
  );
  log.info({ ports: bound.ports, rcvbuf: bound.rcvbuf, threaded: false }, 'collectors listening');
  const timer = setInterval(() => {
    flushNow();
    decoder.tick(Date.now());
  }, FLUSH_MS);
  timer.unref();
  const unregister = registerIngestMetrics(opts.registry, decoder);
  return {
    ports: bound.ports,
    threaded: false,
    decoder,
    flush: async () => flushNow(),
    health: (): ExporterHealth[] => decoder.health(),
    interfaceCounters: () => [...decoder.counters.values()],
    async stop(): Promise<void> {
      clearInterval(timer);
      await bound.close();
      flushNow();
      unregister();
    },
  };
}

async function startInWorker(opts: StartCollectorsOptions): Promise<Collectors> {
  const log = opts.logger.child({ module: 'ingest' });
  const deliver = safeOnBatch(opts.onBatch, log);
  const init: WorkerInit = {
    collectors: opts.collectors,
    decoder: collectorDecoderOptions(opts),
    flushRecords: FLUSH_RECORDS,
    flushMs: FLUSH_MS,
  };
  let worker: Worker;
  if (import.meta.url.endsWith('.ts')) {
    // source run (tsx, vitest): register tsx's loader inside the worker, then load the .ts entry
    const entry = new URL('./collector-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
    // The `source` export condition (shared/package.json) makes @downstream/shared load from its
    // .ts sources too, so an unbuilt checkout runs the worker.
    worker = new Worker(boot, { eval: true, workerData: init, execArgv: [...process.execArgv, '--conditions=source'] });
  } else {
    worker = new Worker(new URL('./collector-worker.js', import.meta.url), { workerData: init });
  }

  let stats: ExporterStats[] = [];
  let counters: InterfaceCounters[] = [];
  const cache: StatsSource & { pendingSets: number; droppedExporterLimit: number } = {
    allStats: () => stats,
    pendingSets: 0,
    droppedExporterLimit: 0,
  };
  const flushWaiters = new Map<number, () => void>();
  let nextFlush = 1;
  let stopped: (() => void) | undefined;

  const ready = new Promise<{ ports: CollectorSet['ports']; rcvbuf: Record<string, number> }>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          resolve({ ports: m.ports, rcvbuf: m.rcvbuf });
          break;
        case 'error':
          reject(new Error(m.message));
          break;
        case 'socket-error':
          log.error({ collector: m.collector, err: m.message }, 'UDP socket error');
          break;
        case 'batch':
          deliver(m.batch);
          break;
        case 'stats':
          stats = m.stats.map(statsFromSnapshot);
          cache.pendingSets = m.pendingSets;
          cache.droppedExporterLimit = m.droppedExporterLimit;
          if (m.counters) counters = m.counters;
          if (m.flushId !== undefined) {
            flushWaiters.get(m.flushId)?.();
            flushWaiters.delete(m.flushId);
          }
          break;
        case 'stopped':
          stopped?.();
          break;
      }
    });
    worker.once('error', (err) => {
      log.error({ err }, 'collector worker failed');
      reject(err);
      for (const w of flushWaiters.values()) w();
      stopped?.();
    });
    worker.once('exit', (code) => {
      reject(new Error(`collector worker exited (${code}) before it was ready`));
      for (const w of flushWaiters.values()) w();
      stopped?.();
    });
  });
  let started: { ports: CollectorSet['ports']; rcvbuf: Record<string, number> };
  try {
    started = await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  log.info({ ports: started.ports, rcvbuf: started.rcvbuf, threaded: true }, 'collectors listening');
  const unregister = registerIngestMetrics(opts.registry, cache);
  const send = (m: ToWorker): void => worker.postMessage(m);
  return {
    ports: started.ports,
    threaded: true,
    flush: () =>
      new Promise<void>((resolve) => {
        const id = nextFlush++;
        flushWaiters.set(id, resolve);
        send({ type: 'flush', id });
      }),
    health: (): ExporterHealth[] => stats.map((s) => s.toHealth()),
    interfaceCounters: () => counters,
    async stop(): Promise<void> {
      const done = new Promise<void>((r) => (stopped = r));
      send({ type: 'stop' });
      const timeout = new Promise<void>((r) => setTimeout(r, 2000).unref());
      await Promise.race([done, timeout]);
      await worker.terminate();
      unregister();
    },
  };
}
