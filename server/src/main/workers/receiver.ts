/**
 * The receive thread: owns the collector sockets (Node 20's dgram has no SO_REUSEPORT, so one
 * socket per port) and does as little as possible per datagram — copy it into a chunk bound
 * for the ingest worker its exporter belongs to — so it is mostly asleep and the scheduler wakes
 * it at once when the kernel buffer fills (a busy decoder on the socket thread is what loses
 * datagrams on a loaded box). Chunks go out when full or SEND_AFTER_MS after their first datagram,
 * transferred; the ingest workers send them back for reuse, so memory is bounded: when a
 * worker holds every chunk of its pool, datagrams for it are dropped and counted.
 *
 * Exporters are assigned to ingest workers on first sight, round robin: every datagram of an
 * exporter (its templates, its sequence numbers) goes to one worker.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '../../config/config.js';
import { bindCollectorSockets } from '../../ingest/udp-sockets.js';
import { ownThreadId } from './spawn.js';

export interface ReceiverInit {
  collectors: Config['collectors'];
  /** One port per ingest worker. */
  ingest: MessagePort[];
  /** pipeline.receiverNice; 0 = leave the thread's priority alone. */
  nice: number;
}

export type ReceiverToMain =
  | {
      type: 'ready';
      ports: Record<string, number>;
      rcvbuf: Record<string, number>;
      tid?: number;
      /** The nice value the thread runs at, and why not the one asked for. */
      nice?: number;
      niceError?: string;
    }
  | { type: 'error'; message: string }
  | { type: 'socket-error'; collector: string; message: string }
  | { type: 'stats'; dropped: number; exporters: number }
  | { type: 'closed' };

export type MainToReceiver = { type: 'flush'; id: number } | { type: 'close' };

/** What travels from the receiver to an ingest worker (and chunks back). */
export type ToIngest =
  | { type: 'exporter'; id: number; address: string }
  /** `used` bytes of records: u32 length, u16 exporter id, payload. */
  | { type: 'dgrams'; buf: ArrayBuffer; used: number }
  | { type: 'flush'; id: number };
export type FromIngest = { type: 'free'; buf: ArrayBuffer };

export const CHUNK_BYTES = 128 * 1024;
/** Chunks per ingest worker: 16 MiB of datagrams in flight, ~0.15 s at 2 M records/s. */
export const CHUNKS_PER_WORKER = 128;
/** How long a chunk that is not full waits for more datagrams (latency, at low rates only). */
export const SEND_AFTER_MS = 5;
const HEADER = 6;
const MAX_EXPORTERS = 65_535;

interface Lane {
  port: MessagePort;
  free: ArrayBuffer[];
  /** Chunks allocated so far (≤ CHUNKS_PER_WORKER). */
  allocated: number;
  buf: ArrayBuffer | undefined;
  u8: Uint8Array | undefined;
  view: DataView | undefined;
  used: number;
}

async function main(): Promise<void> {
  const parent = parentPort;
  if (!parent) return;
  const init = workerData as ReceiverInit;
  const post = (m: ReceiverToMain): void => parent.postMessage(m);
  const lanes: Lane[] = init.ingest.map((port) => ({
    port,
    free: [],
    allocated: 0,
    buf: undefined,
    u8: undefined,
    view: undefined,
    used: 0,
  }));
  for (const l of lanes) {
    l.port.on('message', (m: FromIngest) => {
      if (m.type === 'free') l.free.push(m.buf);
    });
  }
  const exporterIds = new Map<string, { id: number; lane: Lane }>();
  let nextLane = 0;
  let dropped = 0;

  const take = (l: Lane): boolean => {
    let buf = l.free.pop();
    if (!buf && l.allocated < CHUNKS_PER_WORKER) {
      l.allocated++;
      buf = new ArrayBuffer(CHUNK_BYTES);
    }
    if (!buf) return false;
    l.buf = buf;
    l.u8 = new Uint8Array(buf);
    l.view = new DataView(buf);
    l.used = 0;
    return true;
  };
  const send = (l: Lane): void => {
    if (!l.buf || l.used === 0) return;
    const m: ToIngest = { type: 'dgrams', buf: l.buf, used: l.used };
    l.port.postMessage(m, [l.buf]);
    l.buf = l.u8 = l.view = undefined;
    l.used = 0;
  };
  let scheduled: NodeJS.Timeout | undefined;
  const sendAll = (): void => {
    if (scheduled) clearTimeout(scheduled);
    scheduled = undefined;
    for (const l of lanes) send(l);
  };

  const onDatagram = (msg: Buffer, address: string): void => {
    let e = exporterIds.get(address);
    if (!e) {
      // Ids are u16. The decoders keep at most 4096 exporters and count the rest; past
      // MAX_EXPORTERS source addresses (a spoofed flood) the receiver drops without remembering.
      if (exporterIds.size >= MAX_EXPORTERS) {
        dropped++;
        return;
      }
      e = { id: exporterIds.size, lane: lanes[nextLane++ % lanes.length] };
      exporterIds.set(address, e);
      const m: ToIngest = { type: 'exporter', id: e.id, address };
      e.lane.port.postMessage(m);
    }
    const l = e.lane;
    const need = HEADER + msg.length;
    if (need > CHUNK_BYTES) {
      dropped++;
      return;
    }
    if (l.buf && l.used + need > CHUNK_BYTES) send(l);
    if (!l.buf && !take(l)) {
      dropped++;
      return;
    }
    l.view!.setUint32(l.used, msg.length);
    l.view!.setUint16(l.used + 4, e.id);
    l.u8!.set(msg, l.used + HEADER);
    l.used += need;
    // A chunk goes when full, or SEND_AFTER_MS after its first datagram. Sent after every poll
    // phase instead, a chunk carried the 1–10 datagrams of one wake-up: the pool's 128 chunks then
    // held ~1,000 datagrams, a few ms at 1 M records/s, so any pause of the ingest worker (a batch
    // handed to the shards, a GC) dropped datagrams, and a postMessage per wake-up each way cost
    // both threads more than the copying.
    scheduled ??= setTimeout(sendAll, SEND_AFTER_MS);
  };

  let sockets: Awaited<ReturnType<typeof bindCollectorSockets>>;
  try {
    sockets = await bindCollectorSockets(init.collectors, onDatagram, (err, collector) =>
      post({ type: 'socket-error', collector, message: err.message }),
    );
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
    return;
  }
  const tid = ownThreadId();
  let nice: number | undefined;
  let niceError: string | undefined;
  if (tid !== undefined && init.nice !== 0) {
    // setpriority() with a thread id changes that thread only (Linux): the receive thread runs
    // ahead of our own decoders and shards, and of the box's other work, when the kernel wakes it.
    try {
      setPriority(tid, init.nice);
      nice = getPriority(tid);
    } catch (err) {
      niceError = (err as Error).message;
    }
  }
  post({
    type: 'ready',
    ports: sockets.ports as Record<string, number>,
    rcvbuf: sockets.rcvbuf,
    tid,
    nice,
    niceError,
  });
  const timer = setInterval(() => post({ type: 'stats', dropped, exporters: exporterIds.size }), 500);
  parent.on('message', (m: MainToReceiver) => {
    if (m.type === 'flush') {
      sendAll();
      for (const l of lanes) {
        const f: ToIngest = { type: 'flush', id: m.id };
        l.port.postMessage(f);
      }
    } else if (m.type === 'close') {
      clearInterval(timer);
      void sockets.close().then(() => {
        sendAll();
        post({ type: 'stats', dropped, exporters: exporterIds.size });
        post({ type: 'closed' });
      });
    }
  });
}

void main();
