import {
  Mitigation,
  MitigationRequest,
  RemediationEntry,
  RemediationList,
  RemediationQuery,
  RemediationUpdate,
  ReportQuery,
  ReportRecipient,
} from '@downstream/shared';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { ReportError } from '../actions/actions.js';
import { MitigationError } from '../actions/exabgp.js';
import { RemediationTransitionError } from '../actions/remediation.js';
import { requireRole, type AuthEnv } from '../auth/index.js';
import type { AppContext } from '../context.js';
import type { ApiServices } from './services.js';
import { jsonError, zodDetails } from '../http/errors.js';
import { failureResponse } from './failure.js';
import { ApiErrorC, json, roleErrors, security } from './openapi-parts.js';

const Id = z.string().min(1).max(200);

async function jsonBody(c: Context<AuthEnv>): Promise<{ ok: true; value: unknown } | { ok: false; res: Response }> {
  const text = await c.req.text();
  if (!text.trim()) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return {
      ok: false,
      res: jsonError(c, 400, 'body is not valid JSON', [{ path: 'body', message: (err as Error).message }]),
    };
  }
}

/**
 * Actions on incidents, mounted under `/api`:
 * - `GET  /incidents/:id/report?format=xarf|arf&to=RECIPIENT` (viewer): X-ARF v3 JSON or ARF
 *   (RFC 5965 message/rfc822) for one recipient, as a download. Default: the largest source ASN.
 * - `GET  /incidents/:id/report/recipients` (viewer): who can get a report, with contacts.
 * - `GET  /incidents/:id/mitigations` (viewer); `POST /incidents/:id/mitigation` (operator,
 *   MitigationRequest) announces RTBH/FlowSpec; `DELETE /incidents/:id/mitigation` withdraws.
 * - `GET  /mitigations?active=true` (viewer)
 * - `GET  /remediation?customer=&status=` (viewer), `GET /remediation.csv` (viewer),
 *   `POST /remediation/:id` (operator, `{ status, note? }`).
 */
export function reportRoutes(
  ctx: AppContext,
  services: Pick<ApiServices, 'actions' | 'auth' | 'subscriberActions' | 'complaints'>,
): OpenAPIHono<AuthEnv> {
  const { actions, auth, subscriberActions: subs, complaints } = services;
  const viewer = requireRole(auth, 'viewer');
  const operator = requireRole(auth, 'operator');
  const app = new OpenAPIHono<AuthEnv>();
  document(app);

  app.onError((err, c) => {
    if (err instanceof ReportError)
      return jsonError(c, err.status, err.message, [{ path: err.path, message: err.message }]);
    if (err instanceof MitigationError)
      return jsonError(c, 409, err.message, [{ path: 'mitigation', message: err.message }]);
    if (err instanceof RemediationTransitionError)
      return jsonError(c, 409, err.message, [{ path: 'body.status', message: err.message }]);
    return failureResponse(c, err, ctx.logger, 'action request failed');
  });

  const param = (c: Context<AuthEnv>): string | Response => {
    const r = Id.safeParse(c.req.param('id'));
    return r.success ? r.data : jsonError(c, 400, 'invalid id', zodDetails(r.error, 'params.id'));
  };

  app.get('/incidents/:id/report/recipients', viewer, async (c) => {
    const id = param(c);
    if (typeof id !== 'string') return id;
    return c.json({ recipients: await actions.recipients(id) }, 200);
  });

  app.get('/incidents/:id/report', viewer, async (c) => {
    const id = param(c);
    if (typeof id !== 'string') return id;
    const q = ReportQuery.safeParse(c.req.query());
    if (!q.success) return jsonError(c, 400, 'invalid query', zodDetails(q.error, 'query'));
    const rep = await actions.report(id, q.data.format, q.data.to);
    return c.body(rep.body, 200, {
      'Content-Type': rep.contentType === 'application/json' ? 'application/json; charset=utf-8' : rep.contentType,
      'Content-Disposition': `attachment; filename="${rep.filename}"`,
      'X-Report-Recipient': rep.recipient.id.replace(/[^\x20-\x7e]/g, '?'),
      ...(rep.recipient.email ? { 'X-Report-To': rep.recipient.email } : {}),
    });
  });

  app.get('/incidents/:id/mitigations', viewer, async (c) => {
    const id = param(c);
    if (typeof id !== 'string') return id;
    return c.json({ mitigations: await actions.mitigations(id) }, 200);
  });

  app.post('/incidents/:id/mitigation', operator, async (c) => {
    const id = param(c);
    if (typeof id !== 'string') return id;
    const b = await jsonBody(c);
    if (!b.ok) return b.res;
    const r = MitigationRequest.safeParse(b.value);
    if (!r.success) return jsonError(c, 400, 'invalid mitigation request', zodDetails(r.error, 'body'));
    const m = await actions.mitigate(id, r.data, c.get('principal').name);
    return c.json(m, 201);
  });

  app.delete('/incidents/:id/mitigation', operator, async (c) => {
    const id = param(c);
    if (typeof id !== 'string') return id;
    return c.json({ withdrawn: await actions.withdraw(id, c.get('principal').name) }, 200);
  });

  app.get('/mitigations', viewer, async (c) =>
    c.json({ mitigations: await actions.mitigator.list(undefined, c.req.query('active') === 'true') }, 200),
  );

  app.get('/remediation.csv', viewer, async (c) => {
    const q = RemediationQuery.safeParse(c.req.query());
    if (!q.success) return jsonError(c, 400, 'invalid query', zodDetails(q.error, 'query'));
    return c.body(await actions.remediation.csv(q.data), 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': 'attachment; filename="remediation.csv"',
    });
  });

  app.get('/remediation/summary', viewer, async (c) => c.json({ customers: await actions.remediation.summary() }, 200));

  app.get('/remediation', viewer, async (c) => {
    const q = RemediationQuery.safeParse(c.req.query());
    if (!q.success) return jsonError(c, 400, 'invalid query', zodDetails(q.error, 'query'));
    const entries = await actions.remediation.list(q.data);
    const counts = await complaints.desk.countsByEntry(entries.map((e) => e.id));
    const decorated = await actions.watch.decorate(entries, counts);
    return c.json({ entries: await Promise.all(decorated.map((e) => subs.annotate(e))) }, 200);
  });

  app.post('/remediation/:id', operator, async (c) => {
    const id = z.coerce.number().int().positive().safeParse(c.req.param('id'));
    if (!id.success) return jsonError(c, 400, 'invalid id', zodDetails(id.error, 'params.id'));
    const b = await jsonBody(c);
    if (!b.ok) return b.res;
    const r = RemediationUpdate.safeParse(b.value);
    if (!r.success) return jsonError(c, 400, 'invalid remediation update', zodDetails(r.error, 'body'));
    const principal = c.get('principal').name;
    const e = await actions.remediation.setStatus(id.data, r.data.status, principal, r.data.note);
    if (!e)
      return jsonError(c, 404, 'no such remediation entry', [{ path: 'params.id', message: `no entry ${id.data}` }]);
    await ctx.store.appendAudit({
      at: new Date().toISOString(),
      by: principal,
      action: `remediation.${r.data.status}`,
      detail: `${e.customer} ${e.ip}${r.data.note ? ` — ${r.data.note}` : ''}`,
    });
    return c.json(await subs.annotate(e), 200);
  });

  return app;
}

