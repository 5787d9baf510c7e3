import {
  NotifyRequest,
  RemediationSubscriber,
  SubscriberLookup,
  SubscriberLookupQuery,
  SubscriberNotice,
  SubscribersStatus,
  WalledGardenRequest,
  WalledGardenStep,
} from '@downstream/shared';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { SubscriberActionError } from '../actions/subscriber-actions.js';
import type { SharedSubscriberDirectory } from '../subscribers/shared-bindings.js';
import { requireRole, type AuthEnv } from '../auth/index.js';
import type { AppContext } from '../context.js';
import type { Subscribers } from '../subscribers/index.js';
import type { ApiServices } from './services.js';
import { jsonError, zodDetails } from '../http/errors.js';
import { failureResponse } from './failure.js';
import { ApiErrorC, json, roleErrors, security } from './openapi-parts.js';

const RowId = z.coerce.number().int().positive();

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

function parseAt(s: string | undefined): number | undefined {
  if (s === undefined) return Date.now();
  const v = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Subscriber routes, mounted under `/api`:
 * - `GET  /subscribers/lookup?ip=&at=` (viewer): who held an address at a time, with the contact.
 * - `GET  /subscribers/status` (viewer): bindings stored, RADIUS listener counters, file sources.
 * - `GET  /remediation/:id/subscriber` (viewer): the row's subscriber, notices, walled-garden steps.
 * - `POST /remediation/:id/notify` (operator): e-mail the abuse notice; the row moves to notified.
 * - `POST /remediation/:id/walled-garden` (operator, `{ action: hold|release }`): CoA /
 *   Disconnect-Request to the BNG; the answer (ack, nak, timeout) is in the step returned.
 */
export function subscriberRoutes(
  ctx: AppContext,
  services: Pick<ApiServices, 'auth' | 'subscriberActions'>,
): OpenAPIHono<AuthEnv> {
  const actions = services.subscriberActions;
  const { auth } = services;
  const viewer = requireRole(auth, 'viewer');
  const operator = requireRole(auth, 'operator');
  const app = new OpenAPIHono<AuthEnv>();
  document(app);

  app.onError((err, c) => {
    // No `details`: these name a state of the world (no session, SMTP down), not a request field.
    if (err instanceof SubscriberActionError) return jsonError(c, err.status, err.message);
    return failureResponse(c, err, ctx.logger, 'subscriber request failed');
  });

  const rowId = (c: Context<AuthEnv>): number | Response => {
    const r = RowId.safeParse(c.req.param('id'));
    return r.success ? r.data : jsonError(c, 400, 'invalid id', zodDetails(r.error, 'params.id'));
  };

  app.get('/subscribers/lookup', viewer, async (c) => {
    const q = SubscriberLookupQuery.safeParse(c.req.query());
    if (!q.success) return jsonError(c, 400, 'invalid query', zodDetails(q.error, 'query'));
    if (!ipaddr.isValid(q.data.ip))
      return jsonError(c, 400, 'invalid query', [{ path: 'query.ip', message: 'not an IP address' }]);
    const at = parseAt(q.data.at);
    if (at === undefined)
      return jsonError(c, 400, 'invalid query', [{ path: 'query.at', message: 'expected ISO-8601 or epoch ms' }]);
    const binding = (await ctx.subscribers?.holder(q.data.ip, at, at)) ?? null;
    let contact = null;
    if (binding) contact = (await ctx.subscribers?.contact(binding.subscriber).catch(() => null)) ?? null;
    return c.json({ ip: q.data.ip, at: new Date(at).toISOString(), binding, contact } satisfies SubscriberLookup, 200);
  });

  app.get('/subscribers/status', viewer, async (c) => {
    const s = ctx.subscribers as Pick<Subscribers, 'status'> | SharedSubscriberDirectory | undefined;
    const base =
      typeof s?.status === 'function' ? await s.status() : { bindings: 0, files: [], contacts: { csvErrors: [] } };
    const body: SubscribersStatus = { ...base, canNotify: actions.canNotify, canWalledGarden: actions.canWalledGarden };
    return c.json(body, 200);
  });

  app.get('/remediation/:id/subscriber', viewer, async (c) => {
    const id = rowId(c);
    if (typeof id !== 'number') return id;
    return c.json(await actions.state(id), 200);
  });

  app.post('/remediation/:id/notify', operator, async (c) => {
    const id = rowId(c);
    if (typeof id !== 'number') return id;
    const b = await jsonBody(c);
    if (!b.ok) return b.res;
    const r = NotifyRequest.safeParse(b.value);
    if (!r.success) return jsonError(c, 400, 'invalid notify request', zodDetails(r.error, 'body'));
    return c.json(await actions.notify(id, c.get('principal').name, r.data), 201);
  });

  app.post('/remediation/:id/walled-garden', operator, async (c) => {
    const id = rowId(c);
    if (typeof id !== 'number') return id;
    const b = await jsonBody(c);
    if (!b.ok) return b.res;
    const r = WalledGardenRequest.safeParse(b.value);
    if (!r.success) return jsonError(c, 400, 'invalid walled-garden request', zodDetails(r.error, 'body'));
    return c.json(await actions.walledGarden(id, r.data.action, c.get('principal').name, r.data.note), 200);
  });

  return app;
}

function document(app: OpenAPIHono<AuthEnv>): void {
  const errors = { ...roleErrors(), 404: json(ApiErrorC, 'No such remediation entry') };
  const id = z.object({ id: z.coerce.number().int() });
  const r = app.openAPIRegistry;
  r.registerPath({
    method: 'get',
    path: '/subscribers/lookup',
    summary: 'Who held an address at a time (RADIUS session or DHCP lease), with their contact',
    security,
    request: { query: SubscriberLookupQuery },
    responses: { 200: json(SubscriberLookup, 'The binding, or null when nobody is known to'), ...errors },
  });
  r.registerPath({
    method: 'get',
    path: '/subscribers/status',
    summary:
      'Subscriber sources: bindings stored, RADIUS accounting counters (bad packets by reason), file sources and their errors',
    security,
    responses: { 200: json(SubscribersStatus, 'Status') },
  });
  r.registerPath({
    method: 'get',
    path: '/remediation/{id}/subscriber',
    summary: 'The subscriber who held the entry’s address at its last abuse, notices sent and walled-garden steps',
    security,
    request: { params: id },
    responses: { 200: json(RemediationSubscriber, 'Subscriber side of the entry'), ...errors },
  });
  r.registerPath({
    method: 'post',
    path: '/remediation/{id}/notify',
    summary: 'E-mail the abuse notice for the entry’s kinds to its subscriber (operator); the entry moves to notified',
    security,
    request: { params: id, body: { content: { 'application/json': { schema: NotifyRequest } }, required: false } },
    responses: {
      201: json(SubscriberNotice, 'Sent (and audited)'),
      409: json(ApiErrorC, 'Notices not enabled, entry remediated, no subscriber or no e-mail address known'),
      502: json(ApiErrorC, 'The SMTP server or the contact lookup hook failed (audited)'),
      ...errors,
    },
  });
  r.registerPath({
    method: 'post',
    path: '/remediation/{id}/walled-garden',
    summary:
      'Hold the subscriber’s session in the walled garden, or release it: RFC 5176 CoA / Disconnect-Request (operator)',
    security,
    request: { params: id, body: { content: { 'application/json': { schema: WalledGardenRequest } } } },
    responses: {
      200: json(
        WalledGardenStep,
        'The exchange with the BNG: result ack, nak (with Error-Cause), timeout or error; audited',
      ),
      409: json(ApiErrorC, 'Walled garden not configured, or no RADIUS session for the address'),
      ...errors,
    },
  });
}
