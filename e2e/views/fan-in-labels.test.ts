import { describe, expect, it } from 'vitest';
import { screenshot, useDemoAndBrowser } from '../harness/index.js';
import { labelProblems, openPage, type LabelBoxes } from './helpers.js';

/**
 * The fan-in graph's ring labels (web/src/charts/fan-in-labels.ts) never print over each other or over a disc, on the
 * incident page and the wall, at 1920×1080 and 3840×2160. The boxes are the ones the renderer
 * draws (data-label-boxes, from fan-in-labels.ts).
 */
describe('fan-in graph labels', () => {
  const suite = useDemoAndBrowser();

  async function fanInId(): Promise<string> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const list = (await (await fetch(`${suite.demo.url}/api/incidents?kind=ddos-fan-in`)).json()) as {
        incidents: { id: string; sources: { distinct: number } }[];
      };
      const i = list.incidents.find((x) => x.sources.distinct > 200);
      if (i) return i.id;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error('no fan-in incident within 60 s');
  }

  for (const [width, height] of [
    [1920, 1080],
    [3840, 2160],
  ] as const) {
    it(`places labels without overlap at ${width}×${height} (incident page and wall)`, async () => {
      const id = await fanInId();
      for (const [where, url] of [
        ['incident', `${suite.demo.url}/incidents/${id}`],
        ['wall', `${suite.demo.url}/wall?panel=attack`],
      ] as const) {
        const { page, errors } = await openPage(suite.browser, url, { width, height });
        const graph = page.getByTestId('fan-in-graph');
        await graph.waitFor({ timeout: 30_000 });
        // Wait for the live source list: several networks, so there are labels to collide.
        await expect
          .poll(async () => Number(await graph.getAttribute('data-clusters')), { timeout: 30_000 })
          .toBeGreaterThan(3);
        const raw = await graph.getAttribute('data-label-boxes');
        expect(raw, 'the graph exposes its label boxes').toBeTruthy();
        const boxes = JSON.parse(raw!) as LabelBoxes;
        const size = (await graph.boundingBox())!;
        expect(boxes.labels.filter((l) => l.cluster >= 0).length).toBeGreaterThan(3);
        // The target label names the entry link.
        expect(boxes.labels.find((l) => l.cluster < 0)?.text).toMatch(/via /);
        expect(labelProblems(boxes, size.width, size.height)).toEqual([]);
        await page.waitForTimeout(500);
        await screenshot(page, `fan-in-labels-${where}-${width}`);
        expect(errors).toEqual([]);
        await page.close();
      }
    });
  }
});
