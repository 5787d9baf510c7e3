import type { Incident } from '@downstream/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { screenshot, useDemoAndBrowser } from './harness/index.js';

/**
 * The first vertical slice (README, Layout): simulated router → NetFlow v9 over UDP → collector →
 * fan-in detector → incident → socket.io → the incident list, live, without a reload.
 */
describe('demo slice', () => {
  let startedAt = 0;
  // Registered first, so it runs before the suite's hook starts the demo.
  beforeAll(() => {
    startedAt = Date.now();
  });
  const suite = useDemoAndBrowser();

  it('shows the simulated fan-in attack live and opens it', async () => {
    const page = await suite.browser.newPage({ viewport: { width: 1600, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${suite.demo.url}/incidents`);
    await expect.poll(() => page.getByTestId('connection-state').textContent(), { timeout: 15_000 }).toMatch(/live/i);
    // A marker that a reload or navigation would wipe: the row must arrive over the socket.
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    const row = page.locator('[data-testid="incident-row"][data-kind="ddos-fan-in"]').first();
    await row.waitFor({ state: 'visible', timeout: 60_000 });
    const seenAfterMs = Date.now() - startedAt;
    console.log(`fan-in incident visible ${(seenAfterMs / 1000).toFixed(1)} s after the demo was started`);
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    await screenshot(page, 'slice-incident-list');

    // The row is the server's incident, not something the page made up.
    const api = (await (await fetch(`${suite.demo.url}/api/incidents?kind=ddos-fan-in`)).json()) as {
      incidents: Incident[];
    };
    expect(api.incidents.length).toBeGreaterThan(0);
    const id = await row.getAttribute('data-id');
    const incident = api.incidents.find((i) => i.id === id);
    expect(incident, `row ${id} is in /api/incidents`).toBeDefined();
    expect(incident!.direction).toBe('inbound');
    expect(incident!.sources.distinct).toBeGreaterThan(100);

    await row.click();
    await page.waitForURL(`**/incidents/${encodeURIComponent(id!)}`);
    const detail = page.getByTestId('incident-detail');
    await detail.waitFor({ state: 'visible', timeout: 15_000 });
    await expect.poll(() => detail.textContent(), { timeout: 10_000 }).toContain(incident!.target!.ip);
    expect(await detail.textContent()).toMatch(/fan-in/i);
    const path = await screenshot(page, 'slice-incident-detail');
    console.log(`screenshot: ${path}`);
    expect(errors).toEqual([]);
  });

  it('reports the collector and exporter in /api/health and /metrics', async () => {
    const health = (await (await fetch(`${suite.demo.url}/api/health`)).json()) as {
      status: string;
      exporters: { protocol: string; records: number; datagrams: number }[];
    };
    expect(health.status).toBe('ok');
    const v9 = health.exporters.find((e) => e.protocol === 'netflow-v9');
    expect(v9, 'the simulator exporter is listed').toBeDefined();
    expect(v9!.records).toBeGreaterThan(0);
    const metrics = await (await fetch(`${suite.demo.url}/metrics`)).text();
    expect(metrics).toMatch(/^# TYPE \S+ (counter|gauge)/m);
  });
});
