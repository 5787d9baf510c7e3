import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(repoRoot, 'server', 'dist', 'cli.js');

export interface DemoServer {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far (pino JSON lines on stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; keeps the data dir unless `cleanup`. */
  stop(opts?: { cleanup?: boolean; signal?: NodeJS.Signals }): Promise<void>;
}

export interface DemoOptions {
  /** HTTP port; 0 (default) picks a free one. Pass a previous port to restart in place. */
  port?: number;
  /** Reuse a data dir (restart tests); default is a fresh temp dir. */
  dataDir?: string;
  seed?: number;
  speed?: number;
  /** `serve` with this config file instead of the demo. */
  configFile?: string;
  env?: Record<string, string>;
  /** How long to wait for the "listening on" line. */
  timeoutMs?: number;
  /**
   * Backfill the demo's 30 days of simulated history (what `pnpm start` does). Off by default:
   * most tests are about live traffic, and counts of live incidents stay exact without it.
   */
  history?: boolean;
}

/**
 * Runs the built CLI (`pnpm build` first) as a child process on free ports and resolves once
 * it prints its URL, so a test exercises exactly what `pnpm start` runs.
 */
export async function startDemo(opts: DemoOptions = {}): Promise<DemoServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'downstream-e2e-'));
  const args = opts.configFile
    ? [cli, 'serve', '--config', opts.configFile]
    : [
        cli,
        'demo',
        '--port',
        String(opts.port ?? 0),
        '--data',
        dataDir,
        '--seed',
        String(opts.seed ?? 1),
        '--speed',
        String(opts.speed ?? 1),
        ...(opts.history ? [] : ['--no-history']),
      ];
  const proc = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in time; output:\n${out}`)),
      opts.timeoutMs ?? 30_000,
    );
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening; output:\n${out}`));
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    dataDir,
    proc,
    output: () => out,
    async stop({ cleanup = false, signal = 'SIGTERM' } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill(signal);
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      if (cleanup && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
