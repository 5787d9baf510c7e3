import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One runner for the whole repo; each workspace package is a project so a helper can run
// `vitest run --project server` and CI runs everything with `pnpm test`.
const shared = fileURLToPath(new URL('./shared/src/index.ts', import.meta.url));
const alias = { '@downstream/shared': shared };

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      { resolve: { alias }, test: { name: 'shared', include: ['shared/src/**/*.test.ts'], environment: 'node' } },
      {
        resolve: { alias },
        test: {
          name: 'server',
          include: ['server/src/**/*.test.ts', 'server/test/**/*.test.ts'],
          // One nats-server (JetStream) for the run, for the flow bus tests (server/src/bus/).
          globalSetup: ['server/src/testing/nats-global-setup.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      { resolve: { alias }, test: { name: 'web', include: ['web/src/**/*.test.{ts,tsx}'], environment: 'node' } },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Browser tests each start a server and a Chromium: run them one file at a time, after
          // the unit projects (groupOrder), so they never compete with them for the 2 cores.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
