import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, startDemo, type DemoServer } from '../harness/index.js';
import { openPage } from './helpers.js';

const RADCLIENT = ['/usr/bin/radclient', '/usr/local/bin/radclient'].find((p) => existsSync(p));
const ACCT = 'acct-secret-1';
const COA = 'coa-secret-22';
const IP = '198.51.100.77';

const freeTcp = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
const freeUdp = () =>
  new Promise<number>((resolve) => {
    const s = createSocket('udp4').bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

function radclient(port: number, attrs: string, secret = ACCT): Promise<string> {
  return new Promise((resolve) => {
    const c = execFile(RADCLIENT!, ['-r', '1', '-t', '1', `127.0.0.1:${port}`, 'acct', secret], (_e, out, err) =>
      resolve(out + err),
    );
    c.stdin!.end(attrs);
  });
}

/** (README, Subscribers) RADIUS accounting from radclient → the remediation row and endpoint page name the subscriber; the walled garden button sends a CoA the BNG acknowledges. */
describe.skipIf(!RADCLIENT)(
  'subscribers in the UI' + (RADCLIENT ? '' : ' (radclient missing: apt-get install freeradius-utils)'),
  () => {
    let demo: DemoServer;
    let browser: Browser;
    let dir: string;
    let coa: Socket;
    const coaSeen: Buffer[] = [];
    let acctPort = 0;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ds-e2e-subs-'));
      // A BNG's CoA port: answers CoA-ACK with the Response Authenticator RFC 5176 asks for.
      coa = createSocket('udp4');
      coa.on('message', (msg, r) => {
        coaSeen.push(msg);
        const head = Buffer.from([44, msg[1], 0, 20]);
        const auth = createHash('md5').update(head).update(msg.subarray(4, 20)).update(COA).digest();
        coa.send(Buffer.concat([head, auth]), r.port, r.address);
      });
      await new Promise<void>((r) => coa.bind(0, '127.0.0.1', r));
      acctPort = await freeUdp();
      const smtpPort = await freeTcp(); // nothing listens: a notice must fail visibly
      const csv = join(dir, 'subscribers.csv');
      writeFileSync(csv, 'subscriber,name,email\nalice@isp.example,Alice,alice@example.org\n');
      const cfg = join(dir, 'config.yaml');
      writeFileSync(
        cfg,
        `http: { host: 127.0.0.1, port: ${await freeTcp()} }
storage: { path: ${JSON.stringify(join(dir, 'data'))} }
network:
  customers: [{ name: 'Residential pool A', prefixes: ['198.51.100.0/24'] }]
subscribers:
  radius: { host: 127.0.0.1, port: ${acctPort}, secret: ${ACCT} }
  contacts: { csv: ${JSON.stringify(csv)} }
  notify: { enabled: true, smtp: { host: 127.0.0.1, port: ${smtpPort}, timeout_ms: 2000 } }
  walled_garden:
    enabled: true
    secret: ${COA}
    nas: { '192.0.2.10': { host: 127.0.0.1, port: ${(coa.address() as AddressInfo).port} } }
`,
      );
      demo = await startDemo({ configFile: cfg });
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
      await demo?.stop();
      coa?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('shows who held the address, holds them in the walled garden, shows a failed notice', async () => {
      const now = Math.floor(Date.now() / 1000);
      const out = await radclient(
        acctPort,
        `Acct-Status-Type = Start
User-Name = "alice@isp.example"
Acct-Session-Id = "A-1"
NAS-IP-Address = 192.0.2.10
Framed-IP-Address = ${IP}
Event-Timestamp = ${now - 600}
`,
      );
      expect(out).toMatch(/Received Accounting-Response/);
      const post = await fetch(`${demo.url}/api/feeds/generic`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          detector: 'e2e-honeypot',
          id: 'spam-subs-1',
          kind: 'spam-bot',
          direction: 'outbound',
          sources: [{ ip: IP, packets: 1200, bytes: 90_000 }],
          summary: 'SMTP to 800 hosts',
        }),
      });
      expect(post.status).toBeLessThan(300);

      const { page, errors } = await openPage(browser, `${demo.url}/remediation`);
      page.on('dialog', (d) => void d.accept());
      const row = page.locator('[data-testid="remediation-row"]', { hasText: IP });
      await row.waitFor({ timeout: 20_000 });
      await expect
        .poll(() => row.getByTestId('remediation-subscriber').textContent(), { timeout: 10_000 })
        .toContain('alice@isp.example');

      await row.getByTestId('walled-garden-hold').click();
      await row.getByTestId('walled-garden-held').waitFor({ timeout: 10_000 });
      expect(coaSeen).toHaveLength(1);
      expect(coaSeen[0][0]).toBe(43);
      expect(coaSeen[0].includes(Buffer.from('alice@isp.example'))).toBe(true);
      await row.getByTestId('walled-garden-release').waitFor();

      await row.getByTestId('subscriber-notify').click();
      await expect
        .poll(() => page.getByTestId('remediation-error').textContent(), { timeout: 10_000 })
        .toMatch(new RegExp(`${IP.replace(/\./g, '\\.')}: SMTP: .*(ECONNREFUSED|connect)`));
      expect(await row.getAttribute('data-status')).toBe('open');
      await screenshot(page, 'remediation-subscribers');

      // The incident's endpoint table names who held the address then.
      await row.locator('a', { hasText: '#1' }).click();
      const cell = page.getByTestId('source-subscriber').first();
      await expect.poll(() => cell.textContent(), { timeout: 15_000 }).toBe('alice@isp.example');
      await cell.scrollIntoViewIfNeeded();
      await screenshot(page, 'incident-subscribers');

      await page.goto(`${demo.url}/endpoints/${IP}`);
      const table = page.getByTestId('endpoint-bindings');
      await table.waitFor({ timeout: 15_000 });
      expect(await table.textContent()).toContain('alice@isp.example');
      expect(await table.textContent()).toContain('still held');
      // The row's actions load with their own request, after the bindings table.
      await page.getByTestId('endpoint-subscribers').getByTestId('walled-garden-held').waitFor({ timeout: 10_000 });
      await screenshot(page, 'endpoint-subscribers');
      expect(errors).toEqual([]);
      await page.close();
    });

    it('shows the RADIUS listener on /status, with what it accepted and what it dropped', async () => {
      // A NAS with the wrong shared secret: the listener must drop it and say so.
      const out = await radclient(acctPort, `Acct-Status-Type = Start\nUser-Name = "mallory"\n`, 'wrong-secret');
      expect(out).not.toMatch(/Received Accounting-Response/);
      const { page, errors } = await openPage(browser, `${demo.url}/status`);
      const radius = page.locator('[data-testid="status-subscriber-source"][data-kind="radius"]');
      await radius.waitFor({ timeout: 15_000 });
      await expect.poll(() => radius.getAttribute('data-rejected'), { timeout: 10_000 }).not.toBe('0');
      expect(Number(await radius.getAttribute('data-accepted'))).toBeGreaterThanOrEqual(1);
      expect(await radius.textContent()).toContain(`UDP ${acctPort}`);
      expect(await page.getByTestId('status-bindings').textContent()).toMatch(/notices on · walled garden on/);
      await page.getByTestId('status-subscribers').scrollIntoViewIfNeeded();
      await screenshot(page, 'status-subscriber-sources');
      expect(errors).toEqual([]);
      await page.close();
    });
  },
);
