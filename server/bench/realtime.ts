/**
 * pnpm bench:realtime — N socket.io clients on loopback while incidents update.
 *
 * Three kinds of process, all this file:
 * - the server: a full startServer() (real incident manager, SQLite store in a temp dir,
 *   socket.io /live) whose only load is this benchmark's detection events, so its CPU and
 *   memory figures are the realtime path's;
 * - client processes, each holding a share of the sockets and timing every delivery;
 * - this coordinator, which starts them, drives the run and prints the figures.
 *
 * Delivery lag = time a client received an `incident:upsert` − time the server ingested the
 * detection event carried in it (stamped into the evidence; same machine clock).
 *
 * Options (env BENCH_X or --x=value): clients=500 procs=2 (client processes) probes=50
 * (sockets that parse and time messages; the rest only receive) incidents=50 rate=1 (updates/s
 * per incident: detectors tick at 1 Hz, below the coalescing threshold so every update is
 * delivered) hot=2 (incidents updated hotRate/s, to exercise coalescing) hotRate=50
 * seconds=15 sources=5 (top sources per incident: message size). BENCH_PROFILE=DIR: CPU profile
 * of the server process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { opt } from './bench-options.js';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
const role = process.argv[2];

const nowMs = (): number => performance.timeOrigin + performance.now();

type ServerMsg =
  | { type: 'ready'; url: string }
  | {
      type: 'stats';
      cpuMs: number;
      wallMs: number;
      rss: number;
      heapUsed: number;
      peakRss: number;
      peakHeap: number;
      upserts: number;
      ingested: number;
      coalesced: number;
    };
type ClientMsg =
  { type: 'connected'; n: number } | { type: 'lags'; lags: number[]; received: number; disconnects: number };

// ---------------------------------------------------------------------------------------------
async function serverMain(): Promise<void> {
  const { pino } = await import('pino');
  const { parseConfig } = await import('../src/config/config.js');
  const { startServer } = await import('../src/main/server.js');
  const dir = mkdtempSync(join(tmpdir(), 'ds-bench-rt-'));
  const config = parseConfig({ http: { host: '127.0.0.1', port: 0 }, storage: { path: dir }, log: { level: 'warn' } });
  const server = await startServer({ config, logger: pino({ level: 'warn' }), version: 'bench' });
  const send = (m: ServerMsg) => process.send!(m);
  let timer: NodeJS.Timeout | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let cpu0 = process.cpuUsage();
  let wall0 = nowMs();
  let peakRss = 0;
  let peakHeap = 0;
  let upserts = 0;
  let ingested = 0;
  server.ctx.incidents.on('upsert', () => upserts++);

  const event = (key: string, sources: number, seq: number) => {
    const at = nowMs();
    return {
      detector: 'bench',
      kind: 'ddos-fan-in' as const,
      direction: 'inbound' as const,
      at: new Date(at).toISOString(),
      key,
      target: { ip: key },
      sources: {
        distinct: sources * 100,
        top: Array.from({ length: sources }, (_, i) => ({
          ip: `10.${seq & 255}.${(i >> 8) & 255}.${i & 255}`,
          asn: 64500 + i,
          asName: `AS-BENCH-${i}`,
          country: 'DE',
          packets: 1000 + seq,
          bytes: 64_000 + seq,
        })),
        asns: [{ asn: 64500, name: 'AS-BENCH-0', share: 1 }],
      },
      upstreams: [{ name: 'Transit A', share: 1 }],
      rate: { pps: 10_000 + seq, bps: 5_000_000 + seq },
      evidence: { benchSentAt: at, summary: `bench update ${seq}` },
    };
  };

  process.on(
    'message',
    (m: { type: string; incidents?: number; rate?: number; hot?: number; hotRate?: number; sources?: number }) => {
      if (m.type === 'start') {
        const { incidents = 50, rate = 2, hot = 1, hotRate = 50, sources = 5 } = m;
        // Paced by elapsed time, not by timer ticks, so a late timer on a busy machine catches up.
        let acc = 0;
        let hotAcc = 0;
        let seq = 0;
        let next = 0;
        let hotNext = 0;
        let last = nowMs();
        timer = setInterval(() => {
          const t = nowMs();
          const dt = (t - last) / 1000;
          last = t;
          acc += incidents * rate * dt;
          hotAcc += hot * hotRate * dt;
          while (acc >= 1) {
            acc -= 1;
            ingested++;
            server.ctx.incidents.ingest(event(`198.18.${(next >> 8) & 255}.${next & 255}`, sources, ++seq));
            next = (next + 1) % Math.max(1, incidents);
          }
          while (hotAcc >= 1) {
            hotAcc -= 1;
            ingested++;
            server.ctx.incidents.ingest(event(`198.19.0.${hotNext}`, sources, ++seq));
            hotNext = (hotNext + 1) % Math.max(1, hot);
          }
          // The server's own loop runs incidents.tick() right after handing it the detectors'
          // events; do the same, so an update the manager holds back (at most one upsert per
          // incident per second, the rest folded into the next tick) is released as it would be
          // there, and the lag measured is the realtime layer's, not this loop's pacing.
          server.ctx.incidents.tick(Date.now());
        }, 10);
        cpu0 = process.cpuUsage();
        wall0 = nowMs();
        peakRss = 0;
        peakHeap = 0;
        upserts = 0;
        sampler = setInterval(() => {
          const mu = process.memoryUsage();
          peakRss = Math.max(peakRss, mu.rss);
          peakHeap = Math.max(peakHeap, mu.heapUsed);
        }, 250);
      } else if (m.type === 'stop') {
        clearInterval(timer);
        clearInterval(sampler);
        const c = process.cpuUsage(cpu0);
        const mu = process.memoryUsage();
        const metrics = server.ctx.registry.getSingleMetric('downstream_live_coalesced_total') as unknown as {
          get(): Promise<{ values: { value: number }[] }>;
        };
        void metrics.get().then((v) => {
          send({
            type: 'stats',
            cpuMs: (c.user + c.system) / 1000,
            wallMs: nowMs() - wall0,
            rss: mu.rss,
            heapUsed: mu.heapUsed,
            peakRss,
            peakHeap,
            upserts,
            ingested,
            coalesced: v.values[0]?.value ?? 0,
          });
        });
      } else if (m.type === 'exit') {
        void server.close().then(() => {
          rmSync(dir, { recursive: true, force: true });
          process.exit(0);
        });
      }
    },
  );
  send({ type: 'ready', url: server.url });
}

// ---------------------------------------------------------------------------------------------
/**
 * socket.io parser for the load sockets: connection packets are decoded, every event is only
 * counted. A load socket still receives every frame (the server does the full work for it and
 * it never stalls) but does not pay JSON.parse; otherwise, on a small machine, the clients'
 * parsing would be what the lag measures. Probe sockets use the real parser and record lag.
 */
