import type { Incident } from '@downstream/shared';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, startDemo, type DemoServer } from '../harness/index.js';
import { openPage } from './helpers.js';

/** The endpoint page (issue 7): one address, its customer, its incidents, its timeline. */
describe('endpoint page', () => {
  let demo: DemoServer;
  let browser: Browser;

  beforeAll(async () => {
    demo = await startDemo();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop({ cleanup: true });
  });

  it('shows the attacked customer address with its customer and incidents, reached from the incident', async () => {
    let incident: Incident | undefined;
    for (let k = 0; k < 60 && !incident; k++) {
      const list = (await (await fetch(`${demo.url}/api/incidents?kind=ddos-fan-in`)).json()) as {
        incidents: Incident[];
      };
      incident = list.incidents[0];
      if (!incident) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(incident, 'a fan-in incident within 60 s').toBeDefined();
    const ip = incident!.target!.ip;

    // From the incident page, the target links to its endpoint page.
    const { page, errors } = await openPage(browser, `${demo.url}/incidents/${incident!.id}`);
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
    await screenshot(page, 'endpoint');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says clearly when an address has no history', async () => {
    const { page } = await openPage(browser, `${demo.url}/endpoints/192.0.2.254`);
    await page.getByTestId('endpoint-facts').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('endpoint-incident-count').textContent()).toBe('0');
    expect(await page.getByTestId('endpoint-page').textContent()).toMatch(
      /No abusive traffic from or to 192\.0\.2\.254/,
    );
    await page.close();
  });
});
