import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { z } from 'zod';
import { readPcapFile } from './pcap.js';

const ReplayOptions = z.object({
  file: z.string().min(1, 'file is required'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  speed: z.number().finite().nonnegative(),
});

export interface ReplayOpts {
  file: string;
  host: string;
  port: number;
  /** 1 = original pace, N = N× faster, 0 = as fast as possible. */
  speed: number;
  logger?: Logger;
}

/**
 * Send the UDP payloads of a pcap/pcapng capture (flow-export datagrams) to a collector,
 * preserving the capture's pacing scaled by `speed`. Every datagram comes from this one socket,
 * so the collector sees one exporter (this host), whatever addresses the capture held.
 */
export async function replayPcap(opts: ReplayOpts): Promise<{ datagrams: number }> {
  const o = ReplayOptions.safeParse(opts);
  if (!o.success) {
    throw new Error(
      `invalid replay options: ${o.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const { file, host, port, speed } = o.data;
  const packets = readPcapFile(file);
  opts.logger?.info({ file, packets: packets.length, host, port, speed }, 'replaying capture');
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const send = (buf: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => sock.send(buf, port, host, (err) => (err ? reject(err) : resolve())));
  let sent = 0;
  try {
    const t0 = packets.length > 0 ? packets[0].timeMs : 0;
    const wall0 = performance.now();
    for (const p of packets) {
      if (speed > 0) {
        const due = (p.timeMs - t0) / speed;
        const wait = due - (performance.now() - wall0);
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      } else if (sent % 256 === 255) {
        // as fast as possible, but let the event loop (and a collector in the same process) breathe
        await new Promise((r) => setImmediate(r));
      }
      await send(p.payload);
      sent++;
    }
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
  }
  opts.logger?.info({ file, datagrams: sent }, 'replay done');
  return { datagrams: sent };
}
