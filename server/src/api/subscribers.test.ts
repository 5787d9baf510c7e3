import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EndpointHistory,
  IncidentDetail,
  RemediationList,
  RemediationSubscriber,
  SubscriberLookup,
  SubscriberNotice,
  WalledGardenStep,
  type DetectionEvent,
} from '@downstream/shared';
import { simpleParser, type ParsedMail } from 'mailparser';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { startServer, type RunningServer } from '../main/server.js';
import { radius } from '../subscribers/radius-packet.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const ACCT_SECRET = 'acct-secret-1';
const COA_SECRET = 'coa-secret-22';
const NAS = '192.0.2.10';
const IP = '198.51.100.7';
const CUSTOMER = 'Residential pool A';

/** A real SMTP server on loopback (nodemailer's smtp-server), keeping what it receives. */
async function startSmtp(): Promise<{
  port: number;
  mails: ParsedMail[];
  envelopes: string[][];
  close(): Promise<void>;
}> {
  const mails: ParsedMail[] = [];
  const envelopes: string[][] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      envelopes.push(session.envelope.rcptTo.map((r) => r.address));
      simpleParser(stream)
        .then((m) => {
          mails.push(m);
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, envelopes, close: () => new Promise((r) => server.close(() => r())) };
}

interface CoaSeen {
  code: number;
  identifier: number;
  authenticatorOk: boolean;
  attrs: Record<string, unknown>;
  raw: Buffer;
}

/**
 * A BNG's RFC 5176 Dynamic Authorization port on loopback: checks each request's authenticator
 * itself (MD5 over the packet with a zero authenticator, then the secret), decodes the attributes
 * and answers ACK, NAK (Error-Cause 503) or nothing, as the test says.
 */
async function startCoaListener(): Promise<{
  port: number;
  seen: CoaSeen[];
  mode: { v: 'ack' | 'nak' | 'silent' };
  sock: Socket;
}> {
  const seen: CoaSeen[] = [];
  const mode = { v: 'ack' as 'ack' | 'nak' | 'silent' };
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const zeroed = Buffer.from(msg);
    zeroed.fill(0, 4, 20);
    const expect = createHash('md5').update(zeroed).update(COA_SECRET).digest();
    const authenticatorOk = expect.equals(msg.subarray(4, 20));
    const p = radius.decode({ packet: Buffer.from(msg), secret: COA_SECRET });
    seen.push({ code: msg[0], identifier: msg[1], authenticatorOk, attrs: p.attributes, raw: Buffer.from(msg) });
    if (mode.v === 'silent') return;
    const isCoa = p.code === 'CoA-Request';
    const code = mode.v === 'ack' ? (isCoa ? 'CoA-ACK' : 'Disconnect-ACK') : isCoa ? 'CoA-NAK' : 'Disconnect-NAK';
    const reply = radius.encode_response({
      packet: p,
      code,
      secret: COA_SECRET,
      attributes: mode.v === 'nak' ? [['Error-Cause', 'Session-Context-Not-Found']] : [],
    });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return { port: (sock.address() as AddressInfo).port, seen, mode, sock };
}

describe('subscribers end to end: RADIUS accounting → incident → notice by SMTP → walled garden by CoA', () => {
  let server: RunningServer;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let coa: Awaited<ReturnType<typeof startCoaListener>>;
  let dir: string;
  const now = Date.now();
  const sec = (ms: number) => Math.floor(ms / 1000);
  const abuseAt = now - 120_000;
  let incidentId = '';
  let rowId = 0;

  const acct = async (attrs: [string, unknown][]): Promise<Buffer> => {
    const s = createSocket('udp4');
    const pkt = radius.encode({ code: 'Accounting-Request', secret: ACCT_SECRET, attributes: attrs });
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no Accounting-Response')), 2000);
      s.on('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
      s.send(pkt, radiusPort(), '127.0.0.1');
    });
    s.close();
    return reply;
  };
  const radiusPort = (): number => (server.ctx.subscribers as unknown as { port: number }).port;
  const api = async <T>(
    path: string,
    init?: RequestInit & { schema?: { parse(v: unknown): T } },
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', origin: server.url, ...init?.headers },
    });
    const body = (await res.json()) as unknown;
    return { status: res.status, body: init?.schema && res.ok ? init.schema.parse(body) : (body as T) };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ds-subs-'));
    smtp = await startSmtp();
    coa = await startCoaListener();
    const csv = join(dir, 'subscribers.csv');
    writeFileSync(
      csv,
      'subscriber,name,email,phone\nalice@isp.example,Alice Example,alice@example.org,+31 20 555 0101\nbob@isp.example,Bob Example,bob@example.org,\n',
    );
    server = await startServer({
      config: parseConfig({
        http: { host: '127.0.0.1', port: 0 },
        storage: { path: dir },
        network: { asn: 64500, customers: [{ name: CUSTOMER, prefixes: ['198.51.100.0/24'] }] },
        subscribers: {
          radius: { host: '127.0.0.1', port: 0, secret: ACCT_SECRET },
          contacts: { csv },
          notify: {
            enabled: true,
            smtp: { host: '127.0.0.1', port: smtp.port, timeout_ms: 3000 },
            from: 'abuse@isp.example',
            org: 'Example ISP',
            help: { url: 'https://help.isp.example/abuse', phone: '+31 20 555 0000' },
          },
          walled_garden: {
            enabled: true,
            secret: COA_SECRET,
            nas: { [NAS]: { host: '127.0.0.1', port: coa.port } },
            timeout_ms: 200,
            retries: 1,
          },
        },
      }),
      logger,
      version: 't',
      tickMs: 60_000,
    });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
    coa?.sock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds addresses from accounting packets: alice had the address, then bob', async () => {
    const session = (user: string, id: string, status: string, at: number, ip = IP, extra: [string, unknown][] = []) =>
      acct([
        ['Acct-Status-Type', status],
        ['User-Name', user],
        ['Acct-Session-Id', id],
        ['NAS-IP-Address', NAS],
        ['Framed-IP-Address', ip],
        ['Event-Timestamp', new Date(sec(at) * 1000)],
        ...extra,
      ]);
    expect((await session('alice@isp.example', 'A-1', 'Start', now - 600_000))[0]).toBe(5);
    await session('alice@isp.example', 'A-1', 'Stop', now - 60_000, IP, [['Acct-Session-Time', 540]]);
    await session('bob@isp.example', 'B-1', 'Start', now - 30_000);
    // alice is back online elsewhere: her new session is what a CoA must address
    await session('alice@isp.example', 'A-2', 'Start', now - 20_000, '198.51.100.50');
    const r = await api<SubscriberLookup>(`/api/subscribers/lookup?ip=${IP}&at=${now}`, { schema: SubscriberLookup });
    expect(r.body.binding?.subscriber).toBe('bob@isp.example');
    expect(r.body.contact?.email).toBe('bob@example.org');
  });

  it('shows, on the incident, the remediation row and the endpoint page, who held the address at the abuse', async () => {
    const ev: DetectionEvent = {
      detector: 'spam',
      kind: 'spam-bot',
      direction: 'outbound',
      at: new Date(abuseAt).toISOString(),
      key: IP,
      sources: {
        distinct: 1,
        top: [
          {
            ip: IP,
            asn: 64500,
            asName: 'Example ISP',
            country: 'NL',
            customer: CUSTOMER,
            packets: 4200,
            bytes: 2_100_000,
          },
        ],
        asns: [{ asn: 64500, name: 'Example ISP', share: 1 }],
      },
      upstreams: [],
      rate: { pps: 70, bps: 280_000 },
      evidence: {
        summary: 'SMTP to 812 distinct hosts in 60 s',
        distinctTargets: 812,
        ports: [{ port: 25, share: 1 }],
      },
    };
    server.ctx.incidents.ingest(ev);
    const list = await server.ctx.incidents.list({ limit: 10 } as never);
    incidentId = list[0].id;
    server.ctx.store.flush();

    const inc = await api<IncidentDetail>(`/api/incidents/${incidentId}`, { schema: IncidentDetail });
    expect(inc.body.sources.top[0].subscriber).toMatchObject({
      subscriber: 'alice@isp.example',
      session: 'A-1',
      nas: NAS,
      source: 'radius',
    });

    const rows = await api<RemediationList>(`/api/remediation`, { schema: RemediationList });
    const row = rows.body.entries.find((e) => e.ip === IP)!;
    rowId = row.id;
    expect(row.subscriber?.subscriber).toBe('alice@isp.example');

    const ep = await api<EndpointHistory>(`/api/endpoints/${IP}`, { schema: EndpointHistory });
    expect(ep.body.subscribers?.map((b) => b.subscriber)).toEqual(['bob@isp.example', 'alice@isp.example']);
    expect(ep.body.incidents[0].sources.top.find((s) => s.ip === IP)?.subscriber?.subscriber).toBe('alice@isp.example');
  });

  it('notifies alice, not bob who has the address now: SMTP message, audit, row → notified', async () => {
    const r = await api<SubscriberNotice>(`/api/remediation/${rowId}/notify`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      result: 'sent',
      to: 'alice@example.org',
      subscriber: 'alice@isp.example',
      by: 'local',
    });
    expect(smtp.envelopes).toEqual([['alice@example.org']]);
    const m = smtp.mails[0];
    expect(m.to && !Array.isArray(m.to) ? m.to.text : '').toBe('alice@example.org');
    expect(m.from?.value[0]).toMatchObject({ name: 'Example ISP', address: 'abuse@isp.example' });
    expect(m.subject).toBe(`[Example ISP] Your connection ${IP} sent spam e-mail (ref REM-${rowId})`);
    expect(m.text).toContain('Dear Alice Example,');
    expect(m.text).toContain(`Address:   ${IP}`);
    expect(m.text).toMatch(/Evidence: {2}.*SMTP to 812 distinct hosts in 60 s/);
    expect(m.text).toContain('Traffic:   4,200 packets, 2,100,000 bytes');
    expect(m.text).toMatch(/WHAT IT MEANS\n {2}A device on your connection sent e-mail directly/);
    expect(m.text).toMatch(/WHAT TO DO\n {2}1\. Run a full scan/);
    expect(m.text).toContain('Web:   https://help.isp.example/abuse');
    expect(m.headers.get('x-downstream-reference')).toBe(`REM-${rowId}`);

    const rows = await api<RemediationList>(`/api/remediation`, { schema: RemediationList });
    const row = rows.body.entries.find((e) => e.id === rowId)!;
    expect(row.status).toBe('notified');
    expect(row.lastNotice).toBe(r.body.at);
    const audit = (await server.ctx.store.listAudit(incidentId)).map((a) => a.action);
    expect(audit).toEqual(expect.arrayContaining(['subscriber.notice', 'remediation.notified']));
  });

  it('holds alice in the walled garden on her current session with a CoA-Request the BNG can verify', async () => {
    coa.mode.v = 'ack';
    const r = await api<WalledGardenStep>(`/api/remediation/${rowId}/walled-garden`, {
      method: 'POST',
      body: JSON.stringify({ action: 'hold', note: 'ticket 4711' }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ action: 'hold', request: 'CoA-Request', result: 'ack', session: 'A-2', nas: NAS });
    expect(coa.seen).toHaveLength(1);
    const p = coa.seen[0];
    expect(p.code).toBe(43);
    expect(p.authenticatorOk).toBe(true);
    expect(p.attrs).toMatchObject({
      'NAS-IP-Address': NAS,
      'User-Name': 'alice@isp.example',
      'Acct-Session-Id': 'A-2',
      'Framed-IP-Address': '198.51.100.50',
      'Filter-Id': 'walled-garden',
    });
    const state = await api<RemediationSubscriber>(`/api/remediation/${rowId}/subscriber`, {
      schema: RemediationSubscriber,
    });
    expect(state.body.walledGarden.held).toBe(true);
    expect(state.body.contact?.name).toBe('Alice Example');
    const audit = await server.ctx.store.listAudit(incidentId);
    expect(audit.find((a) => a.action === 'walled-garden.hold')?.detail).toMatch(
      /CoA-Request for alice@isp.example session A-2 .*: ack — ticket 4711/,
    );
  });

  it('shows and audits a NAK with its Error-Cause, and a timeout after the retries', async () => {
    coa.mode.v = 'nak';
    const nak = await api<WalledGardenStep>(`/api/remediation/${rowId}/walled-garden`, {
      method: 'POST',
      body: JSON.stringify({ action: 'release' }),
    });
    expect(nak.body).toMatchObject({
      action: 'release',
      result: 'nak',
      detail: 'Error-Cause Session-Context-Not-Found',
    });
    expect(coa.seen[1].attrs['Filter-Id']).toBe('default');

    coa.mode.v = 'silent';
    const before = coa.seen.length;
    const t = await api<WalledGardenStep>(`/api/remediation/${rowId}/walled-garden`, {
      method: 'POST',
      body: JSON.stringify({ action: 'release' }),
    });
    expect(t.body.result).toBe('timeout');
    expect(t.body.detail).toMatch(/no answer from 127\.0\.0\.1:\d+ after 2 tries of 200 ms/);
    // the retry is the same packet: same Identifier and authenticator
    expect(coa.seen.length - before).toBe(2);
    expect(coa.seen[before].raw.equals(coa.seen[before + 1].raw)).toBe(true);

    const actions = (await server.ctx.store.listAudit(incidentId)).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['walled-garden.release-nak', 'walled-garden.release-timeout']));
    // still held: neither release was acknowledged
    const rows = await api<RemediationList>(`/api/remediation`, { schema: RemediationList });
    expect(rows.body.entries.find((e) => e.id === rowId)?.walledGarden).toBe('held');
  });

  it('refuses what cannot work, naming why', async () => {
    const bad = await api<{ error: string }>(`/api/remediation/${rowId}/walled-garden`, {
      method: 'POST',
      body: JSON.stringify({ action: 'quarantine' }),
    });
    expect(bad.status).toBe(400);
    const none = await api<{ error: string }>(`/api/remediation/999999/notify`, { method: 'POST' });
    expect(none.status).toBe(404);
    const status = await api<{ radius: { accepted: number; bad: Record<string, number> } }>(`/api/subscribers/status`);
    expect(status.body.radius.accepted).toBe(4);
    expect(status.body).toMatchObject({ canNotify: true, canWalledGarden: true });
    const doc = await api<{ paths: Record<string, unknown> }>('/api/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/subscribers/lookup',
        '/api/subscribers/status',
        '/api/remediation/{id}/subscriber',
        '/api/remediation/{id}/notify',
        '/api/remediation/{id}/walled-garden',
      ]),
    );
  });
});

