import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AuditList,
  Health,
  Incident,
  IncidentActionBody,
  IncidentDetail,
  IncidentList,
  IncidentListQuery,
  IncidentStatus,
  NoteBody,
} from '@downstream/shared';
import { serveStatic } from '@hono/node-server/serve-static';
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { requireRole, sameOriginWrites, type AuthEnv, type Authenticator } from '../auth/index.js';
import type { AppContext } from '../context.js';
import { withSubscribers } from '../subscribers/annotate.js';
import { errorBody, jsonError, zodDetails } from '../http/errors.js';
import { ApiErrorC, json, roleErrors, security } from './openapi-parts.js';
import { mountApiDocs } from './api-docs.js';
import { failureResponse } from './failure.js';

// Named components in the OpenAPI document; `.meta` returns a copy, the shared schemas stay as they are.
const IncidentC = Incident.meta({ id: 'Incident' });
const IncidentDetailC = IncidentDetail.meta({ id: 'IncidentDetail' });
const IncidentListC = IncidentList.meta({ id: 'IncidentList' });
const HealthC = Health.meta({ id: 'Health' });
const AuditListC = AuditList.meta({ id: 'AuditList' });
const IdParams = z.object({ id: z.string().min(1).max(200) });

const errors = roleErrors();
const notFound = { 404: json(ApiErrorC, 'No such incident') };

export interface AppOptions {
  /** Extra route groups mounted under a prefix (feeds, history…); see server.ts. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any route group's schema type; only its handlers matter here
  mounts?: { prefix: string; routes: Hono<AuthEnv, any, any>; middleware?: MiddlewareHandler<AuthEnv>[] }[];
  /** Feed health for /api/health (server.ts passes the feeds module's). */
  feedHealth?: () => NonNullable<Health['feeds']>;
}

/**
 * The HTTP API and the SPA. Routes are described with the shared zod schemas, so the OpenAPI
 * document at /api/openapi.json cannot drift from what is validated.
 */
