/**
 * `pnpm bench:web` — the incident page with a 50,000-source fan-in graph while live updates
 * arrive, in headless Chromium on software WebGL (Mesa llvmpipe; no GPU on these machines, so
 * absolute frame times mean little — the ratio to a bare ScatterplotLayer of the same points,
 * measured in the same run, is the figure that carries over).
 *
 * Prints: time to first render (wall and main-thread time), median / p95 frame time of the
 * graph and of the bare layer and their ratio, and the gzipped JS each route downloads.
 * Writes the same as JSON to bench/results/web.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../harness/browser.js';
import { repoRoot } from '../harness/demo.js';
import { startFixtureServer } from './fixture-server.js';

const SOURCES = Number(process.env.BENCH_SOURCES ?? 50_000);
const FRAMES = Number(process.env.BENCH_FRAMES ?? 40);
const VIEWPORT = { width: 1600, height: 1000 };
const webRoot = join(repoRoot, 'web', 'dist');

interface BenchWindow {
  __dsBench: { deck?: { redraw(reason: string): void; device?: { gl?: WebGL2RenderingContext } }; frames: number[] };
}

/**
 * Forced synchronous redraws, each waited for on the GPU side: reading back one pixel cannot
 * return before the frame is rasterised (gl.finish() alone does not wait in Chromium).
 */
async function frameTimes(page: Page, n: number): Promise<number[]> {
  return page.evaluate(async (count) => {
    const b = (window as unknown as BenchWindow).__dsBench;
    const deck = b.deck!;
    const gl = deck.device?.gl;
    if (!gl) throw new Error('no WebGL context on the Deck instance');
    const out: number[] = [];
    const px = new Uint8Array(4);
    for (let i = 0; i < count + 3; i++) {
      await new Promise((r) => requestAnimationFrame(r));
      const t0 = performance.now();
      deck.redraw('bench');
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
      if (i >= 3) out.push(performance.now() - t0);
    }
    return out;
  }, n);
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const p95 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(v.length * 0.95))]!;

/** JS per route from Vite's manifest: the entry, its static imports, and the lazy chunks the route renders. */
function routeSizes(): Record<string, number> {
  type Chunk = { file: string; imports?: string[]; dynamicImports?: string[]; isEntry?: boolean };
  const manifest = JSON.parse(readFileSync(join(webRoot, '.vite', 'manifest.json'), 'utf8')) as Record<string, Chunk>;
  const gz = new Map<string, number>();
  const size = (file: string) =>
    gz.get(file) ?? gz.set(file, gzipSync(readFileSync(join(webRoot, file)), { level: 9 }).length).get(file)!;
  const closure = (keys: string[]) => {
    const seen = new Set<string>();
    const walk = (k: string) => {
      if (seen.has(k) || !manifest[k]) return;
      seen.add(k);
      for (const i of manifest[k]!.imports ?? []) walk(i);
    };
    keys.forEach(walk);
    return [...seen].reduce((s, k) => s + size(manifest[k]!.file), 0);
  };
  const entry = Object.keys(manifest).find((k) => manifest[k]!.isEntry)!;
  // Which lazy modules each route renders (see the lazyRetry(...) calls in web/src/views).
  const routes: Record<string, string[]> = {
    '/ and /incidents': [],
    '/incidents/:id': ['src/charts/fan-in-graph.tsx'],
    '/wall': ['src/charts/fan-in-graph.tsx', 'src/charts/world-map.tsx', 'src/charts/asn-heatmap.tsx'],
    '/asns': ['src/charts/asn-heatmap.tsx'],
    '/asns/:asn': [],
    '/endpoints/:ip': [],
    '/trends': [],
    '/remediation': [],
    '/status': [],
  };
  // The detail worker (live/detail-worker.ts) is its own bundle, outside the manifest's graph.
  const worker = readdirSync(join(webRoot, 'assets')).find((f) => /^detail-worker-.*\.js$/.test(f));
  const workerBytes = worker ? size(`assets/${worker}`) : 0;
  const usesWorker = new Set(['/incidents/:id', '/wall']);
  return Object.fromEntries(
    Object.entries(routes).map(([r, lazy]) => [r, closure([entry, ...lazy]) + (usesWorker.has(r) ? workerBytes : 0)]),
  );
}

