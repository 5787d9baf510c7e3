/**
 * Who may connect to /live and what a connection may ask for: token authentication in the
 * handshake, subscribe/unsubscribe to incident rooms (validated, capped per socket, rate
 * limited by a token bucket), and the full view a (re)connecting socket gets.
 */
import { LiveEvents, SubscribeRequest, type SubscribeAck } from '@downstream/shared';
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';
import type { Namespace, Socket } from 'socket.io';
import { bearerToken, roleAtLeast, type Authenticator, type Principal } from '../auth/index.js';
import { zodDetails } from '../http/errors.js';
import { incidentRoom, incidentsOfRooms, LAGGING_ROOM } from './rooms.js';

export interface SocketData {
  principal: Principal;
  bucket: { tokens: number; at: number };
  laggingSince?: number;
  /** Incidents this socket is subscribed to (mirrors its incident rooms). */
  subscriptions: Set<string>;
}

export interface SubscriptionLimits {
  maxSubscriptions: number;
  clientEventsPerSecond: number;
  clientEventBurst: number;
}

export function attachSubscriptions(deps: {
  nsp: Namespace;
  auth: Authenticator;
  limits: SubscriptionLimits;
  log: Logger;
  clients: Gauge;
  /** Snapshot plus the series and graph of every room the socket is in. */
  sendFullView: (socket: Socket) => void;
  /** Series and graph of one incident to one socket. */
  sendRoomView: (socket: Socket, id: string) => void;
}): void {
  const { nsp, auth, limits: o, log } = deps;
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
    // A feed token posts to /api/feeds/* and nothing else: no live stream.
    if (!roleAtLeast(principal.role, 'viewer')) {
      const err = new Error('forbidden') as Error & { data: unknown };
      err.data = {
        error: 'forbidden',
        details: [{ path: 'handshake.auth.token', message: `token "${principal.name}" has role ${principal.role}` }],
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
    data.subscriptions = incidentsOfRooms(socket.rooms);
    if (socket.rooms.has(LAGGING_ROOM)) {
      socket.leave(LAGGING_ROOM);
      data.laggingSince = undefined;
    }
    deps.clients.set(nsp.sockets.size);
    // Recovered rooms get their series and graph again too, rather than trusting the replay alone.
    deps.sendFullView(socket);

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
      socket.join(incidentRoom(id));
      reply(ack, { ok: true });
      deps.sendRoomView(socket, id);
    });

    socket.on(LiveEvents.unsubscribe, (req: unknown, ack?: unknown) => {
      if (!allowed(ack)) return;
      const r = SubscribeRequest.safeParse(req);
      if (!r.success) return reply(ack, { ok: false, error: 'invalid unsubscribe', details: zodDetails(r.error) });
      data.subscriptions.delete(r.data.incident);
      socket.leave(incidentRoom(r.data.incident));
      reply(ack, { ok: true });
    });

    socket.on('disconnect', () => {
      deps.clients.set(nsp.sockets.size);
    });
  });
}
