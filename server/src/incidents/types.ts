import type {
  DetectionEvent,
  Incident,
  IncidentDetail,
  IncidentListQuery,
  IncidentStatus,
  TimelinePoint,
} from '@downstream/shared';

/** incidents/: merges detections into incidents with a lifecycle. */
export interface IncidentEvents {
  upsert: (incident: Incident) => void;
  resolved: (incident: Incident) => void;
}

export interface IncidentManager {
  ingest(event: DetectionEvent): void;
  /** Advance lifecycles (quiet period → resolved); roughly once a second. */
  tick(nowMs: number): void;
  /** Memory (live and recently resolved) over the store. */
  list(query: IncidentListQuery): Promise<Incident[]>;
  /** Active (not resolved) incidents, for snapshots. */
  active(): Incident[];
  /** From memory, else from the store (no timeline, graph without rates). */
  get(id: string): Promise<IncidentDetail | undefined>;
  /** From memory only (live or recently resolved here): for realtime frames, which cannot wait. */
  peek(id: string): IncidentDetail | undefined;
  /**
   * Operator actions. Resolve once the audit entry and the changed incident are durable in the
   * store; reject when the store refused either (the API then answers 5xx, never 2xx).
   */
  setStatus(id: string, status: IncidentStatus, by: string, note?: string): Promise<Incident | undefined>;
  addNote(id: string, by: string, text: string): Promise<Incident | undefined>;
  series(id: string): TimelinePoint[];
  on<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void;
  off<E extends keyof IncidentEvents>(event: E, listener: IncidentEvents[E]): void;
}
