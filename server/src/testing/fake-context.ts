/**
 * A small in-memory AppContext for the API and realtime tests, so they exercise HTTP and
 * socket behaviour without SQLite, collectors or detectors. The incident manager here follows
 * the IncidentManager contract (merge by kind+key, upsert/resolved events) in the simplest way.
 */
import { EventEmitter } from 'node:events';
import { STATUS_AUDIT_ACTION } from '@downstream/shared';
import type {
  DetectionEvent,
  Incident,
  IncidentDetail,
  IncidentListQuery,
  IncidentStatus,
  TimelinePoint,
} from '@downstream/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseConfig, type Config } from '../config/config.js';
import type { AppContext } from '../context.js';
import type { IncidentEvents, IncidentManager } from '../incidents/types.js';
import type { CollectorSet } from '../ingest/types.js';
import type { AuditRecord, Store } from '../store/types.js';
import { createTrafficMeter } from '../traffic/index.js';
import { inMemoryActions } from './recording-context.js';

export class FakeIncidentManager implements IncidentManager {
  private readonly byId = new Map<string, Incident>();
  private readonly byKey = new Map<string, string>();
  private readonly timelines = new Map<string, TimelinePoint[]>();
  private readonly events = new EventEmitter();
  private seq = 0;
  readonly audit: AuditRecord[] = [];

  constructor(private readonly quietMs = 60_000) {
    this.events.setMaxListeners(0);
  }

  ingest(ev: DetectionEvent): void {
    const k = `${ev.kind}|${ev.key}`;
    const id = this.byKey.get(k);
    const prev = id ? this.byId.get(id) : undefined;
    let inc: Incident;
    if (prev && prev.status !== 'resolved') {
      inc = {
        ...prev,
        lastSeen: ev.at,
        sources: ev.sources,
        upstreams: ev.upstreams,
        evidence: { ...prev.evidence, ...ev.evidence },
        peak: { pps: Math.max(prev.peak.pps, ev.rate.pps), bps: Math.max(prev.peak.bps, ev.rate.bps) },
        detectors: prev.detectors.includes(ev.detector) ? prev.detectors : [...prev.detectors, ev.detector],
      };
    } else {
      inc = {
        id: `inc-${++this.seq}`,
        kind: ev.kind,
        direction: ev.direction,
        severity: 'high',
        status: 'open',
        firstSeen: ev.at,
        lastSeen: ev.at,
        target: ev.target,
        sources: ev.sources,
        upstreams: ev.upstreams,
        peak: ev.rate,
        evidence: ev.evidence,
        detectors: [ev.detector],
        notes: [],
      };
      this.byKey.set(k, inc.id);
    }
    this.byId.set(inc.id, inc);
    const tl = this.timelines.get(inc.id) ?? [];
    tl.push({ t: ev.at, pps: ev.rate.pps, bps: ev.rate.bps, sources: ev.sources.distinct });
    this.timelines.set(inc.id, tl.slice(-300));
    this.events.emit('upsert', inc);
  }

  tick(nowMs: number): void {
    for (const inc of this.byId.values()) {
      if (inc.status !== 'resolved' && nowMs - Date.parse(inc.lastSeen) > this.quietMs)
        void this.setStatus(inc.id, 'resolved', 'system');
    }
  }

