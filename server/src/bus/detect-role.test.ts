import { addrFromString, type IncidentListQuery } from '@downstream/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, inject, it } from 'vitest';
import { parseConfig, type Config } from '../config/config.js';
import { stubEnricher } from '../detect/synthetic.js';
import { MemoryStore } from '../incidents/memory-store.js';
import { makeIncident } from '../testing/make-incident.js';
import type { BusConfig } from './nats.js';
import { shardOf } from '../detect/shard.js';
import { campaignKey, kindKey, targetKey } from '../incidents/merge-key.js';
import { partitionOfMergeKey, startDetectRole } from './detect-role.js';

describe('partitionOfMergeKey', () => {
  it('is the partition of the address the incident is keyed on, the one its flows are published to', () => {
    for (const ip of ['198.51.100.77', '2001:db8:100::5', '203.0.113.9']) {
      const p = shardOf(addrFromString(ip), 0, 16);
      expect(partitionOfMergeKey(targetKey(ip), 16)).toBe(p);
      expect(partitionOfMergeKey(kindKey('ddos-participation', 'outbound', ip), 16)).toBe(p);
    }
  });

  it("is the customer's for a campaign (its endpoints are on every partition), the same in every process; none for a key that is not an address", () => {
    const p = partitionOfMergeKey(campaignKey('spam-bot', 'Residential pool A'), 16);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(16);
    expect(partitionOfMergeKey(campaignKey('scanner', 'Residential pool A'), 16)).toBe(p);
    // Customers spread over the partitions rather than crowding one.
    const spread = new Set(
      Array.from({ length: 64 }, (_, i) => partitionOfMergeKey(campaignKey('spam-bot', `customer ${i}`), 16)),
    );
    expect(spread.size).toBeGreaterThan(8);
    expect(partitionOfMergeKey(kindKey('external', 'outbound', 'feed:abc'), 16)).toBeUndefined();
  });
});

const natsUrl = inject('natsUrl');

describe.skipIf(!natsUrl)('detect role: incidents left by a process that is gone (real nats-server)', () => {
  it('resolves an open incident quiet past the quiet period that no live process holds; leaves a fresh one', async () => {
    const stamp = Date.now();
    const config = parseConfig({
      detect: { incidents: { quietSeconds: 5 } },
      bus: { nats: natsUrl, partitions: 4, stream: `ORPHANS_${stamp}`, subject: `orphans${stamp}`, lease_ms: 1000 },
    }) as Config & { bus: BusConfig };
    const store = new MemoryStore();
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    await store.upsertIncident(
      makeIncident('orphan', {
        kind: 'ddos-fan-in',
        direction: 'inbound',
        target: { ip: '198.51.100.40' },
        lastSeen: old,
      }),
    );
    await store.upsertIncident(
      makeIncident('fresh', { kind: 'ddos-fan-in', direction: 'inbound', target: { ip: '198.51.100.41' } }),
    );
    const role = await startDetectRole({
      config,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      store,
      enricher: stubEnricher(),
      deliverTick: (incidents, events, now) => {
        for (const e of events) incidents.ingest(e);
        incidents.tick(now);
      },
    });
    try {
      const status = (id: string) => store.getSync(id)?.status;
      const end = Date.now() + 10_000;
      while (status('orphan') !== 'resolved' && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(status('orphan')).toBe('resolved');
      expect(status('fresh')).toBe('open');
      expect((await store.listAudit('orphan')).map((a) => [a.by, a.action])).toEqual([['system', 'resolve']]);
      expect(await store.listAudit('fresh')).toEqual([]);
      expect((await store.listIncidents({ status: 'open', limit: 10 } as IncidentListQuery)).map((i) => i.id)).toEqual([
        'fresh',
      ]);
    } finally {
      await role.stop();
    }
  }, 30_000);
});
