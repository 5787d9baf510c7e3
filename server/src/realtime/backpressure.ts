/**
 * Slow sockets on /live. Deltas are broadcast to everyone except the `lagging` room: a socket
 * whose outgoing buffer passes the soft limit joins it (superseded deltas are simply not queued
 * for it); once drained it gets a fresh full view and rejoins; past the hard limit or
 * `maxLagMs` it is disconnected. The client sees the gap as a disconnect or a snapshot.
 */
import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import type { Namespace, Socket } from 'socket.io';
import { LAGGING_ROOM } from './rooms.js';
import type { SocketData } from './subscriptions.js';

export interface BackpressureLimits {
  softQueuePackets: number;
  softQueueBytes: number;
  hardQueueBytes: number;
  maxLagMs: number;
}

/** Bytes the OS has not taken yet for this socket (websocket transport), 0 when unknown. */
export function pendingBytes(socket: Socket): number {
  // engine.io/ws internals: the net.Socket under the ws connection. Guarded: a polling client has none.
  const ws = (
    socket.conn.transport as unknown as { socket?: { _socket?: { writableLength?: number }; bufferedAmount?: number } }
  ).socket;
  return (ws?._socket?.writableLength ?? 0) + (ws?.bufferedAmount ?? 0);
}

export function pendingPackets(socket: Socket): number {
  return (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;
}

function terminate(socket: Socket): void {
  socket.disconnect(true);
  // A stalled peer never reads the close frame; drop the TCP connection so its buffers go now.
  const ws = (socket.conn.transport as unknown as { socket?: { terminate?: () => void } }).socket;
  ws?.terminate?.();
}

/** One pass over every socket's queue; run every `queueCheckMs`. */
export function createQueueCheck(deps: {
  nsp: Namespace;
  limits: BackpressureLimits;
  log: Logger;
  lagging: Gauge;
  slowDisconnects: Counter;
  /** A socket that caught up gets this instead of the deltas it missed. */
  sendFullView: (socket: Socket) => void;
}): () => void {
  const { nsp, limits: o, log } = deps;
  return () => {
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
          deps.slowDisconnects.inc();
          terminate(socket);
          continue;
        }
        if (packets === 0 && bytes < o.softQueueBytes / 4) {
          // Caught up: rejoin the stream with a fresh view rather than the deltas it missed.
          data.laggingSince = undefined;
          socket.leave(LAGGING_ROOM);
          deps.sendFullView(socket);
          log.info({ socket: socket.id, who: data.principal.name }, 'slow client caught up');
        } else lagging++;
      } else if (packets > o.softQueuePackets || bytes > o.softQueueBytes) {
        data.laggingSince = now;
        socket.join(LAGGING_ROOM);
        lagging++;
        log.info(
          { socket: socket.id, who: data.principal.name, bytes, packets },
          'client is lagging; skipping its deltas',
        );
      }
    }
    deps.lagging.set(lagging);
  };
}
