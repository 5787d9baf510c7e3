import type { Incident } from '@downstream/shared';
import { pino } from 'pino';
import { parseConfig } from '../config/config.js';
import { createIncidentManager } from '../incidents/index.js';
import { MemoryStore } from '../incidents/memory-store.js';

/**
 * An incident manager for tests: in-memory store, a clock the test moves (`clock.now`), and
 * the 'upsert' / 'resolved' events it emitted. `detect` is the config's `detect:` block.
 */
export function incidentHarness(
  opts: { detect?: Record<string, unknown>; store?: MemoryStore; startMs?: number } = {},
) {
  const store = opts.store ?? new MemoryStore();
  const clock = { now: opts.startMs ?? Date.UTC(2026, 0, 1, 12, 0, 0) };
  const config = parseConfig({ detect: opts.detect ?? {} });
  const m = createIncidentManager({ store, logger: pino({ level: 'silent' }), config, now: () => clock.now });
  const upserts: Incident[] = [];
  const resolved: Incident[] = [];
  m.on('upsert', (i) => upserts.push(i));
  m.on('resolved', (i) => resolved.push(i));
  return { m, store, clock, upserts, resolved, config };
}
