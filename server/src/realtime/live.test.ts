import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  decodeGraphFrame,
  graphNodesOf,
  IncidentSeries,
  LiveEvents,
  LIVE_NAMESPACE,
  SubscribeAck,
} from '@downstream/shared';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeContext, detectionEvent } from '../testing/fake-context.js';
import { createAuthenticator } from '../auth/index.js';
import { attachRealtime, type Realtime, type RealtimeOptions } from './live.js';
import { LiveView } from './live-view.js';

const tokens = [{ name: 'wall', role: 'viewer' as const, token: 'viewer-token-0123456789' }];
const TOKEN = tokens[0].token;

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

async function setup(opts: RealtimeOptions = {}, withTokens = true) {
  const ctx = createFakeContext({ tokens: withTokens ? tokens : [] });
  const http: HttpServer = createServer();
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const rt: Realtime = await attachRealtime(http, ctx, createAuthenticator(ctx.config.auth.tokens), opts);
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const clients: ClientSocket[] = [];
  opened.push({
    async close() {
      for (const c of clients) c.disconnect();
      await rt.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  });
  const client = (token: string | null = TOKEN, extra: Record<string, unknown> = {}) => {
    const c = connect(url + LIVE_NAMESPACE, {
      auth: token === null ? {} : { token },
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      ...extra,
    });
    clients.push(c);
    return c;
  };
  return { ctx, rt, url, client };
}

const until = async (cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const connected = (c: ClientSocket) => until(() => c.connected, 5000, 'connect');

describe('/live auth', () => {
  it('refuses a missing or wrong token with a JSON reason, accepts a valid one', async () => {
    const { client } = await setup();
    for (const token of [null, 'wrong-token-wrong-token']) {
      const c = client(token, { reconnection: false });
      const err = await new Promise<Error & { data?: unknown }>((r) => c.once('connect_error', r));
      expect(err.message).toBe('unauthorized');
      expect(err.data).toMatchObject({ error: 'unauthorized', details: [{ path: 'handshake.auth.token' }] });
    }
    const ok = client();
    await connected(ok);
  });

  it('also takes the token from an Authorization header (scripts)', async () => {
    const { client } = await setup();
    const c = client(null, { extraHeaders: { Authorization: `Bearer ${TOKEN}` } });
    await connected(c);
  });

  it('needs no token when none are configured, but then refuses pages of other sites', async () => {
    const { client } = await setup({}, false);
    await connected(client(null));
    await connected(client(null, { extraHeaders: { Origin: 'http://localhost:5173' } }));
    const evil = client(null, { extraHeaders: { Origin: 'https://evil.example' }, reconnection: false });
    const err = await new Promise<Error>((r) => evil.once('connect_error', r));
    expect(evil.connected).toBe(false);
    expect(err).toBeInstanceOf(Error);
  });
});

describe('/live stream', () => {
  it('sends a snapshot on connect, then deltas with increasing revisions', async () => {
    const { ctx, client } = await setup({ upsertIntervalMs: 0 });
    ctx.incidents.ingest(detectionEvent('203.0.113.1'));
    const c = client();
    const view = new LiveView(c);
    await until(() => view.snapshots === 1);
    expect(view.list().map((i) => i.target?.ip)).toEqual(['203.0.113.1']);
    const revs: number[] = [];
    c.on(LiveEvents.upsert, (m: { rev: number }) => revs.push(m.rev));
    c.on(LiveEvents.resolved, (m: { rev: number }) => revs.push(m.rev));
    ctx.incidents.ingest(detectionEvent('203.0.113.2'));
    ctx.incidents.ingest(detectionEvent('203.0.113.3'));
    const id = ctx.incidents.active()[0].id;
    await ctx.incidents.setStatus(id, 'resolved', 'test');
    await until(() => revs.length === 3);
    expect([...revs].sort((a, b) => a - b)).toEqual(revs);
    expect(new Set(revs).size).toBe(3);
    expect(view.list()).toEqual([...ctx.incidents.active()].sort((a, b) => a.id.localeCompare(b.id)));
  });

  it('coalesces a hot incident to a bounded number of upserts, ending on the latest state', async () => {
    const { ctx, client } = await setup({ upsertIntervalMs: 200 });
    const c = client();
    const view = new LiveView(c);
    await until(() => view.snapshots === 1);
    let upserts = 0;
    c.on(LiveEvents.upsert, () => upserts++);
    const started = Date.now();
    // 1,000 updates of one incident over ~0.5 s.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 100; i++) ctx.incidents.ingest(detectionEvent('198.51.100.99'));
      await new Promise((r) => setTimeout(r, 50));
    }
    const latest = ctx.incidents.active()[0];
    await until(
      () => view.incidents.get(latest.id)?.evidence.summary === latest.evidence.summary,
      3000,
      'latest state',
    );
    const elapsed = Date.now() - started;
    // One at once plus at most one per interval.
    expect(upserts).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 2);
    expect(upserts).toBeGreaterThanOrEqual(2);
  });

  it('trims long source lists in snapshots and upserts, keeping the distinct count', async () => {
    const { ctx, client } = await setup({ upsertIntervalMs: 0, maxLiveSources: 25 });
    ctx.incidents.ingest(detectionEvent('203.0.113.60', 150));
    const c = client();
    const view = new LiveView(c);
    await until(() => view.snapshots === 1);
    const snap = [...view.incidents.values()][0];
    expect(snap.sources.top).toHaveLength(25);
    expect(snap.sources.distinct).toBe(150);
    expect(snap.sources.top).toEqual(ctx.incidents.active()[0].sources.top.slice(0, 25));
    ctx.incidents.ingest(detectionEvent('203.0.113.60', 150));
    await until(() => view.deltas === 1);
    expect([...view.incidents.values()][0].sources.top).toHaveLength(25);
  });

  it('sends summary at most once per interval', async () => {
    const { client } = await setup({ summaryIntervalMs: 200 });
    const c = client();
    const times: number[] = [];
    c.on(LiveEvents.summary, () => times.push(Date.now()));
    await until(() => times.length >= 4, 3000, 'summaries');
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThan(120);
  });
});

