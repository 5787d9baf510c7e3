import { readFile } from 'node:fs/promises';
import type { Incident } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { screenshot, useDemoAndBrowser } from '../harness/index.js';
import { openPage } from './helpers.js';

/** The endpoint page (web/src/views/endpoint/): one address, its customer, its incidents, its timeline. */
describe('endpoint page', () => {
  const suite = useDemoAndBrowser();

  it('shows the attacked customer address with its customer and incidents, reached from the incident', async () => {
    let incident: Incident | undefined;
    for (let k = 0; k < 60 && !incident; k++) {
      const list = (await (await fetch(`${suite.demo.url}/api/incidents?kind=ddos-fan-in`)).json()) as {
        incidents: Incident[];
      };
      incident = list.incidents[0];
      if (!incident) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(incident, 'a fan-in incident within 60 s').toBeDefined();
    const ip = incident!.target!.ip;

    // From the incident page, the target links to its endpoint page.
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/incidents/${incident!.id}`);
    await page.getByTestId('incident-target').locator('a').click();
    await page.waitForURL(`**/endpoints/${ip}`);
    const endpoint = page.getByTestId('endpoint-page');
    await endpoint.waitFor({ timeout: 15_000 });
    await page.getByTestId('endpoint-facts').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('endpoint-customer').textContent()).toBe(
      incident!.target!.customer ?? 'not one of ours',
    );
    await expect.poll(() => page.getByTestId('mini-incident-row').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const ids = await page
      .getByTestId('mini-incident-row')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(ids).toContain(incident!.id);
    expect(await page.getByTestId('data-attribution').textContent()).toBe(
      'IP to ASN data: RouteViews, DB-IP (IP Geolocation by DB-IP, https://db-ip.com), NRO, CC BY 4.0',
    );
    expect(await page.locator('[data-testid="data-attribution"] a[href="https://db-ip.com"]').count()).toBe(1);
    await screenshot(page, 'endpoint');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says clearly when an address has no history', async () => {
    const { page } = await openPage(suite.browser, `${suite.demo.url}/endpoints/192.0.2.254`);
    await page.getByTestId('endpoint-facts').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('endpoint-incident-count').textContent()).toBe('0');
    expect(await page.getByTestId('endpoint-page').textContent()).toMatch(
      /No abusive traffic from or to 192\.0\.2\.254/,
    );
    await page.close();
  });

  it('lists infected customer endpoints for remediation, moves one to notified, exports the filtered CSV', async () => {
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/remediation`);
    await page.getByTestId('remediation-page').waitFor({ timeout: 15_000 });
    const before = (await (await fetch(`${suite.demo.url}/api/remediation`)).json()) as { entries: { ip: string }[] };
    if (before.entries.length === 0) {
      // The demo's own spam bots start a minute in: before that the page must say what fills it.
      await page.getByTestId('remediation-empty').waitFor({ timeout: 15_000 });
      expect(await page.getByTestId('remediation-empty').textContent()).toMatch(/No infected customer endpoint yet/);
    }
    expect(await page.getByTestId('remediation-csv').getAttribute('href')).toBe('/api/remediation.csv');

    // An outside detector reports a spam bot in a customer pool: it becomes a remediation entry.
    const ip = '198.51.100.77';
    const post = await fetch(`${suite.demo.url}/api/feeds/generic`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        detector: 'e2e-honeypot',
        id: 'spam-1',
        kind: 'spam-bot',
        direction: 'outbound',
        sources: [{ ip, packets: 1200, bytes: 90_000 }],
        summary: 'SMTP to 800 hosts',
      }),
    });
    expect(post.status).toBeLessThan(300);
    let customer = '';
    await expect
      .poll(
        async () => {
          const r = (await (await fetch(`${suite.demo.url}/api/remediation`)).json()) as {
            entries: { ip: string; customer: string }[];
          };
          customer = r.entries.find((e) => e.ip === ip)?.customer ?? '';
          return customer;
        },
        { timeout: 15_000 },
      )
      .not.toBe('');

    // Filters live in the URL: a deep link shows just that customer's open endpoints.
    await page.goto(`${suite.demo.url}/remediation?customer=${encodeURIComponent(customer)}&status=open`);
    const row = page.locator(`[data-testid="remediation-row"]`, { hasText: ip });
    await row.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('filter-customer').inputValue()).toBe(customer);
    expect(await page.getByTestId('filter-status').inputValue()).toBe('open');
    expect(await row.textContent()).toContain('SMTP to 800 hosts');
    expect(await page.getByTestId('remediation-summary').textContent()).toContain(customer);

    await page.getByTestId('remediation-note').fill('ticket 4711, customer called');
    await row.getByTestId('remediation-notified').click();
    // Moved: no longer open, so the open-only filter drops it; the server agrees.
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0);
    await page.getByTestId('filter-status').selectOption('notified');
    await expect.poll(() => new URL(page.url()).searchParams.get('status')).toBe('notified');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute('data-status')).toBe('notified');
    expect(await row.textContent()).toContain('ticket 4711, customer called');
    await screenshot(page, 'remediation');

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('remediation-csv').click()]);
    expect(csv.suggestedFilename()).toBe('remediation.csv');
    const text = await readFile((await csv.path())!, 'utf8');
    const line = text.split(/\r?\n/).find((l) => l.includes(ip));
    expect(line).toContain('notified');
    expect(text.split(/\r?\n/).filter((l) => l.trim()).length).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows exporter and feed health on /status, refreshing by itself', async () => {
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/status`);
    await page.getByRole('link', { name: 'Status' }).waitFor();
    const rows = page.getByTestId('status-exporter');
    await rows.first().waitFor({ timeout: 15_000 });
    const protocols = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-protocol')));
    const health = (await (await fetch(`${suite.demo.url}/api/health`)).json()) as {
      exporters: { address: string; protocol: string }[];
    };
    expect(new Set(protocols)).toEqual(new Set(health.exporters.map((e) => e.protocol)));
    expect(await rows.first().textContent()).toContain(health.exporters[0]!.address.split(':')[0]!);
    // The simulator keeps exporting: a later poll shows more datagrams without a reload.
    const first = await rows.first().getAttribute('data-address');
    const count = async () =>
      Number(
        await page
          .locator(`[data-testid="status-exporter"][data-address="${first}"]`)
          .first()
          .getAttribute('data-datagrams'),
      );
    const before = await count();
    await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).not.toContain('stale');
    // The generic feed the remediation test posted to is listed with its event.
    const feeds = page.getByTestId('status-feed');
    await feeds.first().waitFor({ timeout: 10_000 });
    const generic = page.locator('[data-testid="status-feed"][data-name="generic"]');
    expect(Number(await generic.getAttribute('data-events'))).toBeGreaterThanOrEqual(1);
    await screenshot(page, 'status');
    expect(errors).toEqual([]);
    await page.close();
  });
});
