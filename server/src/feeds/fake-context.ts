import type { DetectionEvent, Incident, IncidentDetail, IncidentStatus } from '@downstream/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseConfig } from '../config/config.js';
import type { AddressInfo, AppContext, AuditEntry, IncidentEvents, Store } from '../context.js';

/**
 * A minimal AppContext for feed/action unit tests: a recording incident manager and store,
 * no collectors. The real pipeline is exercised by the end-to-end FastNetMon test.
 */
export interface FakeContext extends AppContext {
  ingested: DetectionEvent[];
  audit: AuditEntry[];
  incidentMap: Map<string, Incident>;
  emit<E extends keyof IncidentEvents>(event: E, incident: Incident): void;
}

export function fakeLookup(ip: string): AddressInfo {
  if (ip.startsWith('198.51.100.')) return { asn: 64500, asName: 'EXAMPLE-ISP', country: 'NL', customer: 'Residential pool A' };
  const second = Number(ip.split('.')[1] ?? 0);
  return { asn: 65000 + (second % 10), asName: `TRANSIT-${second % 10}`, country: 'DE' };
}

export function fakeContext(rawConfig: Record<string, unknown> = {}): FakeContext {
  const config = parseConfig({ network: { customers: [{ name: 'Residential pool A', prefixes: ['198.51.100.0/24'] }] }, ...rawConfig });
  const listeners: { [E in keyof IncidentEvents]: Set<IncidentEvents[E]> } = { upsert: new Set(), resolved: new Set() };
  const incidentMap = new Map<string, Incident>();
  const ingested: DetectionEvent[] = [];
  const audit: AuditEntry[] = [];
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
      list: () => [...incidentMap.values()],
      active: () => [...incidentMap.values()].filter((i) => i.status !== 'resolved'),
      get: (id) => {
        const i = incidentMap.get(id);
        return i ? ({ ...i, timeline: [], graph: { nodes: [] } } as IncidentDetail) : undefined;
      },
      setStatus: (id: string, status: IncidentStatus) => {
        const i = incidentMap.get(id);
        if (!i) return undefined;
        const next = { ...i, status };
        incidentMap.set(id, next);
        return next;
      },
      addNote: (id) => incidentMap.get(id),
      series: () => [],
      on: (event, l) => void (listeners[event] as Set<unknown>).add(l),
      off: (event, l) => void (listeners[event] as Set<unknown>).delete(l),
    },
    store: {
      upsertIncident: () => undefined,
      getIncident: (id) => incidentMap.get(id),
      listIncidents: () => [...incidentMap.values()],
      appendAudit: (e) => void audit.push(e),
      listAudit: (id) => audit.filter((a) => a.incidentId === id),
      recordAbuse: () => undefined,
      flush: () => undefined,
      close: () => undefined,
      // The Store seam keeps growing (history queries); feeds and actions only use the above.
    } as Partial<Store> as Store,
    traffic: {
      addBatch: () => undefined,
      summary: () => {
        throw new Error('not used');
      },
    },
  };
  return ctx;
}
