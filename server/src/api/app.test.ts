import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, AuditList, Health, Incident, IncidentDetail, IncidentList } from '@downstream/shared';
import { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../context.js';
import { createAuthenticator } from '../auth/index.js';
import { createApp, redactSecrets, type AppOptions } from './app.js';
import { createFakeContext, detectionEvent } from '../testing/fake-context.js';

/** The app with the authenticator main/services.ts would build for this context. */
const appFor = (ctx: AppContext, opts?: AppOptions) =>
  createApp(ctx, createAuthenticator(ctx.config.auth.tokens), opts);

const tokens = [
  { name: 'wall', role: 'viewer' as const, token: 'viewer-token-0123456789' },
  { name: 'ops', role: 'operator' as const, token: 'operator-token-0123456789' },
  { name: 'root', role: 'admin' as const, token: 'admin-token-0123456789ab' },
];
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const VIEWER = bearer(tokens[0].token);
const OPERATOR = bearer(tokens[1].token);
const ADMIN = bearer(tokens[2].token);

function setup() {
  const ctx = createFakeContext({
    tokens,
    exporters: [
      {
        address: '192.0.2.1',
        protocol: 'netflow-v9',
        lastSeen: new Date().toISOString(),
        datagrams: 10,
        records: 300,
        decodeErrors: 0,
        sequenceGaps: 1,
      },
    ],
  });
  ctx.incidents.ingest(detectionEvent('203.0.113.7'));
  ctx.incidents.ingest(detectionEvent('203.0.113.8'));
  const app = appFor(ctx);
  const id = ctx.incidents.active()[0].id;
  return { ctx, app, id };
}

async function errorOf(res: Response): Promise<ApiError> {
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = ApiError.parse(await res.json());
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
  return body;
}

type Case = {
  method: 'GET' | 'POST';
  path: (id: string) => string;
  role: 'viewer' | 'operator' | 'admin';
  body?: unknown;
};
const endpoints: Case[] = [
  { method: 'GET', path: () => '/api/health', role: 'viewer' },
  { method: 'GET', path: () => '/api/incidents', role: 'viewer' },
  { method: 'GET', path: (id) => `/api/incidents/${id}`, role: 'viewer' },
  { method: 'GET', path: (id) => `/api/incidents/${id}/audit`, role: 'viewer' },
  { method: 'GET', path: () => '/metrics', role: 'viewer' },
  { method: 'GET', path: () => '/api/config', role: 'admin' },
  { method: 'POST', path: (id) => `/api/incidents/${id}/ack`, role: 'operator' },
  { method: 'POST', path: (id) => `/api/incidents/${id}/resolve`, role: 'operator' },
  {
    method: 'POST',
    path: (id) => `/api/incidents/${id}/notes`,
    role: 'operator',
    body: { text: 'called the customer' },
  },
];

function req(c: Case, id: string, headers: Record<string, string>): RequestInit & { method: string } {
  return {
    method: c.method,
    headers: { ...headers, ...(c.body ? { 'Content-Type': 'application/json' } : {}) },
    body: c.body ? JSON.stringify(c.body) : undefined,
  };
}

describe('REST API auth', () => {
  for (const c of endpoints) {
    const label = `${c.method} ${c.path(':id')}`;
    it(`${label}: 401 without a token, 401 with a wrong one`, async () => {
      const { app, id } = setup();
      const none = await app.request(c.path(id), req(c, id, {}));
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
      expect((await errorOf(none)).details?.[0].path).toBe('headers.authorization');
      const wrong = await app.request(c.path(id), req(c, id, bearer('not-a-real-token-at-all')));
      expect(wrong.status).toBe(401);
      expect((await errorOf(wrong)).error).toBe('invalid token');
    });

    const below = c.role === 'admin' ? [VIEWER, OPERATOR] : c.role === 'operator' ? [VIEWER] : [];
    if (below.length > 0) {
      it(`${label}: 403 below ${c.role}`, async () => {
        const { app, id, ctx } = setup();
        for (const h of below) {
          const res = await app.request(c.path(id), req(c, id, h));
          expect(res.status).toBe(403);
          expect((await errorOf(res)).error).toBe(`role ${c.role} required`);
        }
        expect((await ctx.incidents.get(id))?.status).toBe('open');
        expect((await ctx.incidents.get(id))?.notes).toEqual([]);
      });
    }

    it(`${label}: allowed for ${c.role} and above`, async () => {
      const { app, id } = setup();
      const allowed =
        c.role === 'viewer' ? [VIEWER, OPERATOR, ADMIN] : c.role === 'operator' ? [OPERATOR, ADMIN] : [ADMIN];
      for (const h of allowed) {
        const res = await app.request(c.path(id), req(c, id, h));
        expect(res.status, `${label} as ${h.Authorization}`).toBe(200);
      }
    });
  }

  it('accepts the scheme name case-insensitively but nothing but Bearer', async () => {
    const { app } = setup();
    expect((await app.request('/api/health', { headers: { Authorization: `bearer ${tokens[0].token}` } })).status).toBe(
      200,
    );
    expect((await app.request('/api/health', { headers: { Authorization: `Basic ${tokens[0].token}` } })).status).toBe(
      401,
    );
  });

  it('with no tokens configured everyone is the local admin', async () => {
    const ctx = createFakeContext();
    ctx.incidents.ingest(detectionEvent('203.0.113.9'));
    const app = appFor(ctx);
    const id = ctx.incidents.active()[0].id;
    const res = await app.request(`/api/incidents/${id}/notes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'hello' }),
    });
    expect(res.status).toBe(200);
    expect(Incident.parse(await res.json()).notes.at(-1)).toMatchObject({ by: 'local', text: 'hello' });
  });
});

describe('cross-site requests without tokens', () => {
  it('refuses writes from another site, allows same origin, loopback pages and scripts', async () => {
    const ctx = createFakeContext();
    ctx.incidents.ingest(detectionEvent('203.0.113.9'));
    const app = appFor(ctx);
    const id = ctx.incidents.active()[0].id;
    const ack = (headers: Record<string, string>) =>
      app.request(`http://127.0.0.1:8080/api/incidents/${id}/ack`, {
        method: 'POST',
        headers: { Host: '127.0.0.1:8080', ...headers },
      });
    const evil = await ack({ Origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect((await errorOf(evil)).details?.[0].path).toBe('headers.origin');
    expect((await ctx.incidents.get(id))?.status).toBe('open');
    expect((await ack({ Origin: 'null' })).status).toBe(403);
    expect((await ack({ Origin: 'http://127.0.0.1:8080' })).status).toBe(200);
    expect((await ack({ Origin: 'http://localhost:5173' })).status).toBe(200);
    expect((await ack({})).status).toBe(200);
    // Reads stay open (same-origin policy already keeps other sites from reading them).
    const read = await app.request('/api/incidents', { headers: { Origin: 'https://evil.example' } });
    expect(read.status).toBe(200);
  });
});

describe('REST API happy paths', () => {
  let s: ReturnType<typeof setup>;
  beforeEach(async () => {
    s = setup();
  });

  it('GET /api/health reports version, uptime and exporters', async () => {
    const res = await s.app.request('/api/health', { headers: VIEWER });
    const h = Health.parse(await res.json());
    expect(h.version).toBe('0.0.0-test');
    expect(h.exporters).toEqual([
      expect.objectContaining({ address: '192.0.2.1', protocol: 'netflow-v9', records: 300, sequenceGaps: 1 }),
    ]);
  });

  it('GET /api/incidents filters and limits', async () => {
    await s.app.request(`/api/incidents/${s.id}/ack`, { method: 'POST', headers: OPERATOR });
    const all = IncidentList.parse(await (await s.app.request('/api/incidents', { headers: VIEWER })).json());
    expect(all.incidents).toHaveLength(2);
    const acked = IncidentList.parse(
      await (await s.app.request('/api/incidents?status=acknowledged', { headers: VIEWER })).json(),
    );
    expect(acked.incidents.map((i) => i.id)).toEqual([s.id]);
    const one = IncidentList.parse(await (await s.app.request('/api/incidents?limit=1', { headers: VIEWER })).json());
    expect(one.incidents).toHaveLength(1);
    const none = IncidentList.parse(
      await (await s.app.request('/api/incidents?kind=scanner', { headers: VIEWER })).json(),
    );
    expect(none.incidents).toHaveLength(0);
  });

  it('GET /api/incidents/:id returns detail with timeline and graph; 404 names the id', async () => {
    const res = await s.app.request(`/api/incidents/${s.id}`, { headers: VIEWER });
    const d = IncidentDetail.parse(await res.json());
    expect(d.id).toBe(s.id);
    expect(d.timeline.length).toBeGreaterThan(0);
    expect(d.graph.nodes.length).toBe(3);
    const missing = await s.app.request('/api/incidents/nope', { headers: VIEWER });
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).details).toEqual([{ path: 'params.id', message: 'no incident nope' }]);
  });

  it('POST ack / resolve change the status, record who, and keep the note', async () => {
    const ack = await s.app.request(`/api/incidents/${s.id}/ack`, {
      method: 'POST',
      headers: { ...OPERATOR, 'Content-Type': 'application/json' },
      body: JSON.stringify({ note: 'looking' }),
    });
    expect(ack.status).toBe(200);
    const a = Incident.parse(await ack.json());
    expect(a.status).toBe('acknowledged');
    expect(a.notes.at(-1)).toMatchObject({ by: 'ops', text: 'looking' });
    const res = await s.app.request(`/api/incidents/${s.id}/resolve`, { method: 'POST', headers: ADMIN });
    expect(Incident.parse(await res.json()).status).toBe('resolved');
    expect(s.ctx.incidents.audit.map((e) => [e.action, e.by])).toEqual([
      ['ack', 'ops'],
      ['resolve', 'root'],
    ]);
    const missing = await s.app.request('/api/incidents/nope/ack', { method: 'POST', headers: OPERATOR });
    expect(missing.status).toBe(404);
  });

  it('POST notes appends a note by the token name', async () => {
    const res = await s.app.request(`/api/incidents/${s.id}/notes`, {
      method: 'POST',
      headers: { ...OPERATOR, 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'customer called back' }),
    });
    const inc = Incident.parse(await res.json());
    expect(inc.notes).toEqual([expect.objectContaining({ by: 'ops', text: 'customer called back' })]);
  });

  it('GET /api/incidents/:id/audit lists status changes without a note and notes, oldest first', async () => {
    // The fake manager records its audit in memory; the store reads it back as the real one does.
    const app = appFor({
      ...s.ctx,
      store: { listAudit: (id: string) => s.ctx.incidents.audit.filter((e) => e.incidentId === id) } as never,
    });
    const empty = AuditList.parse(
      await (await app.request(`/api/incidents/${s.id}/audit`, { headers: VIEWER })).json(),
    );
    expect(empty.entries).toEqual([]);
    await app.request(`/api/incidents/${s.id}/ack`, { method: 'POST', headers: OPERATOR });
    await app.request(`/api/incidents/${s.id}/notes`, {
      method: 'POST',
      headers: { ...OPERATOR, 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'customer called back' }),
    });
    await app.request(`/api/incidents/${s.id}/resolve`, { method: 'POST', headers: ADMIN });
    const res = await app.request(`/api/incidents/${s.id}/audit`, { headers: VIEWER });
    expect(res.status).toBe(200);
    const { entries } = AuditList.parse(await res.json());
    expect(entries.map((e) => [e.action, e.by, e.detail])).toEqual([
      ['ack', 'ops', 'open → acknowledged'],
      ['note', 'ops', 'customer called back'],
      ['resolve', 'root', 'acknowledged → resolved'],
    ]);
    const missing = await app.request('/api/incidents/nope/audit', { headers: VIEWER });
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).details).toEqual([{ path: 'params.id', message: 'no incident nope' }]);
  });

  it('GET /api/config shows the config in effect without secrets', async () => {
    const res = await s.app.request('/api/config', { headers: ADMIN });
    const body = (await res.json()) as { auth: { tokens: { name: string; token: string }[] }; http: unknown };
    expect(body.http).toMatchObject({ host: '127.0.0.1', port: 8080, cors_origins: [] });
    expect(body.auth.tokens.map((t) => [t.name, t.token])).toEqual(tokens.map((t) => [t.name, '***']));
    expect(JSON.stringify(body)).not.toContain(tokens[2].token);
  });

  it('redacts tokens, header values and URL credentials at any depth', async () => {
    expect(
      redactSecrets({
        auth: { tokens: [{ name: 'a', token: 'x'.repeat(20) }] },
        actions: { webhooks: [{ url: 'https://u:p@hooks.example/x', headers: { Authorization: 'Bearer s3cret' } }] },
        realtime: { redis: 'redis://:pw@127.0.0.1:6379' },
        plain: 'keep me',
      }),
    ).toEqual({
      auth: { tokens: [{ name: 'a', token: '***' }] },
      actions: { webhooks: [{ url: 'https://***@hooks.example/x', headers: { Authorization: '***' } }] },
      realtime: { redis: 'redis://***@127.0.0.1:6379' },
      plain: 'keep me',
    });
  });

  it('GET /metrics is Prometheus text', async () => {
    s.ctx.registry.setDefaultLabels({});
    const res = await s.app.request('/metrics', { headers: VIEWER });
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await res.text()).toMatch(/^# HELP|^$/m);
  });
});

