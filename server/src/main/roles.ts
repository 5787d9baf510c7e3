/**
 * `serve --role inlet|detect|api`: the single process split along the flow bus (server/src/bus/).
 * `all` (the default) is startServer as before. Each role process serves `/metrics` (and the
 * inlet `/api/health` for its exporters) on `http.host:port`, so every one can be scraped.
 *
 *   routers ─UDP─▶ inlet (decode, enrich) ─NATS JetStream, P partitions by key─▶ detect ×N ─▶ store
 *                                                                                api ×M ◀─┘
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startDetectRole } from '../bus/detect-role.js';
import { startInletRole } from '../bus/inlet-role.js';
import type { BusConfig } from '../bus/nats.js';
import type { Config } from '../config/config.js';
import { createEnricher } from '../enrich/index.js';
import type { IncidentStore } from '../incidents/index.js';
import { openConfiguredStore } from './open-store.js';
import { startApiRole } from './role-api.js';
import { createPipelineMetrics, deliverTick, stageFailures } from './pipeline-stages.js';

export const ROLES = ['all', 'inlet', 'detect', 'api'] as const;
export type Role = (typeof ROLES)[number];

export interface RunningRole {
  url: string;
  /** Extra start-up lines for stdout (collector ports), as `serve` prints them. */
  lines: string[];
  close(): Promise<void>;
}

export class RoleConfigError extends Error {}

function needBus(config: Config, role: Role): Config & { bus: BusConfig } {
  if (!config.bus)
    throw new RoleConfigError(`--role ${role} needs a flow bus: add bus: { nats: "nats://HOST:4222" } to the config`);
  return config as Config & { bus: BusConfig };
}

/**
 * The store every detect (and api) process shares: PostgreSQL when `storage.postgres` is set,
 * else the SQLite file (WAL: several processes on one box can share it).
 */
async function openSharedStore(config: Config, logger: Logger, registry: Registry) {
  // Processes starting together on a fresh SQLite file race through its schema migrations (one
  // sees "duplicate column" for a column the other just added): the next attempt finds it done.
  // (The schema runs before the store registers its metrics, so a retry registers them once.)
  for (let attempt = 1; ; attempt++) {
    try {
      return await openConfiguredStore(config, { logger, registry });
    } catch (err) {
      if (attempt >= 5 || !/duplicate column|already exists|database is locked/i.test((err as Error).message))
        throw err;
      logger.warn({ err: (err as Error).message, attempt }, 'store schema raced another process: retrying');
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

async function serveMetrics(
  config: Config,
  registry: Registry,
  routes: Record<string, () => unknown> = {},
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
      return;
    }
    const route = req.method === 'GET' ? routes[path] : undefined;
    if (route) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(route()));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`cannot listen on ${config.http.host}:${config.http.port}: ${err.message}`)),
    );
    server.listen(config.http.port, config.http.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
}

const closeServer = (s: Server): Promise<void> =>
  new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });

/** `--role api` (main/role-api.ts): REST and socket.io from the shared store, no bus needed. */
async function startApi(o: {
  config: Config;
  logger: Logger;
  version: string;
  webRoot?: string;
}): Promise<RunningRole> {
  const api = await startApiRole(o.config, { logger: o.logger, version: o.version, webRoot: o.webRoot });
  return { url: api.url, lines: [], close: () => api.close() };
}

export async function startRole(
  role: Exclude<Role, 'all'>,
  o: { config: Config; logger: Logger; version: string; memberId?: string; webRoot?: string },
): Promise<RunningRole> {
  if (role === 'api') return startApi(o);
  const config = needBus(o.config, role);
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
  const enricher = createEnricher(config.network);

  if (role === 'inlet') {
    const inlet = await startInletRole({ config, logger: o.logger, registry, enricher, id: o.memberId });
    const http = await serveMetrics(config, registry, {
      '/api/health': () => ({ version: o.version, role, exporters: inlet.collectors.health() }),
    });
    return {
      url: http.url,
      lines: [`collectors: ${JSON.stringify(inlet.collectors.ports)}`],
      async close() {
        await closeServer(http.server);
        await inlet.stop();
      },
    };
  }

  const { store, close: closeStore } = await openSharedStore(config, o.logger, registry);
  const metrics = createPipelineMetrics(registry);
  const failed = stageFailures(metrics, o.logger);
  const detect = await startDetectRole({
    config,
    logger: o.logger,
    registry,
    store: store as IncidentStore,
    enricher,
    id: o.memberId,
    onRecords: (n) => metrics.flows.inc(n),
    deliverTick: (incidents, events, nowMs) => {
      const end = metrics.tick.startTimer();
      deliverTick(incidents, events, nowMs, failed);
      end();
    },
  });
  const http = await serveMetrics(config, registry, {
    '/api/bus': () => ({ role, member: detect.id, ...detect.stats(), members: detect.leases.members() }),
  });
  return {
    url: http.url,
    lines: [`member: ${detect.id}`],
    async close() {
      await closeServer(http.server);
      await detect.stop();
      await store.flush();
      await closeStore();
    },
  };
}
