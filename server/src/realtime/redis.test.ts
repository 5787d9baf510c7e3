import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  decodeGraphFrame,
  IncidentList,
  LIVE_NAMESPACE,
  LiveEvents,
  Snapshot,
  type Incident,
  type IncidentSeries,
} from '@downstream/shared';
import { pino } from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { hasRedisServer, startRedisServer, type RedisServer } from '../testing/redis-server.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { createIncidentManager } from '../incidents/index.js';
import { openStore, type SqliteStore } from '../store/index.js';
import { detectionEvent } from '../testing/fake-context.js';
import { LiveView } from './live-view.js';

/**
 * Several api-role processes (main/role-api.ts) on one shared store, socket.io rooms and
 * sessions through the Redis Streams adapter on a real redis-server. The test process plays the
 * detect process: a real incident manager writing the same SQLite file (WAL), as detect shards
 * write the shared store.
 */
const here = dirname(fileURLToPath(import.meta.url));

const until = async (cond: () => boolean, ms: number, what: string, state?: () => unknown): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${state ? `: ${JSON.stringify(state())}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

describe.skipIf(!hasRedisServer)(
  'api-role processes on one store, sharing rooms through the Redis Streams adapter' +
    (hasRedisServer ? '' : ' (skipped: redis-server not installed, Debian package redis-server)'),
  () => {
    let redis: RedisServer | undefined;
    let redisUrl = '';
    let nextDb = 1;
    const nodes: ChildProcess[] = [];
    const clients: Socket[] = [];
    const dirs: string[] = [];
    const writers: SqliteStore[] = [];

    beforeAll(async () => {
      redis = await startRedisServer();
      redisUrl = redis.url;
    });

    // A failed test must not leave servers or clients running into the next one.
    afterEach(async () => {
      for (const c of clients.splice(0)) c.disconnect();
      await Promise.all(nodes.splice(0).map((n) => stopNode(n)));
      for (const w of writers.splice(0)) w.close();
    });

    afterAll(async () => {
      await redis?.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    function storeDir(): string {
      const d = mkdtempSync(join(tmpdir(), 'ds-cluster-'));
      dirs.push(d);
      return d;
    }

    /** What a detect process does: a real incident manager writing the shared store. */
    function detectWriter(dir: string) {
      const config = parseConfig({ storage: { path: dir } });
      const store = openStore({ path: dir, retentionDays: 90, logger });
      writers.push(store);
      const incidents = createIncidentManager({ store, logger, config });
      const byTarget = async (ip: string): Promise<Incident | undefined> =>
        (await incidents.list({ limit: 1000 })).find((i) => i.target?.ip === ip && i.status !== 'resolved');
      return {
        store,
        open(ip: string): void {
          incidents.ingest(detectionEvent(ip, 4, 20_000));
        },
        async resolve(ip: string): Promise<void> {
          const inc = await byTarget(ip);
          if (!inc) throw new Error(`no open incident on ${ip}`);
          await incidents.setStatus(inc.id, 'resolved', 'test');
        },
        /** Open incidents' targets as the store holds them (after the write-behind flush). */
        async storedOpen(): Promise<string[]> {
          await store.flush();
          const lists = await Promise.all(
            (['open', 'acknowledged', 'mitigating'] as const).map((status) =>
              store.listIncidents({ status, limit: 1000 }),
            ),
          );
          return lists
            .flat()
            .map((i) => i.target?.ip ?? '')
            .sort();
        },
      };
    }

    /** `db`: a Redis database (adapter streams) of its own per test. */
    async function startApi(dir: string, db: number, feed: Record<string, number> = {}) {
      const config = {
        http: { host: '127.0.0.1', port: 0 },
        storage: { path: dir },
        realtime: { redis: `${redisUrl}/${db}` },
      };
      const proc = fork(join(here, 'fixtures', 'api-node.ts'), [], {
        execArgv: ['--import', 'tsx'],
        cwd: join(here, '..', '..'),
        env: {
          ...process.env,
          DS_CONFIG: JSON.stringify(config),
          DS_FEED: JSON.stringify(feed),
          TSX_TSCONFIG_PATH: join(here, 'fixtures', 'tsconfig.json'),
        },
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      nodes.push(proc);
      const url = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('api process did not start')), 30_000);
        createInterface({ input: proc.stdout! }).once('line', (line) => {
          clearTimeout(t);
          resolve((JSON.parse(line) as { url: string }).url);
        });
        proc.once('exit', (code) => reject(new Error(`api process exited with ${code}`)));
      });
      return { proc, url };
    }

    async function stopNode(proc: ChildProcess): Promise<void> {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      if (proc.connected) proc.send({ stop: true });
      else proc.kill('SIGKILL');
      await exited;
      clearTimeout(kill);
    }

    /**
     * A /live client given every API URL: when its connection drops it tries the next one, as a
     * client behind a load balancer would land on a surviving process.
     */
    function client(urls: string[]) {
      let at = 0;
      const socket = connect(urls[0] + LIVE_NAMESPACE, {
        transports: ['websocket'],
        forceNew: true,
        reconnectionDelay: 100,
        reconnectionDelayMax: 300,
      });
      const manager = socket.io as unknown as { uri: string };
      socket.io.on('reconnect_attempt', () => {
        at = (at + 1) % urls.length;
        manager.uri = urls[at] + LIVE_NAMESPACE;
      });
      clients.push(socket);
      const view = new LiveView(socket);
      const snapshots: { url: string; targets: string[]; at: number }[] = [];
      socket.on(LiveEvents.snapshot, (s: unknown) =>
        snapshots.push({ url: urls[at], targets: targets(Snapshot.parse(s).incidents), at: Date.now() }),
      );
      return { socket, view, snapshots, url: () => urls[at] };
    }

    /** The snapshot a client connecting now receives. */
    async function freshSnapshot(url: string): Promise<Snapshot> {
      const socket = connect(url + LIVE_NAMESPACE, { transports: ['websocket'], forceNew: true });
      clients.push(socket);
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

    it('what a detect process writes reaches clients of every api process: deltas, snapshots, rooms, REST', async () => {
      const dir = storeDir();
      const db = nextDb++;
      // Both at once on a fresh file: their schema migrations must not collide.
      const [a, b] = await Promise.all([startApi(dir, db), startApi(dir, db)]);
      const detect = detectWriter(dir);
      const onA = client([a.url]);
      const onB = client([b.url]);
      await until(() => onA.view.snapshots === 1 && onB.view.snapshots === 1, 10_000, 'snapshots');
      expect(onB.view.incidents.size).toBe(0);

      detect.open('203.0.113.10');
      // The writer's flush (≤ 1 s) and a poll (≤ 1 s) away.
      await until(() => onA.view.incidents.size === 1 && onB.view.incidents.size === 1, 10_000, 'the incident on both');
      const id = onB.view.list()[0].id;
      expect(onA.view.incidents.get(id)?.target?.ip).toBe('203.0.113.10');
      for (const url of [a.url, b.url]) {
        const snap = await freshSnapshot(url);
        expect(targets(snap.incidents)).toEqual(['203.0.113.10']);
        expect(snap.summary.activeIncidents).toBe(1);
        expect(snap.summary.byKind['ddos-fan-in']).toBe(1);
      }

      // Its room on B: series and the fan-in graph of the four stored sources, from the store.
      const series: IncidentSeries[] = [];
      const graphs: { id: string; count: number }[] = [];
      onB.socket.on(LiveEvents.series, (m: IncidentSeries) => series.push(m));
      onB.socket.on(LiveEvents.graph, (g: unknown) => graphs.push(decodeGraphFrame(g)));
      onB.socket.emit(LiveEvents.subscribe, { incident: id });
      await until(() => series.length > 0 && graphs.length > 0, 5000, 'series and graph on B');
      expect(series[0].id).toBe(id);
      expect(graphs[0]).toMatchObject({ id, count: 4 });

      // REST on either process reads the shared store.
      const list = IncidentList.parse(await (await fetch(`${a.url}/api/incidents`)).json());
      expect(list.incidents.map((i) => i.id)).toEqual([id]);
      const detail = (await (await fetch(`${b.url}/api/incidents/${id}`)).json()) as { graph: { nodes: unknown[] } };
      expect(detail.graph.nodes).toHaveLength(4);

      await detect.resolve('203.0.113.10');
      await until(() => onA.view.incidents.size === 0 && onB.view.incidents.size === 0, 10_000, 'resolved on both');
      expect((await freshSnapshot(b.url)).incidents).toEqual([]);
      expect(onB.view.ignored).toBe(0);
    });

    it("an operator action on one api process reaches the other's clients at once, through the adapter's hint", async () => {
      const dir = storeDir();
      const db = nextDb++;
      const detect = detectWriter(dir);
      detect.open('203.0.113.20');
      await detect.store.flush();
      // Polls a minute apart: only the hint between processes can carry the change in time.
      const slow = { pollMs: 60_000, reconcileMs: 600_000 };
      const [a, b] = await Promise.all([startApi(dir, db, slow), startApi(dir, db, slow)]);
      const onB = client([b.url]);
      await until(() => onB.view.incidents.size === 1, 10_000, "the seeded incident in B's snapshot");
      const id = onB.view.list()[0].id;

      const res = await fetch(`${a.url}/api/incidents/${id}/ack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'customer called' }),
      });
      expect(res.status).toBe(200);
      const acked = Date.now();
      await until(
        () => onB.view.incidents.get(id)?.status === 'acknowledged',
        5000,
        "the acknowledgement on B's client",
        () => onB.view.list(),
      );
      expect(Date.now() - acked).toBeLessThan(5000);
      expect(onB.view.incidents.get(id)?.notes.map((n) => n.text)).toEqual(['customer called']);
      // Durable in the shared store, with its audit entry, before the response came back.
      expect((await detect.store.getIncident(id))?.status).toBe('acknowledged');
      expect((await detect.store.listAudit(id)).map((e) => e.action)).toContain('ack');
    });

    it('kill -9 of an api process: its clients reconnect to another and get a snapshot with every open incident, none stale', async () => {
      const dir = storeDir();
      const db = nextDb++;
      const [a, b] = await Promise.all([startApi(dir, db), startApi(dir, db)]);
      const detect = detectWriter(dir);
      for (const ip of ['203.0.113.31', '203.0.113.32', '203.0.113.33']) detect.open(ip);
      const c = client([a.url, b.url]);
      const observer = client([b.url]);
      // Subscribed to its incident's room on every (re)connect, as the web client is.
      const graphs: { id: string; url: string }[] = [];
      let watched = '';
      c.socket.on('connect', () => watched && c.socket.emit(LiveEvents.subscribe, { incident: watched }));
      c.socket.on(LiveEvents.graph, (g: unknown) => graphs.push({ id: decodeGraphFrame(g).id, url: c.url() }));
      await until(() => c.view.incidents.size === 3, 10_000, "the three incidents on A's client");
      watched = c.view.list().find((i) => i.target?.ip === '203.0.113.31')!.id;
      c.socket.emit(LiveEvents.subscribe, { incident: watched });
      await until(() => graphs.some((g) => g.url === a.url), 5000, 'the graph from A');

      // A freezes: its client's view goes stale while the store moves on.
      a.proc.kill('SIGSTOP');
      await detect.resolve('203.0.113.32');
      detect.open('203.0.113.34');
      const expected = ['203.0.113.31', '203.0.113.33', '203.0.113.34'];
      await until(() => viewTargets(observer.view).join() === expected.join(), 10_000, 'the changes on B');
      expect(viewTargets(c.view)).toEqual(['203.0.113.31', '203.0.113.32', '203.0.113.33']);
      expect(await detect.storedOpen()).toEqual(expected);

      const before = c.snapshots.length;
      const killedAt = Date.now();
      a.proc.kill('SIGKILL');
      await until(
        () => c.snapshots.length > before,
        10_000,
        'a snapshot after the kill',
        () => c.snapshots,
      );
      const snap = c.snapshots[before];
      expect(snap.url).toBe(b.url);
      // The snapshot itself is whole and current: every open incident, none resolved since.
      expect(snap.targets).toEqual(expected);
      expect(viewTargets(c.view)).toEqual(expected);
      expect(snap.at - killedAt).toBeLessThan(5000);
      // The room follows: the watched incident's graph now comes from B.
      await until(() => graphs.some((g) => g.url === b.url && g.id === watched), 5000, 'the graph from B');
    });
  },
);
