import type { DetectionEvent } from '@downstream/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { Incidents, type IncidentStore } from '../incidents/index.js';
import { MemoryStore } from '../incidents/memory-store.js';
import { keepingOperatorState } from './operator-state.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const config = parseConfig({ detect: { incidents: { quietSeconds: 30 } } });

const fanIn = (atMs: number, pps: number): DetectionEvent => ({
  detector: 'fan-in',
  kind: 'ddos-fan-in',
  direction: 'inbound',
  at: new Date(atMs).toISOString(),
  key: '198.51.100.10',
  target: { ip: '198.51.100.10', asn: 64500, customer: 'Residential' },
  sources: { distinct: 3000, top: [{ ip: '73.1.2.3', asn: 7922, packets: 1000, bytes: 64_000 }], asns: [] },
  upstreams: [],
  rate: { pps, bps: pps * 500 },
  evidence: { meanPacketSize: 64, summary: 'fan-in' },
});

/** A detect process's manager, an API process writing an operator's ack to the same row, then more detection. */
async function ackWhileDetecting(wrap: (s: IncidentStore) => IncidentStore) {
  const store = new MemoryStore();
  const clock = { now: T0 };
  const m = new Incidents({
    store: wrap(store),
    logger: pino({ level: 'silent' }),
    config,
    now: () => clock.now,
    loadOpen: false,
  });
  m.ingest(fanIn(T0, 300_000));
  await m.flush();
  const [stored] = [...store.incidents.values()];
  // What the api role's StoreIncidents.setStatus writes (audit first, then the row).
  const at = new Date(T0 + 1000).toISOString();
  await store.upsertIncident({
    ...stored!,
    status: 'acknowledged',
    notes: [{ at, by: 'ops', text: 'customer called' }],
  });
  clock.now = T0 + 2000;
  m.ingest(fanIn(clock.now, 900_000));
  await m.flush();
  return store.getSync(stored!.id)!;
}

describe('a detect process saving an incident an operator acted on elsewhere', () => {
  it('keeps the operator’s status and notes, takes its own traffic figures', async () => {
    const after = await ackWhileDetecting(keepingOperatorState);
    expect(after.status).toBe('acknowledged');
    expect(after.notes.map((n) => n.text)).toEqual(['customer called']);
    expect(after.peak.pps).toBe(900_000);
  });

  it('(without it the save undoes the ack: what this guards against)', async () => {
    const after = await ackWhileDetecting((s) => s);
    expect(after.status).toBe('open');
    expect(after.notes).toEqual([]);
  });
});
