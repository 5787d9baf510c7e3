import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, screenshot, useDemoAndBrowser } from '../harness/index.js';
import { openPage } from './helpers.js';

const xarf = readFileSync(
  join(repoRoot, 'server', 'src', 'feeds', 'fixtures', 'complaints', 'xarf02-login-attack.eml'),
);
const BOT = '203.0.113.60'; // in the demo's "Business park B"

/** The downstream report card (web/src/views/report-card/): per downstream and customer network, with a CSV. */
describe('report card', () => {
  const suite = useDemoAndBrowser();

  it('shows each downstream and customer network with abuse, endpoints and complaints, and downloads the CSV', async () => {
    const post = (path: string, body: string, type = 'application/json') =>
      fetch(`${suite.demo.url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });
    // Another detector reports a spam bot in Business park B two minutes ago: its minute of
    // rollups is closed, so it reaches the report card at the next tick instead of after the
    // demo's own spam campaign (which starts about a minute in). The demo has no tokens on loopback.
    const spam = await post(
      '/api/feeds/generic',
      JSON.stringify({
        detector: 'mta-logs',
        id: 'e2e-report-card',
        kind: 'spam-bot',
        direction: 'outbound',
        at: new Date(Date.now() - 120_000).toISOString(),
        sources: [{ ip: BOT, packets: 48_000, bytes: 36_000_000 }],
        pps: 800,
        bps: 4_800_000,
        summary: 'SMTP to 900 hosts',
      }),
    );
    expect(spam.status).toBe(200);
    // A complaint from another network about a residential address Downstream saw nothing from.
    expect((await post('/api/feeds/complaints', xarf.toString('utf8'), 'message/rfc822')).status).toBe(200);
    let entry: { id: number } | undefined;
    for (let k = 0; k < 30 && !entry; k++) {
      const card = (await (await fetch(`${suite.demo.url}/api/report-card`)).json()) as {
        customers: { name: string; abuseBytes: number }[];
      };
      const list = (await (await fetch(`${suite.demo.url}/api/remediation`)).json()) as {
        entries: { id: number; ip: string }[];
      };
      if (card.customers.some((c) => c.name === 'Business park B' && c.abuseBytes > 0))
        entry = list.entries.find((e) => e.ip === BOT);
      if (!entry) await new Promise((res) => setTimeout(res, 1000));
    }
    expect(entry, 'the spam bot reached the rollups and the remediation list').toBeDefined();
    // An operator marks it remediated: the card shows a time to remediate.
    expect((await post(`/api/remediation/${entry!.id}`, JSON.stringify({ status: 'remediated' }))).status).toBe(200);

    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/report-card?period=7d`);
    await page.getByTestId('report-card-customers').waitFor({ timeout: 15_000 });
    const names = (level: string) =>
      page
        .locator(`[data-testid="report-card-row"][data-level="${level}"]`)
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    expect(await names('customer')).toEqual(
      expect.arrayContaining(['Residential pool A', 'Business park B', 'Hosting C']),
    );
    expect(await names('downstream')).toEqual(
      expect.arrayContaining(['Retail broadband', 'Business park B', 'Hosting C (reseller)']),
    );
    expect(await page.getByTestId('card-complaints').textContent()).toBe('1');
    expect(Number(await page.getByTestId('card-open').textContent())).toBeGreaterThan(0);
    const business = page.locator(
      '[data-testid="report-card-row"][data-level="customer"][data-name="Business park B"] td',
    );
    expect(await business.nth(3).textContent()).toMatch(/^\d+(\.\d+)? (kB|MB)$/);
    expect(await business.nth(6).textContent()).toBe('1'); // remediated
    expect(await business.nth(7).textContent()).toMatch(/\d+ (s|min|h)/);
    // Its per-day bars are drawn.
    const bars = await page.locator('.spark-bars').evaluateAll((ps) => ps.filter((p) => p.getAttribute('d')).length);
    expect(bars).toBeGreaterThan(0);
    await expect.poll(() => page.locator('nav a[href="/report-card"].active').count()).toBe(1);
    await screenshot(page, 'report-card');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-card-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^downstream-report-card-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain('downstream,Business park B,,Business park B,');
    expect(csv).toContain('# abuse sent upstream per day (bytes)');
    expect(errors).toEqual([]);
    await page.close();
  });
});
