import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser } from './browser.js';
import { startDemo, type DemoOptions, type DemoServer } from './demo.js';

/** One demo server and one Chromium shared by every test of a file. */
export interface DemoSuite {
  /** Reassignable: a test that restarts the server stores the new one here, and it is stopped after. */
  demo: DemoServer;
  browser: Browser;
}

/** Registers the file's beforeAll/afterAll hooks; read `demo` and `browser` inside tests. */
export function useDemoAndBrowser(opts?: DemoOptions): DemoSuite {
  const suite = {} as DemoSuite;
  beforeAll(async () => {
    suite.demo = await startDemo(opts);
    suite.browser = await launchBrowser();
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.demo?.stop({ cleanup: true });
  });
  return suite;
}
