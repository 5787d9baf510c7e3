import type { ExporterHealth, FeedHealth } from '@downstream/shared';

/** Routers export at least every minute (NetFlow/IPFIX active timeout): silence beyond that is a problem. */
export const EXPORTER_STALE_MS = 60_000;

export interface Sample<T> {
  /** Browser clock when the sample arrived. */
  at: number;
  items: readonly T[];
}

export type RowState = 'ok' | 'stale' | 'erroring';

export interface ExporterRow extends ExporterHealth {
  key: string;
  /** Since the previous poll; undefined on the first. */
  datagramsPerSecond?: number;
  recordsPerSecond?: number;
  newErrors: number;
  newGaps: number;
  state: RowState;
  /** Why the row is highlighted, for its tooltip. */
  reason?: string;
}

const exporterKey = (e: ExporterHealth) => `${e.address}|${e.protocol}`;

/**
 * Exporter rows with rates and state. Erroring: decode errors since the previous poll (a few
 * sequence gaps are normal loss on UDP; errors mean records are being thrown away). Stale: no
 * datagram for EXPORTER_STALE_MS. Erroring wins, stale next, so the worst shows first.
 */
export function exporterRows(
  prev: Sample<ExporterHealth> | undefined,
  cur: Sample<ExporterHealth>,
  now: number,
): ExporterRow[] {
  const before = new Map((prev?.items ?? []).map((e) => [exporterKey(e), e]));
  const dt = prev ? (cur.at - prev.at) / 1000 : 0;
  const rows = cur.items.map((e): ExporterRow => {
    const p = before.get(exporterKey(e));
    const newErrors = p ? Math.max(0, e.decodeErrors - p.decodeErrors) : 0;
    const newGaps = p ? Math.max(0, e.sequenceGaps - p.sequenceGaps) : 0;
    const silentMs = now - Date.parse(e.lastSeen);
    const state: RowState = newErrors > 0 ? 'erroring' : silentMs > EXPORTER_STALE_MS ? 'stale' : 'ok';
    const reason =
      state === 'erroring'
        ? `${newErrors} decode error${newErrors === 1 ? '' : 's'} since the last refresh`
        : state === 'stale'
          ? `no datagram for ${Math.round(silentMs / 1000)} s`
          : undefined;
    return {
      ...e,
      key: exporterKey(e),
      ...(p && dt > 0
        ? {
            datagramsPerSecond: Math.max(0, e.datagrams - p.datagrams) / dt,
            recordsPerSecond: Math.max(0, e.records - p.records) / dt,
          }
        : {}),
      newErrors,
      newGaps,
      state,
      ...(reason ? { reason } : {}),
    };
  });
  const rank: Record<RowState, number> = { erroring: 0, stale: 1, ok: 2 };
  return rows.sort((a, b) => rank[a.state] - rank[b.state] || a.key.localeCompare(b.key));
}

export interface FeedRow extends FeedHealth {
  newEvents: number;
  newErrors: number;
  state: 'ok' | 'erroring' | 'idle';
}

/** Feeds speak only when their detector has something to say: silence is `idle`, not stale. */
export function feedRows(prev: Sample<FeedHealth> | undefined, cur: Sample<FeedHealth>): FeedRow[] {
  const before = new Map((prev?.items ?? []).map((f) => [f.name, f]));
  return cur.items
    .map((f): FeedRow => {
      const p = before.get(f.name);
      const newEvents = p ? Math.max(0, f.events - p.events) : 0;
      const newErrors = p ? Math.max(0, f.errors - p.errors) : 0;
      const state = newErrors > 0 ? 'erroring' : f.lastEvent === null ? 'idle' : 'ok';
      return { ...f, newEvents, newErrors, state };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
