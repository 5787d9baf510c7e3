/**
 * History REST routes over the store's rollups and incident index. Mounted with one line:
 * `app.route('/api', historyRoutes(ctx, services))`; every route requires the viewer role.
 *
 * Times: `from`/`to` accept ISO-8601 with offset or epoch milliseconds (both are unambiguous;
 * ISO for people with curl, epoch ms for scripts and the web's chart axes). Steps: `Nm`, `Nh`,
 * `Nd`. Conventions are documented once, in shared/src/history.ts.
 */
import {
  AsnHeatmap,
  AsnHistory,
  CustomerScorecard,
  EndpointHistory,
  IncidentKind,
  RemediationTrends,
  UpstreamTrends,
  type Incident,
  addrFromString,
  addrToString,
} from '@downstream/shared';
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { requireRole, type AuthEnv } from '../auth/index.js';
import { IpAddress } from '../config/net.js';
import type { AppContext } from '../context.js';
import type { AbuseSeries, AbuseSeriesQuery, AbuseTotal } from '../store/types.js';
import { asnDb } from '../enrich/asn-db.js';
import { DAY, HOUR, MINUTE, MINUTE_RETENTION_MS } from '../store/index.js';
import { withSubscribers } from '../subscribers/annotate.js';
import { errorBody, zodDetails } from '../http/errors.js';
import { json, roleErrors, security } from './openapi-parts.js';
import { remediationMetricsFor } from './remediation-data.js';
import type { ApiServices } from './services.js';

/** Most buckets one series response may hold (7 days of minutes fit; 90 days of hours fit). */
export const MAX_BUCKETS = 10_080;

const INSTANT = /^\d{1,15}$/;
const ISO = z.iso.datetime({ offset: true });

/** ms since epoch from ISO-8601 (with offset) or an epoch-ms integer; undefined when neither. */
export function parseInstant(s: string): number | undefined {
  if (INSTANT.test(s)) return Number(s);
  if (!ISO.safeParse(s).success) return undefined;
  const v = Date.parse(s);
  return Number.isFinite(v) ? v : undefined;
}

const STEP = /^([1-9]\d{0,4})([mhd])$/;
export function parseStep(s: string): number | undefined {
  const m = STEP.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'm' ? MINUTE : m[2] === 'h' ? HOUR : DAY);
}

const Instant = z
  .string()
  .refine((s) => parseInstant(s) !== undefined, {
    message: 'expected an ISO-8601 time with offset (2026-11-24T10:00:00Z) or epoch milliseconds',
  })
  .meta({ description: 'ISO-8601 with offset, or epoch milliseconds', example: '2026-11-24T10:00:00Z' });
const Step = z
  .string()
  .refine((s) => parseStep(s) !== undefined, { message: 'expected a step like 1m, 5m, 1h, 6h or 1d' })
  .meta({ description: 'Bucket width: Nm, Nh or Nd', example: '1h' });

interface RangeDefaults {
  spanMs: number;
  step?: string;
}

/**
 * A [from, to) range query: the schema that validates it (cross-field checks; errors name the
 * parameter) and the resolver its handler uses, both with the same defaults.
 */
function rangeParams(defaults: RangeDefaults, extra: z.ZodRawShape = {}) {
  const schema = z
    .object({
      from: Instant.optional(),
      to: Instant.optional(),
      ...(defaults.step ? { step: Step.optional() } : {}),
      ...extra,
    })
    .superRefine((q, ctx) => {
      const r = resolveRange(q as RawRange, defaults, Date.now());
      for (const issue of r.issues) ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
    });
  return { schema, resolve: (q: RawRange): Range => resolveRange(q, defaults, Date.now()) };
}

interface RawRange {
  from?: string;
  to?: string;
  step?: string;
}

interface Range {
  from: number;
  to: number;
  step: string;
  stepMs: number;
  issues: { path: string; message: string }[];
}

export function resolveRange(q: RawRange, d: RangeDefaults, now: number): Range {
  const issues: Range['issues'] = [];
  const to = q.to !== undefined ? parseInstant(q.to) : now;
  const from = q.from !== undefined ? parseInstant(q.from) : (to ?? now) - d.spanMs;
  const step = q.step ?? d.step ?? '1h';
  const stepMs = parseStep(step) ?? HOUR;
  if (from === undefined || to === undefined) return { from: 0, to: 0, step, stepMs, issues };
  if (from >= to)
    issues.push({
      path: 'from',
      message: `from must be before to (${new Date(from).toISOString()} ≥ ${new Date(to).toISOString()})`,
    });
  else if (d.step !== undefined && parseStep(step) !== undefined) {
    const buckets = Math.ceil((to - Math.floor(from / stepMs) * stepMs) / stepMs);
    if (buckets > MAX_BUCKETS)
      issues.push({
        path: 'step',
        message: `${buckets} buckets is more than ${MAX_BUCKETS}: use a larger step or a shorter range`,
      });
    if (stepMs % HOUR !== 0 && from < now - MINUTE_RETENTION_MS) {
      issues.push({
        path: 'step',
        message: 'steps under an hour need from within the last 7 days (older data is kept hourly)',
      });
    }
  }
  return { from, to, step, stepMs, issues };
}

