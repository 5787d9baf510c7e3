import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createApp, type AppOptions } from '../api/app.js';
import type { Authenticator } from '../auth/index.js';
import type { AppContext } from '../context.js';
import { attachRealtime, type Realtime, type RealtimeHooks, type RealtimeOptions } from '../realtime/index.js';

export interface HttpFront {
  url: string;
  port: number;
  http: HttpServer;
  realtime: Realtime;
  /** socket.io first, then the HTTP server (its open connections cut). */
  close(): Promise<void>;
}

export function urlFor(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * The REST API, the SPA and socket.io on one HTTP server: what the `all` role (server.ts) and
 * the `api` role (role-api.ts) both serve, from whichever context they built.
 */
export async function startHttpFront(
  ctx: AppContext,
  auth: Authenticator,
  opts: { app: AppOptions; realtime?: RealtimeOptions; hooks?: RealtimeHooks },
): Promise<HttpFront> {
  const { config } = ctx;
  const app = createApp(ctx, auth, opts.app);
  const http = createAdaptorServer({
    fetch: app.fetch,
    hostname: config.http.host,
    serverOptions: {
      // Slow-header (slowloris) and slow-body clients are cut off instead of holding sockets;
      // Node checks these every connectionsCheckingInterval, so check often enough to matter.
      headersTimeout: config.http.headers_timeout_ms,
      requestTimeout: config.http.request_timeout_ms,
      connectionsCheckingInterval: Math.min(1000, config.http.headers_timeout_ms),
    },
  }) as HttpServer;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new Error(`cannot listen on ${config.http.host}:${config.http.port}: ${err.message}`));
    http.once('error', onError);
    http.listen(config.http.port, config.http.host, () => {
      http.off('error', onError);
      resolve();
    });
  });
  const closeHttp = (): Promise<void> =>
    new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  let realtime: Realtime;
  try {
    realtime = await attachRealtime(http, ctx, auth, opts.realtime, opts.hooks);
  } catch (err) {
    await closeHttp();
    throw err;
  }
  const port = (http.address() as AddressInfo).port;
  return {
    url: urlFor(config.http.host, port),
    port,
    http,
    realtime,
    async close() {
      await realtime.close();
      await closeHttp();
    },
  };
}
