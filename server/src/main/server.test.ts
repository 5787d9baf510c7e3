import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Health, IncidentList, LIVE_NAMESPACE, LiveEvents, Summary } from '@downstream/shared';
import { pino } from 'pino';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { detectionEvent } from '../testing/fake-context.js';
import { BindRefusedError } from '../auth/index.js';
import { parseConfig } from '../config/config.js';
import { LiveView } from '../realtime/live-view.js';
import { startServer, type RunningServer } from './server.js';
import { UdpExporter } from '../sim/udp-exporter.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function config(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ds-server-'));
  dirs.push(dir);
  return parseConfig({
    http: { host: '127.0.0.1', port: 0 },
    collectors: { netflow: { host: '127.0.0.1', port: 0 } },
    storage: { path: dir },
    ...extra,
  });
}

const until = async (cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('startServer', () => {
  it('refuses to bind a non-loopback address without tokens, naming the fix', async () => {
    const err = await startServer({
      config: config({ http: { host: '0.0.0.0', port: 0 } }),
      logger,
      version: 't',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BindRefusedError);
    expect((err as Error).message).toMatch(/0\.0\.0\.0.*auth\.tokens/s);
  });

  it('wires collectors → traffic meter and health; incidents → REST and /live; close() releases everything', async () => {
    const s = await startServer({ config: config(), logger, version: '1.2.3', tickMs: 100 });
    servers.push(s);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = s.ctx.collectors.ports.netflow;
    expect(port).toBeGreaterThan(0);

    // Real NetFlow v9 datagrams through the real collector.
    const exporter = new UdpExporter({ host: '127.0.0.1', port: port!, protocol: 'netflow-v9' });
    const now = Date.now();
    const flows = Array.from({ length: 50 }, (_, i) => ({
      src: `198.51.100.${i + 1}`,
      dst: '203.0.113.10',
      srcPort: 40000 + i,
      dstPort: 443,
      proto: 6,
      tcpFlags: 0x18,
      packets: 10,
      bytes: 6000,
      startMs: now - 1000,
      endMs: now,
      inIf: 1,
      outIf: 2,
    }));
    await exporter.send(flows, now);
    await exporter.close();
    await until(
      async () => {
        const h = Health.parse(await (await fetch(`${s.url}/api/health`)).json());
        return h.exporters.some((e) => e.protocol === 'netflow-v9' && e.records >= 50);
      },
      5000,
      'exporter health',
    );
    const health = Health.parse(await (await fetch(`${s.url}/api/health`)).json());
    expect(health.version).toBe('1.2.3');

    // The meter counts arrivals per second; the summary averages completed seconds.
    await new Promise((r) => setTimeout(r, 1100));
    const summary = Summary.parse(s.ctx.traffic.summary(s.ctx.incidents, s.ctx.collectors));
    expect(summary.flowsPerSecond).toBeGreaterThan(0);
    expect(summary.exporters).toBe(1);

    // An incident reaches a socket client and the REST list.
    const client = connect(s.url + LIVE_NAMESPACE, { transports: ['websocket'], forceNew: true });
    const view = new LiveView(client);
    await until(() => view.snapshots === 1, 5000, 'snapshot');
    s.ctx.incidents.ingest(detectionEvent('203.0.113.77', 5, 50_000));
    await until(() => view.incidents.size === 1, 5000, 'upsert');
    const list = IncidentList.parse(await (await fetch(`${s.url}/api/incidents`)).json());
    expect(list.incidents.map((i) => i.id)).toEqual([...view.incidents.keys()]);
    let summaries = 0;
    client.on(LiveEvents.summary, () => summaries++);
    await until(() => summaries > 0, 3000, 'summary');

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/downstream_live_clients 1/);
    // Detector state on /metrics: fixed tables are allocated at start, so the size is > 0.
    expect(Number(/^downstream_detect_state_bytes (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    for (const table of ['inbound', 'outbound', 'participation']) {
      expect(metrics).toMatch(new RegExp(`^downstream_detect_tracked_keys\\{table="${table}"\\} \\d+`, 'm'));
      expect(metrics).toMatch(new RegExp(`^downstream_detect_evictions\\{table="${table}"\\} \\d+`, 'm'));
    }
    const doc = (await (await fetch(`${s.url}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe('3.1.0');
    // Route groups of other modules are mounted (history documents itself in the same document).
    expect(Object.keys(doc.paths).length).toBeGreaterThan(6);
    const id = [...view.incidents.keys()][0];
    for (const path of ['/api/feeds', `/api/incidents/${id}/report/recipients`]) {
      const res = await fetch(`${s.url}${path}`);
      expect(res.status, path).toBe(200);
    }

    await s.close();
    servers.pop();
    await until(() => !client.connected, 3000, 'client to see the close');
    client.disconnect();
    await expect(fetch(`${s.url}/api/health`)).rejects.toThrow();
  });
});
