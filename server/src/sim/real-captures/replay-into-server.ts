import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncidentDetail } from '@downstream/shared';
import { pino } from 'pino';
import { parseConfig } from '../../config/config.js';
import { FlowDecoder } from '../../ingest/decoder.js';
import { startServer } from '../../main/server.js';
import { demoNetworkConfig } from '../scenarios/network.js';
import type { ExportProtocol } from './exporters.js';

export interface ServerRun {
  details: IncidentDetail[];
  /** Simulated second (0-based) at whose end each incident (by id) was first open. */
  firstSecond: Map<string, number>;
  datagrams: number;
  records: number;
}

/**
 * Replay exporter datagrams into a full Downstream server (startServer: collectors, enrich,
 * detectors, incidents, store) over loopback, one simulated second at a time: send second k's
 * datagrams, wait until the collector has them all, then step the server to the end of second k.
 * Independent of machine speed; the server's own 1 s timer is off (`tickMs: 0`).
 */
export async function replayIntoServer(
  seconds: Buffer[][],
  o: { protocol: ExportProtocol; startMs: number; config?: Record<string, unknown>; tailSeconds?: number },
): Promise<ServerRun> {
  const key = o.protocol === 'sflow-v5' ? 'sflow' : o.protocol === 'ipfix' ? 'ipfix' : 'netflow';
  const dir = mkdtempSync(join(tmpdir(), 'ds-real-'));
  const config = parseConfig(
    {
      network: demoNetworkConfig,
      ...o.config,
      http: { host: '127.0.0.1', port: 0 },
      collectors: { [key]: { host: '127.0.0.1', port: 0 } },
      storage: { path: dir },
      log: { level: 'silent' },
    },
    'real-captures replay config',
  );
  const server = await startServer({ config, logger: pino({ level: 'silent' }), version: 'replay', tickMs: 0 });
  const port = server.ctx.collectors.ports[key]!;
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const firstSecond = new Map<string, number>();
  const received = () => server.ctx.collectors.health().reduce((a, h) => a + h.datagrams, 0);
  let sent = 0;
  try {
    const total = seconds.length + (o.tailSeconds ?? 2);
    for (let s = 0; s < total; s++) {
      const batch = seconds[s] ?? [];
      for (let i = 0; i < batch.length; i += 64) {
        await Promise.all(
          batch
            .slice(i, i + 64)
            .map((d) => new Promise<void>((res, rej) => sock.send(d, port, '127.0.0.1', (e) => (e ? rej(e) : res())))),
        );
        sent += Math.min(64, batch.length - i);
        const deadline = Date.now() + 5000;
        while (received() < sent) {
          if (Date.now() > deadline) throw new Error(`collector received ${received()} of ${sent} datagrams`);
          await new Promise((r) => setTimeout(r, 1));
        }
      }
      await server.step(o.startMs + (s + 1) * 1000);
      for (const inc of await server.ctx.incidents.list({ limit: 200 }))
        if (!firstSecond.has(inc.id)) firstSecond.set(inc.id, s);
    }
    const list = await server.ctx.incidents.list({ limit: 200 });
    const details = (await Promise.all(list.map((i) => server.ctx.incidents.get(i.id)))).filter(
      (d): d is IncidentDetail => !!d,
    );
    const records = server.ctx.collectors.health().reduce((a, h) => a + h.records, 0);
    return { details, firstSecond, datagrams: sent, records };
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An exporter's datagrams, sent all at once (pmacctNfprobeFile), put back into the capture
 * seconds they belong to: each one into the second its latest record ends in — when a router
 * with a 1 s active timeout would have sent it — never before the datagram ahead of it, so
 * templates still come before their data. Datagrams with no records (templates, options) go
 * with the one before.
 */
export function bucketSeconds(datagrams: Buffer[], o: { startMs: number; seconds: number }): Buffer[][] {
  const out: Buffer[][] = Array.from({ length: o.seconds }, () => []);
  const dec = new FlowDecoder({ pendingMs: 0 });
  let at = 0;
  for (const d of datagrams) {
    dec.decode(d, 'bucket', o.startMs);
    const b = dec.takeBatch();
    let end = -Infinity;
    for (let i = 0; i < (b?.length ?? 0); i++) if (b!.end[i] > end) end = b!.end[i];
    if (end > -Infinity) at = Math.max(at, Math.min(o.seconds - 1, Math.floor((end - o.startMs) / 1000)));
    out[at].push(d);
  }
  return out;
}
