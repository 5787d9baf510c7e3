import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeContext } from '../testing/recording-context.js';
import { testServices, type RunningServices } from '../testing/services.js';
import { createApp } from './app.js';
import { feedRoutes } from './feeds.js';

const ADMIN = 'admin-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
const auth = {
  tokens: [
    { name: 'fnm', role: 'admin', token: ADMIN },
    { name: 'wall', role: 'viewer', token: VIEWER },
  ],
};
const running: RunningServices[] = [];
afterAll(async () => {
  for (const s of running.splice(0)) await s.stop();
});
/** The services a server would build for `ctx`, stopped after the file. */
function withServices(ctx: ReturnType<typeof fakeContext>): RunningServices {
  const s = testServices(ctx);
  running.push(s);
  return s;
}

const banDetails = readFileSync(new URL('../feeds/fixtures/fastnetmon-ban.txt', import.meta.url), 'utf8');
const ban = { ip: '198.51.100.7', direction: 'incoming', pps: 19577, action: 'ban', details: banDetails };

const post = (
  app: ReturnType<typeof feedRoutes>,
  path: string,
  body: string,
  token = ADMIN,
  type = 'application/json',
) => app.request(path, { method: 'POST', body, headers: { 'content-type': type, authorization: `Bearer ${token}` } });

