import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { complaintRoutes } from '../api/complaints.js';
import { feedRoutes } from '../api/feeds.js';
import { historyRoutes } from '../api/history.js';
import { reportCardRoutes } from '../api/report-card.js';
import { reportRoutes } from '../api/reports.js';
import { subscriberRoutes } from '../api/subscribers.js';
import { assertBindAllowed, rateLimit } from '../auth/index.js';
import type { Config } from '../config/config.js';
import type { AppContext, CollectorSet } from '../context.js';
import { createEnricher } from '../enrich/index.js';
import { createIncidentManager } from '../incidents/index.js';
import { registerIncidentMetrics } from '../incidents/metrics.js';
import { udpSocketDrops } from '../ingest/socket-drops.js';
import type { Realtime, RealtimeOptions } from '../realtime/index.js';
import { startHttpFront } from './http-server.js';
import { openConfiguredStore } from './open-store.js';
import { startSubscribers } from '../subscribers/index.js';
import { startPipeline } from './pipeline.js';
import { createTrafficMeter } from '../traffic/index.js';
import { simulateHistory } from '../sim/history.js';
import { startServices } from './services.js';
import { startBindingMirror } from './shared-subscribers.js';

export interface StartServerOptions {
  config: Config;
  logger: Logger;
  version: string;
  /** Built SPA (web/dist) to serve; none when undefined. */
  webRoot?: string;
  /** Realtime tuning (tests, benchmarks). */
  realtime?: RealtimeOptions;
  /**
   * Detector/incident tick period; 1 s in production. 0: no timer — the caller drives simulated
   * time with `step()` (replays and benchmarks that must not depend on machine speed).
   */
  tickMs?: number;
  /**
   * Demo only: backfill this many days of simulated history into a fresh (empty) store before
   * anything else runs, so history pages have a past on the first start. Never on existing data.
   */
  simulatedHistory?: { days: number; seed: number };
  /** Pipeline stages in worker threads (main/pipeline.ts startPipeline); default: when compiled. */
  threaded?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  ctx: AppContext;
  realtime: Realtime;
  http: HttpServer;
  /**
   * Hand the collectors' buffered records to the detectors, then run one detector/incident tick
   * at `nowMs`: what the 1 s timer does, for callers that set `tickMs: 0` and step time themselves.
   */
  step(nowMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Composes the whole server: store, enricher, detectors, incident manager, collectors, HTTP
 * API, socket.io. One process by default; every piece talks to the others only through the
 * AppContext seams so they can be split later (DESIGN "Growing past one machine").
 */
export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const { config, logger, version } = opts;
  // Before anything binds: an open server on a public address is worse than no server.
  assertBindAllowed(config.http.host, config.auth.tokens);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    while (cleanups.length > 0) {
      const f = cleanups.pop()!;
      try {
        await f();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
      }
    }
  };

  try {
    // PostgreSQL (storage.postgres) is shared by every process; the subscriber bindings stay in
    // this process's SQLite file either way, and are copied to PostgreSQL for API processes.
    const opened = await openConfiguredStore(config, { logger, registry });
    const { store, localDb } = opened;
    cleanups.push(() => opened.close());
    const subscribers = await startSubscribers({
      config: config.subscribers,
      db: localDb,
      retentionDays: config.storage.retention_days,
      logger,
      registry,
    });
    cleanups.push(() => subscribers.stop());
    const mirror = startBindingMirror(config, localDb, logger);
    if (mirror) cleanups.push(() => mirror.stop());
    if (opts.simulatedHistory && store.importHistory && (await store.isEmpty?.())) {
      const t0 = performance.now();
      const h = simulateHistory({ now: Date.now(), ...opts.simulatedHistory });
      await store.importHistory(h);
      logger.info(
        {
          days: opts.simulatedHistory.days,
          incidents: h.incidents.length,
          rollups: h.rollups.length,
          ms: Math.round(performance.now() - t0),
        },
        'backfilled simulated history (demo --no-history turns this off)',
      );
    }
    // The main thread's own enricher answers the API's lookups; the pipeline's stages have theirs.
    const enricher = createEnricher(config.network);
    const incidents = createIncidentManager({ store, logger, config });
    // Before any detection: an incident left open by the last run merges, not duplicates.
    await incidents.ready;
    cleanups.push(() => incidents.flush());
    cleanups.push(registerIncidentMetrics(registry, incidents));
    const traffic = createTrafficMeter();

    const pipeline = await startPipeline({
      config,
      logger,
      registry,
      enricher,
      incidents,
      traffic,
      threaded: opts.threaded,
    });
    cleanups.push(() => pipeline.stop());
    const collectors: CollectorSet = pipeline.collectors;
    const collectorPorts = Object.values(collectors.ports).filter((p): p is number => typeof p === 'number');
    // Flows lost between the wire and the detectors, by where: the kernel (socket receive buffer
    // full, read from /proc at scrape time) or a batch the pipeline failed on.
    new Counter({
      name: 'downstream_pipeline_dropped_total',
      help: 'Flow datagrams (stage socket) or flow records (stage batch) lost before detection',
      labelNames: ['stage', 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        const kernel = udpSocketDrops(collectorPorts);
        if (kernel !== undefined) this.inc({ stage: 'socket', reason: 'receive_buffer_full' }, kernel);
        this.inc({ stage: 'batch', reason: 'error' }, pipeline.droppedFlows());
      },
    });

    const ctx: AppContext = {
      config,
      logger,
      registry,
      version,
      startedAt: Date.now(),
      collectors,
      enricher,
      incidents,
      store,
      traffic,
      subscribers,
      webRoot: opts.webRoot,
    };

    const services = startServices(ctx, { feeds: true, subscriberActions: true });
    cleanups.push(services.stop);
    const front = await startHttpFront(ctx, services.auth, {
      app: {
        mounts: [
          { prefix: '/api', routes: historyRoutes(ctx, services) },
          {
            prefix: '/api/feeds',
            routes: feedRoutes(ctx, services),
            // Per peer address, before any parsing: the feeds service also limits events per feed.
            middleware: [rateLimit({ perSecond: 50, burst: 200 })],
          },
          { prefix: '/api', routes: reportRoutes(ctx, services) },
          { prefix: '/api', routes: subscriberRoutes(ctx, services) },
          { prefix: '/api', routes: complaintRoutes(services) },
          { prefix: '/api', routes: reportCardRoutes(ctx, services) },
        ],
        feedHealth: () => services.feeds.health(),
      },
      realtime: opts.realtime,
    });
    cleanups.push(() => front.close());
    const { url, port, http, realtime } = front;

    const tickMs = opts.tickMs ?? 1000;
    const tick = (now = Date.now()): void => void pipeline.tick(now);
    if (tickMs > 0) {
      const timer = setInterval(tick, tickMs);
      cleanups.push(() => clearInterval(timer));
    }

    logger.info({ url, collectors: collectors.ports, auth: config.auth.tokens.length > 0 }, 'downstream listening');
    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      ctx,
      realtime,
      http,
      step: async (nowMs) => {
        await pipeline.collectors.flush();
        await pipeline.tick(nowMs);
      },
      close: () => (closing ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