async function main() {
  const server = await startFixtureServer({ webRoot, sources: SOURCES, updateMs: 500 });
  const browser = await launchBrowser();
  try {
    // 1. The incident page: time to first render of the graph.
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await page.addInitScript(() => ((window as unknown as BenchWindow).__dsBench = { frames: [] }));
    const cdp = await context.newCDPSession(page);
    // threadTicks: task durations in main-thread CPU time, so that other processes competing for
    // this machine's cores do not count as the page's work.
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const metric = async (name: string) =>
      ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    const task0 = await metric('TaskDuration');
    const script0 = await metric('ScriptDuration');
    await page.goto(`${server.url}/incidents/${server.incident.id}`);
    await page.waitForFunction(() => (window as unknown as BenchWindow).__dsBench.frames.length > 0, null, {
      timeout: 120_000,
      polling: 20,
    });
    const firstFrameAt = await page.evaluate(() => (window as unknown as BenchWindow).__dsBench.frames[0]!);
    let mainThread = (await metric('TaskDuration')) - task0;
    let script = (await metric('ScriptDuration')) - script0;
    if (mainThread < 0) [mainThread, script] = [await metric('TaskDuration'), await metric('ScriptDuration')];
    const drawn = Number(await page.getByTestId('fan-in-graph').getAttribute('data-sources'));
    if (drawn !== SOURCES) throw new Error(`graph drew ${drawn} sources, expected ${SOURCES}`);
    const box = (await page.getByTestId('fan-in-graph').boundingBox())!;

    // 2. The baseline page: the same points, same canvas size, one bare ScatterplotLayer.
    const bare = await context.newPage();
    await bare.addInitScript(() => ((window as unknown as BenchWindow).__dsBench = { frames: [] }));
    await bare.goto(
      `${server.url}/bench/scatter/${server.incident.id}?w=${Math.round(box.width)}&h=${Math.round(box.height)}`,
    );
    await bare.waitForFunction(() => (window as unknown as BenchWindow).__dsBench.frames.length > 0, null, {
      timeout: 120_000,
      polling: 20,
    });

    // 3. Frame times, graph (while updates keep arriving: every 500 ms, a new binary graph frame
    //    every 2 s) and baseline in alternating batches, so that load from other processes on
    //    this machine hits both alike.
    const graph: number[] = [];
    const baseline: number[] = [];
    const framesBefore = await page.evaluate(() => (window as unknown as BenchWindow).__dsBench.frames.length);
    const BATCH = 10;
    for (let b = 0; b < Math.ceil(FRAMES / BATCH); b++) {
      // Alternate which goes first, so neither always follows the other's tab switch.
      const order: [Page, number[]][] =
        b % 2 === 0
          ? [
              [page, graph],
              [bare, baseline],
            ]
          : [
              [bare, baseline],
              [page, graph],
            ];
      for (const [p, out] of order) {
        await p.bringToFront();
        out.push(...(await frameTimes(p, BATCH)));
      }
    }
    const updatesDrawn =
      (await page.evaluate(() => (window as unknown as BenchWindow).__dsBench.frames.length)) -
      framesBefore -
      graph.length -
      3 * Math.ceil(FRAMES / BATCH);

    const result = {
      sources: SOURCES,
      canvas: `${Math.round(box.width)}×${Math.round(box.height)} CSS px`,
      firstRender: {
        wallMs: Math.round(firstFrameAt),
        mainThreadMs: Math.round(mainThread),
        scriptMs: Math.round(script),
      },
      frame: {
        graphMedianMs: +median(graph).toFixed(2),
        graphP95Ms: +p95(graph).toFixed(2),
        bareMedianMs: +median(baseline).toFixed(2),
        bareP95Ms: +p95(baseline).toFixed(2),
        ratio: +(median(graph) / median(baseline)).toFixed(2),
        liveRedrawsDuringRun: Math.max(0, updatesDrawn),
      },
      gzippedJsBytes: routeSizes(),
    };
    console.log(
      `web bench — ${SOURCES.toLocaleString('en-US')} sources, ${result.canvas}, headless Chromium, software WebGL`,
    );
    console.log(
      `  first render: ${result.firstRender.wallMs} ms after navigation, ${result.firstRender.mainThreadMs} ms main-thread CPU time (${result.firstRender.scriptMs} ms script)  [target < 1000 ms main thread]`,
    );
    console.log(
      `  frame (median / p95): graph ${result.frame.graphMedianMs} / ${result.frame.graphP95Ms} ms, bare ScatterplotLayer ${result.frame.bareMedianMs} / ${result.frame.bareP95Ms} ms`,
    );
    console.log(`  ratio graph / bare: ${result.frame.ratio}×  [target ≤ 1.5×]`);
    console.log('  gzipped JS per route:');
    for (const [r, b] of Object.entries(result.gzippedJsBytes))
      console.log(`    ${r.padEnd(18)} ${(b / 1024).toFixed(1)} KiB`);
    mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench', 'results', 'web.json'), JSON.stringify(result, null, 2) + '\n');
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