describe('/live rooms', () => {
  it('subscribe sends series and the binary graph; updates reach only subscribers', async () => {
    const { ctx, client } = await setup({ seriesIntervalMs: 100, graphIntervalMs: 100 });
    ctx.incidents.ingest(detectionEvent('203.0.113.50', 40));
    const id = ctx.incidents.active()[0].id;
    const a = client();
    const b = client();
    await Promise.all([connected(a), connected(b)]);
    const seriesA: IncidentSeries[] = [];
    const graphsA: unknown[] = [];
    let seriesB = 0;
    a.on(LiveEvents.series, (s) => seriesA.push(IncidentSeries.parse(s)));
    a.on(LiveEvents.graph, (g) => graphsA.push(g));
    b.on(LiveEvents.series, () => seriesB++);
    const ack = SubscribeAck.parse(await a.emitWithAck(LiveEvents.subscribe, { incident: id }));
    expect(ack).toEqual({ ok: true });
    await until(() => seriesA.length === 1 && graphsA.length === 1);
    expect(seriesA[0].id).toBe(id);
    const g = decodeGraphFrame(graphsA[0]);
    expect(g.count).toBe(40);
    const raw = graphsA[0] as Record<string, unknown>;
    expect(Buffer.isBuffer(raw.ip) || raw.ip instanceof ArrayBuffer).toBe(true); // binary, not JSON
    expect(graphNodesOf(g)).toEqual(
      (await ctx.incidents.get(id))!.graph.nodes.map((n) => ({ ...n, pps: Math.fround(n.pps) })),
    );

    ctx.incidents.ingest(detectionEvent('203.0.113.50', 40));
    await until(() => seriesA.length >= 2 && graphsA.length >= 2, 3000, 'room update');
    expect(seriesA.at(-1)!.points.length).toBe(2);
    expect(seriesB).toBe(0);

    expect(SubscribeAck.parse(await a.emitWithAck(LiveEvents.unsubscribe, { incident: id }))).toEqual({ ok: true });
    const before = seriesA.length;
    ctx.incidents.ingest(detectionEvent('203.0.113.50', 40));
    await new Promise((r) => setTimeout(r, 400));
    expect(seriesA.length).toBe(before);
  });

  it('rejects malformed subscribe requests and caps subscriptions per socket', async () => {
    const { client } = await setup({ maxSubscriptions: 2 });
    const c = client();
    await connected(c);
    const bad = SubscribeAck.parse(await c.emitWithAck(LiveEvents.subscribe, { incident: 42 }));
    expect(bad).toMatchObject({ ok: false, error: 'invalid subscribe', details: [{ path: 'incident' }] });
    expect(SubscribeAck.parse(await c.emitWithAck(LiveEvents.subscribe, { incident: 'a' })).ok).toBe(true);
    expect(SubscribeAck.parse(await c.emitWithAck(LiveEvents.subscribe, { incident: 'b' })).ok).toBe(true);
    const third = SubscribeAck.parse(await c.emitWithAck(LiveEvents.subscribe, { incident: 'c' }));
    expect(third).toMatchObject({ ok: false, error: 'too many subscriptions' });
  });
});

