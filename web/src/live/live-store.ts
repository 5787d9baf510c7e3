import type { Incident, IncidentResolved, IncidentUpsert, Snapshot, Summary } from '@downstream/shared';
import { create } from 'zustand';

/** Socket state as the user should read it. */
export type Connection = 'connecting' | 'live' | 'offline';

/** After this long without any message the data on screen is declared STALE. */
export const STALE_AFTER_MS = 10_000;

/** An incident as it first appeared in this browser: drives the wall ticker. */
export interface TickerItem {
  id: string;
  at: number;
  incident: Incident;
  /** It was resolved and came back (same incident, status no longer resolved). */
  reopened?: boolean;
}

export interface LiveState {
  connection: Connection;
  /** Last connect error, to tell the user what to do (e.g. a missing token). */
  error?: string;
  /** Wall-clock ms of the last message of any kind from the server. */
  lastDataAt?: number;
  summary?: Summary;
  /** Incidents by id: the snapshot's plus every upsert since; resolved ones stay, marked so. */
  incidents: Record<string, Incident>;
  /** Revision of the last applied snapshot or delta; older deltas are dropped. */
  rev: number;
  /** Newest first, bounded. */
  ticker: TickerItem[];

  setConnection(connection: Connection, error?: string): void;
  applySnapshot(snapshot: Snapshot, now?: number): void;
  applySummary(summary: Summary, now?: number): void;
  applyUpsert(delta: IncidentUpsert, now?: number): void;
  applyResolved(delta: IncidentResolved, now?: number): void;
}

const TICKER_MAX = 30;
/** Resolved incidents kept for the live table beyond the active ones. */
const RESOLVED_MAX = 500;

function pruneResolved(incidents: Record<string, Incident>): Record<string, Incident> {
  const resolved = Object.values(incidents).filter((i) => i.status === 'resolved');
  if (resolved.length <= RESOLVED_MAX) return incidents;
  resolved.sort((a, b) => a.lastSeen.localeCompare(b.lastSeen));
  const next = { ...incidents };
  for (const r of resolved.slice(0, resolved.length - RESOLVED_MAX)) delete next[r.id];
  return next;
}

export const createLiveStore = () =>
  create<LiveState>()((set) => ({
    connection: 'connecting',
    incidents: {},
    rev: 0,
    ticker: [],

    setConnection: (connection, error) => set({ connection, error }),

    applySnapshot: (snapshot, now = Date.now()) =>
      set((s) => {
        // A snapshot replaces everything: a reconnecting client must never mix old and new views.
        const incidents: Record<string, Incident> = {};
        for (const i of snapshot.incidents) incidents[i.id] = i;
        const known = new Set(Object.keys(s.incidents));
        const fresh = snapshot.incidents
          .filter((i) => !known.has(i.id))
          .map((incident) => ({ id: incident.id, at: now, incident }));
        // On the very first snapshot everything is "new"; seed the ticker newest first.
        const ticker = [...fresh.sort((a, b) => b.incident.firstSeen.localeCompare(a.incident.firstSeen)), ...s.ticker]
          .filter((t) => incidents[t.id])
          .slice(0, TICKER_MAX);
        return { incidents, rev: snapshot.rev, summary: snapshot.summary, lastDataAt: now, ticker, error: undefined };
      }),

    applySummary: (summary, now = Date.now()) => set({ summary, lastDataAt: now }),

    applyUpsert: ({ rev, incident }, now = Date.now()) =>
      set((s) => {
        if (rev <= s.rev) return { lastDataAt: now };
        const prev = s.incidents[incident.id];
        const isNew = !prev;
        const reopened = prev?.status === 'resolved' && incident.status !== 'resolved';
        return {
          rev,
          lastDataAt: now,
          incidents: pruneResolved({ ...s.incidents, [incident.id]: incident }),
          ticker: isNew
            ? [{ id: incident.id, at: now, incident }, ...s.ticker].slice(0, TICKER_MAX)
            : reopened
              ? [
                  { id: incident.id, at: now, incident, reopened: true },
                  ...s.ticker.filter((t) => t.id !== incident.id),
                ]
              : s.ticker,
        };
      }),

    applyResolved: ({ rev, id, at }, now = Date.now()) =>
      set((s) => {
        if (rev <= s.rev) return { lastDataAt: now };
        const existing = s.incidents[id];
        if (!existing) return { rev, lastDataAt: now };
        return {
          rev,
          lastDataAt: now,
          incidents: { ...s.incidents, [id]: { ...existing, status: 'resolved', lastSeen: at } },
        };
      }),
  }));

/** The app's one live store. */
export const useLive = createLiveStore();

/** What the header and the wall show: `STALE` when the numbers may no longer be true. */
export type Freshness = 'live' | 'connecting' | 'offline' | 'STALE';

export function freshness(state: Pick<LiveState, 'connection' | 'lastDataAt'>, now: number): Freshness {
  const old = state.lastDataAt === undefined || now - state.lastDataAt > STALE_AFTER_MS;
  if (state.connection === 'live') return state.lastDataAt !== undefined && old ? 'STALE' : 'live';
  // Disconnected while showing data: that data is stale. Never had data: say so plainly.
  if (state.lastDataAt !== undefined) return 'STALE';
  return state.connection;
}

export interface ActiveCounts {
  active: number;
  inbound: number;
  outbound: number;
  byKind: Partial<Record<Incident['kind'], number>>;
}

/**
 * Active-incident counts from the same incidents the list shows (snapshot + deltas), so a
 * header or wall number never disagrees with the table beside it; `summary` arrives at most
 * once a second and would lag.
 */
export function activeCounts(incidents: Record<string, Incident>): ActiveCounts {
  const c: ActiveCounts = { active: 0, inbound: 0, outbound: 0, byKind: {} };
  for (const id in incidents) {
    const i = incidents[id]!;
    if (i.status === 'resolved') continue;
    c.active++;
    if (i.direction === 'inbound') c.inbound++;
    else c.outbound++;
    c.byKind[i.kind] = (c.byKind[i.kind] ?? 0) + 1;
  }
  return c;
}

/** Whether a snapshot has arrived, i.e. whether counts from the store mean anything yet. */
export const hasSnapshot = (s: Pick<LiveState, 'rev' | 'summary'>): boolean => s.rev > 0 || s.summary !== undefined;
