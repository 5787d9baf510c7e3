import {
  ApiError,
  FastNetMonNotification,
  FeedHealth,
  FeedResult,
  GenericFeedBody,
  GenericFeedEvent,
} from '@downstream/shared';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireRole, type AuthEnv } from '../auth/index.js';
import type { AppContext } from '../context.js';
import { FeedDisabledError, FeedInputError, type FeedName } from '../feeds/feeds.js';
import { z } from 'zod';
import { mountComplaintFeed } from './complaints.js';
import type { ApiServices } from './services.js';
import { jsonError } from '../http/errors.js';

/**
 * `/api/feeds/*` — detectors outside Downstream posting what they saw. A `feed` (or admin) token
 * (a feed can create incidents), a body size limit, and per-feed dedup/rate limit in the Feeds service.
 *
 * - `POST /fastnetmon`  FastNetMonNotification (what server/bin/fastnetmon-notify sends)
 * - `POST /suricata`    EVE JSON: one record, an array, or NDJSON lines (Content-Type text or x-ndjson)
 * - `POST /generic`     GenericFeedEvent or `{ events: [...] }` (shared/src/feeds.ts documents it)
 * - `GET  /`            feed health
 */
export function feedRoutes(
  ctx: AppContext,
  services: Pick<ApiServices, 'auth' | 'feeds' | 'complaints'>,
): OpenAPIHono<AuthEnv> {
  // Started (file tailers) by main/services.ts, not here: mounting routes starts nothing.
  const { feeds, auth } = services;
  // The feed role is for exactly this; admin keeps working for setups that predate it.
  const poster = requireRole(auth, 'feed', 'admin');
  const maxSize = ctx.config.feeds.max_body_bytes;
  const app = new OpenAPIHono<AuthEnv>();
  document(app);

  const limit = (name: FeedName) =>
    bodyLimit({
      maxSize,
      onError: (c) => {
        feeds.rejected(name, `body larger than ${maxSize} bytes`);
        return jsonError(c, 413, 'request body too large', [{ path: 'body', message: `at most ${maxSize} bytes` }]);
      },
    });

  const handle = (name: FeedName, run: (body: unknown) => ReturnType<typeof feeds.generic>, text = false) =>
    app.post(`/${name}`, poster, limit(name), async (c: Context<AuthEnv>) => {
      const type = c.req.header('content-type') ?? '';
      let body: unknown;
      const raw = await c.req.text();
      const isJson = /\bjson\b/i.test(type) && !/ndjson/i.test(type);
      if (text && !isJson) body = raw;
      else {
        try {
          body = JSON.parse(raw);
        } catch (err) {
          feeds.rejected(name, `body is not JSON: ${(err as Error).message}`);
          return jsonError(c, 400, 'body is not valid JSON', [{ path: 'body', message: (err as Error).message }]);
        }
      }
      try {
        const res = run(body);
        if (res.accepted === 0 && res.rateLimited > 0) {
          c.header('Retry-After', '1');
          return c.json(
            {
              error: 'feed rate limit exceeded',
              details: [{ path: 'body', message: `${res.rateLimited} events dropped` }],
              result: res,
            },
            429,
          );
        }
        return c.json(res, 200);
      } catch (err) {
        if (err instanceof FeedInputError) return jsonError(c, 400, err.message, err.details);
        if (err instanceof FeedDisabledError)
          return jsonError(c, 404, err.message, [{ path: 'path', message: err.message }]);
        throw err;
      }
    });

  handle('fastnetmon', (b) => feeds.fastnetmon(b));
  handle('suricata', (b) => feeds.suricata(b), true);
  handle('generic', (b) => feeds.generic(b));
  mountComplaintFeed(app, ctx, services, poster);
  app.get('/', requireRole(auth, 'viewer'), (c) => c.json({ feeds: feeds.health() }, 200));
  app.get('/generic/schema', (c) => c.json(z.toJSONSchema(GenericFeedEvent, { io: 'input' }), 200));
  return app;
}

/**
 * The feed endpoints in /api/openapi.json (merged in when mounted). Documentation only: bodies
 * are validated by the Feeds service so rejected input is counted in each feed's health.
 */
function document(app: OpenAPIHono<AuthEnv>): void {
  const err = (description: string) => ({ description, content: { 'application/json': { schema: ApiError } } });
  const common = {
    400: err('Invalid input; `details` names each offending field'),
    401: err('Missing or unrecognised token'),
    403: err('Token role neither feed nor admin'),
    413: err('Body larger than feeds.max_body_bytes'),
    429: err('Feed over its rate limit'),
  };
  const ok = {
    200: {
      description: 'Accepted, duplicate, ignored and rate-limited counts',
      content: { 'application/json': { schema: FeedResult } },
    },
  };
  const security = [{ bearer: [] as string[] }];
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/fastnetmon',
    summary: 'FastNetMon notification (what server/bin/fastnetmon-notify posts)',
    security,
    request: { body: { required: true, content: { 'application/json': { schema: FastNetMonNotification } } } },
    responses: { ...ok, ...common },
  });
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/suricata',
    summary: 'Suricata EVE JSON alert/flow records: one object, an array, or NDJSON (application/x-ndjson)',
    security,
    request: {
      body: {
        required: true,
        content: { 'application/json': { schema: z.unknown() }, 'application/x-ndjson': { schema: z.string() } },
      },
    },
    responses: { ...ok, ...common },
  });
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/generic',
    summary: 'Generic detector webhook: one event or { events: [...] } (JSON Schema at /api/feeds/generic/schema)',
    security,
    request: { body: { required: true, content: { 'application/json': { schema: GenericFeedBody } } } },
    responses: { ...ok, ...common },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/',
    summary: 'Feed health: last event, events, errors, duplicates, rate-limited',
    security,
    responses: {
      200: {
        description: 'Every enabled feed',
        content: { 'application/json': { schema: z.object({ feeds: z.array(FeedHealth) }) } },
      },
    },
  });
}