describe('/live recovery of rooms', () => {
  it('after a network drop the subscription survives and its series and graph are re-sent', async () => {
    const { ctx, client } = await setup({ seriesIntervalMs: 100, graphIntervalMs: 100 });
    ctx.incidents.ingest(detectionEvent('203.0.113.70', 10));
    const id = ctx.incidents.active()[0].id;
    const c = client();
    await connected(c);
    let series = 0;
    let graphs = 0;
    c.on(LiveEvents.series, () => series++);
    c.on(LiveEvents.graph, () => graphs++);
    expect(SubscribeAck.parse(await c.emitWithAck(LiveEvents.subscribe, { incident: id })).ok).toBe(true);
    await until(() => series === 1 && graphs === 1, 3000, 'initial room data');
    (c.io.engine as unknown as { close(): void }).close();
    await until(() => c.connected && c.recovered, 5000, 'recovered connection');
    await until(() => series >= 2 && graphs >= 2, 3000, 'room data after recovery');
    const before = series;
    ctx.incidents.ingest(detectionEvent('203.0.113.70', 10));
    await until(() => series > before, 3000, 'room update after recovery');
  });
});

describe('/live request limits', () => {
  it('rate-limits subscribe floods and finally disconnects the flooder', async () => {
    const { client } = await setup({ clientEventsPerSecond: 5, clientEventBurst: 5 });
    const c = client(null, { auth: { token: TOKEN }, reconnection: false });
    await connected(c);
    const acks = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        c.emitWithAck(LiveEvents.subscribe, { incident: `x${i}` }).then((a) => SubscribeAck.parse(a)),
      ),
    );
    expect(acks.filter((a) => a.ok)).toHaveLength(5);
    expect(acks.filter((a) => !a.ok)[0]).toMatchObject({ ok: false, error: 'rate limited' });
    for (let i = 0; i < 60; i++) c.emit(LiveEvents.unsubscribe, { incident: 'x0' });
    await until(() => !c.connected, 3000, 'flooder disconnected');
  });
});

