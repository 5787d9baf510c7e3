import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeContext, outboundIncident, sampleIncident } from '../testing/recording-context.js';
import { testServices, type RunningServices } from '../testing/services.js';
import { createApp } from './app.js';
import { reportRoutes } from './reports.js';

const VIEWER = 'viewer-token-0123456789';
const OPERATOR = 'operator-token-0123456789';
const auth = {
  tokens: [
    { name: 'wall', role: 'viewer', token: VIEWER },
    { name: 'alice', role: 'operator', token: OPERATOR },
  ],
};
const dirs: string[] = [];
const running: RunningServices[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(actions: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'reports-api-'));
  dirs.push(dir);
  const ctx = fakeContext({ auth, storage: { path: dir }, actions });
  const services = testServices(ctx);
  running.push(services);
  // Mounted the way server.ts mounts route groups: under /api.
  const app = new Hono().route('/api', reportRoutes(ctx, services));
  const req = (path: string, token = VIEWER, init: RequestInit = {}) =>
    app.request(path, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
  return { ctx, services, req, dir };
}

describe('reportRoutes', () => {
  it('serves X-ARF and ARF downloads per recipient', async () => {
    const { ctx, req } = setup({ reports: { asn_contacts: { '65001': 'abuse@transit1.example' } } });
    ctx.incidentMap.set('inc-fanin-1', sampleIncident());
    const rc = await req('/api/incidents/inc-fanin-1/report/recipients');
    expect(((await rc.json()) as { recipients: { id: string }[] }).recipients.map((r) => r.id)).toEqual([
      'asn:65001',
      'asn:65002',
      'upstream:Transit A',
    ]);
    const x = await req('/api/incidents/inc-fanin-1/report?format=xarf');
    expect(x.status).toBe(200);
    expect(x.headers.get('content-disposition')).toBe(
      'attachment; filename="incident-inc-fanin-1-asn_65001.xarf.json"',
    );
    expect(x.headers.get('x-report-to')).toBe('abuse@transit1.example');
    expect(((await x.json()) as { Version: string }).Version).toBe('3');
    const a = await req('/api/incidents/inc-fanin-1/report?format=arf&to=upstream:Transit%20A');
    expect(a.headers.get('content-type')).toBe('message/rfc822');
    expect(await a.text()).toContain('multipart/report; report-type=feedback-report');
  });

  it('names what is wrong: unknown incident, bad format, unknown recipient, missing token', async () => {
    const { ctx, req } = setup();
    ctx.incidentMap.set('inc-fanin-1', sampleIncident());
    const nf = await req('/api/incidents/nope/report');
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ details: [{ path: 'params.id' }] });
    const bad = await req('/api/incidents/inc-fanin-1/report?format=pdf');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ details: [{ path: 'query.format' }] });
    const to = await req('/api/incidents/inc-fanin-1/report?to=asn:1');
    expect(to.status).toBe(400);
    expect(await to.json()).toMatchObject({ details: [{ path: 'query.to' }] });
    expect((await req('/api/incidents/inc-fanin-1/report', 'wrong-token-0123456789')).status).toBe(401);
  });

  it('mitigation: operator only, validated, 409 when not enabled, lines out when enabled', async () => {
    const off = setup();
    off.ctx.incidentMap.set('inc-fanin-1', sampleIncident());
    const body = JSON.stringify({ type: 'rtbh' });
    expect((await off.req('/api/incidents/inc-fanin-1/mitigation', VIEWER, { method: 'POST', body })).status).toBe(403);
    const r409 = await off.req('/api/incidents/inc-fanin-1/mitigation', OPERATOR, { method: 'POST', body });
    expect(r409.status).toBe(409);
    const bad = await off.req('/api/incidents/inc-fanin-1/mitigation', OPERATOR, {
      method: 'POST',
      body: JSON.stringify({ type: 'nuke' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ details: [{ path: 'body.type' }] });

    const dir = mkdtempSync(join(tmpdir(), 'reports-api-cmd-'));
    dirs.push(dir);
    const out = join(dir, 'lines');
    const on = setup({ mitigation: { enabled: true, command: ['sh', '-c', `cat >> '${out}'`] } });
    on.ctx.incidentMap.set('inc-fanin-1', sampleIncident());
    const ok = await on.req('/api/incidents/inc-fanin-1/mitigation', OPERATOR, { method: 'POST', body });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ announcedBy: 'alice', prefix: '198.51.100.7/32' });
    const list = await on.req('/api/mitigations?active=true');
    expect(((await list.json()) as { mitigations: unknown[] }).mitigations).toHaveLength(1);
    const del = await on.req('/api/incidents/inc-fanin-1/mitigation', OPERATOR, { method: 'DELETE' });
    expect(((await del.json()) as { withdrawn: unknown[] }).withdrawn).toHaveLength(1);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual([
      'announce route 198.51.100.7/32 next-hop 192.0.2.1 community [65535:666]',
      'withdraw route 198.51.100.7/32 next-hop 192.0.2.1',
    ]);
    expect(on.ctx.audit.map((a) => a.action)).toEqual(['mitigation.announce.rtbh', 'mitigation.withdraw.rtbh']);
  });

  it('remediation list from outbound incidents: JSON, status moves with audit, CSV', async () => {
    const { ctx, services, req } = setup();
    ctx.emit('upsert', outboundIncident());
    // The remediation list is written asynchronously as the incident arrives.
    await services.actions.settled();
    const list = (await (await req('/api/remediation?customer=Residential%20pool%20A')).json()) as {
      entries: { id: number; ip: string }[];
    };
    expect(list.entries.map((e) => e.ip)).toEqual(['198.51.100.23']);
    const id = list.entries[0].id;
    expect(
      (await req(`/api/remediation/${id}`, VIEWER, { method: 'POST', body: '{"status":"notified"}' })).status,
    ).toBe(403);
    const up = await req(`/api/remediation/${id}`, OPERATOR, {
      method: 'POST',
      body: JSON.stringify({ status: 'notified', note: 'letter sent' }),
    });
    expect(await up.json()).toMatchObject({ status: 'notified', statusBy: 'alice', note: 'letter sent' });
    expect(ctx.audit.at(-1)).toMatchObject({ action: 'remediation.notified', by: 'alice' });
    const bad = await req(`/api/remediation/${id}`, OPERATOR, {
      method: 'POST',
      body: JSON.stringify({ status: 'fixed' }),
    });
    expect(await bad.json()).toMatchObject({ details: [{ path: 'body.status' }] });
    expect(
      (await req('/api/remediation/99999', OPERATOR, { method: 'POST', body: '{"status":"notified"}' })).status,
    ).toBe(404);
    const sum = (await (await req('/api/remediation/summary')).json()) as {
      customers: { customer: string; open: number; notified: number }[];
    };
    expect(sum.customers).toEqual([
      expect.objectContaining({ customer: '=cmd|evil', open: 1, notified: 0, remediated: 0 }),
      expect.objectContaining({ customer: 'Residential pool A', open: 0, notified: 1, remediated: 0 }),
    ]);
    const csv = await req('/api/remediation.csv?status=notified');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('198.51.100.23');
  });

  it('documents its endpoints in the OpenAPI document when mounted', async () => {
    const { ctx, services } = setup();
    const app = createApp(ctx, services.auth, { mounts: [{ prefix: '/api', routes: reportRoutes(ctx, services) }] });
    const doc = (await (await app.request('/api/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/incidents/{id}/report',
        '/api/incidents/{id}/mitigation',
        '/api/remediation',
        '/api/remediation.csv',
      ]),
    );
  });
});
