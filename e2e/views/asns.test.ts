import type { AsnHeatmap } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { screenshot, useDemoAndBrowser } from '../harness/index.js';
import { openPage } from './helpers.js';

/** ASNs heatmap and one ASN's page (web/src/views/asns/). */
describe('ASN pages', () => {
  const suite = useDemoAndBrowser();

  it('ranks source networks on a heatmap that drew, and opens one', async () => {
    // Wait until the store has rollups, as the page would.
    let heat: AsnHeatmap | undefined;
    for (let k = 0; k < 90; k++) {
      heat = (await (
        await fetch(`${suite.demo.url}/api/asns/heatmap?from=${Date.now() - 3600_000}&step=1m`)
      ).json()) as AsnHeatmap;
      if (heat.rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(heat!.rows.length).toBeGreaterThan(0);

    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/asns?range=1h`);
    const map = page.getByTestId('asn-heatmap');
    await map.waitFor({ timeout: 15_000 });
    expect(Number(await map.getAttribute('data-rows'))).toBeGreaterThan(0);
    // uPlot's canvas has the heatmap cells painted: count warm pixels. Polled: the rows can
    // arrive (the running minute reaches the store every 10 s) a frame before they are drawn.
    const warm = () =>
      page.evaluate(() => {
        const c = document.querySelector('[data-testid="asn-heatmap"] canvas') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && d[i]! > 120 && d[i]! > d[i + 2]! + 40) n++;
        return n;
      });
    await expect.poll(warm, { timeout: 30_000 }).toBeGreaterThan(100);
    const rows = page.getByTestId('asn-row');
    expect(await rows.count()).toBe(Number(await map.getAttribute('data-rows')));
    // Ranked by bytes: the API's order.
    const firstAsns = await rows.evaluateAll((els) => els.slice(0, 5).map((e) => Number(e.getAttribute('data-asn'))));
    expect(firstAsns.length).toBeGreaterThan(0);
    expect(await page.getByTestId('data-attribution').textContent()).toBe(
      'IP to ASN data: RouteViews, DB-IP (IP Geolocation by DB-IP, https://db-ip.com), NRO, CC BY 4.0',
    );
    expect(await page.locator('[data-testid="data-attribution"] a[href="https://db-ip.com"]').count()).toBe(1);
    await screenshot(page, 'asns');

    // Drill into the top non-zero ASN.
    const asn = firstAsns.find((a) => a > 0) ?? firstAsns[0]!;
    await page.locator(`[data-testid="asn-row"][data-asn="${asn}"] a`).first().click();
    await page.waitForURL(`**/asns/${asn}?range=1h`);
    await page.getByTestId('asn-page').waitFor();
    await expect.poll(() => page.getByTestId('asn-bytes').textContent(), { timeout: 15_000 }).toMatch(/[1-9]/);
    await expect.poll(() => page.getByTestId('mini-incident-row').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await screenshot(page, 'asn');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('rejects a malformed AS number with advice', async () => {
    const { page } = await openPage(suite.browser, `${suite.demo.url}/asns/notanumber`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not an AS number/);
    await page.close();
  });
});
