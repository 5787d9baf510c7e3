import dgram from 'node:dgram';
import { IpfixEncoder } from './encoders/ipfix.js';
import { NetflowV5Encoder } from './encoders/netflow-v5.js';
import { NetflowV9Encoder } from './encoders/netflow-v9.js';
import { SflowV5Encoder } from './encoders/sflow-v5.js';
import { sampleFlows } from './encoders/sampling.js';
import type { SimFlow } from './sim-flow.js';

export type ExportProtocol = 'netflow-v5' | 'netflow-v9' | 'ipfix' | 'sflow-v5';

export interface UdpExporterOptions {
  host: string;
  port: number;
  protocol: ExportProtocol;
  /** Local address to send from, e.g. 127.0.0.2 to look like another router on loopback. */
  bindAddress?: string;
  sourceId?: number;
  /** 1-in-N packet sampling the simulated router applies (and announces). */
  samplingRate?: number;
  /** Randomness for sampling (tests pass a seeded one). */
  random?: () => number;
}

interface Encoder {
  encode(flows: SimFlow[], nowMs: number): Uint8Array[];
}

/**
 * A simulated router: encodes SimFlows as real export datagrams and sends them over UDP, so the
 * demo and tests go through the very collector path production traffic takes.
 */
export class UdpExporter {
  private readonly socket: dgram.Socket;
  private readonly encoder: Encoder;
  private readonly ready: Promise<void>;
  private readonly rate: number;
  private readonly random: () => number;

  constructor(private readonly opts: UdpExporterOptions) {
    const v6 = (opts.bindAddress ?? opts.host).includes(':');
    this.socket = dgram.createSocket(v6 ? 'udp6' : 'udp4');
    this.rate = Math.max(1, Math.floor(opts.samplingRate ?? 1));
    this.random = opts.random ?? Math.random;
    this.encoder = makeEncoder(opts, this.rate);
    this.ready = new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(0, opts.bindAddress, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    // a send failure is reported by send(); keep stray socket errors from crashing the process
    this.socket.on('error', () => {});
  }

  /** Encode and send; resolves with the number of datagrams sent once all are handed to the kernel. */
  /**
   * Encode and send `flows`; returns the number of datagrams. With `pace`, at most `pace.every`
   * datagrams go out before `pace.wait(sentSoFar)` resolves: sFlow 1:1 turns one chunk of a flood
   * into thousands of datagrams, more than a loopback socket buffer holds.
   */
  async send(
    flows: SimFlow[],
    nowMs: number,
    pace?: { every: number; wait: (sentSoFar: number) => Promise<void> },
  ): Promise<number> {
    await this.ready;
    // flow protocols are sampled per flow here; sFlow samples individual packets in its encoder
    const sampled = this.opts.protocol === 'sflow-v5' ? flows : sampleFlows(flows, this.rate, this.random);
    const datagrams = this.encoder.encode(sampled, nowMs);
    const every = pace?.every ?? datagrams.length;
    for (let i = 0; i < datagrams.length; i += every) {
      if (pace && i > 0) await pace.wait(i);
      await Promise.all(
        datagrams.slice(i, i + every).map(
          (d) =>
            new Promise<void>((resolve, reject) => {
              this.socket.send(d, this.opts.port, this.opts.host, (err) => (err ? reject(err) : resolve()));
            }),
        ),
      );
    }
    return datagrams.length;
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

function makeEncoder(opts: UdpExporterOptions, rate: number): Encoder {
  switch (opts.protocol) {
    case 'netflow-v9':
      return new NetflowV9Encoder({ sourceId: opts.sourceId, samplingRate: rate });
    case 'ipfix':
      return new IpfixEncoder({ sourceId: opts.sourceId, samplingRate: rate });
    case 'netflow-v5':
      return new NetflowV5Encoder({ sourceId: opts.sourceId, samplingRate: rate });
    case 'sflow-v5':
      return new SflowV5Encoder({
        sourceId: opts.sourceId,
        samplingRate: rate,
        random: opts.random,
        // the agent address names the exporter: use the address we send from
        agentAddress: opts.bindAddress ?? (opts.host.includes(':') ? '::1' : '127.0.0.1'),
      });
  }
}
