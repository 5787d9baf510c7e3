import {
  ApiError,
  AsnHeatmap,
  AsnHistory,
  CustomerScorecard,
  EndpointHistory,
  UpstreamTrends,
} from '@downstream/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AbuseRollupRow, AppContext } from '../context.js';
import { createEnricher } from '../enrich/index.js';
import { DAY, HOUR, MINUTE, openStore, type SqliteStore } from '../store/index.js';
import { makeIncident } from '../testing/make-incident.js';
import { createApp } from './app.js';
import { createFakeContext } from '../testing/fake-context.js';
import { testServices, type RunningServices } from '../testing/services.js';
import { historyRoutes, parseInstant, parseStep } from './history.js';

const tokens = [{ name: 'wall', role: 'viewer' as const, token: 'viewer-token-0123456789' }];
const AUTH = { Authorization: `Bearer ${tokens[0].token}` };

let ctx: AppContext;
let store: SqliteStore;
let services: RunningServices;
let app: ReturnType<typeof createApp>;
// Whole hours so bucket maths in the assertions is plain.
const now = Math.floor(Date.now() / HOUR) * HOUR;

beforeEach(() => {
  const fake = createFakeContext({
    tokens,
    config: {
      network: {
        customers: [
          { name: 'Residential A', prefixes: ['198.51.100.0/25'] },
          { name: 'Business B', prefixes: ['198.51.100.128/25'] },
          { name: 'Quiet C', prefixes: ['192.0.2.0/24'] },
        ],
        links: [
          { exporter: '192.0.2.1', ifindex: 10, name: 'Transit A', role: 'upstream', asn: 174 },
          { exporter: '192.0.2.1', ifindex: 11, name: 'Transit B', role: 'upstream', asn: 3356 },
          { exporter: '192.0.2.1', ifindex: 20, name: 'Downstream', role: 'customer' },
        ],
      },
    },
  });
  store = openStore({ path: ':memory:', retentionDays: 90, logger: fake.logger, timers: false });
  ctx = { ...fake, store, enricher: createEnricher(fake.config.network) };
  services = testServices(ctx);
  app = createApp(ctx, services.auth, { mounts: [{ prefix: '/api', routes: historyRoutes(ctx, services) }] });

  const rows: AbuseRollupRow[] = [];
  for (let m = 0; m < 180; m++) {
    const t = now - 3 * HOUR + m * MINUTE;
    rows.push({ minute: t, kind: 'ddos-fan-in', dimension: 'asn', key: '13335', packets: 10, bytes: 1000, flows: 1 });
    rows.push({ minute: t, kind: 'amplification', dimension: 'asn', key: '15169', packets: 1, bytes: 100, flows: 1 });
    rows.push({
      minute: t,
      kind: 'ddos-fan-in',
      dimension: 'upstream',
      key: 'Transit A',
      packets: 11,
      bytes: 1100,
      flows: 2,
    });
    rows.push({
      minute: t,
      kind: 'spam-bot',
      dimension: 'customer',
      key: 'Residential A',
      packets: 3,
      bytes: 300,
      flows: 3,
    });
    rows.push({
      minute: t,
      kind: 'spam-bot',
      dimension: 'endpoint',
      key: '198.51.100.10',
      packets: 2,
      bytes: 200,
      flows: 2,
    });
    rows.push({
      minute: t,
      kind: 'spam-bot',
      dimension: 'endpoint',
      key: '198.51.100.11',
      packets: 1,
      bytes: 100,
      flows: 1,
    });
  }
  // Older than 7 days: hourly only.
  rows.push({
    minute: now - 10 * DAY,
    kind: 'scanner',
    dimension: 'endpoint',
    key: '198.51.100.10',
    packets: 7,
    bytes: 700,
    flows: 7,
  });
  store.recordAbuse(rows);
  store.upsertIncident(
    makeIncident('inc-out', {
      kind: 'spam-bot',
      lastSeen: new Date(now - HOUR).toISOString(),
      firstSeen: new Date(now - 2 * HOUR).toISOString(),
    }),
  );
  store.upsertIncident(
    makeIncident('inc-in', {
      kind: 'ddos-fan-in',
      direction: 'inbound',
      status: 'resolved',
      target: { ip: '198.51.100.200', customer: 'Business B' },
      sources: {
        distinct: 1,
        top: [{ ip: '1.1.1.1', asn: 13335, asName: 'Cloudflare, Inc.', country: 'AU', packets: 1, bytes: 1 }],
        asns: [{ asn: 13335, name: 'Cloudflare, Inc.', share: 1 }],
      },
      lastSeen: new Date(now - 30 * MINUTE).toISOString(),
      firstSeen: new Date(now - 40 * MINUTE).toISOString(),
    }),
  );
});
afterEach(async () => {
  await services.stop();
  store.close();
});

async function get(path: string, headers: Record<string, string> = AUTH): Promise<{ status: number; body: unknown }> {
  const res = await app.request(path, { headers });
  return { status: res.status, body: await res.json() };
}