describe('automatic notices only where configured; the walled garden stays operator-confirmed', () => {
  let server: RunningServer;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let coa: Awaited<ReturnType<typeof startCoaListener>>;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ds-subs-auto-'));
    smtp = await startSmtp();
    coa = await startCoaListener();
    const csv = join(dir, 'subscribers.csv');
    writeFileSync(csv, 'subscriber,email\ncarol,carol@example.org\n');
    server = await startServer({
      config: parseConfig({
        http: { host: '127.0.0.1', port: 0 },
        storage: { path: dir },
        network: { customers: [{ name: CUSTOMER, prefixes: ['198.51.100.0/24'] }] },
        subscribers: {
          radius: { host: '127.0.0.1', port: 0, secret: ACCT_SECRET },
          contacts: { csv },
          notify: {
            enabled: true,
            smtp: { host: '127.0.0.1', port: smtp.port },
            auto: { enabled: true, kinds: ['scanner'] },
          },
          walled_garden: { enabled: true, secret: COA_SECRET, nas: { [NAS]: { host: '127.0.0.1', port: coa.port } } },
        },
      }),
      logger,
      version: 't',
      tickMs: 60_000,
    });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
    coa?.sock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('e-mails carol as soon as her scanner lands on the list, audited as auto; no CoA is sent', async () => {
    const s = createSocket('udp4');
    const port = (server.ctx.subscribers as unknown as { port: number }).port;
    await new Promise<void>((resolve) => {
      s.on('message', () => resolve());
      s.send(
        radius.encode({
          code: 'Accounting-Request',
          secret: ACCT_SECRET,
          attributes: [
            ['Acct-Status-Type', 'Start'],
            ['User-Name', 'carol'],
            ['Acct-Session-Id', 'C-1'],
            ['NAS-IP-Address', NAS],
            ['Framed-IP-Address', '198.51.100.9'],
          ],
        }),
        port,
        '127.0.0.1',
      );
    });
    s.close();
    server.ctx.incidents.ingest({
      detector: 'scan',
      kind: 'scanner',
      direction: 'outbound',
      at: new Date().toISOString(),
      key: '198.51.100.9',
      sources: {
        distinct: 1,
        top: [
          {
            ip: '198.51.100.9',
            asn: 64500,
            asName: 'Us',
            country: 'NL',
            customer: CUSTOMER,
            packets: 9000,
            bytes: 540_000,
          },
        ],
        asns: [],
      },
      upstreams: [],
      rate: { pps: 150, bps: 72_000 },
      evidence: { summary: '23 ports on 4,096 hosts' },
    });
    const end = Date.now() + 5000;
    while (smtp.mails.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(smtp.mails[0]?.subject).toMatch(/Your connection 198\.51\.100\.9 scanned other networks/);
    expect(smtp.envelopes[0]).toEqual(['carol@example.org']);
    const res = await fetch(`${server.url}/api/remediation`);
    const row = RemediationList.parse(await res.json()).entries.find((e) => e.ip === '198.51.100.9')!;
    expect(row).toMatchObject({ status: 'notified', statusBy: 'auto' });
    const audit = await server.ctx.store.listAudit(row.incidents[0]);
    expect(audit.find((a) => a.action === 'subscriber.notice')?.by).toBe('auto');
    expect(coa.seen).toHaveLength(0);
  });
});
