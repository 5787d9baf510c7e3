import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ComplaintList,
  ComplaintResult,
  RemediationHistory,
  RemediationList,
  RemediationTrends,
  ReportCard,
  type DetectionEvent,
} from '@downstream/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../context.js';
import { createEnricher } from '../enrich/index.js';
import { createIncidentManager } from '../incidents/index.js';
import { DAY, MINUTE, openStore, type SqliteStore } from '../store/index.js';
import { createApp } from './app.js';
import { complaintRoutes } from './complaints.js';
import { testServices, type RunningServices } from '../testing/services.js';
import { createFakeContext } from '../testing/fake-context.js';
import { feedRoutes } from './feeds.js';
import { historyRoutes } from './history.js';
import { reportCardRoutes } from './report-card.js';
import { reportRoutes } from './reports.js';
import { POSTGRES_MISSING, postgresBinDir, sharedPostgres } from '../testing/postgres.js';

const fixtures = join(import.meta.dirname, '..', 'feeds', 'fixtures', 'complaints');
const fixture = (name: string) => readFileSync(join(fixtures, name));
const tokens = [
  { name: 'desk', role: 'admin' as const, token: 'admin-token-0123456789' },
  { name: 'ops', role: 'operator' as const, token: 'operator-token-0123456789' },
  { name: 'wall', role: 'viewer' as const, token: 'viewer-token-0123456789' },
];
const as = (i: number) => ({ authorization: `Bearer ${tokens[i]!.token}` });

// The actions database (remediation, complaints) on each engine; the incident store stays SQLite.
const engines = postgresBinDir() ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
if (!postgresBinDir()) console.warn(POSTGRES_MISSING);

