import { spawn, spawnSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LIVE_NAMESPACE } from '@downstream/shared';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveView } from './live-view.js';

const here = dirname(fileURLToPath(import.meta.url));
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis) console.warn('redis.test.ts skipped: redis-server not installed (Debian package redis-server)');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const until = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.skipIf(!hasRedis)('two server processes sharing rooms through the Redis Streams adapter', () => {
  let redis: ChildProcess | undefined;
  const nodes: ChildProcess[] = [];
  const clients: Socket[] = [];
  const dirs: string[] = [];
  let redisUrl = '';

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ds-redis-'));
    dirs.push(dir);
    const port = await freePort();
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
      redis!.stdout!.on('data', (d: Buffer) => {
        if (/Ready to accept connections/i.test(d.toString())) {
          clearTimeout(t);
          resolve();
        }
      });
      redis!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
    redisUrl = `redis://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(
      nodes.map(
        (n) =>
          new Promise<void>((resolve) => {
            if (n.exitCode !== null) return resolve();
            const t = setTimeout(() => n.kill('SIGKILL'), 5000);
            n.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            n.send({ stop: true });
          }),
      ),
    );
    redis?.kill('SIGTERM');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function startNode(): Promise<{ proc: ChildProcess; url: string }> {
    const data = mkdtempSync(join(tmpdir(), 'ds-node-'));
    dirs.push(data);
    const config = { http: { host: '127.0.0.1', port: 0 }, storage: { path: data }, realtime: { redis: redisUrl } };
    const proc = fork(join(here, 'fixtures', 'live-node.ts'), [], {
      execArgv: ['--import', 'tsx'],
      cwd: join(here, '..', '..'),
      env: {
        ...process.env,
        DS_CONFIG: JSON.stringify(config),
        TSX_TSCONFIG_PATH: join(here, 'fixtures', 'tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    nodes.push(proc);
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('server process did not start')), 30_000);
      createInterface({ input: proc.stdout! }).once('line', (line) => {
        clearTimeout(t);
        resolve((JSON.parse(line) as { url: string }).url);
      });
      proc.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
    });
    return { proc, url };
  }

  it('an incident detected by one server reaches a client connected to the other', async () => {
    const [a, b] = await Promise.all([startNode(), startNode()]);
    expect(a.url).not.toBe(b.url);
    const onB = connect(b.url + LIVE_NAMESPACE, { transports: ['websocket'], forceNew: true });
    const onA = connect(a.url + LIVE_NAMESPACE, { transports: ['websocket'], forceNew: true });
    clients.push(onA, onB);
    const viewB = new LiveView(onB);
    const viewA = new LiveView(onA);
    await until(() => viewA.snapshots === 1 && viewB.snapshots === 1, 10_000, 'snapshots');
    expect(viewB.incidents.size).toBe(0);

    a.proc.send({ ingest: '203.0.113.99' });
    await until(() => viewB.incidents.size === 1, 10_000, 'incident from server A on a client of server B');
    const inc = [...viewB.incidents.values()][0];
    expect(inc.target?.ip).toBe('203.0.113.99');
    await until(() => viewA.incidents.size === 1, 5000, 'the same incident on a client of server A');
    expect(viewA.incidents.get(inc.id)?.target?.ip).toBe('203.0.113.99');

    // And the other way round.
    b.proc.send({ ingest: '198.51.100.42' });
    await until(() => viewA.incidents.size === 2, 10_000, 'incident from server B on a client of server A');
  });
});