/** The action endpoints in /api/openapi.json (documentation; validation is done above). */
function document(app: OpenAPIHono<AuthEnv>): void {
  const errors = { ...roleErrors(), 404: json(ApiErrorC, 'No such incident or entry') };
  const id = z.object({ id: z.string() });
  const r = app.openAPIRegistry;
  r.registerPath({
    method: 'get',
    path: '/incidents/{id}/report',
    summary: 'Abuse report for one recipient: X-ARF v3 JSON or ARF (RFC 5965) message, as a download',
    security,
    request: { params: id, query: ReportQuery },
    responses: {
      200: {
        description: 'The report',
        content: {
          'application/json': { schema: z.record(z.string(), z.unknown()) },
          'message/rfc822': { schema: z.string() },
        },
      },
      ...errors,
    },
  });
  r.registerPath({
    method: 'get',
    path: '/incidents/{id}/report/recipients',
    summary: 'Who a report can go to: source ASNs and upstreams, with configured abuse contacts',
    security,
    request: { params: id },
    responses: {
      200: json(z.object({ recipients: z.array(ReportRecipient) }), 'Recipients, largest share first'),
      ...errors,
    },
  });
  r.registerPath({
    method: 'get',
    path: '/incidents/{id}/mitigations',
    summary: 'RTBH / FlowSpec mitigations of an incident',
    security,
    request: { params: id },
    responses: { 200: json(z.object({ mitigations: z.array(Mitigation) }), 'Mitigations, newest first'), ...errors },
  });
  r.registerPath({
    method: 'post',
    path: '/incidents/{id}/mitigation',
    summary: 'Announce RTBH or FlowSpec for an inbound target via ExaBGP (operator)',
    security,
    request: { params: id, body: { content: { 'application/json': { schema: MitigationRequest } } } },
    responses: {
      201: json(Mitigation, 'Announced'),
      409: json(ApiErrorC, 'Mitigation not enabled, not possible, or ExaBGP unreachable'),
      ...errors,
    },
  });
  r.registerPath({
    method: 'delete',
    path: '/incidents/{id}/mitigation',
    summary: 'Withdraw every active mitigation of an incident (operator)',
    security,
    request: { params: id },
    responses: { 200: json(z.object({ withdrawn: z.array(Mitigation) }), 'Withdrawn'), ...errors },
  });
  r.registerPath({
    method: 'get',
    path: '/mitigations',
    summary: 'All mitigations (active=true: not withdrawn)',
    security,
    request: { query: z.object({ active: z.enum(['true', 'false']).optional() }) },
    responses: { 200: json(z.object({ mitigations: z.array(Mitigation) }), 'Mitigations') },
  });
  r.registerPath({
    method: 'get',
    path: '/remediation',
    summary: 'Customer remediation list: infected endpoints with evidence and status',
    security,
    request: { query: RemediationQuery },
    responses: { 200: json(RemediationList, 'Entries by customer'), ...errors },
  });
  r.registerPath({
    method: 'get',
    path: '/remediation/summary',
    summary: 'Per customer: endpoints open, notified and remediated',
    security,
    responses: {
      200: json(
        z.object({
          customers: z.array(
            z.object({
              customer: z.string(),
              open: z.number(),
              notified: z.number(),
              remediated: z.number(),
              lastSeen: z.string(),
            }),
          ),
        }),
        'Customers with the most open endpoints first',
      ),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/remediation.csv',
    summary: 'Customer remediation list as CSV',
    security,
    request: { query: RemediationQuery },
    responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...errors },
  });
  r.registerPath({
    method: 'post',
    path: '/remediation/{id}',
    summary: 'Move an entry: open → notified → remediated (operator)',
    security,
    request: {
      params: z.object({ id: z.coerce.number().int() }),
      body: { content: { 'application/json': { schema: RemediationUpdate } } },
    },
    responses: { 200: json(RemediationEntry, 'Updated entry'), 409: json(ApiErrorC, 'Move not allowed'), ...errors },
  });
}