const errors = roleErrors('parameter');
const Kind = IncidentKind.optional();
const IncidentLimit = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .optional()
  .meta({ description: 'Most incidents listed (newest first); default 100' });
const Top = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .optional()
  .meta({ description: 'How many keys (by bytes); default 50' });

const iso = (t: number): string => new Date(t).toISOString();
const TOP_SOURCES = 20;
const trim = (inc: Incident): Incident =>
  inc.sources.top.length > TOP_SOURCES
    ? { ...inc, sources: { ...inc.sources, top: inc.sources.top.slice(0, TOP_SOURCES) } }
    : inc;

/** The part of [from, to) the demo's simulated history covers, or null. */
type Span = { from: number; to: number } | undefined;

function simulatedIn(h: Span, range: { from: number; to: number }) {
  if (!h) return null;
  const from = Math.max(h.from, range.from);
  const to = Math.min(h.to, range.to);
  return from < to ? { from: iso(from), to: iso(to) } : null;
}

function axis(range: Range, s: AbuseSeries, kind: IncidentKind | undefined, span: Span) {
  return {
    from: iso(range.from),
    to: iso(range.to),
    step: range.step,
    stepMs: range.stepMs,
    resolution: s.resolution,
    buckets: s.buckets.map(iso),
    ...(kind ? { kind } : {}),
    simulated: simulatedIn(span, range),
  };
}

function values(s: AbuseSeries['series'][number]) {
  return {
    total: { packets: s.packets, bytes: s.bytes, flows: s.flows },
    byKind: s.byKind,
    packets: s.packetsSeries,
    bytes: s.bytesSeries,
    flows: s.flowsSeries,
    lastSeen: s.lastSeen > 0 ? iso(s.lastSeen) : null,
  };
}

/** Whether the incident was active at some time in [from, to). */
function seenIn(i: Incident, range: Range): boolean {
  return Date.parse(i.lastSeen) >= range.from && Date.parse(i.firstSeen) < range.to;
}

function canonicalIp(ip: string): string {
  return addrToString(addrFromString(ip), 0);
}

