import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import {
  encodeGraphFrame,
  LIVE_NAMESPACE,
  LiveEvents,
  SubscribeRequest,
  type Incident,
  type IncidentResolved,
  type IncidentSeries,
  type IncidentUpsert,
  type Snapshot,
  type SubscribeAck,
  type Summary,
} from '@downstream/shared';
import { Counter, Gauge } from 'prom-client';
import { Server, type Namespace, type Socket } from 'socket.io';
import { zodDetails } from '../api/errors.js';
import { authFor, bearerToken, originAllowed, type Principal } from '../auth/index.js';
import type { AppContext } from '../context.js';
import { ClusterMirror, type ClusterMessage } from './cluster.js';

export interface RealtimeOptions {
  /** Least time between two `incident:upsert` of the same incident; later changes are coalesced. */
  upsertIntervalMs?: number;
  /** `summary` period (DESIGN: at most 1 Hz). */
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
  /** With `realtime.redis`: how often this process announces its incident ids and traffic to its peers. */
  clusterHeartbeatMs?: number;
  /** With `realtime.redis`: a peer silent this long is taken for dead and its incidents dropped. */
  peerExpiryMs?: number;
  /** With `realtime.redis`: most incidents of other processes held for snapshots and summary. */
  maxMirroredIncidents?: number;
}

export interface RealtimeStats {
  clients: number;
  lagging: number;
  rev: number;
  /** Incidents of other processes held (Redis adapter), and peers heard from. */
  mirrored: number;
  peers: number;
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
  close(): Promise<void>;
}

const LAGGING = 'lagging';
const room = (id: string): string => `inc:${id}`;

interface SocketData {
  principal: Principal;
  bucket: { tokens: number; at: number };
  laggingSince?: number;
  subscriptions: Set<string>;
}

/** Bytes the OS has not taken yet for this socket (websocket transport), 0 when unknown. */
function pendingBytes(socket: Socket): number {
  // engine.io/ws internals: the net.Socket under the ws connection. Guarded: a polling client has none.
  const ws = (
    socket.conn.transport as unknown as { socket?: { _socket?: { writableLength?: number }; bufferedAmount?: number } }
  ).socket;
  return (ws?._socket?.writableLength ?? 0) + (ws?.bufferedAmount ?? 0);
}

