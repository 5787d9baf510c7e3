import { describe, expect, it } from 'vitest';
import { screenshot, useDemoAndBrowser } from '../harness/index.js';
import { axeSerious, openPage } from './helpers.js';

/**
 * Every view (web/src/views/) passes axe-core (WCAG 2.1 A/AA and best practice) with no serious or
 * critical finding, on a demo with its simulated history (so history pages have content), and
 * each view is screenshotted at 1366×768, 1920×1080 and 3840×2160 for a person to look at.
 */
describe('accessibility and first run', () => {
  const suite = useDemoAndBrowser({ history: true });

  async function json<T>(path: string): Promise<T> {
    return (await (await fetch(`${suite.demo.url}${path}`)).json()) as T;
  }

  it('backfills simulated history on a fresh start and marks it', async () => {
    const trends = await json<{ simulated: { from: string } | null; upstreams: { total: { bytes: number } }[] }>(
      '/api/upstreams/trends?step=1d&from=' + (Date.now() - 30 * 86_400_000),
    );
    expect(trends.simulated).not.toBeNull();
    expect(trends.upstreams.some((u) => u.total.bytes > 0)).toBe(true);
    const list = await json<{ incidents: { simulated?: boolean; status: string }[] }>(
      '/api/incidents?status=resolved&limit=1000',
    );
    expect(list.incidents.filter((i) => i.simulated).length).toBeGreaterThan(50);
    expect(suite.demo.output()).toMatch(/backfilled simulated history/);

    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/trends?range=30d`, {
      width: 1366,
      height: 768,
    });
    await page.getByTestId('simulated-note').waitFor({ timeout: 15_000 });
    await page.getByTestId('upstream-trends').waitFor({ timeout: 15_000 });
    await expect
      .poll(async () => Number((await page.getByTestId('kpi-incidents').textContent())?.replace(/,/g, '')), {
        timeout: 15_000,
      })
      .toBeGreaterThan(50);
    expect(errors).toEqual([]);
    await page.close();
  });

  let live: { id: string; target: { ip: string } } | undefined;
  /** A live (not simulated) fan-in, for the incident, endpoint and wall views. */
  async function liveFanIn() {
    for (let k = 0; k < 60 && !live; k++) {
      const l = await json<{ incidents: { id: string; target: { ip: string }; simulated?: boolean }[] }>(
        '/api/incidents?kind=ddos-fan-in&status=open',
      );
      live = l.incidents.find((i) => !i.simulated);
      if (!live) await new Promise((r) => setTimeout(r, 1000));
    }
    if (!live) throw new Error('no live fan-in incident within 60 s');
    return live;
  }

  /** The demo's spam bots start about a minute in: wait for the list to have a row (bounded). */
  async function remediationEntries() {
    for (let k = 0; k < 80; k++) {
      const r = await json<{ entries: unknown[] }>('/api/remediation');
      if (r.entries.length > 0) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error('no remediation entry within 80 s');
  }

  const views: [string, () => Promise<string>, string][] = [
    ['wall', async () => (await liveFanIn(), '/wall'), '[data-testid="wall-attack"]'],
    ['incidents', async () => '/incidents?status=all', '[data-testid="incident-row"]'],
    ['incident', async () => `/incidents/${(await liveFanIn()).id}`, '[data-testid="fan-in-graph"]'],
    ['endpoint', async () => `/endpoints/${(await liveFanIn()).target.ip}?range=30d`, '[data-testid="endpoint-facts"]'],
    ['asns', async () => '/asns?range=30d', '[data-testid="asn-heatmap"]'],
    [
      'asn',
      async () =>
        `/asns/${(await json<{ rows: { asn: number }[] }>('/api/asns/heatmap?step=1d')).rows[0]?.asn ?? 4134}?range=30d`,
      '[data-testid="asn-series"]',
    ],
    ['trends', async () => '/trends?range=30d', '[data-testid="upstream-trends"]'],
    ['remediation', async () => (await remediationEntries(), '/remediation'), '[data-testid="remediation-table"]'],
    ['status', async () => '/status', 'main h1'],
  ];
  for (const [name, path, ready] of views) {
    it(`${name}: no serious axe finding; screenshots at 1366, 1920 and 3840 wide`, async () => {
      const { page, errors } = await openPage(suite.browser, `${suite.demo.url}${await path()}`, {
        width: 1366,
        height: 768,
      });
      await page.locator(ready).first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(500);
      // Rows past the 20th of a long table repeat the same markup: checking them only costs time.
      expect(await axeSerious(page, ['[data-testid="top-sources"] tbody tr:nth-child(n+21)'])).toEqual([]);
      for (const [w, h] of [
        [1366, 768],
        [1920, 1080],
        [3840, 2160],
      ] as const) {
        await page.setViewportSize({ width: w, height: h });
        await page.waitForTimeout(name === 'incident' || name === 'wall' ? 1000 : 300);
        await screenshot(page, `view-${name}-${w}`);
      }
      expect(errors, `${name}: page errors`).toEqual([]);
      await page.close();
    });
  }
});
