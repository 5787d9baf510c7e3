import dgram from 'node:dgram';
import type { Config } from '../config/config.js';
import type { CollectorSet } from './types.js';

/** Requested socket receive buffer; Linux caps it at net.core.rmem_max (raise that for production). */
export const RECV_BUFFER = 32 * 1024 * 1024;

export interface BoundSockets {
  sockets: dgram.Socket[];
  ports: CollectorSet['ports'];
  /** Receive buffer the kernel granted, per collector. */
  rcvbuf: Record<string, number>;
  close(): Promise<void>;
}

/** Bind one UDP socket per configured collector (absent key = not started; port 0 = a free port). */
export async function bindCollectorSockets(
  collectors: Config['collectors'],
  onMessage: (msg: Buffer, address: string) => void,
  onError: (err: Error, key: string) => void,
): Promise<BoundSockets> {
  const sockets: dgram.Socket[] = [];
  const ports: CollectorSet['ports'] = {};
  const rcvbuf: Record<string, number> = {};
  const handler = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    // strip the IPv4-mapped prefix of dual-stack sockets so one router has one name
    const a = rinfo.address;
    onMessage(msg, a.startsWith('::ffff:') ? a.slice(7) : a);
  };
  const close = async (): Promise<void> => {
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  };
  try {
    for (const key of ['netflow', 'ipfix', 'sflow'] as const) {
      const c = collectors[key];
      if (!c) continue;
      const sock = dgram.createSocket({ type: c.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: RECV_BUFFER });
      sock.on('message', handler);
      await new Promise<void>((resolve, reject) => {
        const onErr = (err: Error): void =>
          reject(new Error(`cannot bind ${key} collector on ${c.host}:${c.port}: ${err.message}`));
        sock.once('error', onErr);
        sock.bind(c.port, c.host, () => {
          sock.off('error', onErr);
          resolve();
        });
      });
      sock.on('error', (err) => onError(err, key));
      sockets.push(sock);
      ports[key] = sock.address().port;
      try {
        rcvbuf[key] = sock.getRecvBufferSize();
      } catch {
        rcvbuf[key] = 0;
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { sockets, ports, rcvbuf, close };
}
