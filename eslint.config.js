import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Import boundaries along the data flow: each server module may import only what feeds it (and
 * config/, flow/, http/, shared/). ingest → enrich → detect → incidents → store; api/,
 * realtime/ and feeds/ sit on top and get the whole AppContext (context.ts); server.ts and
 * cli.ts wire everything and nothing imports them. A module's public interface is its
 * types.ts (ingest/types.ts, enrich/types.ts, store/types.ts, incidents/types.ts…).
 */
const MODULES = [
  'actions',
  'api',
  'auth',
  'bus',
  'config',
  'context.ts',
  'detect',
  'enrich',
  'feeds',
  'flow',
  'http',
  'incidents',
  'ingest',
  'realtime',
  'sim',
  'store',
  'traffic',
  'main',
  'server.ts',
  'cli.ts',
];
const MAY_IMPORT = {
  flow: [],
  http: [],
  ingest: ['config', 'flow'],
  enrich: ['config', 'flow'],
  detect: ['config', 'context.ts', 'enrich', 'flow'],
  store: ['config', 'context.ts', 'flow'],
  incidents: ['config', 'store'],
  traffic: ['flow', 'ingest', 'incidents'],
  // The demo's simulated history is made of the same rollups the incident manager writes.
  sim: ['config', 'incidents', 'store'],
  auth: ['config', 'http'],
  actions: ['config', 'context.ts', 'incidents', 'store'],
  // Complaints attach to remediation rows (actions/remediation*.ts).
  feeds: ['actions', 'config', 'context.ts', 'enrich', 'incidents', 'store'],
  api: [
    'actions',
    'auth',
    'config',
    'context.ts',
    'enrich',
    'feeds',
    'http',
    'incidents',
    'ingest',
    'store',
    'traffic',
  ],
  realtime: ['auth', 'config', 'context.ts', 'flow', 'http', 'incidents'],
  // The flow bus carries enriched batches from inlets (ingest, enrich) to detect processes
  // (detect, incidents, writing to the store).
  bus: ['config', 'context.ts', 'detect', 'enrich', 'flow', 'incidents', 'ingest', 'store', 'traffic'],
};
const at = (m) => `./server/src/${m}`;
const boundaryZones = [
  ...Object.entries(MAY_IMPORT).map(([m, allowed]) => ({
    target: at(m),
    from: MODULES.filter((x) => x !== m && !allowed.includes(x)).map(at),
    message: `${m}/ may import only ${allowed.length ? allowed.join(', ') : 'shared/'}: see eslint.config.js`,
  })),
  // config/ assembles each module's own section schema (x/config.ts) and nothing else of it.
  ...['actions', 'detect', 'feeds'].map((m) => ({
    target: at('config'),
    from: at(m),
    except: ['./config.ts'],
    message: 'config/ may import only the section schemas (x/config.ts)',
  })),
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'e2e/artifacts/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['server/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Dependencies are parsed as TypeScript too, or no-cycle cannot follow them.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'server/tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['server/src/**/*.ts'],
    // Tests and test support reach across modules on purpose.
    ignores: [
      '**/*.test.ts',
      'server/src/testing/**',
      'server/src/**/fake-context.ts',
      'server/src/**/test-harness.ts',
      'server/src/**/fixtures/**',
      'server/src/detect/pipeline-harness.ts',
      'server/src/detect/synthetic.ts',
      'server/src/detect/shape-harness.ts',
      // Replays real captures into a whole server: a harness for tests and bench:detect.
      'server/src/sim/real-captures/replay-into-server.ts',
    ],
    rules: { 'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: boundaryZones }] },
  },
);
