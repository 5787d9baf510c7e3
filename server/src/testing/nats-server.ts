/**
 * A real nats-server (Debian package, JetStream on) for tests: 127.0.0.1, a free port, a temp
 * store dir. The test run starts one in vitest's globalSetup (nats-global-setup.ts) and tests
 * read its URL with `inject('natsUrl')`; a test that must stop and restart NATS starts its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './free-port.js';

export const hasNatsServer = spawnSync('nats-server', ['--version']).status === 0;

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** kill -9 (`hard`) or a clean stop; the store dir stays for start(). */
  stop(hard?: boolean): Promise<void>;
  /** Start again on the same port and store dir (streams and KV come back). */
  start(): Promise<void>;
  /** Stop and remove the store dir. */
  dispose(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export async function startNatsServer(opts: { port?: number } = {}): Promise<NatsServer> {
  const port = opts.port ?? (await freeTcpPort());
  const storeDir = mkdtempSync(join(tmpdir(), 'ds-nats-'));
  let proc: ChildProcess | undefined;
  let log = '';
  const start = async (): Promise<void> => {
    log = '';
    const p = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = p;
    p.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const end = Date.now() + 15_000;
    while (!(await portOpen(port))) {
      if (p.exitCode !== null) throw new Error(`nats-server exited (${p.exitCode}): ${log.slice(-2000)}`);
      if (Date.now() > end) throw new Error(`nats-server did not listen on ${port}: ${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    // JetStream is ready once the server logs it (the port opens slightly before).
    while (!/Server is ready/.test(log) && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  };
  const stop = async (hard = false): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(hard ? 'SIGKILL' : 'SIGTERM');
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
