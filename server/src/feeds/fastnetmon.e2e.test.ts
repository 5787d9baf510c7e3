/**
 * The real FastNetMon (Debian package `fastnetmon`) and Downstream watching the same NetFlow:
 * FastNetMon's notify hook (server/bin/fastnetmon-notify) posts its ban to the feed, the built-in
 * fan-in detector fires on the same target, and the NOC sees one incident naming both.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IncidentList, type FeedHealth } from '@downstream/shared';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { startServer, type RunningServer } from '../server.js';
import type { SimFlow } from '../sim/sim-flow.js';
import { UdpExporter } from '../sim/udp-exporter.js';

const FASTNETMON = ['/usr/sbin/fastnetmon', '/usr/bin/fastnetmon'].find(
  (p) => spawnSync(p, ['--version']).status === 0,
);
if (!FASTNETMON)
  console.warn('fastnetmon not installed (Debian package `fastnetmon`): skipping the real-FastNetMon feed test');

const NOTIFY = fileURLToPath(new URL('../../bin/fastnetmon-notify', import.meta.url));
const TOKEN = 'fastnetmon-admin-token-0123456789';
const TARGET = '198.51.100.7';

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

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
  let fnm: ChildProcess | undefined;
  const exporters: UdpExporter[] = [];
  let fnmLog = '';

  afterAll(async () => {
    if (fnm && fnm.exitCode === null) {
      const gone = new Promise<void>((r) => fnm!.once('exit', () => r()));
      fnm.kill('SIGTERM');
      const t = setTimeout(() => fnm!.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    }
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
        auth: { tokens: [{ name: 'fastnetmon', role: 'admin', token: TOKEN }] },
        storage: { path: join(dir, 'data') },
        detect: { fanIn: { minSources: 100, minPps: 1000, windowSeconds: 2 } },
      }),
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      version: 'test',
      tickMs: 250,
    });

    const fnmPort = await freeUdpPort();
    writeFileSync(join(dir, 'networks_list'), '198.51.100.0/24\n');
    writeFileSync(join(dir, 'networks_whitelist'), '');
    writeFileSync(
      join(dir, 'fastnetmon.conf'),
      [
        'logging_level = info',
        'logging_local_syslog_logging = off',
        'logging_remote_syslog_logging = off',
        'disable_usage_report = on',
        'enable_ban = on',
        'enable_ban_ipv6 = off',
        'process_incoming_traffic = on',
        'process_outgoing_traffic = on',
        'ban_details_records_count = 20',
        'ban_time = 60',
        'unban_only_if_attack_finished = on',
        `networks_list_path = ${join(dir, 'networks_list')}`,
        `white_list_path = ${join(dir, 'networks_whitelist')}`,
        'check_period = 1',
        'enable_connection_tracking = on',
        'ban_for_pps = on',
        'ban_for_bandwidth = off',
        'ban_for_flows = off',
        'threshold_pps = 2000',
        'threshold_mbps = 100000',
        'threshold_flows = 100000',
        'mirror_afpacket = off',
        'pcap = off',
        'sflow = off',
        'netflow = on',
        `netflow_port = ${fnmPort}`,
        'netflow_host = 127.0.0.1',
        'netflow_sampling_ratio = 1',
        'average_calculation_time = 5',
        'speed_calculation_delay = 1',
        `notify_script_path = ${NOTIFY}`,
        'notify_script_pass_details = on',
        'collect_attack_pcap_dumps = off',
        'redis_enabled = off',
        'mongodb_enabled = off',
        'exabgp = off',
        'gobgp = off',
        'influxdb = off',
        'graphite = off',
        'monitor_local_ip_addresses = off',
        `pid_path = ${join(dir, 'fastnetmon.pid')}`,
        `cli_stats_file_path = ${join(dir, 'fastnetmon.dat')}`,
        `cli_stats_ipv6_file_path = ${join(dir, 'fastnetmon_ipv6.dat')}`,
        'enable_api = off',
        'prometheus = off',
        'kafka_traffic_export = off',
        '',
      ].join('\n'),
    );
    fnm = spawn(
      FASTNETMON!,
      ['--configuration_file', join(dir, 'fastnetmon.conf'), '--log_to_console', '--disable_pid_logic'],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DOWNSTREAM_URL: server.url, DOWNSTREAM_TOKEN: TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (c: Buffer) => (fnmLog = (fnmLog + c.toString()).slice(-20_000));
    fnm.stdout!.on('data', keep);
    fnm.stderr!.on('data', keep);

    // The same router exports the same traffic to both, as when one NetFlow stream is duplicated.
    const toDownstream = new UdpExporter({
      host: '127.0.0.1',
      port: server.ctx.collectors.ports.netflow!,
      protocol: 'netflow-v5',
    });
    const toFastNetMon = new UdpExporter({ host: '127.0.0.1', port: fnmPort, protocol: 'netflow-v5' });
    exporters.push(toDownstream, toFastNetMon);

    const auth = { authorization: `Bearer ${TOKEN}` };
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
