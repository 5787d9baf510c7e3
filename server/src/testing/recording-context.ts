import type { DetectionEvent, Incident, IncidentDetail, IncidentStatus } from '@downstream/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseConfig } from '../config/config.js';
import type { AppContext } from '../context.js';
import type { AddressInfo } from '../enrich/types.js';
import type { IncidentEvents } from '../incidents/types.js';
import type { AuditRecord, Store } from '../store/types.js';

/**
 * A minimal AppContext for feed/action unit tests: a recording incident manager and store,
 * no collectors. The real pipeline is exercised by the end-to-end FastNetMon test.
 */
export interface FakeContext extends AppContext {
  ingested: DetectionEvent[];
  audit: AuditRecord[];
  incidentMap: Map<string, Incident>;
  emit<E extends keyof IncidentEvents>(event: E, incident: Incident): void;
}

export function fakeLookup(ip: string): AddressInfo {
  if (ip.startsWith('198.51.100.'))
    return { asn: 64500, asName: 'EXAMPLE-ISP', country: 'NL', customer: 'Residential pool A' };
  const second = Number(ip.split('.')[1] ?? 0);
  return { asn: 65000 + (second % 10), asName: `TRANSIT-${second % 10}`, country: 'DE' };
}

export function fakeContext(rawConfig: Record<string, unknown> = {}): FakeContext {
  const config = parseConfig({
    network: { customers: [{ name: 'Residential pool A', prefixes: ['198.51.100.0/24'] }] },
    ...inMemoryActions(rawConfig),
  });
  const listeners: { [E in keyof IncidentEvents]: Set<IncidentEvents[E]> } = { upsert: new Set(), resolved: new Set() };
  const incidentMap = new Map<string, Incident>();
  const ingested: DetectionEvent[] = [];
  const audit: AuditRecord[] = [];
  const peek = (id: string): IncidentDetail | undefined => {
    const i = incidentMap.get(id);
    return i ? ({ ...i, timeline: [], graph: { nodes: [] } } as IncidentDetail) : undefined;
  };
  const ctx: FakeContext = {
    ingested,
    audit,
    incidentMap,
    emit(event, incident) {
      incidentMap.set(incident.id, incident);
      for (const l of listeners[event]) (l as (i: Incident) => void)(incident);
    },
    config,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    version: 'test',
    startedAt: Date.now(),
    collectors: { ports: {}, health: () => [], stop: async () => undefined },
    enricher: {
      enrich: () => {
        throw new Error('not used');
      },
      lookup: fakeLookup,
      customerName: () => undefined,
      linkName: () => undefined,
    },
    incidents: {
      ingest: (e) => void ingested.push(e),
      tick: () => undefined,
      list: async () => [...incidentMap.values()],
      active: () => [...incidentMap.values()].filter((i) => i.status !== 'resolved'),
      get: async (id) => peek(id),
      peek,
      setStatus: async (id: string, status: IncidentStatus) => {
        const i = incidentMap.get(id);
        if (!i) return undefined;
        const next = { ...i, status };
        incidentMap.set(id, next);
        return next;
      },
      addNote: async (id) => incidentMap.get(id),
      series: () => [],
      on: (event, l) => void (listeners[event] as Set<unknown>).add(l),
      off: (event, l) => void (listeners[event] as Set<unknown>).delete(l),
    },
    store: {
      upsertIncident: async () => undefined,
      getIncident: async (id) => incidentMap.get(id),
      listIncidents: async () => [...incidentMap.values()],
      appendAudit: async (e) => void audit.push(e),
      listAudit: async (id) => audit.filter((a) => a.incidentId === id),
      recordAbuse: () => undefined,
      flush: async () => undefined,
      close: async () => undefined,
      // The Store seam keeps growing (history queries); feeds and actions only use the above.
    } as Partial<Store> as Store,
    traffic: {
      addBatch: () => undefined,
      addTotals: () => undefined,
      summary: () => {
        throw new Error('not used');
      },
    },
  };
  return ctx;
}

/** A plausible inbound fan-in incident: sources in two ASNs, one upstream. */
export function sampleIncident(over: Partial<Incident> = {}): Incident {
  const top = [
    { ip: '203.0.113.10', asn: 65001, asName: 'TRANSIT-1', country: 'DE', packets: 5000, bytes: 320000 },
    { ip: '203.0.113.11', asn: 65001, asName: 'TRANSIT-1', country: 'DE', packets: 4000, bytes: 256000 },
    { ip: '192.0.2.77', asn: 65002, asName: 'Ünïcode AS, "quoted"', country: 'FR', packets: 1000, bytes: 64000 },
  ];
  return {
    id: 'inc-fanin-1',
    kind: 'ddos-fan-in',
    direction: 'inbound',
    severity: 'high',
    status: 'open',
    firstSeen: '2026-11-24T21:00:00.000Z',
    lastSeen: '2026-11-24T21:05:00.000Z',
    target: { ip: '198.51.100.7', asn: 64500, asName: 'EXAMPLE-ISP', customer: 'Residential pool A' },
    sources: {
      distinct: 12403,
      top,
      asns: [
        { asn: 65001, name: 'TRANSIT-1', share: 0.9 },
        { asn: 65002, name: 'Ünïcode AS, "quoted"', share: 0.1 },
      ],
    },
    upstreams: [{ name: 'Transit A', share: 1 }],
    peak: { pps: 380000, bps: 194560000 },
    evidence: {
      ports: [{ port: 80, share: 1 }],
      protocols: [{ proto: 6, share: 1 }],
      meanPacketSize: 64,
      summary: '12,403 sources, 64 B',
    },
    detectors: ['fan-in', 'fastnetmon'],
    notes: [],
    ...over,
  };
}

/** An outbound spam-bot incident naming two customer endpoints. */
export function outboundIncident(over: Partial<Incident> = {}): Incident {
  return sampleIncident({
    id: 'inc-spam-1',
    kind: 'spam-bot',
    direction: 'outbound',
    severity: 'medium',
    target: undefined,
    sources: {
      distinct: 2,
      top: [
        {
          ip: '198.51.100.23',
          asn: 64500,
          asName: 'EXAMPLE-ISP',
          country: 'NL',
          customer: 'Residential pool A',
          packets: 900,
          bytes: 90000,
        },
        {
          ip: '198.51.100.24',
          asn: 64500,
          asName: 'EXAMPLE-ISP',
          country: 'NL',
          customer: '=cmd|evil',
          packets: 100,
          bytes: 10000,
        },
      ],
      asns: [{ asn: 64500, name: 'EXAMPLE-ISP', share: 1 }],
    },
    upstreams: [],
    evidence: {
      ports: [{ port: 25, share: 1 }],
      protocols: [{ proto: 6, share: 1 }],
      distinctTargets: 812,
      summary: 'SMTP to 812 hosts',
    },
    detectors: ['spam-bot'],
    ...over,
  });
}

/**
 * Without a storage path a test context keeps its actions database (remediation, mitigations,
 * complaints) in memory, so building its services writes nothing into the working directory.
 */
export function inMemoryActions(raw: Record<string, unknown>): Record<string, unknown> {
  if (raw.storage) return raw;
  const actions = (raw.actions ?? {}) as { remediation?: Record<string, unknown> };
  return { ...raw, actions: { ...actions, remediation: { path: ':memory:', ...actions.remediation } } };
}
