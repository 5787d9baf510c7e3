import type { Browser, Page } from 'playwright-core';

/** A page that records uncaught errors, so a test can assert the view did not crash. */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1600, height: 1000 },
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('crash', () => errors.push('page crashed'));
  page.on('console', (m) => {
    if (m.type() === 'error' && /downstream:/.test(m.text())) errors.push(m.text());
  });
  await page.goto(url);
  return { page, errors };
}

export interface Ink {
  width: number;
  height: number;
  /** Pixels that differ from the most common colour (the background). */
  drawn: number;
  /** Pixels whose red channel clearly dominates: the fan-in kind colour. */
  reddish: number;
}

/**
 * Reads back the pixels of the first canvas under `selector` (a deck.gl WebGL canvas; deck.gl
 * keeps the drawing buffer) by copying it into a 2D canvas. A blank canvas has drawn = 0.
 */
export async function canvasInk(page: Page, selector: string): Promise<Ink> {
  return page.evaluate((sel) => {
    const src = document.querySelector(`${sel} canvas`) as HTMLCanvasElement | null;
    if (!src) return { width: 0, height: 0, drawn: 0, reddish: 0 };
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(src, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const counts = new Map<number, number>();
    for (let i = 0; i < d.length; i += 4 * 7) {
      const key = (d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    let bg = 0;
    let best = -1;
    for (const [k, n] of counts) if (n > best) [bg, best] = [k, n];
    let drawn = 0;
    let reddish = 0;
    for (let i = 0; i < d.length; i += 4 * 7) {
      const key = (d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!;
      if (key !== bg) drawn++;
      if (d[i + 3]! > 0 && d[i]! > 150 && d[i]! > d[i + 1]! + 60 && d[i]! > d[i + 2]! + 60) reddish++;
    }
    return { width: c.width, height: c.height, drawn, reddish };
  }, selector);
}

/** True when the document scrolls in either direction (the wall must not). */
export async function hasScrollbars(page: Page): Promise<{ x: boolean; y: boolean }> {
  return page.evaluate(() => ({
    x: document.documentElement.scrollWidth > window.innerWidth,
    y: document.documentElement.scrollHeight > window.innerHeight,
  }));
}

/** Marks the window; `noReload` later tells whether the page was reloaded since. */
export async function markWindow(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { __e2eMark: boolean }).__e2eMark = true));
}

export async function noReload(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __e2eMark?: boolean }).__e2eMark === true);
}

export interface AxeFinding {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core (WCAG 2.x A/AA rules) on the page and returns the serious and critical
 * findings, each with the selectors of the offending nodes, so a failure says what to fix.
 */
export async function axeSerious(page: Page, exclude: string[] = []): Promise<AxeFinding[]> {
  const { createRequire } = await import('node:module');
  const source = await (
    await import('node:fs/promises')
  ).readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: source });
  return page.evaluate(async (exclude: string[]) => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: { id: string; impact?: string | null; help: string; nodes: { target: unknown[] }[] }[];
    }
    const r = await axe.run(exclude.length > 0 ? { include: [['html']], exclude: exclude.map((e) => [e]) } : document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      // Only violations are read: skipping the passes makes a 500-row table page several times faster.
      resultTypes: ['violations'],
    });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      }));
  }, exclude);
}

export interface LabelBoxes {
  labels: { cluster: number; text: string; x0: number; y0: number; x1: number; y1: number }[];
  discs: { cluster: number; cx: number; cy: number; r: number }[];
}

/** Overlaps among the fan-in graph's label boxes (and labels over discs), as readable lines. */
export function labelProblems(b: LabelBoxes, width: number, height: number): string[] {
  const out: string[] = [];
  const hit = (a: LabelBoxes['labels'][number], c: LabelBoxes['labels'][number]) =>
    a.x0 < c.x1 && c.x0 < a.x1 && a.y0 < c.y1 && c.y0 < a.y1;
  b.labels.forEach((a, i) => {
    if (a.x0 < 0 || a.y0 < 0 || a.x1 > width || a.y1 > height) out.push(`"${a.text}" leaves the graph`);
    for (const c of b.labels.slice(i + 1)) if (hit(a, c)) out.push(`"${a.text}" overlaps "${c.text}"`);
    for (const d of b.discs) {
      const nx = Math.max(a.x0, Math.min(d.cx, a.x1));
      const ny = Math.max(a.y0, Math.min(d.cy, a.y1));
      if ((nx - d.cx) ** 2 + (ny - d.cy) ** 2 < d.r * d.r) out.push(`"${a.text}" overlaps disc ${d.cluster}`);
    }
  });
  return out;
}
