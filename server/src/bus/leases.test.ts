import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { assignPartitions, startPartitionLeases, type PartitionLeases } from './leases.js';
import type { BusConfig } from './nats.js';

describe('assignPartitions (rendezvous)', () => {
  it('gives every partition to exactly one member, roughly evenly', () => {
    const a = assignPartitions(64, ['a', 'b', 'c', 'd']);
    expect(a.size).toBe(64);
    const per = new Map<string, number>();
    for (const m of a.values()) per.set(m, (per.get(m) ?? 0) + 1);
    expect([...per.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const n of per.values()) expect(n).toBeGreaterThan(6);
  });

  it('a member leaving moves only its own partitions; all members agree whatever the list order', () => {
    const before = assignPartitions(64, ['a', 'b', 'c']);
    const after = assignPartitions(64, ['c', 'a']);
    for (const [p, owner] of before) if (owner !== 'b') expect(after.get(p)).toBe(owner);
    expect(assignPartitions(64, ['c', 'a'])).toEqual(assignPartitions(64, ['a', 'c']));
  });
});

const natsUrl = inject('natsUrl');

describe.skipIf(!natsUrl)('partition leases in a JetStream KV bucket (real nats-server)', () => {
  let nc: NatsConnection;
  const logger = pino({ level: 'silent' });
  const bus = (name: string): BusConfig =>
    parseConfig({ bus: { nats: natsUrl, partitions: 12, stream: name, lease_ms: 900 } }).bus!;
  beforeAll(async () => {
    nc = await connect({ servers: natsUrl });
  });
  afterAll(async () => {
    await nc.close();
  });

  const until = async (cond: () => boolean, ms: number, what: string): Promise<number> => {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return Date.now() - t0;
  };

  it('two members split the partitions with no overlap; when one leaves the other takes them all', async () => {
    const b = bus(`LEASES_${Date.now()}`);
    const events: string[] = [];
    const member = (id: string) =>
      startPartitionLeases({
        nc,
        bus: b,
        id,
        logger,
        events: { acquired: (p) => void events.push(`${id}+${p}`), released: (p) => void events.push(`${id}-${p}`) },
      });
    const x = await member('x');
    const y = await member('y');
    const all = (ls: PartitionLeases[]) => ls.flatMap((l) => l.owned()).sort((a, b) => a - b);
    await until(() => all([x, y]).length === 12 && y.owned().length > 0, 10_000, 'both members to hold leases');
    expect(all([x, y])).toEqual([...Array(12).keys()]);
    expect(x.owned().filter((p) => y.owned().includes(p))).toEqual([]);
    const expected = assignPartitions(12, ['x', 'y']);
    for (const p of y.owned()) expect(expected.get(p)).toBe('y');
    await y.stop();
    await until(() => x.owned().length === 12, 5000, 'x to take every partition');
    // y released before x acquired, partition by partition
    for (const p of expected.keys()) {
      if (expected.get(p) !== 'y') continue;
      expect(events.indexOf(`y-${p}`)).toBeLessThan(events.lastIndexOf(`x+${p}`));
    }
    await x.stop();
  });
});

describe.skipIf(!natsUrl)('flow stream (real nats-server)', () => {
  it('refuses a process whose bus.partitions differs from the stream it joins, naming both', async () => {
    const { connectBus, ensureFlowStream } = await import('./nats.js');
    const stamp = Date.now();
    const cfg = (partitions: number) =>
      parseConfig({ bus: { nats: natsUrl, partitions, stream: `PARTS_${stamp}`, subject: `parts${stamp}` } }).bus!;
    const nc = await connectBus(cfg(8), 'test');
    try {
      await ensureFlowStream(nc, cfg(8));
      await ensureFlowStream(nc, cfg(8)); // the same again is fine
      await expect(ensureFlowStream(nc, cfg(16))).rejects.toThrow(
        `bus.partitions: 16, but stream PARTS_${stamp} was made with 8 partitions`,
      );
    } finally {
      await nc.close();
    }
  });
});