function pendingPackets(socket: Socket): number {
  return (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;
}

function terminate(socket: Socket): void {
  socket.disconnect(true);
  // A stalled peer never reads the close frame; drop the TCP connection so its buffers go now.
  const ws = (socket.conn.transport as unknown as { socket?: { terminate?: () => void } }).socket;
  ws?.terminate?.();
}

/**
 * socket.io on the HTTP server, namespace /live (DESIGN "Realtime").
 *
 * Consistency: every delta carries a revision; a snapshot carries the revision it contains, and
 * is sent on every (re)connect and whenever a lagging socket catches up, so a client never
 * keeps a partial view. Revisions are a hybrid clock (max(last + 1, µs since epoch)) so they
 * stay monotonic across restarts; they are per process (a client only ever sees one process's).
 *
 * Bounded memory: deltas are broadcast to everyone except the `lagging` room. A socket whose
 * outgoing buffer passes the soft limit joins `lagging` (superseded deltas are simply not
 * queued for it); once drained it gets a fresh snapshot and rejoins; past the hard limit or
 * `maxLagMs` it is disconnected. The client sees the gap as a disconnect or a snapshot.
 *
 * Several processes (Redis Streams adapter): each keeps a mirror of the others' active
 * incidents (cluster.ts), fed by their upserts/resolves on a Redis pub/sub channel, reconciled by
 * their heartbeats, learnt afresh on start (hello → state), and dropped when a peer is silent
 * for `peerExpiryMs`. Snapshots and the summary cover local + mirrored incidents, and deltas
 * about either go to local clients with local revs. Rooms (series, graph) are still shared
 * through the adapter: the owner of an incident emits them to its room on every process.
 */
export async function attachRealtime(
  httpServer: HttpServer,
  ctx: AppContext,
  opts: RealtimeOptions = {},
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
    clusterHeartbeatMs: 2000,
    peerExpiryMs: 10_000,
    maxMirroredIncidents: 10_000,
    ...opts,
  };
  const log = ctx.logger.child({ module: 'realtime' });
  const auth = authFor(ctx);

  const io = new Server(httpServer, {
    serveClient: false,
    // Graph frames of 10k nodes are ~300 KB; client messages are tiny, so keep the inbound cap low.
    maxHttpBufferSize: 64 * 1024,
    connectionStateRecovery: { maxDisconnectionDuration: o.recoveryMs, skipMiddlewares: false },
    // WebSockets ignore CORS: without tokens, any web page could otherwise read the stream.
    allowRequest: (req, cb) => cb(null, auth.enabled || originAllowed(req.headers.origin, req.headers.host)),
  });

  let redisClose: (() => Promise<void>) | undefined;
  // Cluster messages (cluster.ts) on a pub/sub channel of our own rather than the adapter's
  // serverSideEmit: the adapter subscribes without awaiting or reporting failure, and tests saw a
  // process that never heard its peers; here the subscription is awaited before we announce
  // ourselves. Pub/sub ignores the database number, so the channel names it: clusters sharing
  // one Redis on different databases stay apart.
  let clusterPublish: ((text: string) => void) | undefined;
  let clusterReceive: ((text: string) => void) | undefined;
  const redisUrl = ctx.config.realtime.redis;
  if (redisUrl) {
    const { createClient } = await import('redis');
    const { createAdapter } = await import('@socket.io/redis-streams-adapter');
    const client = createClient({ url: redisUrl });
    client.on('error', (err: Error) => log.warn({ err: err.message }, 'redis client error'));
    await client.connect();
    io.adapter(createAdapter(client));
    const sub = client.duplicate();
    sub.on('error', (err: Error) => log.warn({ err: err.message }, 'redis subscriber error'));
    await sub.connect();
    const channel = `downstream:live:cluster:${new URL(redisUrl).pathname.replace(/^\//, '') || '0'}`;
    await sub.subscribe(channel, (text: string) => clusterReceive?.(text));
    clusterPublish = (text) => {
      client.publish(channel, text).catch((err: Error) => log.warn({ err: err.message }, 'cluster publish failed'));
    };
    redisClose = async () => {
      for (const c of [sub, client]) {
        try {
          await c.quit();
        } catch {
          c.destroy();
        }
      }
    };
    log.info({ redis: redisUrl.replace(/\/\/[^@]*@/, '//***@') }, 'socket.io uses the Redis Streams adapter');
  }

  const nsp = io.of(LIVE_NAMESPACE);

  // ---- metrics
  const reg = [ctx.registry];
  const mClients = new Gauge({
    name: 'downstream_live_clients',
    help: 'Connected /live sockets (this process)',
    registers: reg,
  });
  const mLagging = new Gauge({
    name: 'downstream_live_lagging_clients',
    help: 'Sockets currently skipped for being slow',
    registers: reg,
  });
  const mMessages = new Counter({
    name: 'downstream_live_broadcasts_total',
    help: 'Messages broadcast on /live by event',
    labelNames: ['event'],
    registers: reg,
  });
  const mCoalesced = new Counter({
    name: 'downstream_live_coalesced_total',
    help: 'Incident updates folded into a later upsert',
    registers: reg,
  });
  const mSlowDisconnects = new Counter({
    name: 'downstream_live_slow_disconnects_total',
    help: 'Sockets disconnected for not reading',
    registers: reg,
  });

  const mMirrored = new Gauge({
    name: 'downstream_live_mirrored_incidents',
    help: 'Active incidents of other server processes held for snapshots (Redis adapter)',
    registers: reg,
  });
  const mPeers = new Gauge({
    name: 'downstream_live_peers',
    help: 'Other server processes heard from on the Redis adapter',
    registers: reg,
  });
  const mCluster = new Counter({
    name: 'downstream_live_cluster_messages_total',
    help: 'Server-to-server messages received on the Redis adapter by type (rejected: malformed; over-cap: incident not mirrored, cap reached; expired: peer dropped for silence)',
    labelNames: ['type'],
    registers: reg,
  });

  // ---- revisions
  let rev = 0;
  const nextRev = (): number => (rev = Math.max(rev + 1, Date.now() * 1000));

  // Set below when the Redis adapter is configured: the other processes' active incidents.
  let mirror: ClusterMirror | undefined;
  const localSummary = (): Summary => ctx.traffic.summary(ctx.incidents, ctx.collectors);
  /**
   * Behind the Redis adapter the summary covers the cluster: active counts over local and
   * mirrored incidents, and traffic figures summed over every live process (each meters what
   * its own collectors receive, exporters being sharded across collector processes), exporters
   * counted as the union of addresses. Every wall shows the same numbers whichever process it
   * is connected to.
   */
  const summary = (): Summary => {
    const s = localSummary();
    if (!mirror) return s;
    const local = new Set(ctx.incidents.active().map((i) => i.id));
    for (const inc of mirror.incidents()) {
      if (local.has(inc.id)) continue;
      s.activeIncidents++;
      s.byKind[inc.kind] = (s.byKind[inc.kind] ?? 0) + 1;
      if (inc.direction === 'inbound') s.inbound++;
      else s.outbound++;
    }
    const exporters = new Set(ctx.collectors.health().map((h) => h.address));
    for (const p of mirror.peerFigures()) {
      if (p.traffic) {
        s.flowsPerSecond += p.traffic.flowsPerSecond;
        s.packetsPerSecond += p.traffic.packetsPerSecond;
        s.bitsPerSecond += p.traffic.bitsPerSecond;
      }
      for (const a of p.exporters) exporters.add(a);
    }
    s.exporters = exporters.size;
    return s;
  };
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
    if (mirror) {
      const local = new Set(incidents.map((i) => i.id));
      for (const inc of mirror.incidents()) if (!local.has(inc.id)) incidents.push(inc);
    }
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

  // What this process has told its peers about and not resolved: their mirror of us.
  const published = new Map<string, Incident>();
  // JSON drops undefined keys, which zod's optional() on the receiving side requires.
  const publish = (msg: ClusterMessage): void => clusterPublish?.(JSON.stringify(msg));

  // Deltas go to this process's clients only (`local`), each with this process's next rev:
  // peers relay ours with their own revs. One writer per client stream keeps every rev a client
  // sees from the snapshot's clock, so "rev ≤ snapshot rev ⇒ already contained" holds even with
  // several processes (their clocks and delivery delays differ).
  const emitUpsert = (incident: Incident): void => {
    const msg: IncidentUpsert = { rev: nextRev(), incident };
    nsp.local.except(LAGGING).emit(LiveEvents.upsert, msg);
    mMessages.inc({ event: LiveEvents.upsert });
  };
  const emitResolved = (id: string): void => {
    const msg: IncidentResolved = { rev: nextRev(), id, at: new Date().toISOString() };
    nsp.local.except(LAGGING).emit(LiveEvents.resolved, msg);
    mMessages.inc({ event: LiveEvents.resolved });
  };

  const sendUpsert = (inc: Incident, now: number): void => {
    lastSent.set(inc.id, now);
    const t = trim(inc);
    emitUpsert(t);
    if (mirror) {
      if (t.status === 'resolved') published.delete(t.id);
      else published.set(t.id, t);
      publish({ v: 1, type: 'upsert', from: node, incident: t });
    }
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
    if (mirror && published.delete(inc.id)) publish({ v: 1, type: 'resolved', from: node, id: inc.id });
    dirtyRooms.add(inc.id);
  };

  const roomHasListeners = (id: string): boolean =>
    Boolean(redisUrl) || (nsp.adapter.rooms.get(room(id))?.size ?? 0) > 0;

  const seriesOf = (id: string): IncidentSeries => ({ id, points: ctx.incidents.series(id) });
  const graphOf = (id: string): unknown => {
    const frame = encodeGraphFrame(id, ++graphSeq, ctx.incidents.get(id)?.graph.nodes ?? []);
    if (!redisUrl) return frame;
    // The Redis adapter msgpack-encodes room broadcasts, and msgpack turns a bare ArrayBuffer into
    // an empty map; a Uint8Array view crosses intact and reaches clients as binary all the same.
    return Object.fromEntries(
      Object.entries(frame).map(([k, v]) => [k, v instanceof ArrayBuffer ? new Uint8Array(v) : v]),
    );
  };
  /**
   * One socket, in order with the deltas. With connection state recovery on, socket.emit() goes
   * through the adapter, and the Redis adapter first writes it to its stream: a snapshot would
   * then reach the client after deltas emitted (locally, at once) later, and replace them with
   * an older view. A local broadcast to the socket's own room is delivered at once.
   */
  const toSocket = (socket: Socket) => nsp.local.to(socket.id);
  /**
   * Series and graph of one incident to one socket. Another process's incident has them only
   * there: ask its owner to send them to the room (it reaches this socket through the adapter).
   */
  const sendRoomView = (socket: Socket, id: string): void => {
    if (mirror?.has(id) && !ctx.incidents.get(id)) {
      mirror.wantRoom(id);
      return;
    }
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
      const target = nsp.to(room(id)).except(LAGGING);
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

  // ---- other processes (Redis adapter): mirror their active incidents and traffic
  const node = randomUUID();
  if (redisUrl) {
    const m = new ClusterMirror({
      node,
      send: publish,
      published: () => [...published.values()],
      heartbeat: () => {
        const s = localSummary();
        return {
          ids: [...published.keys()],
          traffic: {
            flowsPerSecond: s.flowsPerSecond,
            packetsPerSecond: s.packetsPerSecond,
            bitsPerSecond: s.bitsPerSecond,
          },
          exporters: [...new Set(ctx.collectors.health().map((h) => h.address))],
        };
      },
      onUpsert: (inc) => {
        emitUpsert(inc);
        mMirrored.set(m.size);
      },
      onRemoved: (id) => {
        emitResolved(id);
        mMirrored.set(m.size);
      },
      onRoomWanted: (id) => {
        if (!ctx.incidents.get(id)) return;
        // Due at the next room flush (≤ half a series interval), to the room on every process.
        dirtyRooms.add(id);
        roomSent.delete(id);
      },
      expiryMs: o.peerExpiryMs,
      maxIncidents: o.maxMirroredIncidents,
      resyncMs: Math.max(2 * o.clusterHeartbeatMs, 1000),
      logger: log,
      count: (type) => mCluster.inc({ type }),
    });
    clusterReceive = (text) => {
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        msg = undefined; // counted and logged as malformed by handle()
      }
      m.handle(msg);
      mPeers.set(m.peerFigures().length);
    };
    mirror = m;
    // Incidents reloaded from the store on restart count as published, so peers learn them
    // (from our heartbeat's ids and the state they then ask for) before they next change.
    for (const inc of ctx.incidents.active()) published.set(inc.id, trim(inc));
    m.start();
  }

  // ---- slow sockets
  const checkQueues = (): void => {
    const now = Date.now();
    let lagging = 0;
    for (const socket of nsp.sockets.values()) {
      const data = socket.data as SocketData;
      const bytes = pendingBytes(socket);
      const packets = pendingPackets(socket);
      if (data.laggingSince !== undefined) {
        if (bytes > o.hardQueueBytes || now - data.laggingSince > o.maxLagMs) {
          log.warn(
            { socket: socket.id, who: data.principal.name, bytes, packets },
            'disconnecting a client that does not read',
          );
          mSlowDisconnects.inc();
          terminate(socket);
          continue;
        }
        if (packets === 0 && bytes < o.softQueueBytes / 4) {
          // Caught up: rejoin the stream with a fresh view rather than the deltas it missed.
          data.laggingSince = undefined;
          socket.leave(LAGGING);
          sendFullView(socket);
          log.info({ socket: socket.id, who: data.principal.name }, 'slow client caught up');
        } else lagging++;
      } else if (packets > o.softQueuePackets || bytes > o.softQueueBytes) {
        data.laggingSince = now;
        socket.join(LAGGING);
        lagging++;
        log.info(
          { socket: socket.id, who: data.principal.name, bytes, packets },
          'client is lagging; skipping its deltas',
        );
      }
    }
    mLagging.set(lagging);
  };

  // ---- connections
  nsp.use((socket, next) => {
    // handshake.auth.token (browsers); an Authorization header also works for scripts.
    const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const token = typeof fromAuth === 'string' ? fromAuth : bearerToken(socket.handshake.headers.authorization);
    const principal = auth.authenticate(token);
    if (!principal) {
      const err = new Error('unauthorized') as Error & { data: unknown };
      err.data = {
        error: 'unauthorized',
        details: [{ path: 'handshake.auth.token', message: token ? 'token not recognised' : 'missing token' }],
      };
      return next(err);
    }
    (socket.data as SocketData).principal = principal;
    (socket.data as SocketData).bucket = { tokens: o.clientEventBurst, at: Date.now() };
    next();
  });

  nsp.on('connection', (socket) => {
    const data = socket.data as SocketData;
    // On recovery socket.io restores rooms (including `lagging`) but not our Set; rebuild it.
    data.subscriptions = new Set([...socket.rooms].filter((r) => r.startsWith('inc:')).map((r) => r.slice(4)));
    if (socket.rooms.has(LAGGING)) {
      socket.leave(LAGGING);
      data.laggingSince = undefined;
    }
    mClients.set(nsp.sockets.size);
    // Recovered rooms get their series and graph again too, rather than trusting the replay alone.
    sendFullView(socket);

    const reply = (ack: unknown, body: SubscribeAck): void => {
      if (typeof ack === 'function') (ack as (b: SubscribeAck) => void)(body);
    };
    // Each subscribe costs a series and a graph encode: a looping client must not make us spin.
    data.bucket ??= { tokens: o.clientEventBurst, at: Date.now() };
    let refused = 0;
    const allowed = (ack: unknown): boolean => {
      const now = Date.now();
      const b = data.bucket;
      b.tokens = Math.min(o.clientEventBurst, b.tokens + ((now - b.at) / 1000) * o.clientEventsPerSecond);
      b.at = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return true;
      }
      reply(ack, {
        ok: false,
        error: 'rate limited',
        details: [{ path: 'event', message: `at most ${o.clientEventsPerSecond} requests/s per connection` }],
      });
      if (++refused > 10 * o.clientEventBurst) {
        log.warn({ socket: socket.id, who: data.principal.name }, 'disconnecting a client flooding requests');
        socket.disconnect(true);
      }
      return false;
    };

    socket.on(LiveEvents.subscribe, (req: unknown, ack?: unknown) => {
      if (!allowed(ack)) return;
      const r = SubscribeRequest.safeParse(req);
      if (!r.success) return reply(ack, { ok: false, error: 'invalid subscribe', details: zodDetails(r.error) });
      const id = r.data.incident;
      if (!data.subscriptions.has(id) && data.subscriptions.size >= o.maxSubscriptions) {
        return reply(ack, {
          ok: false,
          error: 'too many subscriptions',
          details: [{ path: 'incident', message: `at most ${o.maxSubscriptions} per connection` }],
        });
      }
      data.subscriptions.add(id);
      socket.join(room(id));
      reply(ack, { ok: true });
      sendRoomView(socket, id);
    });

    socket.on(LiveEvents.unsubscribe, (req: unknown, ack?: unknown) => {
      if (!allowed(ack)) return;
      const r = SubscribeRequest.safeParse(req);
      if (!r.success) return reply(ack, { ok: false, error: 'invalid unsubscribe', details: zodDetails(r.error) });
      data.subscriptions.delete(r.data.incident);
      socket.leave(room(r.data.incident));
      reply(ack, { ok: true });
    });

    socket.on('disconnect', () => {
      mClients.set(nsp.sockets.size);
    });
  });

  // ---- timers
  const timers = [
    // Fine-grained so a coalesced update waits at most upsertIntervalMs + this; the map is small.
    setInterval(flushPending, Math.max(10, Math.min(50, Math.floor(o.upsertIntervalMs / 5)))),
    setInterval(() => flushRooms(), Math.max(50, Math.min(o.seriesIntervalMs, o.graphIntervalMs) / 2)),
    setInterval(checkQueues, o.queueCheckMs),
    setInterval(() => {
      if (!mirror) return;
      mirror.tick();
      mPeers.set(mirror.peerFigures().length);
    }, o.clusterHeartbeatMs),
    setInterval(() => {
      if (nsp.sockets.size === 0) return;
      // Per-process numbers: only this server's clients, even behind the Redis adapter.
      nsp.local.except(LAGGING).emit(LiveEvents.summary, summary());
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
        mirrored: mirror?.size ?? 0,
        peers: mirror?.peerFigures().length ?? 0,
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
    async close() {
      for (const t of timers) clearInterval(t);
      // Peers drop our incidents now instead of after the expiry; queued before the Redis quit.
      mirror?.stop();
      ctx.incidents.off('upsert', onUpsert);
      ctx.incidents.off('resolved', onResolved);
      for (const name of [
        'downstream_live_clients',
        'downstream_live_lagging_clients',
        'downstream_live_broadcasts_total',
        'downstream_live_coalesced_total',
        'downstream_live_slow_disconnects_total',
        'downstream_live_mirrored_incidents',
        'downstream_live_peers',
        'downstream_live_cluster_messages_total',
      ])
        ctx.registry.removeSingleMetric(name);
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