describe('query parsing', () => {
  it('accepts ISO-8601 with offset and epoch ms; steps in m, h, d', () => {
    expect(parseInstant('2026-11-24T10:00:00Z')).toBe(Date.UTC(2026, 10, 24, 10));
    expect(parseInstant('2026-11-24T11:00:00+01:00')).toBe(Date.UTC(2026, 10, 24, 10));
    expect(parseInstant('1795552200000')).toBe(1795552200000);
    expect(parseInstant('2026-11-24')).toBeUndefined();
    expect(parseInstant('yesterday')).toBeUndefined();
    expect(parseStep('5m')).toBe(5 * MINUTE);
    expect(parseStep('6h')).toBe(6 * HOUR);
    expect(parseStep('1d')).toBe(DAY);
    for (const bad of ['0m', '1s', 'h', '1.5h', '-1h', '1 h']) expect(parseStep(bad)).toBeUndefined();
  });
});

describe('GET /api/asns/heatmap', () => {
  it('returns top ASNs by bytes with one value per bucket and AS names from the data set', async () => {
    const { status, body } = await get(`/api/asns/heatmap?from=${now - 3 * HOUR}&to=${now}&step=1h`);
    expect(status).toBe(200);
    const h = AsnHeatmap.parse(body);
    expect(h.resolution).toBe('hour');
    expect(h.buckets).toEqual([3, 2, 1].map((k) => new Date(now - k * HOUR).toISOString()));
    expect(h.rows.map((r) => [r.asn, r.name])).toEqual([
      [13335, 'Cloudflare, Inc.'],
      [15169, 'Google LLC'],
    ]);
    expect(h.rows[0].bytes).toEqual([60_000, 60_000, 60_000]);
    expect(h.rows[0].total).toEqual({ packets: 1800, bytes: 180_000, flows: 180 });
    expect(h.rows[1].byKind).toEqual({ amplification: 18_000 });
  });

  it('filters by kind, limits with top, and answers minute steps from minute rows', async () => {
    const amp = AsnHeatmap.parse(
      (await get(`/api/asns/heatmap?from=${now - 3 * HOUR}&to=${now}&kind=amplification`)).body,
    );
    expect(amp.rows.map((r) => r.asn)).toEqual([15169]);
    expect(amp.kind).toBe('amplification');
    const top1 = AsnHeatmap.parse((await get(`/api/asns/heatmap?from=${now - 3 * HOUR}&to=${now}&top=1`)).body);
    expect(top1.rows).toHaveLength(1);
    const from = new Date(now - HOUR).toISOString();
    const fine = AsnHeatmap.parse((await get(`/api/asns/heatmap?from=${from}&to=${now}&step=15m`)).body);
    expect(fine.resolution).toBe('minute');
    expect(fine.rows[0].bytes).toEqual([15_000, 15_000, 15_000, 15_000]);
  });

  it.each([
    ['from=yesterday', 'query.from'],
    [`to=2026-13-01T00:00:00Z`, 'query.to'],
    [`from=${now}&to=${now - HOUR}`, 'query.from'],
    [`from=${now}&to=${now}`, 'query.from'],
    ['step=1s', 'query.step'],
    ['step=0h', 'query.step'],
    [`from=${now - 30 * DAY}&to=${now}&step=1m`, 'query.step'],
    [`from=${now - 9 * DAY}&to=${now - 8 * DAY}&step=5m`, 'query.step'],
    ['top=0', 'query.top'],
    ['top=5000', 'query.top'],
    ['kind=nonsense', 'query.kind'],
  ])('400 naming the parameter for %s', async (query, path) => {
    const { status, body } = await get(`/api/asns/heatmap?${query}`);
    expect(status).toBe(400);
    const err = ApiError.parse(body);
    expect(err.details?.map((d) => d.path)).toContain(path);
  });

  it('requires a token when tokens are configured', async () => {
    expect((await get('/api/asns/heatmap', {})).status).toBe(401);
  });
});

describe('GET /api/upstreams/trends', () => {
  it('one line per link with traffic, plus configured upstreams without any', async () => {
    const t = UpstreamTrends.parse((await get(`/api/upstreams/trends?from=${now - 3 * HOUR}&to=${now}&step=1h`)).body);
    expect(t.upstreams.map((u) => [u.name, u.role, u.asn, u.total.bytes])).toEqual([
      ['Transit A', 'upstream', 174, 198_000],
      ['Transit B', 'upstream', 3356, 0],
    ]);
    expect(t.upstreams[0].bytes).toEqual([66_000, 66_000, 66_000]);
    expect(t.upstreams[1].lastSeen).toBeNull();
  });
});

