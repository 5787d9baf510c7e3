/**
 * The pipeline across worker threads, so the main thread serves HTTP and socket.io only:
 *
 *   receiver (sockets) ──datagram chunks, by exporter──▶ ingest workers (decode + enrich)
 *       ──batch columns, by detector key──▶ detector shards ──events on tick──▶ main (incidents)
 *
 * Every arrow is a MessagePort carrying transferred ArrayBuffers (never an object per flow), set
 * up here once; the main thread only sees stats, traffic totals and detection events. Each arrow
 * is also where a message bus can replace the in-process channel when stages run on several
 * boxes: the messages are already plain binary columns.
 */
import type { DetectionEvent, ExporterHealth } from '@downstream/shared';
import { MessageChannel, type Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { CollectorSet, IncidentManager, TrafficMeter } from '../context.js';
import { registerDetectorMetrics, type DetectorState } from '../detect/metrics.js';
import type { DecoderOptions, InterfaceCounters } from '../ingest/decoder.js';
import type { ExporterStats } from '../ingest/exporter-stats.js';
import { FLUSH_MS, FLUSH_RECORDS, type Collectors } from '../ingest/index.js';
import { registerIngestMetrics, type StatsSource } from '../ingest/metrics.js';
import { statsFromSnapshot } from '../ingest/stats-snapshot.js';
import { deliverTick, stageFailures, type PipelineMetrics } from './pipeline-stages.js';
import type { DetectInit, MainToShard, ShardToMain } from './workers/detect.js';
import type { IngestInit, IngestToMain } from './workers/ingest.js';
import type { MainToReceiver, ReceiverInit, ReceiverToMain } from './workers/receiver.js';
import { spawnWorker, threadCpuSeconds } from './workers/spawn.js';

export interface ThreadedPipelineOptions {
  config: Config;
  logger: Logger;
  registry: Registry;
  metrics: PipelineMetrics;
  incidents: IncidentManager;
  traffic?: TrafficMeter;
  decoder?: Omit<DecoderOptions, 'sampling'>;
}

export interface ThreadedPipeline {
  collectors: Collectors;
  /** Ticks every shard, hands their events to the incident manager; resolves with the events. */
  tick(nowMs: number): Promise<DetectionEvent[]>;
  /** Flow records in batches a shard failed on. */
  droppedFlows(): number;
  stop(): Promise<void>;
}

/** A shard that has not answered a tick within this long is left out of that tick. */
const TICK_TIMEOUT_MS = 2000;
const BATCH_CAPACITY = FLUSH_RECORDS + 2048;

interface PendingTick {
  nowMs: number;
  events: DetectionEvent[];
  left: number;
  resolve: (events: DetectionEvent[]) => void;
  timer: NodeJS.Timeout;
}

function ready<T extends { type: string }>(w: Worker, what: string, onMessage: (m: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    w.on('message', (m: T) => {
      if (m.type === 'ready') resolve(m);
      else if (m.type === 'error' && 'message' in m && what === 'receiver') reject(new Error(String(m.message)));
      onMessage(m);
    });
    w.once('error', (err) => reject(err));
    w.once('exit', (code) => reject(new Error(`${what} worker exited (${code}) before it was ready`)));
  });
}

