import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { screenshot, useDemoAndBrowser } from '../harness/index.js';
import { openPage } from './helpers.js';

/** Executive trends (web/src/views/trends/): per-upstream and per-customer abuse, CSV, print layout. */
describe('trends', () => {
  const suite = useDemoAndBrowser();

  it('shows upstream and customer abuse, exports CSV, and prints without controls', async () => {
    // Let the demo's attack reach the rollups first.
    for (let k = 0; k < 60; k++) {
      const t = (await (await fetch(`${suite.demo.url}/api/upstreams/trends?step=1h`)).json()) as {
        upstreams: { total: { bytes: number } }[];
      };
      if (t.upstreams.some((u) => u.total.bytes > 0)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/trends?period=7d`);
    await page.getByTestId('upstream-table').waitFor({ timeout: 15_000 });
    const upstreams = await page.locator('[data-testid="upstream-row"] td:first-child').allTextContents();
    expect(upstreams.length).toBeGreaterThan(0);
    await page.getByTestId('customer-table').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('customer-table').textContent()).toContain('Residential pool A');
    expect(Number(await page.getByTestId('kpi-incidents').textContent())).toBeGreaterThan(0);
    expect(await page.getByTestId('upstream-trends').count()).toBe(1);

    // The range is a deep link (`period` is the older name and still read).
    await page.getByTestId('range-picker').getByRole('button', { name: '30d' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('range')).toBe('30d');
    expect(new URL(page.url()).searchParams.has('period')).toBe(false);
    // The picker shows the new preset (its fields reset in the same render) before we type.
    await expect
      .poll(() => page.getByTestId('range-picker').getByRole('button', { name: '30d' }).getAttribute('aria-pressed'))
      .toBe('true');
    // An absolute range from the same picker: from/to in the URL (UTC), the title says it.
    await page.getByTestId('time-from').fill('2026-11-01T00:00');
    await page.getByTestId('time-to').fill('2026-11-08T00:00');
    await page.getByTestId('time-apply').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).toBe('2026-11-01T00:00:00.000Z');
    expect(new URL(page.url()).searchParams.get('to')).toBe('2026-11-08T00:00:00.000Z');
    expect(new URL(page.url()).searchParams.has('range')).toBe(false);
    await expect.poll(() => page.locator('h1').textContent()).toContain('2026-11-01 00:00 – 2026-11-08 00:00 UTC');
    // The header's navigation carries the range to the next page.
    expect(await page.locator('.app-header nav a', { hasText: 'ASNs' }).getAttribute('href')).toContain('from=');
    await page.getByTestId('range-picker').getByRole('button', { name: '30d' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('range')).toBe('30d');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    expect(download.suggestedFilename()).toBe('downstream-trends-30d.csv');
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain('bucket,');
    expect(csv).toContain(upstreams[0]!);
    expect(csv).toContain('Residential pool A');
    await screenshot(page, 'trends');

    await page.emulateMedia({ media: 'print' });
    expect(await page.getByTestId('export-csv').isVisible()).toBe(false);
    expect(await page.locator('.app-header nav').isVisible()).toBe(false);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(255, 255, 255)');
    await screenshot(page, 'trends-print');
    expect(errors).toEqual([]);
    await page.close();
  });
});
