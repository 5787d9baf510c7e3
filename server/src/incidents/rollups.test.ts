import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { FlowDirection } from '../enrich/enriched-batch.js';
import { createDetectors } from '../detect/index.js';
import { createEnrichedBatch, ip, setRecord, stubEnricher } from '../detect/synthetic.js';
import { incidentHarness } from '../testing/incident-harness.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const FAN_IN_SOURCES = 2000;
const SPAM_SERVERS = 100;

/**
 * One second of traffic: `FAN_IN_SOURCES` sources (one flow record each, 1:`rate` sampled)
 * flooding 198.51.100.7, and customer endpoint 198.51.100.50 mailing `SPAM_SERVERS` servers.
 */
function second(rate: number, k: number) {
  const n = FAN_IN_SOURCES + SPAM_SERVERS;
  const b = createEnrichedBatch(n);
  b.length = n;
  for (let i = 0; i < FAN_IN_SOURCES; i++)
    setRecord(b, i, {
      src: ip('100.64.0.1') + i,
      dst: ip('198.51.100.7'),
      packets: 10,
      bytes: 640,
      samplingRate: rate,
      dstCustomer: 0,
    });
  for (let i = 0; i < SPAM_SERVERS; i++)
    setRecord(b, FAN_IN_SOURCES + i, {
      src: ip('198.51.100.50'),
      dst: ip('10.0.0.0') + k * SPAM_SERVERS + i,
      dstPort: 25,
      proto: 6,
      tcpFlags: 0x1b,
      packets: 20,
      bytes: 20 * 500,
      direction: FlowDirection.outbound,
      srcCustomer: 0,
    });
  return b;
}

/** Detectors → incident manager → store, ticked once a second like the pipeline, for `seconds`. */
function run(rate: number, seconds: number) {
  const config = parseConfig({ network: { customers: [{ name: 'A', prefixes: ['198.51.100.0/24'] }] } });
  const detectors = createDetectors(config, stubEnricher(['A']));
  const { m, store, clock } = incidentHarness({ startMs: T0 });
  const events = { fanIn: 0, spam: 0 };
  for (let k = 1; k <= seconds; k++) {
    detectors.process(second(rate, k));
    clock.now = T0 + k * 1000 - 1; // the second ending at T0 + k s, all in the first minute
    for (const e of detectors.tick(clock.now)) {
      if (e.kind === 'ddos-fan-in') events.fanIn++;
      if (e.kind === 'spam-bot') events.spam++;
      m.ingest(e);
    }
    m.tick(clock.now);
  }
  clock.now = T0 + 61_000;
  m.tick(clock.now);
  const row = (dimension: string, key: string, kind?: string) =>
    store
      .summedRollups()
      .find((r) => r.minute === T0 && r.dimension === dimension && r.key === key && (!kind || r.kind === kind));
  return { events, row };
}

describe('rollups carry flow counts from the detectors', () => {
  it('counts flow records per second of abuse, inbound and outbound', () => {
    const { events, row } = run(1, 20);
    expect(events.fanIn).toBeGreaterThan(15);
    expect(events.spam).toBeGreaterThan(15);
    // Each event stands for one second at its window rate: FAN_IN_SOURCES records a second.
    expect(row('endpoint', '198.51.100.7')?.flows).toBe(events.fanIn * FAN_IN_SOURCES);
    expect(row('asn', '0')?.flows).toBe(events.fanIn * FAN_IN_SOURCES);
    expect(row('asn', '64496')?.flows).toBe(events.spam * SPAM_SERVERS);
    expect(row('endpoint', '198.51.100.50')?.flows).toBe(events.spam * SPAM_SERVERS);
    expect(row('customer', 'A', 'ddos-fan-in')?.flows).toBe(events.fanIn * FAN_IN_SOURCES);
    expect(row('customer', 'A', 'spam-bot')?.flows).toBe(events.spam * SPAM_SERVERS);
  });

  it('scales sampled flow records by their rate, like packets', () => {
    const { events, row } = run(10, 10);
    expect(events.fanIn).toBeGreaterThan(5);
    expect(row('endpoint', '198.51.100.7')?.flows).toBe(events.fanIn * FAN_IN_SOURCES * 10);
  });
});
