/**
 * The real FastNetMon (Debian package `fastnetmon`) and Downstream watching the same NetFlow:
 * FastNetMon's notify hook (server/bin/fastnetmon-notify) posts its ban to the feed, the built-in
 * fan-in detector fires on the same target, and the NOC sees one incident naming both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IncidentList, type FeedHealth } from '@downstream/shared';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { startServer, type RunningServer } from '../main/server.js';
import type { SimFlow } from '../sim/sim-flow.js';
import { UdpExporter } from '../sim/udp-exporter.js';
import { findFastNetMon, freeUdpPort, startFastNetMon, type RunningFastNetMon } from './fastnetmon-runner.js';

const FASTNETMON = findFastNetMon();
if (!FASTNETMON)
  console.warn('fastnetmon not installed (Debian package `fastnetmon`): skipping the real-FastNetMon feed test');

const NOTIFY = fileURLToPath(new URL('../../bin/fastnetmon-notify', import.meta.url));
// The hook gets a feed token (all it may do is post feeds); the test reads with a viewer's.
const TOKEN = 'fastnetmon-feed-token-0123456789';
const VIEWER = 'noc-viewer-token-0123456789';
const TARGET = '198.51.100.7';

/** 300 distinct sources, TCP SYN, 64-byte packets, 5 packets each per 250 ms: ~6,000 pps of fan-in. */
function attackFlows(nowMs: number): SimFlow[] {
  const flows: SimFlow[] = [];
  for (let i = 0; i < 300; i++) {
    flows.push({
      src: i < 250 ? `203.0.113.${i + 1}` : `192.0.2.${i - 249}`,
      dst: TARGET,
      srcPort: 1024 + i,
      dstPort: 80,
      proto: 6,
      tcpFlags: 0x02,
      packets: 5,
      bytes: 320,
      startMs: nowMs - 250,
      endMs: nowMs,
      inIf: 10,
      outIf: 20,
    });
  }
  return flows;
}

describe.skipIf(!FASTNETMON)('real FastNetMon → feed → merged incident', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ds-fastnetmon-'));
  let server: RunningServer | undefined;
  let fnm: RunningFastNetMon | undefined;
  const exporters: UdpExporter[] = [];
  let fnmLog = '';

  afterAll(async () => {
    await fnm?.stop();
    for (const e of exporters) await e.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows FastNetMon’s detection merged with the built-in fan-in: one incident, both detectors', async () => {
    server = await startServer({
      config: parseConfig({
        http: { host: '127.0.0.1', port: 0 },
        collectors: { netflow: { host: '127.0.0.1', port: 0 } },
        network: { customers: [{ name: 'Residential pool A', prefixes: ['198.51.100.0/24'] }] },
        auth: {
          tokens: [
            { name: 'fastnetmon', role: 'feed', token: TOKEN },
            { name: 'noc', role: 'viewer', token: VIEWER },
          ],
        },
        storage: { path: join(dir, 'data') },
        detect: { fanIn: { minSources: 100, minPps: 1000, windowSeconds: 2 } },
      }),
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      version: 'test',
      tickMs: 250,
    });

    const fnmPort = await freeUdpPort();
    fnm = startFastNetMon({
      bin: FASTNETMON!,
      dir,
      networks: ['198.51.100.0/24'],
      netflowPort: fnmPort,
      notifyScript: NOTIFY,
      thresholds: { pps: 2000, mbps: 100_000, flows: 100_000 },
      banForBandwidth: false,
      banTimeSeconds: 60,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DOWNSTREAM_URL: server.url, DOWNSTREAM_TOKEN: TOKEN },
      onOutput: (c) => (fnmLog = (fnmLog + c).slice(-20_000)),
    });

    // The same router exports the same traffic to both, as when one NetFlow stream is duplicated.
    const toDownstream = new UdpExporter({
      host: '127.0.0.1',
      port: server.ctx.collectors.ports.netflow!,
      protocol: 'netflow-v5',
    });
    const toFastNetMon = new UdpExporter({ host: '127.0.0.1', port: fnmPort, protocol: 'netflow-v5' });
    exporters.push(toDownstream, toFastNetMon);

    const auth = { authorization: `Bearer ${VIEWER}` };
    const deadline = Date.now() + 60_000;
    let merged: IncidentList['incidents'][number] | undefined;
    let onTarget: IncidentList['incidents'] = [];
    while (Date.now() < deadline) {
      const now = Date.now();
      const flows = attackFlows(now);
      await Promise.all([toDownstream.send(flows, now), toFastNetMon.send(flows, now)]);
      await new Promise((r) => setTimeout(r, 250));
      const res = await fetch(`${server.url}/api/incidents?limit=1000`, { headers: auth });
      const list = IncidentList.parse(await res.json());
      onTarget = list.incidents.filter((i) => i.target?.ip === TARGET);
      merged = onTarget.find((i) => i.detectors.includes('fastnetmon') && i.detectors.includes('fan-in'));
      if (merged) break;
    }
    if (!merged) {
      throw new Error(
        `no merged incident on ${TARGET}; incidents there: ${JSON.stringify(onTarget.map((i) => [i.kind, i.detectors]))}\nFastNetMon log tail:\n${fnmLog.slice(-3000)}`,
      );
    }
    expect(merged).toMatchObject({
      kind: 'ddos-fan-in',
      direction: 'inbound',
      target: { ip: TARGET, customer: 'Residential pool A' },
    });
    expect(onTarget).toHaveLength(1);

    const feeds = (await (await fetch(`${server.url}/api/feeds`, { headers: auth })).json()) as { feeds: FeedHealth[] };
    const h = feeds.feeds.find((f) => f.name === 'fastnetmon')!;
    expect(h.events).toBeGreaterThanOrEqual(1);
    expect(h.errors).toBe(0);
    expect(h.lastEvent).not.toBeNull();
  }, 120_000);
});
