import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { screenshot, useDemoAndBrowser } from '../harness/index.js';
import { openPage } from './helpers.js';

/** Executive trends (issue 7): per-upstream and per-customer abuse, CSV, print layout. */
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

    // Period is a deep link.
    await page.getByTestId('range-picker').getByRole('button', { name: '30d' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('period')).toBe('30d');

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
