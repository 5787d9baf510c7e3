import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscriberStore } from '../store/subscriber-store.js';
import { RadiusAccountingListener } from './radius-accounting.js';
import { radius } from './radius-packet.js';

const RADCLIENT = ['/usr/bin/radclient', '/usr/local/bin/radclient'].find((p) => existsSync(p));
const SECRET = 'testing123';
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** FreeRADIUS's radclient: one accounting packet per blank-line-separated block on stdin. */
function radclient(port: number, secret: string, attrs: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      RADCLIENT!,
      ['-r', '1', '-t', '1', '-x', `127.0.0.1:${port}`, 'acct', secret],
      { timeout: 10_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
    child.stdin!.end(attrs);
  });
}

describe.skipIf(!RADCLIENT)(
  'RADIUS accounting listener with FreeRADIUS radclient' +
    (RADCLIENT ? '' : ' (radclient not installed: apt-get install freeradius-utils)'),
  () => {
    const store = new SubscriberStore(new Database(':memory:'));
    const registry = new Registry();
    const listener = new RadiusAccountingListener({
      host: '127.0.0.1',
      port: 0,
      secret: SECRET,
      clients: {},
      store,
      logger,
      registry,
    });
    let port = 0;
    beforeAll(async () => {
      port = await listener.start();
    });
    afterAll(() => listener.stop());

    const T1 = 1796205600; // 2026-12-02T10:00:00Z
    it('records Start with IPv4 and IPv6 prefix, answers Accounting-Response', async () => {
      const r = await radclient(
        port,
        SECRET,
        `Acct-Status-Type = Start
User-Name = "alice@isp.example"
Acct-Session-Id = "0A0B0C01"
Framed-IP-Address = 198.51.100.7
Framed-IPv6-Prefix = 2001:db8:1::/56
NAS-IP-Address = 192.0.2.10
Event-Timestamp = ${T1}
`,
      );
      expect(r.out).toMatch(/Received Accounting-Response Id \d+/);
      expect(r.code).toBe(0);
      expect(store.lookup('198.51.100.7', T1 * 1000 + 1000)).toMatchObject({
        subscriber: 'alice@isp.example',
        session: '0A0B0C01',
        nas: '192.0.2.10',
        source: 'radius',
        to: null,
      });
      expect(store.lookup('2001:db8:1:ff::42', T1 * 1000 + 1000)?.subscriber).toBe('alice@isp.example');
    });

    it('Stop closes the session; the address re-assigned to bob keeps alice in the past', async () => {
      const r = await radclient(
        port,
        SECRET,
        `Acct-Status-Type = Stop
User-Name = "alice@isp.example"
Acct-Session-Id = "0A0B0C01"
Framed-IP-Address = 198.51.100.7
NAS-IP-Address = 192.0.2.10
Acct-Session-Time = 1800
Event-Timestamp = ${T1 + 1800}

Acct-Status-Type = Start
User-Name = "bob@isp.example"
Acct-Session-Id = "0A0B0C02"
Framed-IP-Address = 198.51.100.7
NAS-IP-Address = 192.0.2.10
Event-Timestamp = ${T1 + 1900}
`,
      );
      expect(r.out.match(/Received Accounting-Response/g)).toHaveLength(2);
      expect(store.lookup('198.51.100.7', (T1 + 600) * 1000)?.subscriber).toBe('alice@isp.example');
      expect(store.lookup('198.51.100.7', (T1 + 1850) * 1000)).toBeUndefined();
      expect(store.lookup('198.51.100.7', (T1 + 2000) * 1000)?.subscriber).toBe('bob@isp.example');
      // alice's IPv6 prefix closed with her session although the Stop did not repeat it
      expect(store.lookup('2001:db8:1::1', (T1 + 1850) * 1000)).toBeUndefined();
    });

    it('Interim-Update without a Start opens the session at Event-Timestamp less Acct-Session-Time', async () => {
      const r = await radclient(
        port,
        SECRET,
        `Acct-Status-Type = Interim-Update
User-Name = "carol"
Acct-Session-Id = "S-77"
Framed-IP-Address = 198.51.100.77
NAS-IP-Address = 192.0.2.11
Acct-Session-Time = 3600
Event-Timestamp = ${T1 + 7200}
`,
      );
      expect(r.code).toBe(0);
      expect(store.lookup('198.51.100.77', (T1 + 3700) * 1000)?.subscriber).toBe('carol');
      expect(store.lookup('198.51.100.77', (T1 + 3500) * 1000)).toBeUndefined();
    });

    it('drops a packet signed with the wrong secret: no answer, counted and explained', async () => {
      const before = store.count();
      const r = await radclient(
        port,
        'not-the-secret',
        `Acct-Status-Type = Start
User-Name = "mallory"
Acct-Session-Id = "X1"
Framed-IP-Address = 198.51.100.99
`,
      );
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/No reply/i);
      expect(store.count()).toBe(before);
      expect(listener.stats.bad['bad-authenticator']).toBeGreaterThanOrEqual(1);
      expect(listener.stats.lastBad?.message).toMatch(/shared secret/);
      expect(await registry.getSingleMetricAsString('downstream_radius_bad_packets_total')).toMatch(
        /reason="bad-authenticator"} [1-9]/,
      );
    });
  },
);