for (const engine of engines)
  describe(`complaints, remediation trends, report card (actions db on ${engine})`, () => {
    let dir: string;
    let ctx: AppContext;
    let store: SqliteStore;
    let app: ReturnType<typeof createApp>;
    let services: RunningServices;

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'complaints-'));
      const fake = createFakeContext({
        tokens,
        config: {
          network: {
            customers: [
              { name: 'Residential pool A', prefixes: ['198.51.100.0/24'], downstream: 'Retail broadband' },
              { name: 'Business park B', prefixes: ['203.0.113.0/25'] },
            ],
          },
          storage: {
            path: dir,
            ...(engine === 'postgres' ? { postgres: await (await sharedPostgres()).createDatabase('cpl') } : {}),
          },
          feeds: {
            max_body_bytes: 16_384,
            complaints: { maildir: { path: join(dir, 'Maildir'), poll_ms: 3_600_000 } },
          },
        },
      });
      store = openStore({ path: ':memory:', retentionDays: 90, logger: fake.logger, timers: false });
      const incidents = createIncidentManager({ store, logger: fake.logger, config: fake.config });
      ctx = { ...fake, store, incidents, enricher: createEnricher(fake.config.network) };
      // As the server does: the maildir reader runs from start-up, not from mounting the routes.
      services = testServices(ctx, { feeds: true, subscriberActions: false });
      app = createApp(ctx, services.auth, {
        mounts: [
          { prefix: '/api', routes: historyRoutes(ctx, services) },
          { prefix: '/api/feeds', routes: feedRoutes(ctx, services) },
          { prefix: '/api', routes: reportRoutes(ctx, services) },
          { prefix: '/api', routes: complaintRoutes(services) },
          { prefix: '/api', routes: reportCardRoutes(ctx, services) },
        ],
      });
    });

    afterEach(async () => {
      await services.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const post = (body: string | Buffer, type = 'message/rfc822', auth = as(0)) =>
      app.request('/api/feeds/complaints', { method: 'POST', body, headers: { 'content-type': type, ...auth } });
    const get = async <T>(path: string, schema: { parse: (v: unknown) => T }): Promise<T> => {
      const r = await app.request(path, { headers: as(2) });
      expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
      return schema.parse(await r.json());
    };

    /** A spam-bot detection from a customer endpoint at `at`, as the built-in detector sends it. */
    function spam(ip: string, at: string, ...more: string[]): DetectionEvent {
      return {
        detector: 'spam-bot',
        kind: 'spam-bot',
        direction: 'outbound',
        at,
        key: ip,
        sources: {
          distinct: 1 + more.length,
          top: [ip, ...more].map((a) => ({
            ip: a,
            asn: 64500,
            asName: 'EXAMPLE',
            country: 'NL',
            customer: 'Residential pool A',
            packets: 500,
            bytes: 40_000,
          })),
          asns: [{ asn: 64500, name: 'EXAMPLE', share: 1 }],
        },
        upstreams: [{ name: 'Transit A', share: 1 }],
        rate: { pps: 10, bps: 8000 },
        evidence: { summary: 'SMTP to 640 hosts' },
      };
    }

    describe('POST /api/feeds/complaints', () => {
      it('matches an ARF spam complaint to the incident with flow evidence and its remediation entry', async () => {
        ctx.incidents.ingest(spam('198.51.100.23', '2026-11-24T20:55:00.000Z'));
        ctx.incidents.ingest(spam('198.51.100.23', '2026-11-24T21:05:00.000Z'));
        // The remediation list is written asynchronously as incidents arrive.
        await services.actions.settled();
        const inc = (await ctx.incidents.list({ limit: 10 }))[0]!;
        const r = await post(fixture('arf-spam.eml'));
        expect(r.status).toBe(200);
        const res = ComplaintResult.parse(await r.json());
        const entry = (await get('/api/remediation', RemediationList)).entries[0]!;
        expect(res).toMatchObject({
          duplicate: false,
          matched: 1,
          complaint: {
            format: 'arf',
            via: 'http',
            type: 'abuse',
            ip: '198.51.100.23',
            reporter: 'fbl-noreply@fbl.mailbox.example',
            reportedAt: '2026-11-24T21:02:11.000Z',
            direction: 'outbound',
            incidents: [inc.id],
            remediation: [entry.id],
            opened: null,
          },
        });
        // Attached to the incident (audit trail) and the entry (count, history).
        const audit = (await store.listAudit(inc.id)).filter((a) => a.action === 'complaint');
        expect(audit).toEqual([
          expect.objectContaining({
            by: 'complaints',
            detail:
              'arf abuse report from fbl-noreply@fbl.mailbox.example about 198.51.100.23 at 2026-11-24T21:02:11.000Z: FW: Limited time: your parcel is waiting',
          }),
        ]);
        expect(entry).toMatchObject({ ip: '198.51.100.23', complaints: 1, recurrences: 0 });
        expect((await get(`/api/complaints?incident=${inc.id}`, ComplaintList)).complaints).toHaveLength(1);
        expect((await get(`/api/complaints?remediation=${entry.id}`, ComplaintList)).complaints[0]!.id).toBe(
          res.complaint.id,
        );
        const h = await get(`/api/remediation/${entry.id}/history`, RemediationHistory);
        expect(h.events.map((e) => e.kind)).toEqual(['status', 'complaint']);
        expect(h.events[1]).toMatchObject({ by: 'complaints', incidentId: inc.id });

        // The same report again is one complaint.
        const again = ComplaintResult.parse(await (await post(fixture('arf-spam.eml'))).json());
        expect(again).toMatchObject({ duplicate: true, complaint: { id: res.complaint.id } });
        expect((await get('/api/complaints', ComplaintList)).complaints).toHaveLength(1);
        const health = (await (await app.request('/api/feeds', { headers: as(2) })).json()) as {
          feeds: { name: string; events: number; duplicates: number }[];
        };
        expect(health.feeds.find((f) => f.name === 'complaints')).toMatchObject({ events: 1, duplicates: 1 });
      });

      it('opens an external incident when Downstream saw nothing (X-ARF 0.2 login-attack)', async () => {
        const res = ComplaintResult.parse(await (await post(fixture('xarf02-login-attack.eml'))).json());
        expect(res.matched).toBe(0);
        expect(res.complaint.opened).toEqual(expect.any(String));
        const inc = (await ctx.incidents.get(res.complaint.opened!))!;
        expect(inc).toMatchObject({ kind: 'external', direction: 'outbound', detectors: ['complaints'] });
        expect(inc.sources.top[0]).toMatchObject({ ip: '198.51.100.77', customer: 'Residential pool A' });
        expect(inc.evidence.summary).toBe(
          'login-attack complaint from abuse-robot@hoster.example; no flow evidence seen by Downstream',
        );
        // The endpoint is on the remediation list, with the complaint on it.
        const entries = (await get('/api/remediation', RemediationList)).entries;
        expect(entries).toEqual([expect.objectContaining({ ip: '198.51.100.77', kinds: ['external'], complaints: 1 })]);
        expect(res.complaint.remediation).toEqual([entries[0]!.id]);
        const health = (await (await app.request('/api/feeds', { headers: as(2) })).json()) as {
          feeds: { name: string; events: number }[];
        };
        expect(health.feeds.find((f) => f.name === 'complaints')).toMatchObject({ events: 1 });
      });

      it('a complaint about abuse after the endpoint was remediated reopens it as a recurrence (X-ARF v3 DDoS)', async () => {
        const now = Date.now();
        ctx.incidents.ingest(spam('198.51.100.99', new Date(now - DAY).toISOString()));
        await services.actions.settled();
        const entry = (await get('/api/remediation', RemediationList)).entries[0]!;
        const moved = await app.request(`/api/remediation/${entry.id}`, {
          method: 'POST',
          body: JSON.stringify({ status: 'remediated', note: 'router replaced' }),
          headers: { 'content-type': 'application/json', ...as(1) },
        });
        expect(moved.status).toBe(200);
        const report = JSON.parse(fixture('xarf3-ddos.json').toString('utf8')) as { Report: { Date: string } };
        report.Report.Date = new Date(now + 60_000).toISOString();
        const res = ComplaintResult.parse(await (await post(JSON.stringify(report), 'application/json')).json());
        expect(res.complaint).toMatchObject({ format: 'xarf-3', type: 'DDoS', remediation: [entry.id] });
        const after = (await get('/api/remediation', RemediationList)).entries[0]!;
        expect(after).toMatchObject({ status: 'open', recurred: true, recurrences: 1, complaints: 1 });
        const h = await get(`/api/remediation/${entry.id}/history`, RemediationHistory);
        expect(h.events.map((e) => `${e.kind}:${e.to ?? ''}`)).toEqual([
          'status:open',
          'status:remediated',
          'complaint:',
          'status:open',
          'recurrence:open',
        ]);
      });

      it('answers bad reports with 400 naming what was wrong, and checks the token and the size first', async () => {
        const arf = fixture('arf-spam.eml').toString('utf8').replace('Source-IP: 198.51.100.23\r\n', '');
        let r = await post(arf);
        expect(r.status).toBe(400);
        expect(await r.json()).toEqual({
          error: 'invalid ARF report',
          details: [
            { path: 'message/feedback-report.Source-IP', message: 'missing: needed to know which endpoint sent it' },
          ],
        });
        r = await post('{"Version":"3","ReporterInfo":{},"Report":{}}', 'application/json');
        expect(r.status).toBe(400);
        expect(((await r.json()) as { details: { path: string }[] }).details.map((d) => d.path)).toContain(
          'Report.SourceIp',
        );
        // An address that is not ours and that no incident names.
        r = await post(
          fixture('arf-spam.eml')
            .toString('utf8')
            .replace(/198\.51\.100\.23/g, '192.0.2.9'),
        );
        expect(r.status).toBe(400);
        expect(await r.json()).toMatchObject({
          error: 'the reported address is not ours',
          details: [{ path: 'source' }],
        });
        expect((await post(fixture('arf-spam.eml'), 'message/rfc822', as(2))).status).toBe(403);
        r = await post(Buffer.alloc(20_000, 'a'));
        expect(r.status).toBe(413);
        expect((await get('/api/complaints', ComplaintList)).complaints).toEqual([]);
      });
    });

    describe('complaints maildir', () => {
      it('reads new/, moves processed mail to cur/ and unreadable mail to failed/ with the error', async () => {
        const md = join(dir, 'Maildir');
        writeFileSync(join(md, 'new', '1764018665.M1P1.mx'), fixture('arf-spam.eml'));
        writeFileSync(join(md, 'new', '1764018666.M2P1.mx'), fixture('xarf02-login-attack.eml'));
        writeFileSync(
          join(md, 'new', '1764018667.M3P1.mx'),
          'From: someone@example.net\r\nSubject: you spam\r\n\r\nstop it\r\n',
        );
        const inbox = services.complaints.inbox!;
        await inbox.poll();
        await inbox.poll();
        expect(readdirSync(join(md, 'new'))).toEqual([]);
        expect(readdirSync(join(md, 'cur')).sort()).toEqual(['1764018665.M1P1.mx:2,S', '1764018666.M2P1.mx:2,S']);
        expect(readdirSync(join(md, 'failed')).sort()).toEqual(['1764018667.M3P1.mx', '1764018667.M3P1.mx.error.txt']);
        expect(readFileSync(join(md, 'failed', '1764018667.M3P1.mx.error.txt'), 'utf8')).toMatch(
          /^not an abuse report\nbody: expected ARF/,
        );
        const list = (await get('/api/complaints', ComplaintList)).complaints;
        expect(list.map((c) => [c.format, c.ip, c.via])).toEqual([
          ['xarf-0.2', '198.51.100.77', 'maildir'],
          ['arf', '198.51.100.23', 'maildir'],
        ]);
        expect(existsSync(join(md, 'tmp'))).toBe(true);
      });
    });

    describe('remediation trends and the report card', () => {
      it('per customer and downstream: abuse per day, endpoints, time to remediate, complaints; CSV', async () => {
        const now = Date.now();
        const day0 = Math.floor(now / DAY) * DAY - 2 * DAY;
        store.recordAbuse([
          {
            minute: day0 + 10 * MINUTE,
            kind: 'spam-bot',
            dimension: 'customer',
            key: 'Residential pool A',
            packets: 10,
            bytes: 5000,
            flows: 1,
          },
          {
            minute: day0 + DAY + MINUTE,
            kind: 'scanner',
            dimension: 'customer',
            key: 'Residential pool A',
            packets: 5,
            bytes: 700,
            flows: 1,
          },
          // Inbound abuse toward a customer is not abuse it sent upstream.
          {
            minute: day0 + DAY,
            kind: 'ddos-fan-in',
            dimension: 'customer',
            key: 'Residential pool A',
            packets: 9,
            bytes: 1e9,
            flows: 1,
          },
        ]);
        // One campaign incident naming two endpoints of the pool.
        ctx.incidents.ingest(spam('198.51.100.23', new Date(now - 3 * 3_600_000).toISOString(), '198.51.100.24'));
        await services.actions.settled();
        const entries = (await get('/api/remediation', RemediationList)).entries;
        const remediate = (id: number) =>
          app.request(`/api/remediation/${id}`, {
            method: 'POST',
            body: JSON.stringify({ status: 'remediated' }),
            headers: { 'content-type': 'application/json', ...as(1) },
          });
        expect((await remediate(entries[0]!.id)).status).toBe(200);
        await post(fixture('arf-spam.eml'));

        const trends = await get('/api/remediation/trends', RemediationTrends);
        expect(trends.watchDays).toBe(14);
        const pool = trends.customers.find((c) => c.name === 'Residential pool A')!;
        expect(pool).toMatchObject({
          downstream: 'Retail broadband',
          cases: 2,
          remediated: 1,
          watching: 1,
          recurrenceRate: null,
        });
        // Opened at the incident's first traffic (3 h ago), remediated now.
        expect(pool.timeToRemediate.median! / 3_600_000).toBeCloseTo(3, 1);
        expect(trends.downstreams).toEqual([
          expect.objectContaining({ name: 'Retail broadband', customers: ['Residential pool A'], cases: 2 }),
        ]);

        const to = Date.now() + 60_000;
        const card = await get(`/api/report-card?from=${day0}&to=${to}`, ReportCard);
        expect(card.days).toHaveLength(3);
        const row = card.customers.find((c) => c.name === 'Residential pool A')!;
        expect(row).toMatchObject({
          downstream: 'Retail broadband',
          abuseBytes: 5700,
          abuseByKind: { 'spam-bot': 5000, scanner: 700 },
          endpoints: { open: 1, notified: 0, remediated: 1 },
          remediatedInRange: 1,
          complaints: 1,
        });
        expect(row.abusePerDay).toEqual([5000, 700, 0]);
        expect(card.downstreams).toEqual([
          expect.objectContaining({ name: 'Retail broadband', abuseBytes: 5700, complaints: 1 }),
        ]);
        expect(card.customers.find((c) => c.name === 'Business park B')).toMatchObject({
          abuseBytes: 0,
          downstream: null,
        });

        const csv = await app.request(`/api/report-card.csv?from=${day0}&to=${to}`, { headers: as(2) });
        expect(csv.headers.get('content-disposition')).toMatch(
          /^attachment; filename="downstream-report-card-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv"$/,
        );
        const lines = (await csv.text()).split('\r\n');
        expect(lines).toContain('downstream,Retail broadband,,Residential pool A,5700,5000,700,0,1,0,1,1,3.0,3.0,,1');
        expect(lines.find((l) => l.startsWith('customer,Residential pool A,Retail broadband,'))).toBeDefined();
        expect(lines).toContain(`${new Date(day0).toISOString().slice(0, 10)},5000,5000,0`);
        const bad = await app.request('/api/report-card?from=tomorrow', { headers: as(2) });
        expect(bad.status).toBe(400);
        expect(await bad.json()).toMatchObject({ details: [{ path: 'query.from' }] });
      });
    });

    describe('OpenAPI', () => {
      it('documents the complaint feed, complaints, remediation trends and history, and the report card', async () => {
        const doc = (await (await app.request('/api/openapi.json')).json()) as { paths: Record<string, object> };
        for (const p of [
          '/api/feeds/complaints',
          '/api/complaints',
          '/api/remediation/trends',
          '/api/remediation/{id}/history',
          '/api/report-card',
          '/api/report-card.csv',
        ])
          expect(doc.paths, p).toHaveProperty([p]);
        expect(Object.keys(doc.paths['/api/feeds/complaints']!)).toEqual(['post']);
      });
    });
  });
