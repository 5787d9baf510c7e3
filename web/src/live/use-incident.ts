import type { Incident } from '@downstream/shared';
import { useCallback, useEffect, useState } from 'react';
import type { GraphColumns } from '../charts/fan-in-layout.js';
import { ApiRequestError } from './api.js';
import { fetchIncidentDetail } from './detail-client.js';
import type { IncidentDetailWire } from './incident-detail-wire.js';
import { useLive } from './live-store.js';

export interface IncidentState {
  /** The detail from REST, if it loaded (its node list moved to `columns`). */
  detail?: IncidentDetailWire;
  /** The REST graph nodes as columns. */
  columns?: GraphColumns;
  /** Why the REST graph nodes could not be used. */
  columnsError?: string;
  /** The freshest incident fields: the live store's copy once one arrives, else the detail's. */
  incident?: Incident;
  loading: boolean;
  error?: string;
  notFound: boolean;
  reload(): void;
}

/** Live upserts do not carry who held each endpoint (looked up by REST only): keep the detail's. */
function withHolders(live: Incident['sources'], rest: Incident['sources']): Incident['sources'] {
  const held = new Map(rest.top.filter((s) => s.subscriber).map((s) => [s.ip, s.subscriber]));
  if (held.size === 0) return live;
  return {
    ...live,
    top: live.top.map((s) => (s.subscriber || !held.has(s.ip) ? s : { ...s, subscriber: held.get(s.ip) })),
  };
}

/** One incident for the drill-down page: REST detail, kept current by live upserts. */
export function useIncident(id: string): IncidentState {
  const liveCopy = useLive((s) => s.incidents[id]);
  const [fetched, setFetched] = useState<{
    detail: IncidentDetailWire;
    columns?: GraphColumns;
    columnsError?: string;
  }>();
  const [error, setError] = useState<string>();
  const [notFound, setNotFound] = useState(false);
  const [loading, setLoading] = useState(true);
  const [nonce, setNonce] = useState(0);
  const reload = useCallback(() => setNonce((n) => n + 1), []);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    fetchIncidentDetail(id, ctl.signal)
      .then((r) => {
        setFetched(r);
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

  const detail = fetched?.detail;
  // Live upserts carry newer counters and status; the detail's sources list may be longer.
  let incident: Incident | undefined = liveCopy ?? detail;
  if (liveCopy && detail) {
    const newer = liveCopy.lastSeen >= detail.lastSeen || liveCopy.status !== detail.status;
    incident = newer
      ? {
          ...liveCopy,
          sources:
            liveCopy.sources.top.length >= detail.sources.top.length
              ? withHolders(liveCopy.sources, detail.sources)
              : { ...detail.sources, distinct: liveCopy.sources.distinct },
          notes: liveCopy.notes.length >= detail.notes.length ? liveCopy.notes : detail.notes,
        }
      : detail;
  }
  return {
    detail,
    columns: fetched?.columns,
    columnsError: fetched?.columnsError,
    incident,
    loading,
    error,
    notFound: notFound && !liveCopy,
    reload,
  };
}
