/**
 * What an inlet publishes through: flow batch frames into JetStream with a bounded buffer.
 * While NATS is unreachable (restart, network cut) frames wait here, up to `buffer_bytes`;
 * past that the oldest go and their records are counted as dropped — an inlet never blocks
 * its collectors and never grows without bound. A frame whose publish failed is put back in
 * front; its message id lets the stream drop the copy if the first attempt did land.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

export interface Frame {
  subject: string;
  data: Uint8Array;
  records: number;
  id: string;
}

/**
 * Records here are record copies per partition: a flow whose local and remote keys fall on
 * different partitions travels in two frames (detect/shard.ts) and counts twice.
 */
export interface PublisherStats {
  /** Handed to publish(). */
  acceptedRecords: number;
  publishedRecords: number;
  publishedFrames: number;
  droppedRecords: number;
  droppedFrames: number;
  bufferedBytes: number;
  bufferedFrames: number;
  failedPublishes: number;
}

export interface PublisherOptions {
  nc: NatsConnection;
  logger: Logger;
  bufferBytes: number;
  /** Publishes awaiting their ack at once. */
  maxInflight?: number;
  publishTimeoutMs?: number;
}

export class BoundedPublisher {
  private readonly js: JetStreamClient;
  private readonly queue: Frame[] = [];
  private head = 0;
  private inflight = 0;
  private connected = true;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  readonly stats: PublisherStats = {
    acceptedRecords: 0,
    publishedRecords: 0,
    publishedFrames: 0,
    droppedRecords: 0,
    droppedFrames: 0,
    bufferedBytes: 0,
    bufferedFrames: 0,
    failedPublishes: 0,
  };
  private readonly maxInflight: number;
  private readonly timeout: number;
  private lastWarn = 0;

  constructor(private readonly o: PublisherOptions) {
    this.js = jetstream(o.nc, { timeout: o.publishTimeoutMs ?? 5000 });
    this.maxInflight = o.maxInflight ?? 64;
    this.timeout = o.publishTimeoutMs ?? 5000;
    void this.watch();
  }

  private async watch(): Promise<void> {
    for await (const s of this.o.nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.o.logger.warn({ buffered: this.stats.bufferedBytes }, 'flow bus disconnected: buffering');
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.o.logger.info({ buffered: this.stats.bufferedBytes }, 'flow bus reconnected: sending the buffer');
        this.pump();
      }
    }
  }

  publish(f: Frame): void {
    if (this.closed) return;
    this.queue.push(f);
    this.stats.acceptedRecords += f.records;
    this.stats.bufferedBytes += f.data.byteLength;
    this.stats.bufferedFrames++;
    while (this.stats.bufferedBytes > this.o.bufferBytes && this.queue.length > this.head) {
      const old = this.queue[this.head++]!;
      this.stats.bufferedBytes -= old.data.byteLength;
      this.stats.bufferedFrames--;
      this.stats.droppedRecords += old.records;
      this.stats.droppedFrames++;
      const now = Date.now();
      if (now - this.lastWarn > 1000) {
        this.lastWarn = now;
        this.o.logger.warn(
          { dropped: this.stats.droppedRecords, bufferBytes: this.o.bufferBytes },
          'flow bus buffer full: dropping the oldest batches (bus.buffer_bytes)',
        );
      }
    }
    this.compact();
    this.pump();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private pump(): void {
    while (
      this.connected &&
      !this.o.nc.isClosed() &&
      this.inflight < this.maxInflight &&
      this.head < this.queue.length
    ) {
      const f = this.queue[this.head++]!;
      this.inflight++;
      this.js.publish(f.subject, f.data, { msgID: f.id, timeout: this.timeout, retries: 1 }).then(
        () => {
          this.inflight--;
          this.stats.publishedRecords += f.records;
          this.stats.publishedFrames++;
          this.stats.bufferedBytes -= f.data.byteLength;
          this.stats.bufferedFrames--;
          if (this.inflight === 0 && this.head >= this.queue.length) this.wake();
          this.pump();
        },
        (err: unknown) => {
          this.inflight--;
          this.stats.failedPublishes++;
          if (this.closed) return this.wake();
          // Back in front of the queue: it is the oldest, so first to go if the buffer overflows.
          if (this.head > 0) this.queue[--this.head] = f;
          else this.queue.unshift(f);
          const now = Date.now();
          if (now - this.lastWarn > 1000) {
            this.lastWarn = now;
            this.o.logger.warn({ err: (err as Error).message }, 'flow bus publish failed: will retry');
          }
          // The connection may be gone: retry after a pause rather than in a spin.
          setTimeout(() => this.pump(), 200).unref();
        },
      );
    }
    this.compact();
  }

  private wake(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  /** Resolves when everything buffered has been acknowledged by the stream (or `ms` passed). */
  async drained(ms = 10_000): Promise<boolean> {
    if (this.inflight === 0 && this.head >= this.queue.length) return true;
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.drainWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.wake();
  }
}
