/**
 * A NATS restart under a running inlet (its own nats-server, killed with -9 and started again
 * on the same port and store): the inlet keeps taking batches, holds them within
 * bus.buffer_bytes, counts what it drops past that on /metrics, and sends the rest once NATS is
 * back — the same process, no restart.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { createEnrichedBatch, ip, setRecord, stubEnricher } from '../detect/synthetic.js';
import { FlowDirection } from '../enrich/enriched-batch.js';
import { hasNatsServer, startNatsServer, type NatsServer } from '../testing/nats-server.js';
import { MemoryStore } from '../incidents/memory-store.js';
import { startDetectRole } from './detect-role.js';
import { startInletRole } from './inlet-role.js';

function batch(n: number, seed: number) {
  const b = createEnrichedBatch(n);
  for (let i = 0; i < n; i++)
    setRecord(b, i, {
      src: ip('203.0.113.0') + ((seed * 7919 + i) % 250),
      dst: ip('198.51.100.0') + (i % 200),
      direction: FlowDirection.inbound,
    });
  b.length = n;
  return b;
}

const until = async (cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const metric = async (reg: Registry, name: string, labels = ''): Promise<number> => {
  const text = await reg.metrics();
  const m = new RegExp(`^${name}\\{?[^\\n]*${labels}[^\\n]*\\}? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
};

describe.skipIf(!hasNatsServer)('inlet through a NATS restart (own nats-server)', () => {
  let nats: NatsServer | undefined;
  afterAll(async () => {
    await nats?.dispose();
  });

  it('buffers within bus.buffer_bytes, counts what it drops, and recovers without a restart', async () => {
    nats = await startNatsServer();
    const bufferBytes = 1 << 20;
    const config = parseConfig({
      bus: { nats: nats.url, partitions: 4, stream: 'RESTART', buffer_bytes: bufferBytes },
    }) as ReturnType<typeof parseConfig> & { bus: NonNullable<ReturnType<typeof parseConfig>['bus']> };
    const registry = new Registry();
    const inlet = await startInletRole({
      config,
      logger: pino({ level: 'silent' }),
      registry,
      enricher: stubEnricher(),
      worker: false,
    });
    // A detect process on the same bus: it must carry on after the restart too.
    const detect = await startDetectRole({
      config,
      logger: pino({ level: process.env.BUS_DEBUG ? 'debug' : 'silent' }),
      registry: new Registry(),
      store: new MemoryStore(),
      enricher: stubEnricher(),
      deliverTick: (incidents, events, now) => {
        for (const e of events) incidents.ingest(e);
        incidents.tick(now);
      },
    });
    const checker = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    const messages = async () => {
      const jsm = await jetstreamManager(checker);
      return (await jsm.streams.info('RESTART')).state.messages;
    };
    try {
      let sent = 0;
      const send = (k: number) => {
        for (let i = 0; i < k; i++) {
          inlet.publishEnriched(batch(2000, sent + i));
          sent += 2000;
        }
      };
      for (let k = 0; k < 5; k++) {
        send(1);
        expect(await inlet.publisher.drained(10_000)).toBe(true);
      }
      const st = inlet.publisher.stats;
      const before = await messages();
      expect(st.publishedRecords).toBe(st.acceptedRecords);
      expect(st.droppedRecords).toBe(0);
      expect(before).toBe(st.publishedFrames);
      await until(() => detect.stats().records === st.publishedRecords, 10_000, 'detect to consume the first batches');

      await nats.stop(true);
      // ~2000 records × ~100 B per batch: 40 batches are about 8 MiB, far past the 1 MiB buffer
      for (let k = 0; k < 40; k++) {
        send(1);
        await new Promise((r) => setTimeout(r, 20));
        expect(inlet.publisher.stats.bufferedBytes).toBeLessThanOrEqual(bufferBytes);
      }
      expect(st.droppedRecords).toBeGreaterThan(0);
      expect(st.bufferedFrames).toBeGreaterThan(0);
      expect(await metric(registry, 'downstream_bus_dropped_records_total', 'reason="buffer_full"')).toBe(
        st.droppedRecords,
      );
      expect(await metric(registry, 'downstream_bus_buffered_bytes')).toBeGreaterThan(0);

      await nats.start();
      await until(() => st.bufferedFrames === 0, 20_000, 'the buffer to drain after NATS is back');
      // every record is either acknowledged by the stream or counted as dropped
      expect(st.publishedRecords + st.droppedRecords).toBe(st.acceptedRecords);
      const droppedDuringOutage = st.droppedRecords;
      send(2);
      expect(await inlet.publisher.drained(10_000)).toBe(true);
      expect(st.droppedRecords).toBe(droppedDuringOutage);
      expect(st.publishedRecords + st.droppedRecords).toBe(st.acceptedRecords);
      expect(inlet.records()).toBe(sent);
      // the detect process (same one) reads everything the stream acknowledged, across the restart
      await until(
        () => detect.stats().records === st.publishedRecords,
        20_000,
        'detect to consume what was published after the restart',
      ).catch((e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify({ detect: detect.stats(), inlet: st })}`);
      });
      // what the stream holds: the frames from before, plus every frame acknowledged since
      expect(await messages()).toBe(st.publishedFrames);
      expect(await messages()).toBeGreaterThan(before);
    } finally {
      await checker.close();
      await inlet.stop();
      await detect.stop();
    }
  }, 60_000);
});