describe('RADIUS accounting datagram checks', () => {
  const store = new SubscriberStore(new Database(':memory:'));
  const l = new RadiusAccountingListener({
    host: '127.0.0.1',
    port: 0,
    clients: { '192.0.2.10': 's3cret' },
    store,
    logger,
  });
  const from = { address: '192.0.2.10', port: 1813 };
  const acct = (attrs: [string, unknown][], secret = 's3cret') =>
    radius.encode({ code: 'Accounting-Request', secret, identifier: 9, attributes: attrs });

  it('answers a valid request with a Response Authenticator the NAS can verify', () => {
    const req = acct([
      ['Acct-Status-Type', 'Start'],
      ['User-Name', 'dave'],
      ['Acct-Session-Id', 'D1'],
      ['Framed-IP-Address', '198.51.100.5'],
    ]);
    const r = l.handle(req, from);
    expect(r.bad).toBeUndefined();
    expect(r.response![0]).toBe(5);
    expect(r.response![1]).toBe(9);
    // RFC 2866 §3: MD5(Code+Identifier+Length+RequestAuth+Attributes+Secret), checked by hand
    const resp = Buffer.from(r.response!);
    const auth = resp.subarray(4, 20).toString('hex');
    req.copy(resp, 4, 4, 20);
    expect(createHash('md5').update(resp).update('s3cret').digest('hex')).toBe(auth);
    // NAS-IP-Address absent: the packet's source names the NAS
    expect(store.lookup('198.51.100.5', Date.now())?.nas).toBe('192.0.2.10');
  });

  it('names what is wrong with each bad datagram', () => {
    const good = acct([['Acct-Status-Type', 'Start']]);
    expect(l.handle(Buffer.alloc(10), from).bad?.reason).toBe('short');
    const long = Buffer.from(good);
    long.writeUInt16BE(200, 2);
    expect(l.handle(long, from).bad?.message).toMatch(/Length field 200 but the datagram has/);
    const badAttr = Buffer.concat([good.subarray(0, 20), Buffer.from([1, 9, 0x61])]);
    badAttr.writeUInt16BE(23, 2);
    expect(l.handle(badAttr, from).bad?.reason).toBe('malformed-attribute');
    expect(l.handle(good, { address: '203.0.113.1', port: 1 }).bad?.message).toMatch(
      /no shared secret configured for 203.0.113.1/,
    );
    const access = radius.encode({ code: 'Access-Request', secret: 's3cret', attributes: [['User-Name', 'x']] });
    expect(l.handle(access, from).bad?.reason).toBe('not-accounting');
    expect(l.handle(acct([['User-Name', 'x']]), from).bad?.reason).toBe('no-status-type');
    expect(l.handle(acct([['Acct-Status-Type', 'Start']], 'wrong'), from).bad?.reason).toBe('bad-authenticator');
  });

  it('acknowledges but binds nothing for a Start without an address or session', () => {
    const r = l.handle(
      acct([
        ['Acct-Status-Type', 'Start'],
        ['User-Name', 'eve'],
      ]),
      from,
    );
    expect(r.response).toBeDefined();
    expect(r.outcome).toEqual({ result: 'ignored', why: 'Start without Acct-Session-Id' });
  });

  it('Accounting-On from a rebooted BNG ends its open sessions', () => {
    l.handle(
      acct([
        ['Acct-Status-Type', 'Start'],
        ['User-Name', 'frank'],
        ['Acct-Session-Id', 'F1'],
        ['Framed-IP-Address', '198.51.100.6'],
        ['NAS-IP-Address', '192.0.2.10'],
      ]),
      from,
    );
    expect(store.lookup('198.51.100.6', Date.now() + 1)?.subscriber).toBe('frank');
    const r = l.handle(
      acct([
        ['Acct-Status-Type', 'Accounting-On'],
        ['NAS-IP-Address', '192.0.2.10'],
      ]),
      from,
    );
    expect(r.outcome?.result).toBe('nas-reset');
    expect(store.lookup('198.51.100.6', Date.now() + 1000)).toBeUndefined();
  });
});