describe('feedRoutes', () => {
  it('accepts a FastNetMon notification, answers duplicates, and shows health', async () => {
    const ctx = fakeContext({ auth });
    const services = withServices(ctx);
    const app = feedRoutes(ctx, services);
    const r1 = await post(app, '/fastnetmon', JSON.stringify(ban));
    expect(r1.status).toBe(200);
    expect(await r1.json()).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rateLimited: 0 });
    const r2 = await post(app, '/fastnetmon', JSON.stringify(ban));
    expect(await r2.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(ctx.ingested).toHaveLength(1);
    const h = await app.request('/', { headers: { authorization: `Bearer ${VIEWER}` } });
    const body = (await h.json()) as { feeds: { name: string; events: number }[] };
    expect(body.feeds.map((f) => f.name).sort()).toEqual(['complaints', 'fastnetmon', 'generic', 'suricata']);
    expect(services.feeds.health().find((f) => f.name === 'fastnetmon')).toMatchObject({ events: 1, duplicates: 1 });
  });

  it('needs an admin token', async () => {
    const ctx = fakeContext({ auth });
    const app = feedRoutes(ctx, withServices(ctx));
    expect((await post(app, '/generic', '{}', 'wrong-token-0123456789')).status).toBe(401);
    expect((await post(app, '/generic', '{}', VIEWER)).status).toBe(403);
  });

  it('rejects malformed and non-JSON bodies with details naming the field', async () => {
    const ctx = fakeContext({ auth });
    const services = withServices(ctx);
    const app = feedRoutes(ctx, services);
    const r = await post(app, '/generic', JSON.stringify({ detector: 'x', direction: 'sideways', pps: 'lots' }));
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: string; details: { path: string }[] };
    expect(body.details.map((d) => d.path).sort()).toEqual(['body.direction', 'body.pps']);
    const r2 = await post(app, '/fastnetmon', '{"ip": ');
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as { error: string }).error).toMatch(/JSON/);
    expect(services.feeds.health().find((f) => f.name === 'fastnetmon')!.errors).toBe(1);
  });

  it('refuses oversized bodies with 413 and counts them', async () => {
    const ctx = fakeContext({ auth, feeds: { max_body_bytes: 2048 } });
    const services = withServices(ctx);
    const app = feedRoutes(ctx, services);
    const r = await post(app, '/fastnetmon', JSON.stringify({ ...ban, details: 'x'.repeat(5000) }));
    expect(r.status).toBe(413);
    expect(ctx.ingested).toHaveLength(0);
    expect(services.feeds.health().find((f) => f.name === 'fastnetmon')!.errors).toBe(1);
  });

  it('answers 429 when a feed is over its rate', async () => {
    const ctx = fakeContext({ auth, feeds: { rate_limit: { per_second: 0.001, burst: 1 } } });
    const services = withServices(ctx);
    const app = feedRoutes(ctx, services);
    expect((await post(app, '/fastnetmon', JSON.stringify(ban))).status).toBe(200);
    const r = await post(app, '/fastnetmon', JSON.stringify({ ...ban, pps: 1 }));
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
  });

  it('takes Suricata EVE as NDJSON text and tails configured EVE files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eve-'));
    try {
      const eve = join(dir, 'eve.json');
      writeFileSync(eve, '');
      const ctx = fakeContext({ auth, feeds: { suricata: { eve_files: [eve], poll_ms: 60_000 } } });
      const services = withServices(ctx);
      const app = feedRoutes(ctx, services);
      // Mounting routes starts nothing: the server starts the tailers (main/services.ts).
      services.feeds.start();
      const alert = {
        timestamp: '2026-11-24T21:40:01.000000+0000',
        event_type: 'alert',
        flow_id: 7,
        src_ip: '203.0.113.5',
        dest_ip: '198.51.100.7',
        proto: 'UDP',
        alert: { signature_id: 2, signature: 'ET DOS Possible SSDP Amplification Scan in Progress', severity: 2 },
      };
      const r = await post(app, '/suricata', `${JSON.stringify(alert)}\n`, ADMIN, 'application/x-ndjson');
      expect(await r.json()).toMatchObject({ accepted: 1 });
      await services.feeds.pollFiles(); // opens the file at its (empty) end
      appendFileSync(eve, `${JSON.stringify({ ...alert, flow_id: 8, dest_ip: '198.51.100.9' })}\n{broken\n`);
      await services.feeds.pollFiles();
      expect(ctx.ingested.map((e) => [e.kind, e.key])).toEqual([
        ['amplification', '198.51.100.7'],
        ['amplification', '198.51.100.9'],
      ]);
      expect(services.feeds.health().find((f) => f.name === 'suricata')).toMatchObject({ events: 2, errors: 1 });
      await services.feeds.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('feed documentation', () => {
  it('serves the generic webhook JSON Schema and lists the feeds in the OpenAPI document', async () => {
    const ctx = fakeContext({ auth });
    const services = withServices(ctx);
    const routes = feedRoutes(ctx, services);
    const schema = (await (await routes.request('/generic/schema')).json()) as {
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(schema.required.sort()).toEqual(['detector', 'direction']);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['kind', 'target', 'sources', 'pps', 'id']));
    const app = createApp(ctx, services.auth, { mounts: [{ prefix: '/api/feeds', routes }] });
    const doc = (await (await app.request('/api/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/feeds/fastnetmon', '/api/feeds/suricata', '/api/feeds/generic']),
    );
    // Mounted in the real app, the feed routes still do their own validation and auth.
    const r = await app.request('/api/feeds/generic', {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
  });
});

describe('server/bin/fastnetmon-notify', () => {
  const script = fileURLToPath(new URL('../../bin/fastnetmon-notify', import.meta.url));
  const received: { url?: string; auth?: string; body: string }[] = [];
  let failFirst = 0;
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ url: req.url, auth: req.headers.authorization, body });
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(503).end('busy');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":1}');
    });
  });
  const listening = new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const run = async (args: string[], stdin: string | null) => {
    const port = await listening;
    return new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(script, args, {
        env: { PATH: process.env.PATH, DOWNSTREAM_URL: `http://127.0.0.1:${port}/`, DOWNSTREAM_TOKEN: ADMIN },
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let stderr = '';
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      if (stdin !== null) p.stdin.end(stdin);
      else p.stdin.end();
      p.on('close', (code) => resolve({ code, stderr }));
    });
  };

  it('posts arguments and stdin details the way FastNetMon calls it, retrying a 503', async () => {
    received.length = 0;
    failFirst = 1;
    const r = await run(['198.51.100.7', 'incoming', '19577', 'ban'], banDetails);
    expect(r.code).toBe(0);
    expect(received).toHaveLength(2);
    expect(received[1].url).toBe('/api/feeds/fastnetmon');
    expect(received[1].auth).toBe(`Bearer ${ADMIN}`);
    expect(JSON.parse(received[1].body)).toEqual({
      ip: '198.51.100.7',
      direction: 'incoming',
      pps: 19577,
      action: 'ban',
      details: banDetails,
    });
  });

  it('does not wait for stdin on unban and fails clearly on bad usage', async () => {
    received.length = 0;
    const r = await run(['198.51.100.7', 'incoming', '0', 'unban'], null);
    expect(r.code).toBe(0);
    expect(JSON.parse(received[0].body)).toMatchObject({ action: 'unban', details: '' });
    const bad = await run([], null);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/usage/);
  });
});
