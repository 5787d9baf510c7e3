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
  /**
   * Send each exporter of the capture from its own loopback address (127.0.1.N). Default: when
   * the collector is on IPv4 loopback and the capture holds several exporters.
   */
  distinctExporters?: boolean;
}

/**
 * Send the UDP payloads of a pcap/pcapng capture (flow-export datagrams) to a collector,
 * preserving the capture's pacing scaled by `speed`. Every datagram comes from this one socket,
 * so the collector sees one exporter (this host), whatever addresses the capture held.
 */
export async function replayPcap(opts: ReplayOpts): Promise<{ datagrams: number; exporters: Record<string, string> }> {
  const o = ReplayOptions.safeParse(opts);
  if (!o.success) {
    throw new Error(
      `invalid replay options: ${o.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const { file, host, port, speed } = o.data;
  const packets = readPcapFile(file);
  opts.logger?.info({ file, packets: packets.length, host, port, speed }, 'replaying capture');
  // Several exporters in one capture must stay apart (their template ids collide). We cannot
  // send from their real addresses, but towards an IPv4 loopback collector each can have its
  // own 127.0.1.N source; elsewhere everything comes from one socket.
  const v6 = host.includes(':');
  const sources = [...new Set(packets.map((p) => p.src))];
  const distinct =
    opts.distinctExporters ?? (!v6 && host.startsWith('127.') && sources.length > 1 && sources.length <= 250);
  const exporters: Record<string, string> = {};
  const sockets = new Map<string, dgram.Socket>();
  const open = async (bindAddress: string | undefined): Promise<dgram.Socket> => {
    const sock = dgram.createSocket(v6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, bindAddress, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return sock;
  };
  let sent = 0;
  try {
    if (distinct) {
      for (const [k, src] of sources.entries()) {
        exporters[src] = `127.0.1.${k + 1}`;
        sockets.set(src, await open(exporters[src]));
      }
    } else {
      const sock = await open(undefined);
      for (const src of sources) sockets.set(src, sock);
    }
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
      const sock = sockets.get(p.src)!;
      await new Promise<void>((resolve, reject) =>
        sock.send(p.payload, port, host, (err) => (err ? reject(err) : resolve())),
      );
      sent++;
    }
  } finally {
    await Promise.all([...new Set(sockets.values())].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  if (distinct) opts.logger?.info({ exporters }, 'capture exporters mapped to loopback sources');
  opts.logger?.info({ file, datagrams: sent }, 'replay done');
  return { datagrams: sent, exporters };
}
