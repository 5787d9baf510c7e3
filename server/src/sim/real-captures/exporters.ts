import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { pcapFileHeader } from './raw-pcap.js';

/**
 * The real Debian flow exporters metering a retimed capture: softflowd (NetFlow v9, IPFIX) and
 * pmacct's pmacctd (sfprobe: sFlow v5; nfprobe: NetFlow v9/IPFIX). Their UDP output is
 * collected on loopback, second by second of capture time, so it can be replayed into a
 * collector at the pace a router would have sent it.
 *
 * Neither exporter follows capture time when it reads a file: softflowd expires flows by the
 * wall clock and flushes everything at the end of the file, and pmacctd's probes send as they
 * read. So each one-second slice is metered on its own — softflowd runs once per slice (a
 * record then covers at most one second, like a 1 s active timeout), and one pmacctd reads
 * the slices from a FIFO, the next slice written only once its output for this one is in.
 */

export type ExportProtocol = 'netflow-v9' | 'ipfix' | 'sflow-v5';

export function softflowdPath(): string | undefined {
  return ['/usr/sbin/softflowd', '/usr/bin/softflowd'].find((p) => existsSync(p));
}

export function pmacctdPath(): string | undefined {
  return ['/usr/sbin/pmacctd', '/usr/bin/pmacctd'].find((p) => existsSync(p) && spawnSync(p, ['-V']).status === 0);
}

/** A UDP receiver on 127.0.0.1 that keeps what arrives, in order. */
class Receiver {
  readonly got: Buffer[] = [];
  lastAt = 0;
  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (m) => {
      this.got.push(m);
      this.lastAt = performance.now();
    });
  }

  static async open(): Promise<Receiver> {
    // A slice can be a few thousand datagrams at once: the largest buffer the kernel allows.
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => resolve());
    });
    return new Receiver(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Everything received since the last take, once nothing has arrived for `quietMs`. */
  async take(quietMs: number, maxMs = 5000): Promise<Buffer[]> {
    const t0 = performance.now();
    const since = Math.max(this.lastAt, t0);
    for (;;) {
      await new Promise((r) => setTimeout(r, 2));
      const now = performance.now();
      if (now - Math.max(this.lastAt, since) >= quietMs || now - t0 > maxMs) break;
    }
    return this.got.splice(0);
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

const exited = (c: ChildProcess): Promise<number | null> =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve(c.exitCode)
    : new Promise((r) => c.once('exit', (code) => r(code)));

/**
 * softflowd over each one-second slice: NetFlow v9 (`-v 9`) or IPFIX (`-v 10`), 1-in-N
 * periodic sampling (`-s N`) when `samplingRate` > 1. Resolves with the datagrams of each second.
 */
export async function softflowdSeconds(
  slices: Buffer[],
  o: { protocol: 'netflow-v9' | 'ipfix'; samplingRate: number; dir: string; bin?: string },
): Promise<Buffer[][]> {
  const bin = o.bin ?? softflowdPath();
  if (!bin) throw new Error('softflowd not installed (Debian package softflowd)');
  const rx = await Receiver.open();
  const header = pcapFileHeader();
  // softflowd 1.1 hangs on long -r paths and on most -c (control socket) paths: a short name in
  // /tmp, and no control socket (`-c none`).
  const base = `/tmp/sf${randomBytes(3).toString('hex')}`;
  const file = `${base}.r`;
  const out: Buffer[][] = [];
  try {
    for (const slice of slices) {
      writeFileSync(file, Buffer.concat([header, slice]));
      const args = ['-r', file, '-n', `127.0.0.1:${rx.port}`, '-v', o.protocol === 'ipfix' ? '10' : '9'];
      args.push('-d', '-m', '1000000', '-p', `${base}.p`, '-c', 'none');
      if (o.samplingRate > 1) args.push('-s', String(o.samplingRate));
      const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const code = await exited(child);
      if (code !== 0) throw new Error(`softflowd exited with ${code}: ${err.trim().slice(-300)}`);
      out.push(await rx.take(15));
    }
  } finally {
    for (const f of [file, `${base}.p`]) rmSync(f, { force: true });
    await rx.close();
  }
  return out;
}

export interface PmacctProbe {
  /** Meter these slices (continuing the same capture stream); the datagrams of each second. */
  meter(slices: Buffer[]): Promise<Buffer[][]>;
  stop(): Promise<void>;
}

/**
 * One pmacctd reading an endless pcap from a FIFO: `sfprobe` (sFlow v5, 1-in-N packet
 * sampling, agent 127.0.0.1) or `nfprobe` (NetFlow v9/IPFIX, 1 s lifetime). Start-up takes a
 * second or two, so one probe meters every capture of a run.
 */
export async function startPmacctProbe(o: {
  plugin: 'sfprobe' | 'nfprobe';
  version?: 9 | 10;
  samplingRate: number;
  dir: string;
  bin?: string;
}): Promise<PmacctProbe> {
  const bin = o.bin ?? pmacctdPath();
  if (!bin) throw new Error('pmacctd not installed (Debian package pmacct)');
  const rx = await Receiver.open();
  const fifo = join(o.dir, 'pm.fifo');
  if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error(`cannot mkfifo ${fifo}`);
  const conf = join(o.dir, 'pmacctd.conf');
  const lines = ['daemonize: false', `pcap_savefile: ${fifo}`, `plugins: ${o.plugin}`];
  if (o.plugin === 'sfprobe')
    lines.push(
      `sfprobe_receiver: 127.0.0.1:${rx.port}`,
      'sfprobe_agentip: 127.0.0.1',
      `sampling_rate: ${o.samplingRate}`,
    );
  else {
    lines.push(`nfprobe_receiver: 127.0.0.1:${rx.port}`, `nfprobe_version: ${o.version ?? 9}`);
    lines.push('nfprobe_timeouts: maxlife=1:expint=1');
    if (o.samplingRate > 1) lines.push(`sampling_rate: ${o.samplingRate}`);
  }
  writeFileSync(conf, lines.join('\n') + '\n');
  // Its own process group: pmacctd forks a process per plugin, and stop() must end them all.
  const child = spawn(bin, ['-f', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-2000)));
  const stream: WriteStream = createWriteStream(fifo);
  const write = (b: Buffer): Promise<void> =>
    new Promise((resolve, reject) => stream.write(b, (err) => (err ? reject(err) : resolve())));
  const opened = Promise.race([
    write(pcapFileHeader()),
    exited(child).then((code) => {
      throw new Error(`pmacctd exited with ${code} before reading: ${log.trim().slice(-300)}`);
    }),
  ]);
  await opened;
  const kill = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  return {
    async meter(slices) {
      const out: Buffer[][] = [];
      for (const slice of slices) {
        await write(slice);
        // sfprobe sends full datagrams as it reads; nfprobe expires on its 1 s wall clock.
        out.push(await rx.take(o.plugin === 'sfprobe' ? 25 : 1100));
      }
      return out;
    },
    async stop() {
      stream.destroy();
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 2000);
      await exited(child);
      clearTimeout(t);
      await rx.close();
    },
  };
}