describe('GET /api/customers', () => {
  it('scores every configured customer: endpoints, incidents by kind, traffic, last seen', async () => {
    const s = CustomerScorecard.parse((await get('/api/customers')).body);
    const by = new Map(s.customers.map((c) => [c.name, c]));
    const a = by.get('Residential A');
    expect(a).toMatchObject({
      prefixes: ['198.51.100.0/25'],
      endpoints: 2,
      incidents: { total: 1, active: 1, byKind: { 'spam-bot': 1 } },
      traffic: { packets: 540, bytes: 54_000, flows: 540 },
      byKind: { 'spam-bot': 54_000 },
    });
    expect(a?.lastSeen).toBe(new Date(now - MINUTE).toISOString());
    expect(by.get('Business B')).toMatchObject({
      endpoints: 1,
      incidents: { total: 1, active: 0, byKind: { 'ddos-fan-in': 1 } },
    });
    expect(by.get('Quiet C')).toMatchObject({ endpoints: 0, incidents: { total: 0 }, lastSeen: null });
    expect(s.customers[0].name).toBe('Residential A');
  });

  it('400 on a bad range', async () => {
    const { status, body } = await get(`/api/customers?from=${now}&to=${now - DAY}`);
    expect(status).toBe(400);
    expect(ApiError.parse(body).details?.[0].path).toBe('query.from');
  });
});

describe('GET /api/endpoints/:ip', () => {
  it('every incident and rollup for the endpoint, minute rows recent and hourly beyond 7 days', async () => {
    const e = EndpointHistory.parse((await get('/api/endpoints/198.51.100.10')).body);
    expect(e).toMatchObject({ ip: '198.51.100.10', customer: 'Residential A', asn: 0 });
    expect(e.incidents.map((i) => i.id)).toEqual(['inc-out']);
    expect(e.rollups.filter((r) => r.resolution === 'minute')).toHaveLength(180);
    expect(e.rollups.at(-1)).toMatchObject({ resolution: 'hour', kind: 'scanner', bytes: 700 });
    expect(e.total.bytes).toBe(180 * 200 + 700);
    expect(e.byKind).toEqual({ 'spam-bot': 36_000, scanner: 700 });
  });

  it('finds an endpoint named only as an incident target, and normalises IPv6 text', async () => {
    expect(EndpointHistory.parse((await get('/api/endpoints/198.51.100.200')).body).incidents.map((i) => i.id)).toEqual(
      ['inc-in'],
    );
    const v6 = EndpointHistory.parse((await get('/api/endpoints/2606:4700:0000::1111')).body);
    expect(v6).toMatchObject({ ip: '2606:4700::1111', asn: 13335, incidents: [], rollups: [] });
  });

  it('limits the incidents listed', async () => {
    store.upsertIncident(
      makeIncident('inc-out-2', { kind: 'scanner', lastSeen: new Date(now - 2 * MINUTE).toISOString() }),
    );
    const all = EndpointHistory.parse((await get('/api/endpoints/198.51.100.10')).body);
    expect(all.incidents.map((i) => i.id)).toEqual(['inc-out-2', 'inc-out']);
    const one = EndpointHistory.parse((await get('/api/endpoints/198.51.100.10?limit=1')).body);
    expect(one.incidents.map((i) => i.id)).toEqual(['inc-out-2']);
    const bad = await get('/api/endpoints/198.51.100.10?limit=0');
    expect(bad.status).toBe(400);
    expect(ApiError.parse(bad.body).details?.[0].path).toBe('query.limit');
  });

  it('400 on a bad address', async () => {
    const { status, body } = await get('/api/endpoints/300.1.1.1');
    expect(status).toBe(400);
    expect(ApiError.parse(body).details?.[0].path).toBe('param.ip');
  });
});

describe('GET /api/asns/:asn', () => {
  it('series and incidents of one ASN', async () => {
    const a = AsnHistory.parse((await get(`/api/asns/13335?from=${now - 3 * HOUR}&to=${now}&step=1h`)).body);
    expect(a.name).toBe('Cloudflare, Inc.');
    expect(a.series.bytes).toEqual([60_000, 60_000, 60_000]);
    expect(a.incidents.map((i) => i.id)).toEqual(['inc-in']);
    const none = AsnHistory.parse((await get('/api/asns/64512')).body);
    expect(none.series.total.bytes).toBe(0);
    expect(none.incidents).toEqual([]);
  });

  it.each(['abc', '-1', '4294967296', '1.5'])('400 naming the ASN for %s', async (asn) => {
    const { status, body } = await get(`/api/asns/${asn}`);
    expect(status).toBe(400);
    expect(ApiError.parse(body).details?.[0].path).toBe('param.asn');
  });
});

describe('OpenAPI', () => {
  it('documents the history routes in /api/openapi.json', async () => {
    const doc = (await get('/api/openapi.json')).body as { paths: Record<string, unknown> };
    for (const p of [
      '/api/asns/heatmap',
      '/api/upstreams/trends',
      '/api/customers',
      '/api/endpoints/{ip}',
      '/api/asns/{asn}',
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });
});
