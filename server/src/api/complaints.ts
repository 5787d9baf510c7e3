import { ApiError, ComplaintList, ComplaintResult } from '@downstream/shared';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { OpenAPIHono as Hono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { requireRole, type AuthEnv } from '../auth/index.js';
import type { AppContext } from '../context.js';
import { ComplaintRateLimited } from '../feeds/complaint-desk.js';
import { ComplaintParseError } from '../feeds/complaints.js';
import { jsonError, zodDetails } from '../http/errors.js';
import type { ApiServices } from './services.js';

/**
 * `POST /api/feeds/complaints` on the feed routes (feed or admin role, like every feed): one ARF or X-ARF 0.2
 * mail (message/rfc822) or one X-ARF v3 JSON report. The body limit applies before it is read.
 */
export function mountComplaintFeed(
  app: OpenAPIHono<AuthEnv>,
  ctx: AppContext,
  services: Pick<ApiServices, 'complaints' | 'feeds'>,
  poster: MiddlewareHandler<AuthEnv>,
): void {
  const cfg = ctx.config.feeds.complaints;
  const maxSize = ctx.config.feeds.max_body_bytes;
  const channel = services.feeds.hub.channel('complaints');
  app.post(
    '/complaints',
    poster,
    bodyLimit({
      maxSize,
      onError: (cx) => {
        channel.error(`body larger than ${maxSize} bytes`);
        return jsonError(cx, 413, 'request body too large', [{ path: 'body', message: `at most ${maxSize} bytes` }]);
      },
    }),
    async (cx) => {
      if (!cfg.enabled)
        return jsonError(cx, 404, 'feed complaints is disabled in the config', [
          { path: 'path', message: 'feeds.complaints.enabled is false' },
        ]);
      const body = Buffer.from(await cx.req.arrayBuffer());
      try {
        return cx.json(await services.complaints.desk.receive(body, cx.req.header('content-type') ?? '', 'http'), 200);
      } catch (err) {
        if (err instanceof ComplaintParseError) return jsonError(cx, 400, err.message, err.details);
        if (err instanceof ComplaintRateLimited) {
          cx.header('Retry-After', '1');
          return jsonError(cx, 429, err.message, [{ path: 'body', message: 'try again later' }]);
        }
        throw err;
      }
    },
  );
  const err = (description: string) => ({ description, content: { 'application/json': { schema: ApiError } } });
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/complaints',
    summary:
      'An abuse report another network sent: ARF (RFC 5965) or X-ARF 0.2 mail (message/rfc822), or X-ARF v3 JSON. ' +
      'Matched to incidents for that address and time and attached to them and the remediation list, or opens an external incident.',
    security: [{ bearer: [] as string[] }],
    request: {
      body: {
        required: true,
        content: {
          'message/rfc822': { schema: z.string() },
          'application/json': { schema: z.record(z.string(), z.unknown()) },
        },
      },
    },
    responses: {
      200: {
        description: 'Parsed and attached (or a duplicate)',
        content: { 'application/json': { schema: ComplaintResult } },
      },
      400: err('Not a usable report; `details` names what was wrong (e.g. message/feedback-report.Source-IP)'),
      401: err('Missing or unrecognised token'),
      403: err('Token role not feed or admin'),
      413: err('Body larger than feeds.max_body_bytes'),
      429: err('Complaint feed over its rate limit'),
    },
  });
}

const ComplaintQuery = z.strictObject({
  incident: z.string().min(1).max(200).optional(),
  remediation: z.coerce.number().int().positive().optional(),
  ip: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

/** `GET /api/complaints?incident=&remediation=&ip=` (viewer): complaints received, newest first. */
export function complaintRoutes(services: Pick<ApiServices, 'auth' | 'complaints'>): OpenAPIHono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const viewer = requireRole(services.auth, 'viewer');
  app.get('/complaints', viewer, async (c) => {
    const q = ComplaintQuery.safeParse(c.req.query());
    if (!q.success) return jsonError(c, 400, 'invalid query', zodDetails(q.error, 'query'));
    return c.json({ complaints: await services.complaints.desk.list(q.data) }, 200);
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/complaints',
    summary:
      'Abuse reports received from other networks, newest first; filter by incident, remediation entry or address',
    security: [{ bearer: [] as string[] }],
    request: { query: ComplaintQuery },
    responses: {
      200: { description: 'Complaints', content: { 'application/json': { schema: ComplaintList } } },
      400: { description: 'Invalid query', content: { 'application/json': { schema: ApiError } } },
    },
  });
  return app;
}
