import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIVE_NAMESPACE, LiveEvents } from '@downstream/shared';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fdLimit, MB, sleep, startServe, type HostileServer } from './helpers.js';

const WANT = Number(process.env.HOSTILE_LIVE_CLIENTS ?? 500);
const CLIENTS = Math.min(WANT, Math.floor((fdLimit() - 200) / 2));
if (CLIENTS < WANT) console.warn(`hostile/live-stall: fd limit ${fdLimit()}: ${CLIENTS} clients, not ${WANT}`);
const STREAM_MS = 8000;

let s: HostileServer;
let dir: string;
const clients: Socket[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ds-hostile-live-'));
  s = await startServe(dir, { feeds: { rate_limit: { per_second: 2000, burst: 2000 } } });
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function connectClient(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = io(s.url + LIVE_NAMESPACE, { transports: ['websocket'], reconnection: false, forceNew: true });
    c.once('connect', () => resolve(c));
    c.once('connect_error', reject);
  });
}

/** Inbound attacks on `n` targets with 200 sources each: each one an incident upsert to every client. */
function attacks(round: number, n: number) {
  return {
    events: Array.from({ length: n }, (_, i) => ({
      detector: 'stress',
      id: `r${round}-t${i}`,
      kind: 'volumetric',
      direction: 'inbound',
      target: `198.51.${100 + (i >> 8)}.${i & 255}`,
      sources: Array.from({ length: 200 }, (_, j) => ({ ip: `203.0.${j}.${(round + i) & 255}`, packets: 1000 + j })),
      pps: 10_000 + round * 100,
      summary: `stress round ${round}`,
    })),
  };
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('socket.io clients that never read', () => {
  it(`${CLIENTS} stalled /live clients while incidents stream: server RSS stays bounded, a reader keeps up`, async () => {
    for (let i = 0; i < CLIENTS; i += 50)
      clients.push(...(await Promise.all(Array.from({ length: Math.min(50, CLIENTS - i) }, connectClient))));
    // Every one stops reading its TCP socket: kernel buffers fill, then the server's queues.
    for (const c of clients) {
      (c.io.engine as unknown as { transport: { ws: { _socket: { pause(): void } } } }).transport.ws._socket.pause();
    }
    const reader = await connectClient();
    let upserts = 0;
    reader.on(LiveEvents.upsert, () => upserts++);

    const rss0 = s.rss();
    const stop = s.sampleRss(100);
    const started = Date.now();
    let round = 0;
    while (Date.now() - started < STREAM_MS) {
      const r = await fetch(`${s.url}/api/feeds/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(attacks(round++, 40)),
      });
      expect(r.status).toBe(200);
      await sleep(50);
    }
    stop();
    const lagging = await metric('downstream_live_lagging_clients');
    const connected = await metric('downstream_live_clients');
    const upsertsSeen = upserts;
    const healthAt = Date.now();
    expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
    const healthMs = Date.now() - healthAt;
    reader.disconnect();
    console.log(
      `hostile/live-stall: ${CLIENTS} stalled clients, ${round} feed posts × 40 incidents; server RSS ${Math.round(rss0 / MB)} → peak ${Math.round(s.peakRss / MB)} MB; ` +
        `${connected} connected, ${lagging} lagging at the end; reader saw ${upsertsSeen} upserts; /api/health in ${healthMs} ms`,
    );
    // Nobody was dropped for the stalled ones' sake: they are all still there (until maxLagMs).
    expect(connected).toBe(CLIENTS + 1);
    expect(upsertsSeen).toBeGreaterThan(50);
    // Generous: the per-socket soft queue (1 MB) bounds each stalled client.
    expect(s.peakRss - rss0).toBeLessThan(768 * MB);
    expect(healthMs).toBeLessThan(5000);
  });
});
