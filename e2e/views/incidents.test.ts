import type { Incident } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { screenshot, useDemoAndBrowser } from '../harness/index.js';
import { markWindow, noReload, openPage } from './helpers.js';

/** The live incident table (web/src/views/incidents/): sorting, filters in the URL, keyboard, stable rows. */
describe('incidents table', () => {
  const suite = useDemoAndBrowser();

  const api = async (q = '') =>
    ((await (await fetch(`${suite.demo.url}/api/incidents${q}`)).json()) as { incidents: Incident[] }).incidents;

  it('holds row order under the pointer while new incidents arrive, then shows them on request', async () => {
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/incidents?status=all`);
    const rows = page.getByTestId('incident-row');
    await rows.first().waitFor({ timeout: 60_000 });
    await markWindow(page);
    const before = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    // Pointer on the table: the list must not move under it.
    await page.getByTestId('incident-table').hover();
    await page.getByTestId('new-rows').waitFor({ timeout: 90_000 });
    const held = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(held.slice(0, before.length)).toEqual(before);
    expect(held.length).toBe(before.length);
    await page.getByTestId('new-rows').click();
    await page.mouse.move(5, 500);
    await expect.poll(() => rows.count()).toBeGreaterThan(before.length);
    expect(await noReload(page)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('sorts, filters through the URL, and opens a row from the keyboard', async () => {
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/incidents?status=all`);
    const rows = page.getByTestId('incident-row');
    await expect.poll(() => rows.count(), { timeout: 60_000 }).toBeGreaterThan(1);
    // The header's count comes from the same live incidents as the table: they always agree.
    await expect
      .poll(
        async () => {
          const statuses = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
          const header = await page.getByTestId('active-incidents').textContent();
          return [header, String(statuses.filter((s) => s !== 'resolved').length)];
        },
        { timeout: 5000 },
      )
      .toSatisfy(([header, rowsActive]) => header === rowsActive);

    await page.getByTestId('sort-sources').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('sort')).toBe('sources');
    // React Router renders navigations in a transition: the URL changes first, the rows right after.
    const sourcesColumn = async () =>
      (await page.locator('[data-testid="incident-row"] td:nth-child(5)').allTextContents()).map((s) =>
        Number(s.replace(/,/g, '')),
      );
    await expect
      .poll(async () => {
        const nums = await sourcesColumn();
        return nums.every((n, k) => k === 0 || nums[k - 1]! >= n);
      })
      .toBe(true);

    // A kind filter lands in the URL and leaves only that kind; the link reproduces the view.
    const kinds = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')!));
    const kind = kinds[0]!;
    await page.getByTestId('kind-filter').selectOption(kind);
    await expect.poll(() => new URL(page.url()).searchParams.get('kind')).toBe(kind);
    await expect
      .poll(async () => [...new Set(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind'))))])
      .toEqual([kind]);
    const deepLink = page.url();
    const { page: page2 } = await openPage(suite.browser, deepLink);
    await page2.getByTestId('incident-row').first().waitFor({ timeout: 15_000 });
    expect(await page2.getByTestId('kind-filter').inputValue()).toBe(kind);
    expect(
      new Set(
        await page2.getByTestId('incident-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind'))),
      ),
    ).toEqual(new Set([kind]));
    await page2.close();

    // Free-text filter by target address.
    const all = await api('?limit=1000');
    const target = all.find((i) => i.kind === kind && i.target)?.target?.ip;
    if (target) {
      await page.getByTestId('incident-filter').fill(target);
      await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe(target);
      await expect
        .poll(async () => {
          const texts = await page.locator('[data-testid="incident-row"] td:nth-child(4)').allTextContents();
          return texts.length > 0 && texts.every((t) => t.includes(target));
        })
        .toBe(true);
    }
    await screenshot(page, 'incidents-filtered');

    // Keyboard: focus the table, arrow down, Enter opens the selected row.
    await page.getByTestId('incident-filter').fill('');
    await page.locator('.table-wrap').focus();
    await page.keyboard.press('ArrowDown');
    const selected = page.locator('[data-testid="incident-row"][aria-selected="true"]');
    await selected.waitFor();
    const id = await selected.getAttribute('data-id');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/incidents/${encodeURIComponent(id!)}`);
    await page.getByTestId('incident-detail').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('incident-detail').getAttribute('data-id')).toBe(id);
    expect(errors).toEqual([]);
    await page.close();
  });
});