export async function startThreadedPipeline(o: ThreadedPipelineOptions): Promise<ThreadedPipeline> {
  const { config, registry, metrics, incidents, traffic } = o;
  const log = o.logger.child({ module: 'pipeline' });
  const failed = stageFailures(metrics, o.logger);
  const nIngest = config.pipeline.decodeWorkers;
  const nShards = config.pipeline.detectShards;

  // receiver → ingest i; ingest i → shard s
  const toIngest = Array.from({ length: nIngest }, () => new MessageChannel());
  const toShard = Array.from({ length: nIngest }, () => Array.from({ length: nShards }, () => new MessageChannel()));

  const workers: Worker[] = [];
  const threads: { name: string; tid: number }[] = [{ name: 'main', tid: process.pid }];
  const stats: ExporterStats[][] = Array.from({ length: nIngest }, () => []);
  const pending = Array.from({ length: nIngest }, () => ({ sets: 0, exporterLimit: 0 }));
  const counters: InterfaceCounters[][] = Array.from({ length: nIngest }, () => []);
  const shardStates: (DetectorState | undefined)[] = new Array<DetectorState | undefined>(nShards);
  const ticks = new Map<number, PendingTick>();
  const flushes = new Map<number, { left: number; resolve: () => void }>();
  let nextTick = 1;
  let nextFlush = 1;
  let dispatchDropped = 0;
  let droppedFlows = 0;
  let closed: (() => void) | undefined;

  const mDropped = new Counter({
    name: 'downstream_ingest_dispatch_dropped_total',
    help: 'Datagrams dropped by the receive thread because an ingest worker held all its buffers (it is too slow)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(dispatchDropped);
    },
  });
  void mDropped;
  let shed = 0;
  const mShed = new Counter({
    name: 'downstream_pipeline_shed_records_total',
    help: 'Decoded records not handed to a detector shard because it was too far behind (overload)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(shed);
    },
  });
  void mShed;

  const finishTick = (id: number): void => {
    const t = ticks.get(id);
    if (!t) return;
    ticks.delete(id);
    clearTimeout(t.timer);
    if (t.left > 0) log.warn({ missing: t.left }, 'detector shards did not answer the tick in time');
    const end = metrics.tick.startTimer();
    deliverTick(incidents, t.events, t.nowMs, failed);
    end();
    t.resolve(t.events);
  };
  const flushStep = (id: number): void => {
    const f = flushes.get(id);
    if (f && --f.left === 0) {
      flushes.delete(id);
      f.resolve();
    }
  };

  const stop = async (): Promise<void> => {
    await Promise.all(workers.map((w) => w.terminate()));
  };

  try {
    // Shards first: ingest workers post to them as soon as they have data.
    const shardReady = Array.from({ length: nShards }, (_, s) => {
      const ports = toShard.map((row) => row[s].port2);
      const init: DetectInit = { index: s, config, ingest: ports };
      const w = spawnWorker('detect', init, ports);
      workers.push(w);
      return ready<ShardToMain>(w, `detector shard ${s}`, (m) => {
        if (m.type === 'tick') {
          shardStates[m.index] = m.state;
          metrics.flows.inc(m.records);
          metrics.batches.inc(m.batches);
          if (m.errors > 0) metrics.errors.inc({ stage: 'batch' }, m.errors);
          droppedFlows += m.dropped;
          const t = ticks.get(m.id);
          if (t) {
            t.events.push(...m.events);
            if (--t.left === 0) finishTick(m.id);
          }
        } else if (m.type === 'flushed') flushStep(m.id);
        else if (m.type === 'error') log.error({ shard: s, err: m.message }, 'flow batch processing failed');
      }).then((m) => {
        if (m.type !== 'ready') return;
        if (m.tid) threads.push({ name: `detect-${s}`, tid: m.tid });
        log.debug({ shard: s, warmUpMs: Math.round(m.warmUpMs ?? 0) }, 'detector shard warmed up');
      });
    });
    const ingestReady = Array.from({ length: nIngest }, (_, i) => {
      const shardPorts = toShard[i].map((c) => c.port1);
      const init: IngestInit = {
        index: i,
        config,
        decoder: { batchCapacity: BATCH_CAPACITY, ...o.decoder },
        flushRecords: FLUSH_RECORDS,
        flushMs: FLUSH_MS,
        receiver: toIngest[i].port2,
        shards: shardPorts,
      };
      const w = spawnWorker('ingest', init, [toIngest[i].port2, ...shardPorts]);
      workers.push(w);
      return ready<IngestToMain>(w, `ingest ${i}`, (m) => {
        if (m.type !== 'stats') return;
        stats[i] = m.stats.map(statsFromSnapshot);
        pending[i] = { sets: m.pendingSets, exporterLimit: m.droppedExporterLimit };
        if (m.counters) counters[i] = m.counters;
        traffic?.addTotals(m.traffic.flows, m.traffic.packets, m.traffic.bytes);
        shed += m.shed;
        if (m.flushId !== undefined) flushStep(m.flushId);
      }).then((m) => {
        if (m.type === 'ready' && m.tid) threads.push({ name: `ingest-${i}`, tid: m.tid });
      });
    });
    await Promise.all([...shardReady, ...ingestReady]);

    const rInit: ReceiverInit = {
      collectors: config.collectors,
      ingest: toIngest.map((c) => c.port1),
      nice: config.pipeline.receiverNice,
    };
    const receiver = spawnWorker(
      'receiver',
      rInit,
      toIngest.map((c) => c.port1),
    );
    workers.push(receiver);
    const started = await ready<ReceiverToMain>(receiver, 'receiver', (m) => {
      if (m.type === 'stats') dispatchDropped = m.dropped;
      else if (m.type === 'socket-error') log.error({ collector: m.collector, err: m.message }, 'UDP socket error');
      else if (m.type === 'closed') closed?.();
    });
    if (started.type !== 'ready') throw new Error('receiver did not start');
    if (started.tid) threads.push({ name: 'receiver', tid: started.tid });
    for (const w of workers) {
      w.on('error', (err) => log.error({ err }, 'pipeline worker failed'));
    }
    if (started.niceError)
      log.warn(
        { asked: config.pipeline.receiverNice, err: started.niceError },
        'receive thread priority unchanged (needs root or CAP_SYS_NICE; pipeline.receiverNice: 0 silences this)',
      );
    log.info(
      {
        ports: started.ports,
        rcvbuf: started.rcvbuf,
        decodeWorkers: nIngest,
        detectShards: nShards,
        receiverNice: started.nice,
      },
      'collectors listening',
    );

    const source: StatsSource & { pendingSets: number; droppedExporterLimit: number } = {
      allStats: () => stats.flat(),
      get pendingSets() {
        return pending.reduce((a, p) => a + p.sets, 0);
      },
      get droppedExporterLimit() {
        return pending.reduce((a, p) => a + p.exporterLimit, 0);
      },
    };
    const unregister = registerIngestMetrics(registry, source);
    registerDetectorMetrics(registry, () => shardStates.filter((s): s is DetectorState => s !== undefined));
    new Counter({
      name: 'downstream_thread_cpu_seconds_total',
      help: 'CPU seconds used per pipeline thread (main, receiver, ingest-N, detect-N); Linux only',
      labelNames: ['thread', 'tid'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of threads) {
          const c = threadCpuSeconds(t.tid);
          if (c !== undefined) this.inc({ thread: t.name, tid: String(t.tid) }, c);
        }
      },
    });

    const sendReceiver = (m: MainToReceiver): void => receiver.postMessage(m);
    const flush = (): Promise<void> =>
      new Promise<void>((resolve) => {
        const id = nextFlush++;
        // every ingest worker's stats and every shard's "drained" for this id
        flushes.set(id, { left: nIngest + nShards, resolve });
        sendReceiver({ type: 'flush', id });
      });

    const collectors: Collectors = {
      ports: started.ports as CollectorSet['ports'],
      threaded: true,
      flush,
      health: (): ExporterHealth[] => stats.flat().map((s) => s.toHealth()),
      interfaceCounters: () => counters.flat(),
      async stop(): Promise<void> {
        const done = new Promise<void>((r) => (closed = r));
        sendReceiver({ type: 'close' });
        await Promise.race([done, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
        await Promise.race([flush(), new Promise<void>((r) => setTimeout(r, 2000).unref())]);
        unregister();
      },
    };

    return {
      collectors,
      tick: (nowMs: number) =>
        new Promise<DetectionEvent[]>((resolve) => {
          const id = nextTick++;
          ticks.set(id, {
            nowMs,
            events: [],
            left: nShards,
            resolve,
            timer: setTimeout(() => finishTick(id), TICK_TIMEOUT_MS),
          });
          for (const w of workers.slice(0, nShards)) {
            const m: MainToShard = { type: 'tick', id, nowMs };
            w.postMessage(m);
          }
        }),
      droppedFlows: () => droppedFlows,
      async stop(): Promise<void> {
        for (const t of ticks.keys()) finishTick(t);
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
