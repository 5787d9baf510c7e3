import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Runs the real FastNetMon (Debian package `fastnetmon`) as a NetFlow collector on loopback,
 * for the feed's end-to-end test and the `bench:detect` comparison: both configure it alike,
 * differing only in thresholds and in what its notify hook does.
 */

/** The FastNetMon binary when the Debian package is installed (and runs), else undefined. */
export function findFastNetMon(): string | undefined {
  return ['/usr/sbin/fastnetmon', '/usr/bin/fastnetmon'].find(
    (p) => existsSync(p) && spawnSync(p, ['--version']).status === 0,
  );
}

/** A UDP port free on 127.0.0.1 right now (FastNetMon cannot be told to pick one itself). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface FastNetMonOptions {
  bin: string;
  /** Working folder for its configuration, pid and stats files (the caller removes it). */
  dir: string;
  /** IPv4 prefixes it protects (networks_list). */
  networks: string[];
  /** NetFlow (v5/v9/IPFIX) port on 127.0.0.1 (see `freeUdpPort`). */
  netflowPort: number;
  /** sFlow v5 port on 127.0.0.1; sFlow off when left out. */
  sflowPort?: number;
  /** netflow_sampling_ratio: what FastNetMon multiplies NetFlow counts by (default 1). */
  netflowSamplingRatio?: number;
  /** notify_script_path: gets ban/unban with details on stdin. */
  notifyScript: string;
  /** Per-host ban thresholds; bandwidth bans only when `banForBandwidth`. */
  thresholds: { pps: number; mbps: number; flows: number };
  banForBandwidth: boolean;
  banTimeSeconds: number;
  /** Environment of FastNetMon and so of its notify script; inherits ours when left out. */
  env?: NodeJS.ProcessEnv;
  /** Its console log; ignored when left out. */
  onOutput?: (chunk: string) => void;
}

export interface RunningFastNetMon {
  process: ChildProcess;
  /** SIGTERM, SIGKILL after 3 s, resolved once it has exited. */
  stop(): Promise<void>;
}

export function startFastNetMon(o: FastNetMonOptions): RunningFastNetMon {
  const conf = join(o.dir, 'fastnetmon.conf');
  writeFileSync(join(o.dir, 'networks_list'), o.networks.join('\n') + '\n');
  writeFileSync(join(o.dir, 'networks_whitelist'), '');
  writeFileSync(
    conf,
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
      `ban_time = ${o.banTimeSeconds}`,
      'unban_only_if_attack_finished = on',
      `networks_list_path = ${join(o.dir, 'networks_list')}`,
      `white_list_path = ${join(o.dir, 'networks_whitelist')}`,
      'check_period = 1',
      'enable_connection_tracking = on',
      'ban_for_pps = on',
      `ban_for_bandwidth = ${o.banForBandwidth ? 'on' : 'off'}`,
      'ban_for_flows = off',
      `threshold_pps = ${o.thresholds.pps}`,
      `threshold_mbps = ${o.thresholds.mbps}`,
      `threshold_flows = ${o.thresholds.flows}`,
      'mirror_afpacket = off',
      'pcap = off',
      ...(o.sflowPort ? ['sflow = on', `sflow_port = ${o.sflowPort}`, 'sflow_host = 127.0.0.1'] : ['sflow = off']),
      'netflow = on',
      `netflow_port = ${o.netflowPort}`,
      'netflow_host = 127.0.0.1',
      `netflow_sampling_ratio = ${o.netflowSamplingRatio ?? 1}`,
      'average_calculation_time = 5',
      'speed_calculation_delay = 1',
      `notify_script_path = ${o.notifyScript}`,
      'notify_script_pass_details = on',
      'collect_attack_pcap_dumps = off',
      'redis_enabled = off',
      'mongodb_enabled = off',
      'exabgp = off',
      'gobgp = off',
      'influxdb = off',
      'graphite = off',
      'monitor_local_ip_addresses = off',
      `pid_path = ${join(o.dir, 'fastnetmon.pid')}`,
      `cli_stats_file_path = ${join(o.dir, 'fastnetmon.dat')}`,
      `cli_stats_ipv6_file_path = ${join(o.dir, 'fastnetmon_ipv6.dat')}`,
      'enable_api = off',
      'prometheus = off',
      'kafka_traffic_export = off',
      '',
    ].join('\n'),
  );
  const child = spawn(o.bin, ['--configuration_file', conf, '--log_to_console', '--disable_pid_logic'], {
    ...(o.env ? { env: o.env } : {}),
    stdio: o.onOutput ? ['ignore', 'pipe', 'pipe'] : 'ignore',
  });
  if (o.onOutput) {
    const out = o.onOutput;
    child.stdout!.on('data', (c: Buffer) => out(c.toString()));
    child.stderr!.on('data', (c: Buffer) => out(c.toString()));
  }
  return {
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    },
  };
}
