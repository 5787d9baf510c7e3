import { spawn, spawnSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { decodeGraphFrame, LIVE_NAMESPACE, LiveEvents, Snapshot, type IncidentSeries } from '@downstream/shared';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

const until = async (cond: () => boolean, ms: number, what: string, state?: () => unknown): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${state ? `: ${JSON.stringify(state())}` : ''}`);
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

  // A failed test must not leave servers running into the next one.
  afterEach(async () => {
    await Promise.all(nodes.map((n) => stopNode(n)));
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(
      nodes.map(
        (n) =>
          new Promise<void>((resolve) => {
            if (n.exitCode !== null || n.signalCode !== null || !n.connected) return resolve();
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

  // Fast heartbeats and a short expiry keep the peer-death test short.
  const clusterOpts = { clusterHeartbeatMs: 250, peerExpiryMs: 1500 };

  /** `db`: a Redis database (adapter streams, cluster channel) of its own per test. */
  async function startNode(db: number, data?: string): Promise<{ proc: ChildProcess; url: string; data: string }> {
    if (!data) {
      data = mkdtempSync(join(tmpdir(), 'ds-node-'));
      dirs.push(data);
    }
    const config = {
      http: { host: '127.0.0.1', port: 0 },
      storage: { path: data },
      realtime: { redis: `${redisUrl}/${db}` },
    };
    const proc = fork(join(here, 'fixtures', 'live-node.ts'), [], {
      execArgv: ['--import', 'tsx'],
      cwd: join(here, '..', '..'),
      env: {
        ...process.env,
        DS_CONFIG: JSON.stringify(config),
        DS_REALTIME: JSON.stringify(clusterOpts),
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
    return { proc, url, data };
  }

  async function stopNode(proc: ChildProcess): Promise<void> {
    if (proc.exitCode !== null || proc.signalCode !== null || !proc.connected) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.send({ stop: true });
    await exited;
    clearTimeout(kill);
  }

  const events = new Map<LiveView, string[]>();
  function client(url: string): { socket: Socket; view: LiveView } {
    const socket = connect(url + LIVE_NAMESPACE, { transports: ['websocket'], forceNew: true });
    clients.push(socket);
    const view = new LiveView(socket);
    // What arrived, in order, for the failure message of a wait on this view.
    const log: string[] = [];
    events.set(view, log);
    socket.onAny(
      (ev: string, m: { rev?: number; incidents?: unknown[]; incident?: { target?: { ip: string } }; id?: string }) =>
        log.push(`${ev} ${m?.rev ?? ''} ${m?.incident?.target?.ip ?? m?.id ?? m?.incidents?.length ?? ''}`),
    );
    return { socket, view };
  }

  /** The snapshot a client connecting now receives. */
  async function freshSnapshot(url: string): Promise<Snapshot> {
    const { socket } = client(url);
    try {
      return await new Promise<Snapshot>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no snapshot')), 10_000);
        socket.once(LiveEvents.snapshot, (s: unknown) => {
          clearTimeout(t);
          resolve(Snapshot.parse(s));
        });
      });
    } finally {
      socket.disconnect();
    }
  }

  const targets = (incs: { target?: { ip: string } }[]): string[] => incs.map((i) => i.target?.ip ?? '').sort();
  const viewTargets = (v: LiveView): string[] => targets(v.list());
  const viewState = (v: LiveView) => () => ({
    events: events.get(v)?.filter((e) => !e.startsWith('summary')),
    targets: viewTargets(v),
    snapshots: v.snapshots,
    deltas: v.deltas,
    ignored: v.ignored,
  });

  it('an incident detected by one server reaches a client connected to the other', async () => {
    const [a, b] = await Promise.all([startNode(1), startNode(1)]);
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
    await Promise.all([stopNode(a.proc), stopNode(b.proc)]);
  });

  it("another server's incident is in a fresh client's snapshot and summary, and leaves both when resolved", async () => {
    const [a, b] = await Promise.all([startNode(2), startNode(2)]);
    const { socket: sockB, view: longB } = client(b.url);
    await until(() => longB.snapshots === 1, 10_000, 'first snapshot');

    a.proc.send({ ingest: '203.0.113.7' });
    await until(() => longB.incidents.size === 1, 10_000, "A's incident as a delta on B", viewState(longB));
    const snap = await freshSnapshot(b.url);
    expect(targets(snap.incidents)).toEqual(['203.0.113.7']);
    expect(snap.summary.activeIncidents).toBe(1);
    expect(snap.summary.byKind['ddos-fan-in']).toBe(1);
    expect(snap.summary.inbound).toBe(1);
    expect(snap.summary.outbound).toBe(0);
    // B's revs only: the long-lived view's rev is covered by what a fresh client gets.
    expect(snap.rev).toBeGreaterThanOrEqual(longB.rev);
    expect(longB.ignored).toBe(0);

    // Its room: series and graph come from A (the owner), not an empty one from B.
    const id = snap.incidents[0].id;
    const series: IncidentSeries[] = [];
    const graphs: { id: string; count: number }[] = [];
    sockB.on(LiveEvents.series, (m: IncidentSeries) => series.push(m));
    sockB.on(LiveEvents.graph, (g: unknown) => graphs.push(decodeGraphFrame(g)));
    sockB.emit(LiveEvents.subscribe, { incident: id });
    await until(() => series.length > 0 && graphs.length > 0, 5000, "A's incident series and graph on B's subscriber");
    expect(series.every((m) => m.id === id && m.points.length > 0)).toBe(true);
    expect(graphs.every((g) => g.id === id && g.count > 0)).toBe(true);

    b.proc.send({ ingest: '198.51.100.9' });
    await until(() => longB.incidents.size === 2, 10_000, "B's own incident", viewState(longB));
    expect(targets((await freshSnapshot(b.url)).incidents)).toEqual(['198.51.100.9', '203.0.113.7']);

    a.proc.send({ resolve: '203.0.113.7' });
    await until(() => longB.incidents.size === 1, 10_000, "A's incident resolved on B's client", viewState(longB));
    const after = await freshSnapshot(b.url);
    expect(targets(after.incidents)).toEqual(['198.51.100.9']);
    expect(after.summary.activeIncidents).toBe(1);
    expect(after.summary.byKind['ddos-fan-in']).toBe(1);
    expect(viewTargets(longB)).toEqual(targets(after.incidents));

    // Traffic figures are summed over the processes: B meters nothing, A 1000 flows in one second
    // (5 s window: 200 flows/s), and B's summary says 200.
    expect(longB.summary?.flowsPerSecond).toBe(0);
    a.proc.send({ flows: 1000 });
    await until(
      () => longB.summary?.flowsPerSecond === 200,
      5000,
      "A's flows in B's summary",
      () => longB.summary,
    );
    expect(longB.summary?.packetsPerSecond).toBe(200);
    await Promise.all([stopNode(a.proc), stopNode(b.proc)]);
  });

  it("a killed server's incidents leave the others' snapshots after the peer expiry", async () => {
    const [a, b] = await Promise.all([startNode(3), startNode(3)]);
    const { view: longB } = client(b.url);
    a.proc.send({ ingest: '203.0.113.30' });
    b.proc.send({ ingest: '203.0.113.31' });
    await until(() => longB.incidents.size === 2, 10_000, "both incidents on B's client", viewState(longB));

    const killedAt = Date.now();
    a.proc.kill('SIGKILL');
    await until(
      () => longB.incidents.size === 1,
      clusterOpts.peerExpiryMs + 5000,
      "A's incident dropped on B",
      viewState(longB),
    );
    // Not before A could have been silent for the expiry (less one heartbeat of slack).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(clusterOpts.peerExpiryMs - clusterOpts.clusterHeartbeatMs);
    expect(viewTargets(longB)).toEqual(['203.0.113.31']);
    const snap = await freshSnapshot(b.url);
    expect(targets(snap.incidents)).toEqual(['203.0.113.31']);
    expect(snap.summary.activeIncidents).toBe(1);
    await stopNode(b.proc);
  });

  it('a restarted server learns the active incidents of the others, and they learn its reloaded ones', async () => {
    const [a, b] = await Promise.all([startNode(4), startNode(4)]);
    const { view: longA } = client(a.url);
    a.proc.send({ ingest: '203.0.113.40' });
    b.proc.send({ ingest: '203.0.113.41' });
    await until(() => longA.incidents.size === 2, 10_000, "both incidents on A's client", viewState(longA));

    await stopNode(b.proc);
    // A clean stop says goodbye: A's clients drop B's incident without waiting for the expiry.
    await until(
      () => longA.incidents.size === 1,
      1000,
      "B's incident dropped on A after B's goodbye",
      viewState(longA),
    );

    const b2 = await startNode(4, b.data);
    const { view: onB2 } = client(b2.url);
    await until(
      () => onB2.incidents.size === 2,
      10_000,
      "A's incident (and B's reloaded one) on the restarted B",
      viewState(onB2),
    );
    expect(viewTargets(onB2)).toEqual(['203.0.113.40', '203.0.113.41']);
    const snap = await freshSnapshot(b2.url);
    expect(targets(snap.incidents)).toEqual(['203.0.113.40', '203.0.113.41']);
    expect(snap.summary.activeIncidents).toBe(2);
    // B reloaded its open incident from its store; A learns it back from B's heartbeat.
    await until(
      () => longA.incidents.size === 2,
      10_000,
      "the restarted B's reloaded incident on A's client",
      viewState(longA),
    );
    expect(targets((await freshSnapshot(a.url)).incidents)).toEqual(['203.0.113.40', '203.0.113.41']);
    await Promise.all([stopNode(a.proc), stopNode(b2.proc)]);
  });
});