describe('REST API validation', () => {
  it('query errors name the field', async () => {
    const { app } = setup();
    for (const [qs, field] of [
      ['status=bogus', 'query.status'],
      ['kind=ddos', 'query.kind'],
      ['direction=sideways', 'query.direction'],
      ['since=yesterday', 'query.since'],
      ['limit=0', 'query.limit'],
      ['limit=abc', 'query.limit'],
      ['limit=5000', 'query.limit'],
    ] as const) {
      const res = await app.request(`/api/incidents?${qs}`, { headers: VIEWER });
      expect(res.status, qs).toBe(400);
      const e = await errorOf(res);
      expect(e.error).toBe('invalid request');
      expect(
        e.details?.map((d) => d.path),
        qs,
      ).toContain(field);
    }
  });

  it('body errors name the field; unknown fields are rejected; malformed JSON is a JSON 400', async () => {
    const { app, id } = setup();
    const post = (path: string, body: string, ct = 'application/json') =>
      app.request(path, { method: 'POST', headers: { ...OPERATOR, 'Content-Type': ct }, body });
    let e = await errorOf(await post(`/api/incidents/${id}/notes`, JSON.stringify({ text: '' })));
    expect(e.details).toEqual([expect.objectContaining({ path: 'json.text' })]);
    e = await errorOf(await post(`/api/incidents/${id}/notes`, JSON.stringify({})));
    expect(e.details?.[0].path).toBe('json.text');
    e = await errorOf(await post(`/api/incidents/${id}/notes`, JSON.stringify({ text: 'x', by: 'me' })));
    expect(e.details).toEqual([{ path: 'json.by', message: 'unknown field' }]);
    e = await errorOf(await post(`/api/incidents/${id}/ack`, JSON.stringify({ note: 42 })));
    expect(e.details?.[0].path).toBe('json.note');
    const bad = await post(`/api/incidents/${id}/notes`, '{"text": ');
    expect(bad.status).toBe(400);
    await errorOf(bad);
    const wrongType = await post(`/api/incidents/${id}/notes`, 'text=hi', 'application/x-www-form-urlencoded');
    expect([400, 415]).toContain(wrongType.status);
    await errorOf(wrongType);
  });

  it('oversized bodies are refused with a JSON 413', async () => {
    const { app, id } = setup();
    const res = await app.request(`/api/incidents/${id}/notes`, {
      method: 'POST',
      headers: { ...OPERATOR, 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(100_000) }),
    });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).details?.[0].path).toBe('body');
  });

  it('unknown API routes are JSON 404s; thrown errors are JSON 500s without a stack', async () => {
    const ctx = createFakeContext({ tokens });
    ctx.incidents.list = () => {
      throw new Error('disk on fire at /secret/path.ts:12');
    };
    const app = appFor(ctx);
    const nf = await app.request('/api/nothing', { headers: VIEWER });
    expect(nf.status).toBe(404);
    await errorOf(nf);
    const boom = await app.request('/api/incidents', { headers: VIEWER });
    expect(boom.status).toBe(500);
    expect(await errorOf(boom)).toEqual({ error: 'internal error' });
  });
});

