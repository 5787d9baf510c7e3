import type { Server as HttpServer } from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { historyRoutes } from '../api/history.js';
import { reportCardRoutes } from '../api/report-card.js';
import { reportRoutes } from '../api/reports.js';
import { assertBindAllowed } from '../auth/index.js';
import { startInletBoard, type InletBoard } from '../bus/inlet-status.js';
import { connectBus } from '../bus/nats.js';
import type { Config } from '../config/config.js';
import type { AppContext, CollectorSet } from '../context.js';
import { createEnricher } from '../enrich/index.js';
import { IncidentChangeFeed } from '../realtime/change-feed.js';
import type { Realtime, RealtimeOptions } from '../realtime/index.js';
import { startPgLeadership, type Leadership } from '../store/index.js';
import { createTrafficMeter } from '../traffic/index.js';
import { startHttpFront } from './http-server.js';
import { openConfiguredStore } from './open-store.js';
import { startServices } from './services.js';
import { openSharedSubscribers } from './shared-subscribers.js';
import { subscriberRoutes } from '../api/subscribers.js';
import type { ApiServices } from '../api/services.js';
import { StoreIncidents } from './store-incidents.js';

export interface ApiRoleOptions {
  logger: Logger;
  version: string;
  webRoot?: string;
  realtime?: RealtimeOptions;
  /** Change feed tuning (tests): poll period, overlap, full re-read period. */
  feed?: { pollMs?: number; overlapMs?: number; reconcileMs?: number };
}

export interface RunningApi {
  url: string;
  port: number;
  ctx: AppContext;
  realtime: Realtime;
  feed: IncidentChangeFeed;
  http: HttpServer;
  /** With a PostgreSQL store: whether this API process is the one that sends webhooks and mitigates automatically. */
  leadership?: Leadership;
  /** What the routes act through (remediation list, mitigations…): tests wait on `services.actions.settled()`. */
  services: ApiServices;
  close(): Promise<void>;
}

/**
 * `serve --role api`: REST and socket.io from the shared store, no collectors, no detectors,
 * no feeds (detector feeds post to a process that detects). Any number of these run side by
 * side behind a load balancer; `realtime.redis` shares socket.io rooms and sessions between
 * them. What a client sees comes from the store: the change feed turns what detect processes
 * write into the live events, so a client that reconnects to another API process (its own
 * killed) gets a snapshot of the same open incidents.
 */
export async function startApiRole(config: Config, opts: ApiRoleOptions): Promise<RunningApi> {
  const { logger, version } = opts;
  assertBindAllowed(config.http.host, config.auth.tokens);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()!();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
      }
    }
  };
  try {
    // Retention and folding are the writers' (all, detect) job; every API process doing them
    // too would only contend for the database.
    const { store, close } = await openConfiguredStore(config, { logger, registry, timers: false });
    cleanups.push(close);
    const feed = new IncidentChangeFeed({
      source: store,
      logger: logger.child({ module: 'change-feed' }),
      registry,
      ...opts.feed,
    });
    await feed.start();
    cleanups.push(() => feed.stop());
    const incidents = new StoreIncidents({
      feed,
      store,
      timelinePoints: config.detect.incidents.timelinePoints,
    });
    // With a flow bus, the inlets' reports give summary its traffic and /api/health its
    // exporters. Connected in the background: REST from the store does not wait for NATS.
    const traffic = createTrafficMeter();
    let inlets: InletBoard | undefined;
    if (config.bus) {
      const bus = config.bus;
      let nc: NatsConnection | undefined;
      let closed = false;
      connectBus(bus, `api-${process.pid}`).then(
        (c) => {
          if (closed) return void c.close();
          nc = c;
          inlets = startInletBoard({ nc, bus, traffic, logger: logger.child({ module: 'inlets' }), registry });
        },
        (err: unknown) => logger.error({ err }, 'no inlet reports: cannot reach the flow bus'),
      );
      cleanups.push(async () => {
        closed = true;
        inlets?.stop();
        await nc?.drain().catch(() => undefined);
      });
    }
    const collectors: CollectorSet = {
      ports: {},
      health: () => inlets?.collectors.health() ?? [],
      stop: async () => {},
    };
    const ctx: AppContext = {
      config,
      logger,
      registry,
      version,
      startedAt: Date.now(),
      collectors,
      enricher: createEnricher(config.network),
      incidents,
      store,
      traffic,
      webRoot: opts.webRoot,
    };
    // Who held an address, from the bindings the collecting process copies to PostgreSQL: the
    // remediation rows show the subscriber, and notices and the walled garden work from here.
    const shared = openSharedSubscribers(config, logger);
    if (shared) {
      ctx.subscribers = shared.directory;
      cleanups.push(() => shared.close());
    }
    // Several API processes on one PostgreSQL store: what must happen once per cluster (webhooks,
    // automatic mitigation) happens in the one holding the store's advisory lock.
    let leadership: Leadership | undefined;
    if (config.storage.postgres) {
      const l = startPgLeadership({
        url: config.storage.postgres,
        name: 'downstream:actions',
        logger: logger.child({ module: 'leader' }),
      });
      leadership = l;
      cleanups.push(() => l.stop());
      new Gauge({
        name: 'downstream_actions_leader',
        help: 'Whether this API process runs the cluster-wide actions (webhooks, automatic mitigation): 1 yes, 0 no',
        registers: [registry],
        collect() {
          this.set(l.isLeader ? 1 : 0);
        },
      });
    }
    // Actions on this process's incidents (webhooks, remediation); stopped before the store closes.
    const services = startServices(ctx, {
      feeds: false,
      subscriberActions: false,
      ...(leadership ? { leader: () => leadership.isLeader } : {}),
    });
    cleanups.push(services.stop);
    const front = await startHttpFront(ctx, services.auth, {
      app: {
        mounts: [
          { prefix: '/api', routes: historyRoutes(ctx, services) },
          { prefix: '/api', routes: reportRoutes(ctx, services) },
          { prefix: '/api', routes: reportCardRoutes(ctx, services) },
          { prefix: '/api', routes: subscriberRoutes(ctx, services) },
        ],
      },
      realtime: opts.realtime,
      hooks: { onPeerChanged: () => void feed.poll() },
    });
    cleanups.push(() => front.close());
    incidents.onWrite = () => front.realtime.notifyPeers();
    logger.info({ url: front.url, role: 'api', open: feed.active().length }, 'downstream api listening');
    let closing: Promise<void> | undefined;
    return {
      url: front.url,
      port: front.port,
      ctx,
      realtime: front.realtime,
      feed,
      http: front.http,
      leadership,
      services,
      close: () => (closing ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
