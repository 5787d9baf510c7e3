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
