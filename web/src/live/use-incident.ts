import { IncidentDetail, type Incident } from '@downstream/shared';
import { z } from 'zod';
import { useCallback, useEffect, useState } from 'react';
import { apiGet, ApiRequestError } from './api.js';
import { useLive } from './live-store.js';

/**
 * The detail as fetched: everything validated by the shared schema except the graph nodes,
 * which can number 50,000 and are checked node by node when turned into columns
 * (charts/graph-columns.ts) — only if no live binary frame supersedes them first.
 */
export const IncidentDetailWire = IncidentDetail.extend({ graph: z.object({ nodes: z.array(z.unknown()) }) });
export type IncidentDetailWire = z.infer<typeof IncidentDetailWire>;

export interface IncidentState {
  /** The detail from REST, if it loaded. */
  detail?: IncidentDetailWire;
  /** The freshest incident fields: the live store's copy once one arrives, else the detail's. */
  incident?: Incident;
  loading: boolean;
  error?: string;
  notFound: boolean;
  reload(): void;
}

/** One incident for the drill-down page: REST detail, kept current by live upserts. */
export function useIncident(id: string): IncidentState {
  const liveCopy = useLive((s) => s.incidents[id]);
  const [detail, setDetail] = useState<IncidentDetailWire>();
  const [error, setError] = useState<string>();
  const [notFound, setNotFound] = useState(false);
  const [loading, setLoading] = useState(true);
  const [nonce, setNonce] = useState(0);
  const reload = useCallback(() => setNonce((n) => n + 1), []);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    apiGet(`/api/incidents/${encodeURIComponent(id)}`, IncidentDetailWire, ctl.signal)
      .then((d) => {
        setDetail(d);
        setError(undefined);
        setNotFound(false);
      })
      .catch((e: Error) => {
        if (ctl.signal.aborted) return;
        setNotFound(e instanceof ApiRequestError && e.status === 404);
        setError(e.message);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [id, nonce]);

  // Live upserts carry newer counters and status; the detail's sources list may be longer.
  let incident: Incident | undefined = liveCopy ?? detail;
  if (liveCopy && detail) {
    const newer = liveCopy.lastSeen >= detail.lastSeen || liveCopy.status !== detail.status;
    incident = newer
      ? {
          ...liveCopy,
          sources:
            liveCopy.sources.top.length >= detail.sources.top.length
              ? liveCopy.sources
              : { ...detail.sources, distinct: liveCopy.sources.distinct },
          notes: liveCopy.notes.length >= detail.notes.length ? liveCopy.notes : detail.notes,
        }
      : detail;
  }
  return { detail, incident, loading, error, notFound: notFound && !liveCopy, reload };
}
