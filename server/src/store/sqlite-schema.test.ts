import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Cluster roles share a data dir's SQLite file (an api and a detect process on one box, both
 * started at once): the schema they create and migrate must come out whole whichever runs first.
 */
describe('SQLite schema, opened by several processes at once', () => {
  const procs: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const p of procs.splice(0)) p.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it(
    'six processes opening one fresh dir at the same moment all succeed: store schema and versioned steps once each',
    { timeout: 60_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ds-schema-'));
      dirs.push(dir);
      const starting = Array.from({ length: 6 }, () => {
        const proc = fork(join(here, 'fixtures', 'open-store-node.ts'), [], {
          execArgv: ['--import', 'tsx'],
          env: { ...process.env, DS_DIR: dir, TSX_TSCONFIG_PATH: join(here, 'fixtures', 'tsconfig.json') },
          stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        });
        procs.push(proc);
        let out = '';
        proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        const done = new Promise<string>((resolve) => proc.once('exit', (code) => resolve(`${code}: ${out.trim()}`)));
        const ready = new Promise<void>((resolve) => proc.once('message', () => resolve()));
        return { proc, ready, done };
      });
      await Promise.all(starting.map((s) => s.ready));
      for (const s of starting) s.proc.send({ go: true });
      const results = await Promise.all(starting.map((s) => s.done));
      expect(results).toEqual(Array(6).fill('0: ok'));
    },
  );
});
