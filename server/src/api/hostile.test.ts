import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectionEvent } from '../testing/fake-context.js';
import { parseConfig } from '../config/config.js';
import { startServer, type RunningServer } from '../main/server.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const ORIGIN = 'https://noc.example.net';
let s: RunningServer;
let dir: string;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ds-hostile-'));
  s = await startServer({
    config: parseConfig({
      http: { host: '127.0.0.1', port: 0, cors_origins: [ORIGIN], headers_timeout_ms: 500, request_timeout_ms: 2000 },
      storage: { path: dir },
      feeds: { max_body_bytes: 256 * 1024 },
    }),
    logger,
    version: 'test',
  });
  port = s.port;
});
afterAll(async () => {
  await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** First response head on a raw connection, and whether the server then closed it. */
function readHead(sock: Socket, ms = 5000): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no response in ${ms} ms; got ${JSON.stringify(buf)}`)), ms);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const len = /content-length:\s*(\d+)/i.exec(head);
      const body = buf.slice(end + 4);
      if (len && body.length < Number(len[1])) return;
      clearTimeout(timer);
      resolve({ status: Number(head.split(' ')[1]), head, body });
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = tcp({ host: '127.0.0.1', port }, () => resolve(c));
    c.once('error', reject);
  });
}

describe('hostile HTTP input', () => {
  it('answers a 100 MB body with 413 before it is sent, on every route that takes a body', async () => {
    const doc = (await (await fetch(`${s.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const targets: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths))
      for (const m of Object.keys(ops))
        if (m === 'post' || m === 'delete')
          targets.push(`${m.toUpperCase()} ${path.replace('{id}', path.includes('remediation') ? '1' : 'x')}`);
    expect(targets).toEqual(expect.arrayContaining(['POST /api/remediation/1', 'POST /api/feeds/generic']));
    for (const t of targets) {
      const [method, path] = t.split(' ');
      const sock = await open();
      const res = readHead(sock);
      // Announce 100 MB, send 1 KB of it: a server that buffers first would wait for the rest.
      sock.write(
        `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`,
      );
      sock.write('{"text":"' + 'a'.repeat(1024));
      const r = await res;
      sock.destroy();
      expect(r.status, `${t}: ${r.head}`).toBe(413);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'request body too large', details: [{ path: 'body' }] });
    }
  });

  it('stops reading a chunked 100 MB body at the limit, without the memory to hold it', async () => {
    const sock = await open();
    const res = readHead(sock, 10_000);
    sock.write(
      'POST /api/remediation/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const rss0 = process.memoryUsage().rss;
    let sent = 0;
    let answered = false;
    void res.then(() => (answered = true)).catch(() => undefined);
    while (!answered && sent < 100 * 1024 * 1024) {
      if (!sock.write(frame))
        await Promise.race([new Promise((r) => sock.once('drain', r)), res.catch(() => undefined)]);
      sent += chunk.length;
      if (sent % (4 * 1024 * 1024) === 0) await new Promise((r) => setImmediate(r));
    }
    const r = await res;
    sock.destroy();
    expect(r.status).toBe(413);
    console.log(
      `hostile: chunked 100 MB body answered 413 after ${(sent / 1024 / 1024).toFixed(1)} MB sent; RSS +${Math.round((process.memoryUsage().rss - rss0) / 1024 / 1024)} MB`,
    );
    // The server answered long before 100 MB went out; socket buffers hold a few MB at most.
    expect(sent).toBeLessThan(32 * 1024 * 1024);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * 1024 * 1024);
  });

  it('answers 404 for an unknown incident on every incident route', async () => {
    s.ctx.incidents.ingest(detectionEvent('198.51.100.60'));
    const known = encodeURIComponent(s.ctx.incidents.active()[0].id);
    const calls: [string, string, unknown?][] = [
      ['GET', '/api/incidents/{id}'],
      ['GET', '/api/incidents/{id}/audit'],
      ['GET', '/api/incidents/{id}/mitigations'],
      ['GET', '/api/incidents/{id}/report'],
      ['GET', '/api/incidents/{id}/report/recipients'],
      ['POST', '/api/incidents/{id}/ack', {}],
      ['POST', '/api/incidents/{id}/notes', { text: 'hello' }],
      ['POST', '/api/incidents/{id}/mitigation', { type: 'rtbh' }],
      ['DELETE', '/api/incidents/{id}/mitigation'],
      ['POST', '/api/incidents/{id}/resolve', {}],
    ];
    const doc = (await (await fetch(`${s.url}/api/openapi.json`)).json()) as { paths: Record<string, object> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      p.includes('/incidents/{id}') ? Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`) : [],
    );
    // Every incident route there is, so a new one cannot slip by without a 404 check here.
    expect(calls.map(([m, p]) => `${m} ${p}`).sort()).toEqual(documented.sort());
    for (const [method, path, body] of calls) {
      const send = (id: string) =>
        fetch(`${s.url}${path.replace('{id}', id)}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const r = await send('no-such-incident');
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(((await r.json()) as { details: { path: string }[] }).details[0].path).toBe('params.id');
      if (method === 'GET') expect((await send(known)).status, `${method} ${path} known`).not.toBe(404);
    }
  });

  it('answers CORS preflights on purpose: configured origin 204 with headers, others 403 naming the setting', async () => {
    const pre = (origin?: string) =>
      fetch(`${s.url}/api/incidents/x/notes`, {
        method: 'OPTIONS',
        headers: {
          ...(origin ? { origin } : {}),
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const ok = await pre(ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(ok.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/authorization/);
    const evil = await pre('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await evil.json()) as { details: { message: string }[] }).details[0].message).toMatch(
      /https:\/\/evil\.example is not in http\.cors_origins/,
    );
    const plain = await pre();
    expect(plain.status).toBe(204);
    expect(plain.headers.get('allow')).toMatch(/POST/);
    const get = await fetch(`${s.url}/api/health`, { headers: { origin: ORIGIN } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    // With no tokens, a configured origin may also write (same-origin guard), another may not.
    const write = (origin: string) =>
      fetch(`${s.url}/api/incidents/x/ack`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: '{}',
      });
    expect((await write(ORIGIN)).status).toBe(404);
    expect((await write('https://evil.example')).status).toBe(403);
  });

  it('cuts off a client that dribbles its headers, and keeps serving others', async () => {
    const slow = await open();
    const closed = new Promise<number>((r) => slow.once('close', () => r(Date.now())));
    let got = '';
    slow.on('data', (d: Buffer) => (got += d.toString()));
    const t0 = Date.now();
    slow.write('GET /api/health HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => {
      if (!slow.destroyed) slow.write('X-Slow: 1\r\n');
    }, 100);
    const health = await fetch(`${s.url}/api/health`);
    expect(health.status).toBe(200);
    const at = await closed;
    clearInterval(drip);
    // headers_timeout_ms 500; Node checks once per connectionsCheckingInterval (≤ 500 ms here).
    expect(at - t0).toBeLessThan(3000);
    expect(got === '' || /^HTTP\/1\.1 408/.test(got)).toBe(true);
  });
});
