import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIVE_NAMESPACE } from '@downstream/shared';
import { pino } from 'pino';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectionEvent } from '../testing/fake-context.js';
import { parseConfig } from '../config/config.js';
import { startServer, type RunningServer } from '../main/server.js';
import { roleAtLeast } from './auth.js';

const FEED = 'feed-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abc';
const ADMIN = 'admin-token-0123456789abcd';
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let s: RunningServer;
let dir: string;
let incidentId: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ds-feed-role-'));
  s = await startServer({
    config: parseConfig({
      http: { host: '127.0.0.1', port: 0 },
      storage: { path: dir },
      auth: {
        tokens: [
          { name: 'fastnetmon-edge1', role: 'feed', token: FEED },
          { name: 'wall', role: 'viewer', token: VIEWER },
          { name: 'root', role: 'admin', token: ADMIN },
        ],
      },
    }),
    logger,
    version: 'test',
  });
  s.ctx.incidents.ingest(detectionEvent('198.51.100.40'));
  incidentId = s.ctx.incidents.active()[0].id;
});
afterAll(async () => {
  await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const req = (method: string, path: string, token: string, body?: string) =>
  fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });

const fnmBody = JSON.stringify({
  ip: '198.51.100.41',
  direction: 'incoming',
  pps: 250000,
  action: 'ban',
  details: 'IP: 198.51.100.41\nAttack type: syn_flood\nIncoming traffic: 900 mbps\nIncoming pps: 250000 pps\n',
});

describe('role feed', () => {
  it('sits outside the viewer < operator < admin ladder', () => {
    expect(roleAtLeast('feed', 'feed')).toBe(true);
    for (const r of ['viewer', 'operator', 'admin'] as const) {
      expect(roleAtLeast('feed', r)).toBe(false);
      expect(roleAtLeast(r, 'feed')).toBe(false);
    }
  });

  it('may post to every feed endpoint', async () => {
    const generic = await req(
      'POST',
      '/api/feeds/generic',
      FEED,
      JSON.stringify({
        detector: 'honeypot',
        id: 'h-1',
        kind: 'scanner',
        direction: 'outbound',
        sources: [{ ip: '198.51.100.23', packets: 120 }],
        summary: 'SSH probes',
      }),
    );
    expect(generic.status, await generic.clone().text()).toBe(200);
    expect(((await generic.json()) as { accepted: number }).accepted).toBe(1);
    const fnm = await req('POST', '/api/feeds/fastnetmon', FEED, fnmBody);
    expect(fnm.status, await fnm.clone().text()).toBe(200);
    const eve = await req(
      'POST',
      '/api/feeds/suricata',
      FEED,
      JSON.stringify({
        timestamp: new Date().toISOString(),
        event_type: 'alert',
        src_ip: '198.51.100.24',
        src_port: 5555,
        dest_ip: '203.0.113.99',
        dest_port: 22,
        proto: 'TCP',
        alert: {
          signature_id: 2001219,
          signature: 'ET SCAN SSH brute force',
          category: 'Attempted Information Leak',
          severity: 2,
        },
      }),
    );
    expect(eve.status, await eve.clone().text()).toBe(200);
  });

  it('is refused everywhere else in the API with 403 naming the role, while a viewer is not', async () => {
    const id = encodeURIComponent(incidentId);
    // Every route the OpenAPI document lists (ids filled in), plus /metrics.
    const doc = (await (await fetch(`${s.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes: [string, string][] = [['GET', '/metrics']];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const concrete = path
          .replace('{id}', path.startsWith('/api/remediation') ? '1' : id)
          .replace('{ip}', '198.51.100.40')
          .replace('{asn}', '64500');
        routes.push([method.toUpperCase(), concrete]);
      }
    }
    expect(routes.length).toBeGreaterThan(20);
    const allowed: string[] = [];
    for (const [method, path] of routes) {
      const isFeedPost = method === 'POST' && path.startsWith('/api/feeds/');
      const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
      const r = await req(method, path, FEED, body);
      if (isFeedPost) continue;
      if (r.status !== 403) allowed.push(`${method} ${path} → ${r.status}`);
      else expect(((await r.json()) as { details: { message: string }[] }).details[0].message).toMatch(/role feed/);
    }
    // The API's own description (and the generic feed's JSON Schema) are public to everyone.
    expect(allowed).toEqual([]);
    const viewer = await req('GET', `/api/incidents/${id}`, VIEWER);
    expect(viewer.status).toBe(200);
  });

  it('cannot open the /live socket; a viewer can', async () => {
    const attempt = (token: string) =>
      new Promise<{ ok: boolean; data?: unknown }>((resolve) => {
        const c = connect(s.url + LIVE_NAMESPACE, { auth: { token }, transports: ['websocket'], reconnection: false });
        c.once('connect', () => {
          c.disconnect();
          resolve({ ok: true });
        });
        c.once('connect_error', (err: Error & { data?: unknown }) => {
          c.disconnect();
          resolve({ ok: false, data: err.data });
        });
      });
    const feed = await attempt(FEED);
    expect(feed.ok).toBe(false);
    expect(feed.data).toMatchObject({ error: 'forbidden', details: [{ message: expect.stringMatching(/role feed/) }] });
    expect((await attempt(VIEWER)).ok).toBe(true);
  });

  it('admin may still post feeds; operators and viewers may not', async () => {
    expect((await req('POST', '/api/feeds/fastnetmon', ADMIN, fnmBody)).status).toBe(200);
    const v = await req('POST', '/api/feeds/fastnetmon', VIEWER, fnmBody);
    expect(v.status).toBe(403);
    expect(((await v.json()) as { error: string }).error).toBe('role feed or admin required');
  });
});