  async list(q: IncidentListQuery): Promise<Incident[]> {
    return [...this.byId.values()]
      .filter(
        (i) =>
          (!q.status || i.status === q.status) &&
          (!q.kind || i.kind === q.kind) &&
          (!q.direction || i.direction === q.direction),
      )
      .filter((i) => !q.since || Date.parse(i.lastSeen) >= Date.parse(q.since))
      .sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen))
      .slice(0, q.limit);
  }

  active(): Incident[] {
    return [...this.byId.values()].filter((i) => i.status !== 'resolved');
  }

  async get(id: string): Promise<IncidentDetail | undefined> {
    return this.peek(id);
  }

  peek(id: string): IncidentDetail | undefined {
    const inc = this.byId.get(id);
    if (!inc) return undefined;
    return {
      ...inc,
      timeline: this.series(id),
      graph: {
        nodes: inc.sources.top.map((s) => ({
          ip: s.ip,
          asn: s.asn,
          country: s.country,
          ...(s.customer ? { customer: s.customer } : {}),
          pps: s.packets,
        })),
      },
    };
  }

  // Async like the real manager's; the change itself happens before the first await, at once.
  async setStatus(id: string, status: IncidentStatus, by: string, note?: string): Promise<Incident | undefined> {
    const prev = this.byId.get(id);
    if (!prev) return undefined;
    const at = new Date().toISOString();
    const inc: Incident = { ...prev, status, notes: note ? [...prev.notes, { at, by, text: note }] : prev.notes };
    this.byId.set(id, inc);
    // The real manager's vocabulary and detail (incidents/manager.ts setStatus).
    const change = `${prev.status} → ${status}`;
    this.audit.push({
      at,
      by,
      action: STATUS_AUDIT_ACTION[status],
      incidentId: id,
      detail: note ? `${change}: ${note}` : change,
    });
    this.events.emit(status === 'resolved' ? 'resolved' : 'upsert', inc);
    return inc;
  }

  async addNote(id: string, by: string, text: string): Promise<Incident | undefined> {
    const prev = this.byId.get(id);
    if (!prev) return undefined;
    const inc: Incident = { ...prev, notes: [...prev.notes, { at: new Date().toISOString(), by, text }] };
    this.byId.set(id, inc);
    this.audit.push({ at: new Date().toISOString(), by, action: 'note', incidentId: id, detail: text });
    this.events.emit('upsert', inc);
    return inc;
  }

  series(id: string): TimelinePoint[] {
    return this.timelines.get(id) ?? [];
  }

  on<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.events.on(event, listener);
  }

  off<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void {
    this.events.off(event, listener);
  }
}

const nullStore = (): Store =>
  new Proxy({} as Store, {
    get: (_t, prop) =>
      prop === 'recordAbuse'
        ? () => undefined
        : prop === 'listIncidents' || prop === 'listAudit' || prop === 'incidentsChangedSince'
          ? async () => []
          : async () => undefined,
  });

export interface FakeContextOptions {
  tokens?: Config['auth']['tokens'];
  config?: Record<string, unknown>;
  webRoot?: string;
  exporters?: ReturnType<CollectorSet['health']>;
}

export function createFakeContext(opts: FakeContextOptions = {}): AppContext & { incidents: FakeIncidentManager } {
  const config = parseConfig({ ...inMemoryActions(opts.config ?? {}), auth: { tokens: opts.tokens ?? [] } });
  const registry = new Registry();
  return {
    config,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    registry,
    version: '0.0.0-test',
    startedAt: Date.now(),
    collectors: { ports: {}, health: () => opts.exporters ?? [], stop: async () => {} },
    enricher: {
      enrich: () => {
        throw new Error('not in fake context');
      },
      lookup: () => ({ asn: 0, asName: '', country: '' }),
      customerName: () => undefined,
      linkName: () => undefined,
    },
    incidents: new FakeIncidentManager(),
    store: nullStore(),
    traffic: createTrafficMeter(),
    webRoot: opts.webRoot,
  };
}

let evSeq = 0;
/** A valid DetectionEvent with `n` top sources; `key` picks the incident it merges into. */
export function detectionEvent(key: string, n = 3, pps = 1000): DetectionEvent {
  evSeq++;
  return {
    detector: 'fan-in',
    kind: 'ddos-fan-in',
    direction: 'inbound',
    at: new Date().toISOString(),
    key,
    target: { ip: key, customer: 'Residential pool A' },
    sources: {
      distinct: n,
      top: Array.from({ length: n }, (_, i) => ({
        ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        asn: 64500 + (i % 7),
        asName: `AS-TEST-${i % 7}`,
        country: ['DE', 'US', 'BR', 'CN'][i % 4],
        packets: pps + evSeq,
        bytes: (pps + evSeq) * 64,
      })),
      asns: [{ asn: 64500, name: 'AS-TEST-0', share: 1 }],
    },
    upstreams: [{ name: 'Transit A', share: 1 }],
    rate: { pps: pps + evSeq, bps: (pps + evSeq) * 512 },
    evidence: { summary: `update ${evSeq}` },
  };
}
