import type { Incident } from '@downstream/shared';

/** A minimal valid open fan-in incident for unit tests; `over` replaces whole fields. */
export const makeIncident = (id: string, over: Partial<Incident> = {}): Incident => ({
  id,
  kind: 'ddos-fan-in',
  direction: 'inbound',
  severity: 'high',
  status: 'open',
  firstSeen: '2026-11-24T10:00:00.000Z',
  lastSeen: '2026-11-24T10:00:05.000Z',
  target: { ip: '198.51.100.10' },
  sources: { distinct: 10, top: [], asns: [] },
  upstreams: [],
  peak: { pps: 1, bps: 8 },
  evidence: {},
  detectors: ['fan-in'],
  notes: [],
  ...over,
});