export function createApp(ctx: AppContext, auth: Authenticator, opts: AppOptions = {}): OpenAPIHono<AuthEnv> {
  const viewer = requireRole(auth, 'viewer');
  const operator = requireRole(auth, 'operator');

  const app = new OpenAPIHono<AuthEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return c.json(errorBody('invalid request', zodDetails(result.error, result.target)), 400);
      }
    },
  });

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      const status = err.status;
      if (status >= 500) ctx.logger.error({ err, path: c.req.path }, 'request failed');
      const message = err.message || 'request failed';
      return jsonError(c, status as 400, message, [{ path: 'request', message }]);
    }
    return failureResponse(c, err, ctx.logger, 'unhandled error in request');
  });

  const corsOrigins = ctx.config.http.cors_origins;
  app.use('*', corsPolicy(corsOrigins));
  if (!auth.enabled) app.use('*', sameOriginWrites(corsOrigins));

  // Every body is bounded before anything reads it: a Content-Length over the limit is refused
  // at once, a chunked body as soon as it passes the limit. Feed routes bound (and count) their
  // own against feeds.max_body_bytes; everything else here takes short JSON.
  const maxBody = ctx.config.http.max_body_bytes;
  const limitBody = bodyLimit({
    maxSize: maxBody,
    onError: (c) =>
      jsonError(c, 413, 'request body too large', [{ path: 'body', message: `at most ${maxBody} bytes` }]),
  });
  app.use('*', (c, next) => (c.req.path.startsWith('/api/feeds/') ? next() : limitBody(c, next)));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from auth.tokens in the config. Not required when no tokens are configured.',
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/health',
      summary: 'Version, uptime and per-exporter collector health',
      security,
      middleware: [viewer] as const,
      responses: { 200: json(HealthC, 'Server health'), ...errors },
    }),
    (c) =>
      c.json(
        {
          status: 'ok' as const,
          version: ctx.version,
          uptime: (Date.now() - ctx.startedAt) / 1000,
          exporters: ctx.collectors.health(),
          ...(opts.feedHealth ? { feeds: opts.feedHealth() } : {}),
        },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/incidents',
      summary: 'List incidents, newest first',
      security,
      middleware: [viewer] as const,
      request: { query: IncidentListQuery },
      responses: { 200: json(IncidentListC, 'Matching incidents'), ...errors },
    }),
    async (c) => c.json({ incidents: await ctx.incidents.list(c.req.valid('query')) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/incidents/{id}',
      summary: 'One incident with its evidence, timeline and fan-in graph',
      security,
      middleware: [viewer] as const,
      request: { params: IdParams },
      responses: { 200: json(IncidentDetailC, 'The incident'), ...errors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const inc = await ctx.incidents.get(id);
      if (!inc)
        return c.json(errorBody('incident not found', [{ path: 'params.id', message: `no incident ${id}` }]), 404);
      return c.json(await withSubscribers(ctx.subscribers, inc), 200);
    },
  );

  const statusAction = (action: 'ack' | 'resolve', status: IncidentStatus, summary: string) =>
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/incidents/{id}/${action}`,
        summary,
        security,
        middleware: [operator] as const,
        request: {
          params: IdParams,
          body: { content: { 'application/json': { schema: IncidentActionBody } }, required: false },
        },
        responses: { 200: json(IncidentC, 'The updated incident'), ...errors, ...notFound },
      }),
      // Answers only once the action is durable in the store; a store error is a 5xx.
      async (c) => {
        const { id } = c.req.valid('param');
        const body = (c.req.valid('json') as IncidentActionBody | undefined) ?? {};
        const inc = await ctx.incidents.setStatus(id, status, c.get('principal').name, body.note);
        if (!inc)
          return c.json(errorBody('incident not found', [{ path: 'params.id', message: `no incident ${id}` }]), 404);
        return c.json(inc, 200);
      },
    );
  statusAction('ack', 'acknowledged', 'Acknowledge an incident (operator)');
  statusAction('resolve', 'resolved', 'Resolve an incident (operator)');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/incidents/{id}/notes',
      summary: 'Add a note to an incident (operator)',
      security,
      middleware: [operator] as const,
      request: {
        params: IdParams,
        body: { content: { 'application/json': { schema: NoteBody } }, required: true },
      },
      responses: { 200: json(IncidentC, 'The updated incident'), ...errors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { text } = c.req.valid('json');
      const inc = await ctx.incidents.addNote(id, c.get('principal').name, text);
      if (!inc)
        return c.json(errorBody('incident not found', [{ path: 'params.id', message: `no incident ${id}` }]), 404);
      return c.json(inc, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/incidents/{id}/audit',
      summary: 'Audit trail of an incident, oldest first: status changes, notes, mitigation announce/withdraw',
      security,
      middleware: [viewer] as const,
      request: { params: IdParams },
      responses: { 200: json(AuditListC, 'Every recorded action on the incident'), ...errors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const entries = await ctx.store.listAudit(id);
      // The trail outlives nothing it describes (retention drops both), so an unknown incident
      // with no entries is a wrong id, not an empty trail.
      if (entries.length === 0 && !(await ctx.incidents.get(id)))
        return c.json(errorBody('incident not found', [{ path: 'params.id', message: `no incident ${id}` }]), 404);
      return c.json({ entries }, 200);
    },
  );

  const admin = requireRole(auth, 'admin');
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/config',
      summary: 'The running configuration, tokens redacted (admin)',
      security,
      middleware: [admin] as const,
      responses: { 200: json(z.record(z.string(), z.unknown()), 'The validated config in effect'), ...errors },
    }),
    (c) => c.json(redactSecrets(ctx.config) as Record<string, unknown>, 200),
  );

  app.get('/metrics', viewer, async (c) => {
    const text = await ctx.registry.metrics();
    return c.text(text, 200, { 'Content-Type': ctx.registry.contentType });
  });

  for (const m of opts.mounts ?? []) {
    if (m.middleware?.length) app.use(`${m.prefix}/*`, ...m.middleware);
    app.route(m.prefix, m.routes);
  }

  // The document and the reference page describe the API; they hold no data, so no token.
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Downstream API',
      version: ctx.version,
      description:
        'Real-time network-abuse dashboard. Send `Authorization: Bearer TOKEN` wherever tokens are configured. ' +
        'Errors are always `{ error, details }`. Live updates: socket.io namespace `/live` (see shared/src/live.ts).',
    },
  });
  mountApiDocs(app);

  app.all('/api/*', (c) =>
    jsonError(c, 404, 'not found', [{ path: 'path', message: `no route ${c.req.method} ${c.req.path}` }]),
  );

  if (ctx.webRoot) mountSpa(app, ctx.webRoot);
  app.notFound((c) =>
    jsonError(c, 404, 'not found', [{ path: 'path', message: `no route ${c.req.method} ${c.req.path}` }]),
  );
  return app;
}

/**
 * CORS, answered on purpose: the configured origins (http.cors_origins) get the hono cors
 * headers and a 204 preflight; a preflight from any other origin is refused with a 403 that
 * names the setting, and a plain OPTIONS without an Origin (curl, monitoring) gets 204 + Allow.
 * The server's own pages are same-origin and never preflight.
 */
function corsPolicy(origins: string[]): MiddlewareHandler<AuthEnv> {
  const allowed = new Set(origins);
  const withCors = cors({
    origin: (o) => (allowed.has(o) ? o : null),
    allowMethods: ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  });
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && allowed.has(origin)) return withCors(c, next);
    if (c.req.method !== 'OPTIONS') return next();
    if (!origin) {
      c.header('Allow', 'GET, HEAD, POST, DELETE, OPTIONS');
      return c.body(null, 204);
    }
    c.header('Vary', 'Origin');
    return jsonError(c, 403, 'cross-origin request refused', [
      {
        path: 'headers.origin',
        message: `${origin} is not in http.cors_origins${allowed.size ? ` (${[...allowed].join(', ')})` : ''}`,
      },
    ]);
  };
}

