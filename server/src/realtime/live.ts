import type { Server as HttpServer } from 'node:http';
import {
  encodeGraphFrame,
  LIVE_NAMESPACE,
  LiveEvents,
  type Incident,
  type IncidentResolved,
  type IncidentSeries,
  type IncidentUpsert,
  type Snapshot,
  type Summary,
} from '@downstream/shared';
import { Server, type Namespace, type Socket } from 'socket.io';
import { originAllowed, type Authenticator } from '../auth/index.js';
import type { AppContext } from '../context.js';
import { createQueueCheck, pendingBytes, pendingPackets } from './backpressure.js';
import { createLiveMetrics } from './live-metrics.js';
import { incidentRoom, LAGGING_ROOM } from './rooms.js';
import { attachSubscriptions, type SocketData } from './subscriptions.js';

export interface RealtimeOptions {
  /** Least time between two `incident:upsert` of the same incident; later changes are coalesced. */
  upsertIntervalMs?: number;
  /** `summary` period (at most 1 Hz: shared/src/live.ts). */
  summaryIntervalMs?: number;
  /** Least time between two `incident:series` / `incident:graph` of one incident to its room. */
  seriesIntervalMs?: number;
  graphIntervalMs?: number;
  /** How often every socket's outgoing buffer is checked. */
  queueCheckMs?: number;
  /** Past this many packets or bytes waiting for a socket, it stops getting deltas (lagging). */
  softQueuePackets?: number;
  softQueueBytes?: number;
  /** A lagging socket is disconnected past this many bytes waiting, or when lagging this long. */
  hardQueueBytes?: number;
  maxLagMs?: number;
  /** Rooms one socket may be in at once. */
  maxSubscriptions?: number;
  /** Client → server events (subscribe/unsubscribe) per second per socket, and burst. */
  clientEventsPerSecond?: number;
  clientEventBurst?: number;
  /**
   * `sources.top` entries carried per incident in snapshots and upserts. Outbound incidents can
   * list 10,000 endpoints; the full call list is one REST call away (GET /api/incidents/:id).
   */
  maxLiveSources?: number;
  /** socket.io connection state recovery window. */
  recoveryMs?: number;
}

/** What the live layer is wired to besides the tuning (server.ts, role-api.ts). */
export interface RealtimeHooks {
  /**
   * With `realtime.redis`: another server process said its incidents changed (an operator
   * action it wrote to the shared store); the api role polls its change feed at once instead of
   * at the next tick. A hint only: the feed's own polling is what guarantees delivery.
   */
  onPeerChanged?: () => void;
}

export interface RealtimeStats {
  clients: number;
  lagging: number;
  rev: number;
  /** Per socket: packets and bytes waiting to be written. */
  sockets: { id: string; packets: number; bytes: number; lagging: boolean }[];
}

export interface Realtime {
  io: Server;
  nsp: Namespace;
  /** Current revision: every delta emitted so far has rev ≤ this. */
  rev(): number;
  snapshot(): Snapshot;
  stats(): RealtimeStats;
  /** Emit whatever is coalesced right now (tests, shutdown). */
  flush(): void;
  /** Tell the other server processes (Redis adapter) that the shared store changed: RealtimeHooks.onPeerChanged. */
  notifyPeers(): void;
  close(): Promise<void>;
}

/**
 * socket.io on the HTTP server, namespace /live (events and payloads: shared/src/live.ts).
 *
 * Consistency: every delta carries a revision; a snapshot carries the revision it contains, and
 * is sent on every (re)connect and whenever a lagging socket catches up, so a client never
 * keeps a partial view. Revisions are a hybrid clock (max(last + 1, µs since epoch)) so they
 * stay monotonic across restarts; they are per process (a client only ever sees one process's).
 *
 * Bounded memory: deltas are broadcast to everyone except the `lagging` room (backpressure.ts).
 * Who may connect and subscribe is subscriptions.ts; room names are rooms.ts.
 *
 * Several processes: each API process learns every incident from the shared store (the api
 * role's change feed behind `ctx.incidents`, main/role-api.ts), so each builds snapshots, deltas
 * and room payloads for its own clients from the same data, with its own revs: a client only
 * ever sees one process's clock, and a client that reconnects elsewhere (its process killed)
 * gets that process's snapshot of the store. Nothing is relayed from peers' memory. The Redis
 * Streams adapter (`realtime.redis`) makes rooms and sessions cluster-wide (connection state
 * recovery on another process, fetchSockets/disconnect across processes) and carries the
 * `changed` hint between processes (notifyPeers).
 */