describe('/live reconnect', () => {
  for (const mode of ['network drop (state recovery)', 'client reconnect (fresh session)'] as const) {
    it(`after a ${mode} mid-stream the view equals the server's`, async () => {
      const { ctx, client } = await setup({ upsertIntervalMs: 50 });
      for (let i = 0; i < 5; i++) ctx.incidents.ingest(detectionEvent(`203.0.113.${i}`));
      const c = client();
      const view = new LiveView(c);
      await until(() => view.snapshots === 1);

      let stop = false;
      let n = 0;
      const pump = (async () => {
        while (!stop) {
          const k = n++ % 12;
          ctx.incidents.ingest(detectionEvent(`203.0.113.${k}`));
          if (n % 17 === 0) {
            const victim = ctx.incidents.active()[n % ctx.incidents.active().length];
            await ctx.incidents.setStatus(victim.id, n % 2 ? 'resolved' : 'acknowledged', 'ops');
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await new Promise((r) => setTimeout(r, 200));
      if (mode === 'network drop (state recovery)') {
        // Kill the transport as a flaky VPN would; the client reconnects by itself.
        (c.io.engine as unknown as { close(): void }).close();
      } else {
        c.disconnect();
        await new Promise((r) => setTimeout(r, 150));
        c.connect();
      }
      await until(() => view.snapshots === 2, 5000, 'second snapshot');
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await pump;
      await until(
        () =>
          JSON.stringify(view.list()) ===
          JSON.stringify([...ctx.incidents.active()].sort((a, b) => a.id.localeCompare(b.id))),
        3000,
        'view to converge',
      );
      expect(view.list()).toEqual([...ctx.incidents.active()].sort((a, b) => a.id.localeCompare(b.id)));
      if (mode === 'network drop (state recovery)') expect(c.recovered).toBe(true);
    });
  }
});

describe('/live slow clients', () => {
  it('a stalled client stays bounded and is dropped; other clients keep receiving', async () => {
    const soft = 256 * 1024;
    const hard = 2 * 1024 * 1024;
    const { ctx, rt, client } = await setup({
      upsertIntervalMs: 0,
      softQueueBytes: soft,
      softQueuePackets: 32,
      hardQueueBytes: hard,
      maxLagMs: 1500,
      queueCheckMs: 20,
      maxLiveSources: 1000, // these tests want big messages
    });
    const healthy = client();
    const stalled = client();
    const view = new LiveView(healthy);
    await until(() => view.snapshots === 1 && stalled.connected);
    // Stop reading on the stalled client's TCP socket: its kernel buffers fill, then the server's.
    const ws = (stalled.io.engine as unknown as { transport: { ws: { _socket: { pause(): void } } } }).transport.ws;
    ws._socket.pause();

    let maxBytes = 0;
    let maxPackets = 0;
    let sawLagging = false;
    const started = Date.now();
    let round = 0;
    // ~40 KB per upsert, 50 incidents: far more than the kernel's loopback buffers take.
    while (Date.now() - started < 2500) {
      for (let i = 0; i < 25; i++) ctx.incidents.ingest(detectionEvent(`10.0.${round % 50}.${i}`, 250));
      round++;
      const st = rt.stats();
      for (const s of st.sockets) {
        maxBytes = Math.max(maxBytes, s.bytes);
        maxPackets = Math.max(maxPackets, s.packets);
      }
      if (st.lagging > 0) sawLagging = true;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(sawLagging).toBe(true);
    // Bounded: the soft limit stops new deltas, so the backlog never approaches the hard cap by much.
    expect(maxBytes).toBeLessThan(hard + 512 * 1024);
    expect(maxPackets).toBeLessThan(200);
    // The stalled client has been disconnected after maxLagMs; the healthy one is still there.
    await until(() => rt.stats().clients === 1, 3000, 'stalled client to be dropped');
    expect(healthy.connected).toBe(true);
    // The healthy client converged on the server's state.
    await until(() => view.incidents.size === ctx.incidents.active().length, 3000, 'healthy view');
    const latest = ctx.incidents.active().at(-1)!;
    await until(
      () => view.incidents.get(latest.id)?.evidence.summary === latest.evidence.summary,
      3000,
      'latest upsert',
    );
  });

  it('a client that catches up gets a fresh snapshot and deltas again', async () => {
    const { ctx, rt, client } = await setup({
      upsertIntervalMs: 0,
      softQueueBytes: 64 * 1024,
      softQueuePackets: 16,
      hardQueueBytes: 64 * 1024 * 1024,
      maxLagMs: 60_000,
      queueCheckMs: 20,
      maxLiveSources: 1000, // these tests want big messages
    });
    const c = client();
    const view = new LiveView(c);
    await until(() => view.snapshots === 1);
    const sock = (c.io.engine as unknown as { transport: { ws: { _socket: { pause(): void; resume(): void } } } })
      .transport.ws._socket;
    sock.pause();
    const started = Date.now();
    let i = 0;
    while (rt.stats().lagging === 0 && Date.now() - started < 5000) {
      for (let k = 0; k < 20; k++) ctx.incidents.ingest(detectionEvent(`10.1.${i % 40}.${k}`, 250));
      i++;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(rt.stats().lagging).toBe(1);
    sock.resume();
    await until(() => rt.stats().lagging === 0 && view.snapshots >= 2, 5000, 'catch-up snapshot');
    ctx.incidents.ingest(detectionEvent('192.0.2.200'));
    const id = ctx.incidents.active().find((x) => x.target?.ip === '192.0.2.200')!.id;
    await until(() => view.incidents.has(id), 3000, 'delta after catch-up');
    expect(view.list()).toEqual([...ctx.incidents.active()].sort((a, b) => a.id.localeCompare(b.id)));
  });
});