let lightMessages = 0;
class LightEncoder {
  encode(p: { type: number; nsp: string; data?: unknown; id?: number }): string[] {
    let out = String(p.type);
    if (p.nsp && p.nsp !== '/') out += `${p.nsp},`;
    if (p.id !== undefined) out += String(p.id);
    if (p.data !== undefined) out += JSON.stringify(p.data);
    return [out];
  }
}
class LightDecoder extends EventEmitter {
  add(chunk: unknown): void {
    if (typeof chunk !== 'string') return;
    const type = chunk.charCodeAt(0) - 48;
    if (type !== 0 && type !== 1 && type !== 4) {
      lightMessages++;
      return;
    }
    let nsp = '/';
    let i = 1;
    if (chunk[1] === '/') {
      const comma = chunk.indexOf(',');
      nsp = chunk.slice(1, comma < 0 ? undefined : comma);
      i = comma < 0 ? chunk.length : comma + 1;
    }
    const rest = chunk.slice(i);
    this.emit('decoded', { type, nsp, data: rest ? (JSON.parse(rest) as unknown) : undefined });
  }
  destroy(): void {}
}
const lightParser = { Encoder: LightEncoder, Decoder: LightDecoder };

async function clientMain(): Promise<void> {
  const { io } = await import('socket.io-client');
  const url = process.argv[3];
  const n = Number(process.argv[4]);
  const probes = Number(process.argv[5]);
  const lags: number[] = [];
  let received = 0;
  let connected = 0;
  let disconnects = 0;
  let measuring = false;
  const sockets: { disconnect(): unknown }[] = [];
  const ready = () => {
    if (++connected === n) process.send!({ type: 'connected', n } satisfies ClientMsg);
  };
  for (let i = 0; i < n; i++) {
    const probe = i < probes;
    const s = io(`${url}/live`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      ...(probe ? {} : { parser: lightParser as never }),
    });
    if (probe) s.once('snapshot', ready);
    else s.once('connect', ready);
    s.on('disconnect', () => disconnects++);
    s.on('incident:upsert', (m: { incident: { evidence: { benchSentAt?: number } } }) => {
      const t = nowMs();
      received++;
      const sent = m.incident.evidence.benchSentAt;
      if (measuring && typeof sent === 'number') lags.push(t - sent);
    });
    sockets.push(s);
    // Connect in small waves so 500 handshakes do not all land in one tick.
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  process.on('message', (m: { type: string }) => {
    if (m.type === 'measure') {
      measuring = true;
      lags.length = 0;
      received = 0;
      lightMessages = 0;
    } else if (m.type === 'report') {
      measuring = false;
      process.send!({ type: 'lags', lags, received: received + lightMessages, disconnects } satisfies ClientMsg);
    } else if (m.type === 'exit') {
      for (const s of sockets) s.disconnect();
      setTimeout(() => process.exit(0), 100);
    }
  });
}