describe('OpenAPI and docs', () => {
  it('serves a 3.1 document generated from the shared schemas, without a token', async () => {
    const { app } = setup();
    const res = await app.request('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/health',
        '/api/incidents',
        '/api/incidents/{id}',
        '/api/incidents/{id}/ack',
        '/api/incidents/{id}/resolve',
        '/api/incidents/{id}/notes',
        '/api/incidents/{id}/audit',
      ]),
    );
    expect(doc.paths['/api/incidents'].get.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['status', 'kind', 'direction', 'since', 'limit']),
    );
    expect(Object.keys(doc.components.schemas.Incident.properties ?? {})).toEqual(
      expect.arrayContaining(Object.keys(Incident.shape)),
    );
  });

  it('serves a browsable reference page', async () => {
    const { app } = setup();
    const res = await app.request('/api/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/swagger-ui-bundle\.js/);
    // Everything the page loads is served here: it must work on a network closed to the internet.
    expect(html).not.toMatch(/https?:\/\//);
    const init = await (await app.request('/api/docs/init.js')).text();
    expect(init).toContain('/api/openapi.json');
    const bundle = await app.request('/api/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await app.request('/api/docs/assets/..%2Fpackage.json')).status).toBe(404);
  });

  it('mounts extra route groups (feeds, history) under their prefix', async () => {
    const ctx = createFakeContext({ tokens });
    const extra = new Hono().get('/ping', (c) => c.json({ pong: true }));
    let seen = 0;
    const app = appFor(ctx, {
      mounts: [
        {
          prefix: '/api/feeds',
          routes: extra,
          middleware: [
            async (_c, next) => {
              seen++;
              await next();
            },
          ],
        },
      ],
    });
    expect(await (await app.request('/api/feeds/ping')).json()).toEqual({ pong: true });
    expect(seen).toBe(1);
    await app.request('/api/incidents', { headers: VIEWER });
    expect(seen).toBe(1);
  });
});

describe('SPA', () => {
  function webApp() {
    const root = mkdtempSync(join(tmpdir(), 'ds-web-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(root, 'assets', 'app-abc123.js'), 'console.log(1)');
    return appFor(createFakeContext({ tokens, webRoot: root }));
  }

  it('serves hashed assets as immutable and index.html for client routes', async () => {
    const app = webApp();
    const asset = await app.request('/assets/app-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    for (const path of [
      '/',
      '/wall',
      '/incidents/inc-1',
      '/asns/174',
      '/endpoints/198.51.100.7',
      '/endpoints/2001:db8::1',
    ]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('id="root"');
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
  });

  it('a missing asset is a 404, not index.html; API 404s stay JSON', async () => {
    const app = webApp();
    expect((await app.request('/assets/gone-1234.js')).status).toBe(404);
    expect((await app.request('/favicon.ico')).status).toBe(404);
    const api = await app.request('/api/nothing', { headers: VIEWER });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/json/);
  });
});