const PEER_CHANGED = 'downstream:incidents-changed';

export async function attachRealtime(
  httpServer: HttpServer,
  ctx: AppContext,
  auth: Authenticator,
  opts: RealtimeOptions = {},
  hooks: RealtimeHooks = {},
): Promise<Realtime> {
  const o = {
    upsertIntervalMs: 250,
    summaryIntervalMs: 1000,
    seriesIntervalMs: 1000,
    graphIntervalMs: 2000,
    queueCheckMs: 100,
    softQueuePackets: 64,
    softQueueBytes: 1 << 20,
    hardQueueBytes: 8 << 20,
    maxLagMs: 30_000,
    maxSubscriptions: 32,
    clientEventsPerSecond: 10,
    clientEventBurst: 20,
    maxLiveSources: 20,
    // socket.io keeps every broadcast this long for recovery: memory = broadcast rate × this.
    recoveryMs: 30_000,
    ...opts,
  };
  const log = ctx.logger.child({ module: 'realtime' });

  const io = new Server(httpServer, {
    serveClient: false,
    // Graph frames of 10k nodes are ~300 KB; client messages are tiny, so keep the inbound cap low.
    maxHttpBufferSize: 64 * 1024,
    connectionStateRecovery: { maxDisconnectionDuration: o.recoveryMs, skipMiddlewares: false },
    // WebSockets ignore CORS: without tokens, any web page could otherwise read the stream.
    allowRequest: (req, cb) => cb(null, auth.enabled || originAllowed(req.headers.origin, req.headers.host)),
  });

  let redisClose: (() => Promise<void>) | undefined;
  const redisUrl = ctx.config.realtime.redis;
  if (redisUrl) {
    const { createClient } = await import('redis');
    const { createAdapter } = await import('@socket.io/redis-streams-adapter');
    const client = createClient({ url: redisUrl });
    client.on('error', (err: Error) => log.warn({ err: err.message }, 'redis client error'));
    await client.connect();
    io.adapter(createAdapter(client));
    redisClose = async () => {
      try {
        await client.quit();
      } catch {
        client.destroy();
      }
    };
    log.info({ redis: redisUrl.replace(/\/\/[^@]*@/, '//***@') }, 'socket.io uses the Redis Streams adapter');
  }

  const nsp = io.of(LIVE_NAMESPACE);

  // ---- metrics
  const metrics = createLiveMetrics(ctx.registry);
  const { clients: mClients, lagging: mLagging, messages: mMessages, coalesced: mCoalesced } = metrics;
  const { slowDisconnects: mSlowDisconnects } = metrics;

  // ---- revisions
  let rev = 0;
  const nextRev = (): number => (rev = Math.max(rev + 1, Date.now() * 1000));

  /**
   * Incident counts from ctx.incidents (in the api role: the shared store's open incidents);
   * traffic figures are what this process meters (none in the api role: its collectors are in
   * the inlets).
   */
  const summary = (): Summary => ctx.traffic.summary(ctx.incidents, ctx.collectors);
  const trim = (inc: Incident): Incident =>
    inc.sources.top.length <= o.maxLiveSources
      ? inc
      : { ...inc, sources: { ...inc.sources, top: inc.sources.top.slice(0, o.maxLiveSources) } };
  // A reconnect storm (a hundred walls after a network blip) shares snapshots: one built at
  // the same rev is still exact as far as deltas go (later changes come with a higher rev), so
  // reuse it briefly instead of rebuilding every incident view per socket.
  let cachedSnapshot: { rev: number; at: number; snap: Snapshot } | undefined;
  const snapshot = (): Snapshot => {
    const now = Date.now();
    if (cachedSnapshot && cachedSnapshot.rev === rev && now - cachedSnapshot.at < 250) return cachedSnapshot.snap;
    const incidents = ctx.incidents.active().map(trim);
    const snap: Snapshot = { summary: summary(), incidents, rev };
    cachedSnapshot = { rev, at: now, snap };
    return snap;
  };

  // ---- incident deltas, coalesced per incident
  const pending = new Map<string, Incident>();
  const lastSent = new Map<string, number>();
  const dirtyRooms = new Set<string>();
  const roomSent = new Map<string, { series: number; graph: number }>();
  let graphSeq = 0;

  // Deltas go to this process's clients only (`local`), each with this process's next rev: every
  // API process sees the same changes from the store and tells its own clients. One writer per
  // client stream keeps every rev a client sees from the snapshot's clock, so "rev ≤ snapshot rev
  // ⇒ already contained" holds even with several processes (their clocks and delays differ).
  const emitUpsert = (incident: Incident): void => {
    const msg: IncidentUpsert = { rev: nextRev(), incident };
    nsp.local.except(LAGGING_ROOM).emit(LiveEvents.upsert, msg);
    mMessages.inc({ event: LiveEvents.upsert });
  };
  const emitResolved = (id: string): void => {
    const msg: IncidentResolved = { rev: nextRev(), id, at: new Date().toISOString() };
    nsp.local.except(LAGGING_ROOM).emit(LiveEvents.resolved, msg);
    mMessages.inc({ event: LiveEvents.resolved });
  };

  const sendUpsert = (inc: Incident, now: number): void => {
    lastSent.set(inc.id, now);
    emitUpsert(trim(inc));
  };

  const onUpsert = (inc: Incident): void => {
    const now = Date.now();
    dirtyRooms.add(inc.id);
    if (!pending.has(inc.id) && now - (lastSent.get(inc.id) ?? -Infinity) >= o.upsertIntervalMs) sendUpsert(inc, now);
    else {
      if (pending.has(inc.id)) mCoalesced.inc();
      pending.set(inc.id, inc);
    }
  };

  const onResolved = (inc: Incident): void => {
    pending.delete(inc.id);
    lastSent.delete(inc.id);
    emitResolved(inc.id);
    dirtyRooms.add(inc.id);
  };

  // Room payloads go to this process's members of the room only: every API process builds them
  // from the same store, so sending them through the adapter would deliver each one N times.
  const roomHasListeners = (id: string): boolean => (nsp.adapter.rooms.get(incidentRoom(id))?.size ?? 0) > 0;

  const seriesOf = (id: string): IncidentSeries => ({ id, points: ctx.incidents.series(id) });
  const graphOf = (id: string): unknown => encodeGraphFrame(id, ++graphSeq, ctx.incidents.peek(id)?.graph.nodes ?? []);
  /**
   * One socket, in order with the deltas. With connection state recovery on, socket.emit() goes
   * through the adapter, and the Redis adapter first writes it to its stream: a snapshot would
   * then reach the client after deltas emitted (locally, at once) later, and replace them with
   * an older view. A local broadcast to the socket's own room is delivered at once.
   */
  const toSocket = (socket: Socket) => nsp.local.to(socket.id);
  /** Series and graph of one incident to one socket. */
  const sendRoomView = (socket: Socket, id: string): void => {
    const to = toSocket(socket);
    to.emit(LiveEvents.series, seriesOf(id));
    to.emit(LiveEvents.graph, graphOf(id));
  };
  /** Full view for one socket: snapshot plus the series and graph of every room it is in. */
  const sendFullView = (socket: Socket): void => {
    toSocket(socket).emit(LiveEvents.snapshot, snapshot());
    for (const id of (socket.data as SocketData).subscriptions) sendRoomView(socket, id);
  };

  let lastPrune = 0;
  const flushPending = (): void => {
    const now = Date.now();
    for (const [id, inc] of pending) {
      if (now - (lastSent.get(id) ?? -Infinity) >= o.upsertIntervalMs) {
        pending.delete(id);
        sendUpsert(inc, now);
      }
    }
    // An entry older than the interval says nothing an absent one does not; keep the map small.
    if (now - lastPrune > 5000) {
      lastPrune = now;
      for (const [id, at] of lastSent) if (now - at >= o.upsertIntervalMs && !pending.has(id)) lastSent.delete(id);
    }
  };

  const flushRooms = (force = false): void => {
    const now = Date.now();
    for (const id of dirtyRooms) {
      if (!roomHasListeners(id)) {
        dirtyRooms.delete(id);
        roomSent.delete(id);
        continue;
      }
      let sent = roomSent.get(id);
      if (!sent) roomSent.set(id, (sent = { series: 0, graph: 0 }));
      const seriesDue = force || now - sent.series >= o.seriesIntervalMs;
      const graphDue = force || now - sent.graph >= o.graphIntervalMs;
      const target = nsp.local.to(incidentRoom(id)).except(LAGGING_ROOM);
      if (seriesDue) {
        target.emit(LiveEvents.series, seriesOf(id));
        mMessages.inc({ event: LiveEvents.series });
        sent.series = now;
      }
      if (graphDue) {
        target.emit(LiveEvents.graph, graphOf(id));
        mMessages.inc({ event: LiveEvents.graph });
        sent.graph = now;
      }
      if (seriesDue && graphDue) dirtyRooms.delete(id);
    }
  };

  ctx.incidents.on('upsert', onUpsert);
  ctx.incidents.on('resolved', onResolved);

  // ---- other processes (Redis adapter): "the store changed" hints
  const onPeerChanged = (): void => hooks.onPeerChanged?.();
  if (redisUrl) nsp.on(PEER_CHANGED, onPeerChanged);

  // ---- slow sockets (backpressure.ts) and connections (subscriptions.ts)
  const checkQueues = createQueueCheck({
    nsp,
    limits: o,
    log,
    lagging: mLagging,
    slowDisconnects: mSlowDisconnects,
    sendFullView,
  });
  attachSubscriptions({ nsp, auth, limits: o, log, clients: mClients, sendFullView, sendRoomView });

  // ---- timers
  const timers = [
    // Fine-grained so a coalesced update waits at most upsertIntervalMs + this; the map is small.
    setInterval(flushPending, Math.max(10, Math.min(50, Math.floor(o.upsertIntervalMs / 5)))),
    setInterval(() => flushRooms(), Math.max(50, Math.min(o.seriesIntervalMs, o.graphIntervalMs) / 2)),
    setInterval(checkQueues, o.queueCheckMs),
    setInterval(() => {
      if (nsp.sockets.size === 0) return;
      // Each process sends its own clients its own summary, even behind the Redis adapter.
      nsp.local.except(LAGGING_ROOM).emit(LiveEvents.summary, summary());
      mMessages.inc({ event: LiveEvents.summary });
    }, o.summaryIntervalMs),
  ];
  for (const t of timers) t.unref();

  return {
    io,
    nsp,
    rev: () => rev,
    snapshot,
    stats() {
      const sockets = [...nsp.sockets.values()].map((s) => ({
        id: s.id,
        packets: pendingPackets(s),
        bytes: pendingBytes(s),
        lagging: (s.data as SocketData).laggingSince !== undefined,
      }));
      return {
        clients: sockets.length,
        lagging: sockets.filter((s) => s.lagging).length,
        rev,
        sockets,
      };
    },
    flush() {
      for (const [id, inc] of pending) {
        pending.delete(id);
        sendUpsert(inc, Date.now());
      }
      flushRooms(true);
    },
    notifyPeers() {
      if (redisUrl) nsp.serverSideEmit(PEER_CHANGED);
    },
    async close() {
      for (const t of timers) clearInterval(t);
      nsp.off(PEER_CHANGED, onPeerChanged);
      ctx.incidents.off('upsert', onUpsert);
      ctx.incidents.off('resolved', onResolved);
      metrics.remove();
      // `local`: behind the Redis adapter a plain disconnectSockets() would drop every process's clients.
      nsp.local.disconnectSockets(true);
      // io.close() would also close the HTTP server, which belongs to server.ts.
      await new Promise<void>((resolve) => {
        io.engine.close();
        resolve();
      });
      await redisClose?.();
    },
  };
}