// ---------------------------------------------------------------------------------------------
function once<T>(proc: ChildProcess, pred: (m: T) => boolean, what: string, ms = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    const on = (m: T) => {
      if (pred(m)) {
        clearTimeout(t);
        proc.off('message', on);
        resolve(m);
      }
    };
    proc.on('message', on);
    proc.once('exit', (code) => reject(new Error(`${what}: process exited with ${code}`)));
  });
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const clients = opt('clients', 500);
  const procs = Math.max(1, Math.min(opt('procs', 2), clients));
  const incidents = opt('incidents', 50);
  const rate = opt('rate', 1);
  const hot = opt('hot', 2);
  const hotRate = opt('hotRate', 50);
  const seconds = opt('seconds', 15);
  const sources = opt('sources', 5);
  const probes = Math.min(opt('probes', 50), clients);
  const env = { ...process.env, TSX_TSCONFIG_PATH: join(here, '..', 'src', 'realtime', 'fixtures', 'tsconfig.json') };
  const children: ChildProcess[] = [];
  const kill = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  process.on('exit', kill);

  console.log(
    `realtime bench: ${clients} clients in ${procs} processes, ${incidents} incidents × ${rate}/s + ${hot} hot × ${hotRate}/s, ` +
      `${sources} top sources each, ${seconds} s measured; ${probes} probe sockets time deliveries`,
  );
  // BENCH_PROFILE=DIR writes a V8 CPU profile of the server process there.
  const prof = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const server = fork(self, ['server'], {
    env,
    execArgv: [...process.execArgv, ...prof],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(server);
  const { url } = (await once<ServerMsg>(server, (m) => m.type === 'ready', 'server start')) as { url: string };

  const t0 = nowMs();
  const share = Math.ceil(clients / procs);
  const cps: ChildProcess[] = [];
  for (let i = 0, left = clients; i < procs && left > 0; i++, left -= share) {
    const count = Math.min(share, left);
    const probeShare = Math.min(count, Math.ceil(probes / procs));
    const c = fork(self, ['client', url, String(count), String(probeShare)], {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(c);
    cps.push(c);
  }
  await Promise.all(cps.map((c) => once<ClientMsg>(c, (m) => m.type === 'connected', 'clients to connect', 120_000)));
  console.log(`connected ${clients} clients in ${((nowMs() - t0) / 1000).toFixed(1)} s`);

  server.send({ type: 'start', incidents, rate, hot, hotRate, sources });
  await new Promise((r) => setTimeout(r, 2000)); // warm-up: incidents created, JIT settled
  for (const c of cps) c.send({ type: 'measure' });
  server.send({ type: 'stop' });
  await once<ServerMsg>(server, (m) => m.type === 'stats', 'server stats');
  server.send({ type: 'start', incidents, rate, hot, hotRate, sources });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  server.send({ type: 'stop' });
  const stats = (await once<ServerMsg>(server, (m) => m.type === 'stats', 'server stats')) as Extract<
    ServerMsg,
    { type: 'stats' }
  >;
  await new Promise((r) => setTimeout(r, 1000)); // let in-flight deliveries land
  const reports = await Promise.all(
    cps.map((c) => {
      const p = once<ClientMsg>(c, (m) => m.type === 'lags', 'client report');
      c.send({ type: 'report' });
      return p as Promise<Extract<ClientMsg, { type: 'lags' }>>;
    }),
  );

  const all = new Float64Array(reports.reduce((n, r) => n + r.lags.length, 0));
  let k = 0;
  for (const r of reports) for (const v of r.lags) all[k++] = v;
  all.sort();
  const received = reports.reduce((n, r) => n + r.received, 0);
  const disconnects = reports.reduce((n, r) => n + r.disconnects, 0);
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  console.log('');
  console.log(`delivery lag (upsert received − event ingested) on ${probes} probe sockets, ${all.length} deliveries:`);
  console.log(
    `  p50 ${pct(all, 50).toFixed(1)} ms   p90 ${pct(all, 90).toFixed(1)} ms   p99 ${pct(all, 99).toFixed(1)} ms   max ${all.length ? all[all.length - 1].toFixed(1) : 'n/a'} ms   (target p99 < 500 ms)`,
  );
  console.log(
    `throughput: ${(stats.ingested / (stats.wallMs / 1000)).toFixed(0)} detection events/s in, ` +
      `${(stats.upserts / (stats.wallMs / 1000)).toFixed(0)} incident updates/s, ` +
      `${(received / (stats.wallMs / 1000)).toFixed(0)} messages/s delivered to clients; ${stats.coalesced} updates coalesced (hot incidents)`,
  );
  console.log(
    `server CPU: ${((stats.cpuMs / stats.wallMs) * 100).toFixed(0)} % of one core over ${(stats.wallMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `server memory: rss ${mb(stats.rss)} (peak ${mb(stats.peakRss)}), heap ${mb(stats.heapUsed)} (peak ${mb(stats.peakHeap)})`,
  );
  console.log(`client disconnects during the run: ${disconnects}`);

  for (const c of cps) c.send({ type: 'exit' });
  server.send({ type: 'exit' });
  await Promise.all(
    children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)))),
  );
}

if (role === 'server') void serverMain();
else if (role === 'client') void clientMain();
else
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
