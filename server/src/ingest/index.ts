/**
 * UDP collectors: one socket per configured protocol port, one FlowDecoder behind them all, and
 * a flusher that hands FlowBatches to the pipeline when they fill up or every FLUSH_MS.
 */
import dgram from 'node:dgram';
import type { ExporterHealth } from '@downstream/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { CollectorSet } from '../context.js';
import { FlowDecoder, type DecoderOptions } from './decoder.js';
import type { FlowBatch } from './flow-batch.js';
import { registerIngestMetrics } from './metrics.js';

export { FlowDecoder } from './decoder.js';
export type { DecoderOptions, InterfaceCounters } from './decoder.js';

/** Batches are handed on at this size… */
export const FLUSH_RECORDS = 8192;
/** …or at least this often (ms), so detection latency stays well under its 2 s budget. */
export const FLUSH_MS = 100;
/** Requested socket receive buffer; Linux caps it at net.core.rmem_max. */
const RECV_BUFFER = 32 * 1024 * 1024;

export interface StartCollectorsOptions {
  collectors: Config['collectors'];
  logger: Logger;
  registry: Registry;
  onBatch: (batch: FlowBatch) => void;
  /** Overrides for tests (pending hold time, limits). */
  decoder?: Omit<DecoderOptions, 'sampling'>;
}

export interface Collectors extends CollectorSet {
  readonly decoder: FlowDecoder;
  /** Hand over whatever is buffered now (tests, shutdown). */
  flush(): void;
}

export async function startCollectors(opts: StartCollectorsOptions): Promise<Collectors> {
  const { collectors, logger, onBatch } = opts;
  const decoder = new FlowDecoder({ ...opts.decoder, sampling: collectors.sampling });
  const log = logger.child({ module: 'ingest' });
  const sockets: dgram.Socket[] = [];
  const ports: CollectorSet['ports'] = {};
  let handlerErrors = 0;

  const flush = (): void => {
    const b = decoder.takeBatch();
    if (!b) return;
    try {
      onBatch(b);
    } catch (err) {
      // a failing consumer must not stop ingest
      handlerErrors++;
      if (handlerErrors <= 10 || handlerErrors % 1000 === 0) log.error({ err, handlerErrors }, 'onBatch threw');
    }
  };

  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    // strip the IPv4-mapped prefix of dual-stack sockets so one router has one name
    const addr = rinfo.address.startsWith('::ffff:') ? rinfo.address.slice(7) : rinfo.address;
    decoder.decode(msg, addr, Date.now());
    if (decoder.batch.length >= FLUSH_RECORDS) flush();
  };

  const bind = async (key: 'netflow' | 'ipfix' | 'sflow'): Promise<void> => {
    const c = collectors[key];
    if (!c) return;
    const type = c.host.includes(':') ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type, recvBufferSize: RECV_BUFFER, reuseAddr: false });
    sock.on('message', onMessage);
    sock.on('error', (err) => log.error({ err, collector: key }, 'UDP socket error'));
    await new Promise<void>((resolve, reject) => {
      const onErr = (err: Error): void => reject(new Error(`cannot bind ${key} collector on ${c.host}:${c.port}: ${err.message}`));
      sock.once('error', onErr);
      sock.bind(c.port, c.host, () => {
        sock.off('error', onErr);
        resolve();
      });
    });
    sockets.push(sock);
    ports[key] = sock.address().port;
    let rcvbuf = 0;
    try {
      rcvbuf = sock.getRecvBufferSize();
    } catch {
      /* not available on every platform */
    }
    log.info({ collector: key, host: c.host, port: ports[key], rcvbuf }, 'collector listening');
  };

  try {
    await bind('netflow');
    await bind('ipfix');
    await bind('sflow');
  } catch (err) {
    for (const s of sockets) s.close();
    throw err;
  }

  const timer = setInterval(() => {
    flush();
    decoder.tick(Date.now());
  }, FLUSH_MS);
  timer.unref();

  const unregister = registerIngestMetrics(opts.registry, decoder);

  return {
    ports,
    decoder,
    flush,
    health(): ExporterHealth[] {
      return decoder.health();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
      flush();
      unregister();
    },
  };
}