export function historyRoutes(ctx: AppContext, services: Pick<ApiServices, 'auth' | 'actions'>): OpenAPIHono<AuthEnv> {
  const viewer = requireRole(services.auth, 'viewer');
  const app = new OpenAPIHono<AuthEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(errorBody('invalid request', zodDetails(result.error, result.target)), 400);
    },
  });
  const asName = (asn: number): string => asnDb().names.get(asn) ?? '';
  const store = ctx.store;
  const span = async (): Promise<Span> => store.simulatedHistory?.();
  /** What every history route is: a GET for the viewer role and up. */
  const viewerGet = { method: 'get' as const, security, middleware: [viewer] };
  const series = (
    dimension: 'asn' | 'upstream',
    range: Range,
    kind: IncidentKind | undefined,
    keys: Pick<AbuseSeriesQuery, 'keys' | 'top'>,
  ): Promise<AbuseSeries> =>
    store.abuseSeries({ dimension, from: range.from, to: range.to, stepMs: range.stepMs, kind, ...keys });

  const seriesRange = rangeParams({ spanMs: 7 * DAY, step: '1h' }, { kind: Kind, top: Top });
  const customersRange = rangeParams({ spanMs: 30 * DAY });
  const endpointRange = rangeParams({ spanMs: ctx.config.storage.retention_days * DAY }, { limit: IncidentLimit });
  const asnRange = rangeParams({ spanMs: 7 * DAY, step: '1h' }, { kind: Kind, limit: IncidentLimit });

  app.openapi(
    createRoute({
      ...viewerGet,
      path: '/asns/heatmap',
      summary: 'Source ASN × time matrix of abusive traffic (top ASNs by bytes)',
      description: 'Default range: the last 7 days in 1h steps. `top` ASNs (default 50, at most 1000).',
      request: { query: seriesRange.schema },
      responses: { 200: json(AsnHeatmap.meta({ id: 'AsnHeatmap' }), 'The heatmap'), ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query') as RawRange & { kind?: IncidentKind; top?: number };
      const range = seriesRange.resolve(q);
      const s = await series('asn', range, q.kind, { top: q.top ?? 50 });
      return c.json(
        {
          ...axis(range, s, q.kind, await span()),
          rows: s.series.map((r) => ({ asn: Number(r.key) || 0, name: asName(Number(r.key)), ...values(r) })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      ...viewerGet,
      path: '/upstreams/trends',
      summary: 'Abusive traffic per upstream / peer link over time',
      description: 'Default range: the last 7 days in 1h steps. Configured upstream links appear even without traffic.',
      request: { query: seriesRange.schema },
      responses: { 200: json(UpstreamTrends.meta({ id: 'UpstreamTrends' }), 'One line per link'), ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query') as RawRange & { kind?: IncidentKind; top?: number };
      const range = seriesRange.resolve(q);
      const links = ctx.config.network.links;
      const byName = new Map(links.map((l) => [l.name, l]));
      let s = await series('upstream', range, q.kind, { top: q.top ?? 50 });
      const configured = links.filter((l) => l.role !== 'customer').map((l) => l.name);
      const missing = configured.filter((n) => !s.series.some((r) => r.key === n));
      if (missing.length > 0) {
        const extra = await series('upstream', range, q.kind, { keys: [...new Set(missing)] });
        s = { ...s, series: [...s.series, ...extra.series] };
      }
      return c.json(
        {
          ...axis(range, s, q.kind, await span()),
          upstreams: s.series.map((r) => {
            const l = byName.get(r.key);
            return {
              name: r.key,
              ...(l ? { role: l.role, ...(l.asn !== undefined ? { asn: l.asn } : {}) } : {}),
              ...values(r),
            };
          }),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      ...viewerGet,
      path: '/customers',
      summary: 'Customer scorecard: endpoints involved, incidents by kind, traffic, last seen',
      description: 'Default range: the last 30 days.',
      request: { query: customersRange.schema },
      responses: { 200: json(CustomerScorecard.meta({ id: 'CustomerScorecard' }), 'One row per customer'), ...errors },
    }),
    async (c) => {
      const range = customersRange.resolve(c.req.valid('query') as RawRange);
      type Row = CustomerScorecard['customers'][number] & { _endpoints: Set<string>; _last: number };
      const rows = new Map<string, Row>();
      const row = (name: string): Row => {
        let r = rows.get(name);
        if (!r) {
          r = {
            name,
            prefixes: [],
            endpoints: 0,
            incidents: { total: 0, active: 0, byKind: {} },
            traffic: { packets: 0, bytes: 0, flows: 0 },
            byKind: {},
            lastSeen: null,
            _endpoints: new Set(),
            _last: 0,
          };
          rows.set(name, r);
        }
        return r;
      };
      for (const cu of ctx.config.network.customers) row(cu.name).prefixes.push(...cu.prefixes);
      const customerTotals = await store.abuseTotals({ dimension: 'customer', from: range.from, to: range.to });
      for (const t of customerTotals) {
        const r = row(t.key);
        r.traffic = { packets: t.packets, bytes: t.bytes, flows: t.flows };
        r.byKind = t.byKind;
        r._last = Math.max(r._last, t.lastSeen);
      }
      // Endpoints: those with abusive rollups in the range, attributed by the site's prefixes…
      for (const t of await store.abuseTotals({ dimension: 'endpoint', from: range.from, to: range.to })) {
        let customer: string | undefined;
        try {
          customer = ctx.enricher.lookup(t.key).customer;
        } catch {
          continue;
        }
        if (!customer) continue;
        const r = row(customer);
        r._endpoints.add(t.key);
        r._last = Math.max(r._last, t.lastSeen);
      }
      // …and incidents naming the customer, with the endpoints they list as that customer's.
      for (const k of await store.incidentCounts('customer', range.from)) {
        const r = row(k.key);
        r.incidents.total += k.count;
        if (k.status !== 'resolved') r.incidents.active += k.count;
        r.incidents.byKind[k.kind] = (r.incidents.byKind[k.kind] ?? 0) + k.count;
        r._last = Math.max(r._last, k.lastSeen);
      }
      for (const { customer, ip } of await store.incidentCustomerEndpoints(range.from))
        row(customer)._endpoints.add(ip);
      const customers = [...rows.values()]
        .map(({ _endpoints, _last, ...r }) => ({
          ...r,
          endpoints: _endpoints.size,
          lastSeen: _last > 0 ? iso(_last) : null,
        }))
        .sort(
          (a, b) =>
            b.incidents.total - a.incidents.total || b.traffic.bytes - a.traffic.bytes || a.name.localeCompare(b.name),
        );
      return c.json(
        { from: iso(range.from), to: iso(range.to), simulated: simulatedIn(await span(), range), customers },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      ...viewerGet,
      path: '/remediation/trends',
      summary: 'Time to notify, time to remediate and recurrence rate per customer network and per downstream',
      description:
        'Over remediation cases (an endpoint opened, or reopened after a remediation) that began in the range; ' +
        'default the last 30 days. Durations in ms. Recurrence: abuse within actions.remediation.watch_days of the remediation.',
      request: { query: customersRange.schema },
      responses: {
        200: json(RemediationTrends.meta({ id: 'RemediationTrends' }), 'Per customer and downstream'),
        ...errors,
      },
    }),
    async (c) => {
      const range = customersRange.resolve(c.req.valid('query') as RawRange);
      const m = await remediationMetricsFor(ctx, services, range.from, range.to);
      return c.json(
        { from: iso(range.from), to: iso(range.to), watchDays: ctx.config.actions.remediation.watch_days, ...m },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      ...viewerGet,
      path: '/endpoints/{ip}',
      summary: 'Every incident and rollup for one endpoint address',
      description: 'Default range: the whole retention.',
      request: {
        params: z.object({ ip: IpAddress.meta({ param: { name: 'ip', in: 'path' }, example: '198.51.100.23' }) }),
        query: endpointRange.schema,
      },
      responses: { 200: json(EndpointHistory.meta({ id: 'EndpointHistory' }), 'The endpoint'), ...errors },
    }),
    async (c) => {
      const ip = canonicalIp(c.req.valid('param').ip);
      const q = c.req.valid('query') as RawRange & { limit?: number };
      const range = endpointRange.resolve(q);
      const info = ctx.enricher.lookup(ip);
      const rows = await store.abuseRows({
        dimension: 'endpoint',
        key: ip,
        from: range.from,
        to: range.to,
        limit: 10_000,
      });
      const total = { packets: 0, bytes: 0, flows: 0 };
      const byKind: AbuseTotal['byKind'] = {};
      for (const r of rows) {
        total.packets += r.packets;
        total.bytes += r.bytes;
        total.flows += r.flows;
        byKind[r.kind] = (byKind[r.kind] ?? 0) + r.bytes;
      }
      const found = (await store.incidentsFor('endpoint', ip, q.limit ?? 100))
        .filter((i) => seenIn(i, range))
        .map((i) => {
          // The page's own endpoint stays listed (with its subscriber) even beyond the top 20.
          const own = i.sources.top.find((x) => x.ip === ip);
          const t = trim(i);
          const keep =
            own && !t.sources.top.includes(own) ? { ...t, sources: { ...t.sources, top: [...t.sources.top, own] } } : t;
          return withSubscribers(ctx.subscribers, keep, ip);
        });
      const incidents = await Promise.all(found);
      const subscribers = await ctx.subscribers?.during(ip, range.from, range.to);
      return c.json(
        {
          ip,
          asn: info.asn,
          asName: info.asName,
          country: info.country,
          ...(info.customer ? { customer: info.customer } : {}),
          from: iso(range.from),
          to: iso(range.to),
          simulated: simulatedIn(await span(), range),
          total,
          byKind,
          incidents,
          ...(subscribers ? { subscribers } : {}),
          rollups: rows.map((r) => ({
            t: iso(r.minute),
            resolution: r.resolution,
            kind: r.kind,
            packets: r.packets,
            bytes: r.bytes,
            flows: r.flows,
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      ...viewerGet,
      path: '/asns/{asn}',
      summary: 'One source ASN: its abusive traffic over time and the incidents it took part in',
      description: 'Default range: the last 7 days in 1h steps.',
      request: {
        params: z.object({
          asn: z.coerce
            .number({ error: 'expected an AS number' })
            .int('expected an AS number')
            .min(0, 'expected an AS number')
            .max(4294967295, 'AS numbers are at most 4294967295')
            .meta({ param: { name: 'asn', in: 'path' }, example: 13335 }),
        }),
        query: asnRange.schema,
      },
      responses: { 200: json(AsnHistory.meta({ id: 'AsnHistory' }), 'The ASN'), ...errors },
    }),
    async (c) => {
      const { asn } = c.req.valid('param');
      const q = c.req.valid('query') as RawRange & { kind?: IncidentKind; limit?: number };
      const range = asnRange.resolve(q);
      const key = String(asn);
      const s = await series('asn', range, q.kind, { keys: [key] });
      const incidents = (await store.incidentsFor('asn', key, q.limit ?? 100))
        .filter((i) => seenIn(i, range) && (!q.kind || i.kind === q.kind))
        .map(trim);
      return c.json(
        {
          asn,
          name: asName(asn),
          series: { ...axis(range, s, q.kind, await span()), ...values(s.series[0]) },
          incidents,
        },
        200,
      );
    },
  );

  return app;
}