/**
 * pmacctd's nfprobe (NetFlow v9 or IPFIX) over a whole retimed capture read as a file: fed
 * through a FIFO slice by slice, nfprobe exported only part of the flows (none of the
 * background), so it reads the file at its own pace instead — its flows expire by packet time
 * (`maxlife=1`: records of at most a second, as from a 1 s active timeout) — and the datagrams
 * come back all at once, in order; replay-into-server.ts bucketSeconds() puts each one in the
 * capture second its records end in.
 */
export async function pmacctNfprobeFile(
  slices: Buffer[],
  o: { version: 9 | 10; samplingRate: number; dir: string; bin?: string },
): Promise<Buffer[]> {
  const bin = o.bin ?? pmacctdPath();
  if (!bin) throw new Error('pmacctd not installed (Debian package pmacct)');
  const rx = await Receiver.open();
  const file = join(o.dir, `nf${randomBytes(3).toString('hex')}.pcap`);
  const conf = `${file}.conf`;
  writeFileSync(file, Buffer.concat([pcapFileHeader(), ...slices]));
  const lines = [
    'daemonize: false',
    `pcap_savefile: ${file}`,
    'plugins: nfprobe',
    `nfprobe_receiver: 127.0.0.1:${rx.port}`,
    `nfprobe_version: ${o.version}`,
    'nfprobe_timeouts: maxlife=1:expint=1',
  ];
  if (o.samplingRate > 1) lines.push(`sampling_rate: ${o.samplingRate}`);
  writeFileSync(conf, lines.join('\n') + '\n');
  try {
    const child = spawn(bin, ['-f', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let log = '';
    child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-2000)));
    const code = await exited(child);
    if (code !== 0) throw new Error(`pmacctd (nfprobe) exited with ${code}: ${log.trim().slice(-300)}`);
    return await rx.take(50);
  } finally {
    for (const f of [file, conf]) rmSync(f, { force: true });
    await rx.close();
  }
}
