#!/usr/bin/env node
// `pnpm start` / `pnpm test` build only what is stale: tsc -b is incremental by itself; the
// Vite build (the slow part) runs only when a web or shared source is newer than web/dist.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path)) {
    if (e === 'node_modules' || e === 'dist') continue;
    m = Math.max(m, newest(join(path, e)));
  }
  return m;
}

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
}

const bin = (name) => join(root, 'node_modules', '.bin', name);

run(bin('tsc'), ['-b', 'server']);

const webOut = join(root, 'web', 'dist', 'index.html');
const webInputs = ['web/src', 'web/index.html', 'web/vite.config.ts', 'web/public', 'shared/src'].map((p) =>
  join(root, p),
);
const webNewest = Math.max(...webInputs.map(newest));
if (!existsSync(join(root, 'web', 'index.html'))) {
  console.error('web/ has no index.html yet: skipping the SPA build');
} else if (!existsSync(webOut) || statSync(webOut).mtimeMs < webNewest) {
  run('pnpm', ['--filter', '@downstream/web', 'build']);
}
