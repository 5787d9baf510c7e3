import { IncidentResolved, IncidentUpsert, LIVE_NAMESPACE, LiveEvents, Snapshot, Summary } from '@downstream/shared';
import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import { useLive } from './live-store.js';
import { readToken } from './token.js';

let socket: Socket | undefined;

/** Every socket payload is validated: a server of another version must not corrupt the view. */
function guarded<S extends z.ZodType>(event: string, schema: S, apply: (v: z.infer<S>) => void) {
  return (payload: unknown) => {
    const parsed = schema.safeParse(payload);
    if (parsed.success) apply(parsed.data);
    else console.warn(`downstream: ignored malformed "${event}"`, JSON.stringify(parsed.error.issues.slice(0, 3)));
  };
}

let retryTimer: ReturnType<typeof setTimeout> | undefined;
let retries = 0;

function scheduleReconnect(s: Socket) {
  if (retryTimer) return;
  const delay = Math.min(5000, 500 * 2 ** retries++);
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    if (!s.connected) s.connect();
  }, delay);
}

/** Opens (once) the `/live` socket that feeds the store; returns it for room subscriptions. */
export function connectLive(): Socket {
  if (socket) return socket;
  const store = useLive.getState();
  const s = io(LIVE_NAMESPACE, {
    auth: (cb) => cb({ token: readToken() }),
    // websocket first: a NOC wall may sit behind proxies that break long polling upgrades.
    transports: ['websocket', 'polling'],
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  });
  socket = s;
  s.on('connect', () => {
    retries = 0;
    store.setConnection('live');
  });
  s.on('disconnect', (reason) => {
    useLive.getState().setConnection('offline');
    // socket.io retries by itself except when the server closed the socket (e.g. on its own
    // shutdown); a wall must heal without a person, so retry that case too.
    if (reason === 'io server disconnect') scheduleReconnect(s);
  });
  s.on('connect_error', (err: Error) => {
    const msg = /auth|token|unauthori[sz]ed/i.test(err.message)
      ? `The server refused the connection (${err.message}). Open the page with ?token=YOUR_TOKEN.`
      : `Cannot reach the server (${err.message}); retrying.`;
    useLive.getState().setConnection('offline', msg);
    // Refused by the server (not a network error): socket.io leaves it there; keep trying slowly.
    if (!s.active) scheduleReconnect(s);
  });
  s.on(
    LiveEvents.snapshot,
    guarded(LiveEvents.snapshot, Snapshot, (v) => useLive.getState().applySnapshot(v)),
  );
  s.on(
    LiveEvents.summary,
    guarded(LiveEvents.summary, Summary, (v) => useLive.getState().applySummary(v)),
  );
  s.on(
    LiveEvents.upsert,
    guarded(LiveEvents.upsert, IncidentUpsert, (v) => useLive.getState().applyUpsert(v)),
  );
  s.on(
    LiveEvents.resolved,
    guarded(LiveEvents.resolved, IncidentResolved, (v) => useLive.getState().applyResolved(v)),
  );
  return s;
}

export function liveSocket(): Socket | undefined {
  return socket;
}
