import { ApiError, RemediationHistory, ReportCard } from '@downstream/shared';
import { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { requireRole, type AuthEnv } from '../auth/index.js';
import type { AppContext } from '../context.js';
import { DAY } from '../store/index.js';
import { reportCardCsv } from '../store/report-card.js';
import { jsonError, zodDetails } from '../http/errors.js';
import { parseInstant } from './history.js';
import { reportCardFor } from './remediation-data.js';
import type { ApiServices } from './services.js';

const Instant = z
  .string()
  .refine((s) => parseInstant(s) !== undefined, 'expected an ISO-8601 time with offset or epoch milliseconds');
const CardQuery = z.strictObject({ from: Instant.optional(), to: Instant.optional() });

/** A report card range: default the last 30 days; at most 400 days. */
function cardRange(
  q: z.infer<typeof CardQuery>,
  now: number,
): { from: number; to: number } | { path: string; message: string } {
  const to = q.to !== undefined ? parseInstant(q.to)! : now;
  const from = q.from !== undefined ? parseInstant(q.from)! : to - 30 * DAY;
  if (from >= to) return { path: 'query.from', message: 'from must be before to' };
  if (to - from > 400 * DAY) return { path: 'query.from', message: 'at most 400 days' };
  return { from, to };
}

/**
 * Mounted under `/api` (viewer):
 * - `GET /report-card?from=&to=` and `GET /report-card.csv` — the downstream report card;
 * - `GET /remediation/:id/history` — an entry with its history (status moves, recurrences, complaints).
 */
export function reportCardRoutes(
  ctx: AppContext,
  services: Pick<ApiServices, 'auth' | 'actions' | 'complaints'>,
): OpenAPIHono<AuthEnv> {
  const app = new OpenAPIHono<AuthEnv>();
  const viewer = requireRole(services.auth, 'viewer');
  const { actions } = services;
  const range = (query: Record<string, string>) => {
    const q = CardQuery.safeParse(query);
    if (!q.success) return { error: zodDetails(q.error, 'query') };
    const r = cardRange(q.data, Date.now());
    return 'path' in r ? { error: [r] } : { range: r };
  };

  app.get('/report-card', viewer, async (c) => {
    const r = range(c.req.query());
    if (r.error) return jsonError(c, 400, 'invalid query', r.error);
    return c.json(await reportCardFor(ctx, services, r.range!.from, r.range!.to), 200);
  });
  app.get('/report-card.csv', viewer, async (c) => {
    const r = range(c.req.query());
    if (r.error) return jsonError(c, 400, 'invalid query', r.error);
    const card = await reportCardFor(ctx, services, r.range!.from, r.range!.to);
    const name = `downstream-report-card-${card.from.slice(0, 10)}-${card.to.slice(0, 10)}.csv`;
    return c.body(reportCardCsv(card), 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}"`,
    });
  });
  app.get('/remediation/:id/history', viewer, async (c) => {
    const id = z.coerce.number().int().positive().safeParse(c.req.param('id'));
    if (!id.success) return jsonError(c, 400, 'invalid id', zodDetails(id.error, 'params.id'));
    const e = await actions.remediation.get(id.data);
    if (!e)
      return jsonError(c, 404, 'no such remediation entry', [{ path: 'params.id', message: `no entry ${id.data}` }]);
    const [entry] = await actions.watch.decorate([e], await services.complaints.desk.countsByEntry([e.id]));
    const events = (await actions.watch.history(e.id)).map((h) => ({
      at: new Date(h.at).toISOString(),
      kind: h.kind,
      from: h.from,
      to: h.to,
      by: h.by,
      detail: h.detail,
      incidentId: h.incidentId,
    }));
    return c.json({ entry: entry!, events }, 200);
  });

  const security = [{ bearer: [] as string[] }];
  const err = { 400: { description: 'Invalid query', content: { 'application/json': { schema: ApiError } } } };
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/report-card',
    summary:
      'Downstream report card: per customer network and downstream, abuse sent upstream per day, endpoints open and remediated, time to remediate, complaints',
    description: 'Default range: the last 30 days (at most 400).',
    security,
    request: { query: CardQuery },
    responses: {
      200: { description: 'The report card', content: { 'application/json': { schema: ReportCard } } },
      ...err,
    },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/report-card.csv',
    summary: 'The report card as CSV (summary per downstream and customer, then abuse bytes per day)',
    security,
    request: { query: CardQuery },
    responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...err },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/remediation/{id}/history',
    summary: 'A remediation entry with its history: status moves, recurrences in the watch, complaints',
    security,
    request: { params: z.object({ id: z.coerce.number().int() }) },
    responses: {
      200: {
        description: 'Entry and history, oldest first',
        content: { 'application/json': { schema: RemediationHistory } },
      },
      404: { description: 'No such entry', content: { 'application/json': { schema: ApiError } } },
    },
  });
  return app;
}
