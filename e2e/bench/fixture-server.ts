/**
 * A stand-in backend for the web benchmark: serves web/dist plus the REST and socket.io
 * contracts with a synthetic incident of any size. The demo's simulator cannot produce a
 * 50,000-source incident on demand, and the benchmark measures the browser, not the server.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncidentDetail } from '@downstream/shared';
import { Server as IoServer } from 'socket.io';
import { encodeGraphFrame } from '../../shared/src/graph-frame.js';
import { syntheticIncident, syntheticSummary } from './synthetic.js';

// Literal event names: e2e/ has no runtime dependency on shared/ (only its types).
const LIVE_NAMESPACE = '/live';
const LiveEvents = {
  snapshot: 'snapshot',
  summary: 'summary',
  upsert: 'incident:upsert',
  subscribe: 'subscribe',
  series: 'incident:series',
  graph: 'incident:graph',
} as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export interface FixtureServer {
  url: string;
  incident: IncidentDetail;
  stop(): Promise<void>;
}

export async function startFixtureServer(opts: {
  webRoot: string;
  sources: number;
  updateMs?: number;
  port?: number;
}): Promise<FixtureServer> {
  let incident = syntheticIncident({ sources: opts.sources });
  const list = () => {
    const { timeline: _t, graph: _g, ...rest } = incident;
    return rest;
  };
  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/incidents') return json({ incidents: [list()] });
    if (url.pathname === `/api/incidents/${incident.id}`) return json(incident);
    // The incident page's side panels: empty answers, so the bench measures the graph, not error banners.
    const base = `/api/incidents/${incident.id}`;
    if (url.pathname === `${base}/report/recipients`) return json({ recipients: [] });
    if (url.pathname === `${base}/mitigations`) return json({ mitigations: [] });
    if (url.pathname === `${base}/audit`) return json({ entries: [] });
    if (url.pathname.startsWith('/api/incidents/')) return json({ error: 'no such incident' }, 404);
    if (url.pathname === '/api/health') return json({ status: 'ok', version: 'fixture', uptime: 1, exporters: [] });
    if (url.pathname.startsWith('/api/')) return json({ error: 'not in the fixture' }, 404);
    let file = normalize(join(opts.webRoot, url.pathname));
    if (!file.startsWith(opts.webRoot) || !existsSync(file) || statSync(file).isDirectory())
      file = join(opts.webRoot, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  const io = new IoServer(http, { serveClient: false });
  const live = io.of(LIVE_NAMESPACE);
  let rev = 1;
  let seq = 1;
  let tick = 0;
  live.on('connection', (socket) => {
    socket.emit(LiveEvents.snapshot, { summary: syntheticSummary(1), incidents: [list()], rev });
    socket.on(LiveEvents.subscribe, (req: { incident?: string }, ack?: (r: unknown) => void) => {
      if (req?.incident !== incident.id) return ack?.({ ok: false, error: 'no such incident' });
      void socket.join(`incident:${req.incident}`);
      ack?.({ ok: true });
      socket.emit(LiveEvents.series, { id: incident.id, points: incident.timeline });
      socket.emit(LiveEvents.graph, encodeGraphFrame(incident.id, seq, incident.graph.nodes));
    });
  });
  // Live updates while the page renders: counters change, the timeline grows.
  const timer = setInterval(() => {
    rev++;
    const now = Date.now();
    const last = incident.timeline[incident.timeline.length - 1]!;
    const point = {
      t: new Date(now).toISOString(),
      pps: Math.round(last.pps * (0.95 + Math.random() * 0.1)),
      bps: Math.round(last.bps * (0.95 + Math.random() * 0.1)),
      sources: last.sources,
    };
    incident = { ...incident, lastSeen: point.t, timeline: [...incident.timeline.slice(1), point] };
    live.emit(LiveEvents.upsert, { rev, incident: list() });
    live.emit(LiveEvents.summary, syntheticSummary(1, now));
    live.to(`incident:${incident.id}`).emit(LiveEvents.series, { id: incident.id, points: [point] });
    // Every fourth tick the sources' rates move: a new binary graph frame, as the server sends.
    if (++tick % 4 === 0) {
      const nodes = incident.graph.nodes.map((n) => ({
        ...n,
        pps: Math.max(1, Math.round(n.pps * (0.9 + Math.random() * 0.2))),
      }));
      incident = { ...incident, graph: { nodes } };
      live.to(`incident:${incident.id}`).emit(LiveEvents.graph, encodeGraphFrame(incident.id, ++seq, nodes));
    }
  }, opts.updateMs ?? 500);
  await new Promise<void>((r) => http.listen(opts.port ?? 0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get incident() {
      return incident;
    },
    async stop() {
      clearInterval(timer);
      io.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

// `tsx e2e/bench/fixture-server.ts [sources] [port]`: run it by hand to look at the pages.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const webRoot = normalize(join(import.meta.dirname, '..', '..', 'web', 'dist'));
  const s = await startFixtureServer({
    webRoot,
    sources: Number(process.argv[2] ?? 2000),
    port: Number(process.argv[3] ?? 0),
  });
  console.log(`fixture listening on ${s.url}`);
}
