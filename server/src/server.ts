import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { createApp } from './api/app.js';
import { feedRoutes } from './api/feeds.js';
import { historyRoutes } from './api/history.js';
import { reportRoutes } from './api/reports.js';
import { stopActions } from './actions/actions.js';
import { assertBindAllowed, rateLimit } from './auth/index.js';
import type { Config } from './config/config.js';
import type { AppContext, CollectorSet, Store } from './context.js';
import { createDetectors, registerDetectorMetrics } from './detect/index.js';
import { createEnricher } from './enrich/index.js';
import { feedHealth, stopFeeds } from './feeds/feeds.js';
import { createIncidentManager } from './incidents/index.js';
import { startCollectors } from './ingest/index.js';
import type { FlowBatch } from './ingest/flow-batch.js';
import { attachRealtime, type Realtime, type RealtimeOptions } from './realtime/index.js';
import { openStore } from './store/index.js';
import { createTrafficMeter } from './traffic/index.js';

export interface StartServerOptions {
  config: Config;
  logger: Logger;
  version: string;
  /** Built SPA (web/dist) to serve; none when undefined. */
  webRoot?: string;
  /** Realtime tuning (tests, benchmarks). */
  realtime?: RealtimeOptions;
  /** Detector/incident tick period; 1 s in production. */
  tickMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  ctx: AppContext;
  realtime: Realtime;
  http: HttpServer;
  close(): Promise<void>;
}

function urlFor(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
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
  const mBatches = new Counter({
    name: 'downstream_pipeline_batches_total',
    help: 'Flow batches processed',
    registers: [registry],
  });
  const mFlows = new Counter({
    name: 'downstream_pipeline_flows_total',
    help: 'Flow records processed',
    registers: [registry],
  });
  const mErrors = new Counter({
    name: 'downstream_pipeline_errors_total',
    help: 'Exceptions in the pipeline by stage',
    labelNames: ['stage'],
    registers: [registry],
  });
  const mTick = new Histogram({
    name: 'downstream_tick_seconds',
    help: 'Detector + incident tick duration',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });

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
    const store: Store = openStore({
      path: config.storage.path,
      retentionDays: config.storage.retention_days,
      logger,
      registry,
    });
    cleanups.push(() => {
      store.flush();
      store.close();
    });
    const enricher = createEnricher(config.network);
    const detectors = createDetectors(config, enricher);
    // State size, keys tracked and evictions per table, read at scrape time.
    registerDetectorMetrics(registry, detectors);
    const incidents = createIncidentManager({ store, logger, config });
    cleanups.push(() => incidents.flush());
    const traffic = createTrafficMeter();

    let lastPipelineError = 0;
    const onBatch = (batch: FlowBatch): void => {
      try {
        traffic.addBatch(batch);
        detectors.process(enricher.enrich(batch));
        mBatches.inc();
        mFlows.inc(batch.length);
      } catch (err) {
        mErrors.inc({ stage: 'batch' });
        // One bad batch must not take the collectors down; log at most once a second.
        const now = Date.now();
        if (now - lastPipelineError > 1000) {
          lastPipelineError = now;
          logger.error({ err }, 'flow batch processing failed');
        }
      }
    };

    const collectors: CollectorSet = await startCollectors({
      collectors: config.collectors,
      logger,
      registry,
      onBatch,
    });
    cleanups.push(() => collectors.stop());

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
      webRoot: opts.webRoot,
    };

    // feedRoutes starts the feed file tailers; stop them with everything else.
    cleanups.push(() => stopFeeds(ctx));
    // reportRoutes subscribes the actions module (webhooks, remediation, mitigation) to incidents.
    cleanups.push(() => stopActions(ctx));
    const app = createApp(ctx, {
      mounts: [
        { prefix: '/api', routes: historyRoutes(ctx) },
        {
          prefix: '/api/feeds',
          routes: feedRoutes(ctx),
          // Per peer address, before any parsing: the feeds service also limits events per feed.
          middleware: [rateLimit({ perSecond: 50, burst: 200 })],
        },
        { prefix: '/api', routes: reportRoutes(ctx) },
      ],
      feedHealth: () => feedHealth(ctx),
    });
    const http = createAdaptorServer({ fetch: app.fetch, hostname: config.http.host }) as HttpServer;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void =>
        reject(new Error(`cannot listen on ${config.http.host}:${config.http.port}: ${err.message}`));
      http.once('error', onError);
      http.listen(config.http.port, config.http.host, () => {
        http.off('error', onError);
        resolve();
      });
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        }),
    );
    const port = (http.address() as AddressInfo).port;

    const realtime = await attachRealtime(http, ctx, opts.realtime);
    cleanups.push(() => realtime.close());

    const tickMs = opts.tickMs ?? 1000;
    const tick = (): void => {
      const end = mTick.startTimer();
      const now = Date.now();
      try {
        for (const ev of detectors.tick(now)) incidents.ingest(ev);
      } catch (err) {
        mErrors.inc({ stage: 'detect' });
        logger.error({ err }, 'detector tick failed');
      }
      try {
        incidents.tick(now);
      } catch (err) {
        mErrors.inc({ stage: 'incidents' });
        logger.error({ err }, 'incident tick failed');
      }
      end();
    };
    const timer = setInterval(tick, tickMs);
    cleanups.push(() => clearInterval(timer));

    const url = urlFor(config.http.host, port);
    logger.info({ url, collectors: collectors.ports, auth: config.auth.tokens.length > 0 }, 'downstream listening');
    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      ctx,
      realtime,
      http,
      close: () => (closing ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
