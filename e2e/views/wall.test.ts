import { describe, expect, it } from 'vitest';
import { screenshot, startDemo, useDemoAndBrowser } from '../harness/index.js';
import { canvasInk, hasScrollbars, markWindow, noReload, openPage } from './helpers.js';

/** The NOC wall (web/src/views/wall/): big numbers, live graph, map, heatmap, STALE and recovery. */
describe('wall', () => {
  const suite = useDemoAndBrowser();

  it('shows the largest attack as a drawn fan-in graph, live numbers, no scrollbars at 1920×1080', async () => {
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/wall?panel=attack`, {
      width: 1920,
      height: 1080,
    });
    await expect
      .poll(() => page.getByTestId('wall-freshness').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('live');
    await page.locator('[data-testid="wall-attack"]').waitFor({ timeout: 60_000 });
    const graph = page.getByTestId('fan-in-graph');
    await graph.waitFor({ timeout: 30_000 });
    expect(Number(await graph.getAttribute('data-sources'))).toBeGreaterThan(100);
    // The canvas really drew: many non-background pixels, many in the fan-in red.
    await expect
      .poll(async () => (await canvasInk(page, '[data-testid="fan-in-graph"]')).reddish, { timeout: 20_000 })
      .toBeGreaterThan(500);
    const ink = await canvasInk(page, '[data-testid="fan-in-graph"]');
    expect(ink.drawn).toBeGreaterThan(1000);

    const flows = await page.getByTestId('wall-flows').textContent();
    expect(flows).toMatch(/\d/);
    // The summary comes at most once a second, so it may trail the incident by a tick.
    await expect
      .poll(async () => Number(await page.getByTestId('wall-active').textContent()), { timeout: 5000 })
      .toBeGreaterThan(0);
    await expect
      .poll(() => page.getByTestId('wall-kinds').textContent(), { timeout: 5000 })
      .toMatch(/DDoS fan-in|Volumetric|Amplification/);
    await expect.poll(() => page.locator('[data-testid="wall-ticker"] li').count()).toBeGreaterThan(0);
    expect(await hasScrollbars(page)).toEqual({ x: false, y: false });
    expect(await page.getByTestId('data-attribution').textContent()).toBe(
      'IP to ASN data: RouteViews, DB-IP (IP Geolocation by DB-IP, https://db-ip.com), NRO, CC BY 4.0',
    );
    expect(await page.locator('[data-testid="data-attribution"] a[href="https://db-ip.com"]').count()).toBe(1);
    await screenshot(page, 'wall-1080p-attack');

    // Kiosk mode: the toggle puts kiosk=1 in the URL and hides the controls; Escape leaves it.
    expect(await page.getByTestId('wall-chrome').isVisible()).toBe(true);
    await page.getByTestId('kiosk-toggle').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('kiosk')).toBe('1');
    // React hides the chrome on the render after the URL changes: poll, not one read.
    await expect.poll(() => page.getByTestId('wall-chrome').count()).toBe(0);
    // The attack stays while secondary panels rotate.
    expect(await page.getByTestId('wall-attack-panel').count()).toBe(1);
    await screenshot(page, 'wall-1080p-kiosk');
    await page.keyboard.press('Escape');
    await expect.poll(() => new URL(page.url()).searchParams.has('kiosk')).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws the world map and the ASN heatmap, rotates panels, and fits 3840×2160', async () => {
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/wall?panel=map`, {
      width: 3840,
      height: 2160,
    });
    const map = page.getByTestId('world-map');
    await map.waitFor({ timeout: 30_000 });
    await expect.poll(() => map.getAttribute('data-arcs').then(Number), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect
      .poll(async () => (await canvasInk(page, '[data-testid="world-map"]')).drawn, { timeout: 20_000 })
      .toBeGreaterThan(5000);
    expect(await hasScrollbars(page)).toEqual({ x: false, y: false });
    await screenshot(page, 'wall-2160p-map');

    await page.goto(`${suite.demo.url}/wall?panel=asns`);
    const heatmap = page.getByTestId('asn-heatmap');
    await heatmap.waitFor({ timeout: 90_000 });
    expect(Number(await heatmap.getAttribute('data-rows'))).toBeGreaterThan(0);
    expect(await hasScrollbars(page)).toEqual({ x: false, y: false });
    await screenshot(page, 'wall-2160p-asns');

    // Rotation on a 2 s interval visits another panel without any input.
    await page.goto(`${suite.demo.url}/wall?rotate=2`);
    const panel = page.getByTestId('wall-panel');
    const first = await panel.getAttribute('data-panel');
    await expect.poll(() => panel.getAttribute('data-panel'), { timeout: 8_000 }).not.toBe(first);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('turns STALE within 12 s of losing the server and recovers by itself after a restart', async () => {
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/wall?panel=attack`, {
      width: 1920,
      height: 1080,
    });
    const freshness = page.getByTestId('wall-freshness');
    await expect.poll(() => freshness.getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
    await markWindow(page);

    const port = suite.demo.port;
    const dataDir = suite.demo.dataDir;
    const stoppedAt = Date.now();
    await suite.demo.stop();
    await expect
      .poll(
        () =>
          freshness
            .getAttribute('data-state', { timeout: 2000 })
            .catch((e: Error) => `unreadable: ${e.message.split('\n')[0]} ${errors.join('; ')}`),
        {
          timeout: 12_000,
          interval: 250,
        },
      )
      .toBe('STALE');
    console.log(`STALE ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after the server stopped`);
    await page.getByTestId('wall-stale').waitFor();
    await screenshot(page, 'wall-stale');

    suite.demo = await startDemo({ port, dataDir });
    await expect.poll(() => freshness.getAttribute('data-state'), { timeout: 30_000, interval: 250 }).toBe('live');
    expect(await noReload(page)).toBe(true);
    expect(await page.getByTestId('wall-stale').count()).toBe(0);
    await expect.poll(() => page.getByTestId('wall-flows').textContent(), { timeout: 10_000 }).toMatch(/\d/);
    await screenshot(page, 'wall-recovered');
    await page.close();
  });
});