/**
 * A copy of a config safe to show an admin's browser: tokens, passwords, secrets, every HTTP
 * header value (webhook Authorization…) and credentials inside URLs are replaced by "***".
 */
export function redactSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (/token|secret|password|passwd|authorization|api[_-]?key/i.test(key)) return '***';
    return value.replace(/\/\/[^@/\s]+@/g, '//***@');
  }
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        /^headers$/i.test(k) && v && typeof v === 'object'
          ? Object.fromEntries(Object.keys(v).map((h) => [h, '***']))
          : redactSecrets(v, k);
    }
    return out;
  }
  return value;
}

/**
 * Built SPA: hashed files under /assets are immutable (cached a year); everything else
 * revalidates, and unknown GET paths (client routes like /wall, /incidents/…) get index.html.
 */
function mountSpa(app: OpenAPIHono<AuthEnv>, webRoot: string): void {
  const index = join(webRoot, 'index.html');
  const hasIndex = existsSync(index) && statSync(index).isFile();
  app.use('*', async (c, next) => {
    await next();
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return;
    if (c.res.status !== 200 && c.res.status !== 206) return;
    if (c.res.headers.has('Cache-Control')) return;
    // Vite puts a content hash in every file name under /assets: safe to cache for good.
    c.res.headers.set(
      'Cache-Control',
      c.req.path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
  });
  app.use('*', serveStatic({ root: webRoot }));
  const fallback = async (c: Context) => {
    if (!hasIndex) return jsonError(c, 404, 'web UI not built', [{ path: 'webRoot', message: `${index} missing` }]);
    const last = c.req.path.split('/').pop() ?? '';
    // A missing hashed asset is a real 404, not a page: index.html there would confuse the browser.
    // Extensions start with a letter, so SPA routes ending in an address (/endpoints/192.0.2.1) still get the page.
    if (c.req.path.startsWith('/assets/') || /\.[a-z][a-z0-9]{0,7}$/i.test(last)) {
      return jsonError(c, 404, 'not found', [{ path: 'path', message: c.req.path }]);
    }
    c.header('Cache-Control', 'no-cache');
    return c.html(await readFile(index, 'utf8'));
  };
  app.get('*', fallback);
}
