import { IncidentKind, IncidentList, IncidentStatus, type Incident } from '@downstream/shared';
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { age, int, KIND_LABEL, kindColor, si } from '../../format.js';
import { apiGet } from '../../live/api.js';
import { useLive } from '../../live/live-store.js';
import { useNow } from '../../live/use-now.js';
import {
  DEFAULT_QUERY,
  matches,
  parseQuery,
  queryToParams,
  sortIncidents,
  targetLabel,
  topUpstream,
  type SortKey,
  type TableQuery,
} from './incident-table-model.js';

const COLUMNS: { key: SortKey; label: string; numeric?: boolean }[] = [
  { key: 'severity', label: 'Sev' },
  { key: 'kind', label: 'Kind' },
  { key: 'direction', label: 'Dir' },
  { key: 'target', label: 'Target' },
  { key: 'sources', label: 'Sources now', numeric: true },
  { key: 'peak', label: 'Peak', numeric: true },
  { key: 'upstream', label: 'Upstream' },
  { key: 'status', label: 'Status' },
  { key: 'age', label: 'Age', numeric: true },
];

/** Incidents from REST (history, resolved ones) merged under the live store's newer copies. */
function useHistory(status: TableQuery['status']) {
  const [history, setHistory] = useState<Incident[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctl = new AbortController();
    const qs = new URLSearchParams({ limit: '1000' });
    if (status !== 'active' && status !== 'all') qs.set('status', status);
    apiGet(`/api/incidents?${qs}`, IncidentList, ctl.signal)
      .then((r) => {
        setHistory(r.incidents);
        setError(undefined);
      })
      .catch((e: Error) => {
        if (!ctl.signal.aborted) setError(e.message);
      });
    return () => ctl.abort();
  }, [status]);
  return { history, error };
}

/** The live incident table at `/` and `/incidents`. */
export function IncidentsView() {
  const [params, setParams] = useSearchParams();
  const query = useMemo(() => parseQuery(params), [params]);
  const navigate = useNavigate();
  const now = useNow(1000);
  const live = useLive((s) => s.incidents);
  const hasSnapshot = useLive((s) => s.lastDataAt !== undefined);
  const { history, error } = useHistory(query.status);

  const all = useMemo(() => {
    const byId = new Map<string, Incident>();
    for (const i of history) byId.set(i.id, i);
    for (const i of Object.values(live)) byId.set(i.id, i);
    return byId;
  }, [history, live]);

  const liveOrder = useMemo(
    () =>
      sortIncidents(
        [...all.values()].filter((i) => matches(i, query)),
        query,
      ).map((i) => i.id),
    [all, query],
  );

  // While the pointer is on the table or its toolbar, or keyboard focus is in the table, the row
  // order is held still so the row under the cursor cannot move; new rows wait behind a "show"
  // button. The toolbar counts as "on the table" because the pointer crosses it to reach that
  // button: releasing the hold on the way would remove the button before it is clicked.
  // "show" takes a fresh order and keeps holding it.
  const [hold, setHold] = useState(false);
  const [shownEpoch, setShownEpoch] = useState(0);
  const held = useRef<{ key: string; order: string[] }>({ key: '', order: [] });
  const queryKey = `${queryToParams(query).toString()}#${shownEpoch}`;
  if (!hold || held.current.key !== queryKey) held.current = { key: queryKey, order: liveOrder };
  const visible = new Set(liveOrder);
  const order = held.current.order.filter((id) => visible.has(id));
  const shown = new Set(order);
  const waiting = liveOrder.filter((id) => !shown.has(id)).length;
  const rows = order.map((id) => all.get(id)!);

  const [selected, setSelected] = useState<string>();
  const tableRef = useRef<HTMLDivElement>(null);
  const filterRef = useRef<HTMLInputElement>(null);

  const update = useCallback(
    (patch: Partial<TableQuery>) => setParams(queryToParams({ ...query, ...patch }), { replace: true }),
    [query, setParams],
  );

  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === '/' && document.activeElement?.tagName !== 'INPUT') {
        e.preventDefault();
        filterRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (!selected) return;
    tableRef.current?.querySelector(`[data-id="${CSS.escape(selected)}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const onTableKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const idx = selected ? order.indexOf(selected) : -1;
    const move = (to: number) => {
      e.preventDefault();
      const id = order[Math.max(0, Math.min(order.length - 1, to))];
      if (id) setSelected(id);
    };
    if (e.key === 'ArrowDown' || e.key === 'j') move(idx + 1);
    else if (e.key === 'ArrowUp' || e.key === 'k') move(idx - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(order.length - 1);
    else if ((e.key === 'Enter' || e.key === 'o') && selected) {
      e.preventDefault();
      navigate(`/incidents/${encodeURIComponent(selected)}`);
    }
  };

  const sortBy = (key: SortKey) =>
    update({
      sort: key,
      desc: query.sort === key ? !query.desc : key !== 'target' && key !== 'kind' && key !== 'upstream',
    });

  const filtered = query.kind || query.direction || query.q || query.status !== DEFAULT_QUERY.status;

  return (
    <main className="page incidents-page">
      <h1 className="visually-hidden">Incidents</h1>
      <div className="incidents-held" onMouseEnter={() => setHold(true)} onMouseLeave={() => setHold(false)}>
        <div className="toolbar" role="search">
          <input
            ref={filterRef}
            type="search"
            placeholder="Filter: IP, customer, ASN, upstream…  ( / )"
            value={query.q}
            onChange={(e) => update({ q: e.target.value })}
            aria-label="Filter incidents"
            data-testid="incident-filter"
          />
          <select
            value={query.kind ?? ''}
            onChange={(e) => update({ kind: e.target.value ? IncidentKind.parse(e.target.value) : undefined })}
            aria-label="Kind"
            data-testid="kind-filter"
          >
            <option value="">all kinds</option>
            {IncidentKind.options.map((k) => (
              <option key={k} value={k}>
                {KIND_LABEL[k]}
              </option>
            ))}
          </select>
          <select
            value={query.direction ?? ''}
            onChange={(e) =>
              update({
                direction: e.target.value === 'inbound' || e.target.value === 'outbound' ? e.target.value : undefined,
              })
            }
            aria-label="Direction"
            data-testid="direction-filter"
          >
            <option value="">both directions</option>
            <option value="inbound">inbound</option>
            <option value="outbound">outbound</option>
          </select>
          <select
            value={query.status}
            onChange={(e) => {
              const v = e.target.value;
              update({ status: v === 'active' || v === 'all' ? v : IncidentStatus.parse(v) });
            }}
            aria-label="Status"
            data-testid="status-filter"
          >
            <option value="active">active</option>
            <option value="all">all</option>
            {IncidentStatus.options.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          {filtered && (
            <button type="button" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
              clear filters
            </button>
          )}
          <span className="toolbar-count" data-testid="incident-count">
            {rows.length} incident{rows.length === 1 ? '' : 's'}
          </span>
          {waiting > 0 && (
            <button
              type="button"
              className="new-rows"
              onClick={() => setShownEpoch((n) => n + 1)}
              data-testid="new-rows"
            >
              {waiting} new — show
            </button>
          )}
        </div>
        {error && (
          <p className="banner banner-warn" role="alert">
            History unavailable: {error} Live incidents are still shown.
          </p>
        )}
        <div
          className="table-wrap"
          ref={tableRef}
          tabIndex={0}
          onKeyDown={onTableKey}
          onFocus={() => setHold(true)}
          onBlur={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setHold(false);
          }}
          aria-label="Incidents; arrow keys or j/k to move, Enter to open"
        >
          <table className="incident-table" data-testid="incident-table">
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th
                    key={c.key}
                    className={c.numeric ? 'num' : undefined}
                    aria-sort={query.sort === c.key ? (query.desc ? 'descending' : 'ascending') : 'none'}
                  >
                    <button type="button" onClick={() => sortBy(c.key)} data-testid={`sort-${c.key}`}>
                      {c.label}
                      {query.sort === c.key ? (query.desc ? ' ▾' : ' ▴') : ''}
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((i) => (
                <tr
                  key={i.id}
                  data-testid="incident-row"
                  data-id={i.id}
                  data-kind={i.kind}
                  data-status={i.status}
                  aria-selected={selected === i.id}
                  className={`row-sev-${i.severity}${selected === i.id ? ' selected' : ''}${i.status === 'resolved' ? ' resolved' : ''}`}
                  onClick={() => navigate(`/incidents/${encodeURIComponent(i.id)}`)}
                >
                  <td>
                    <span className={`sev sev-${i.severity}`}>{i.severity}</span>
                  </td>
                  <td>
                    <span className="kind-chip" style={{ borderColor: kindColor(i.kind), color: kindColor(i.kind) }}>
                      {KIND_LABEL[i.kind]}
                    </span>
                    {i.simulated && (
                      <>
                        {' '}
                        <span className="badge-simulated" title="Backfilled demo history, not observed traffic">
                          simulated
                        </span>
                      </>
                    )}
                  </td>
                  <td>{i.direction === 'inbound' ? '⇣ in' : '⇡ out'}</td>
                  <td className="mono">
                    {targetLabel(i)}
                    {i.target?.customer && <span className="sub"> {i.target.customer}</span>}
                  </td>
                  <td className="num">{int(i.sources.distinct)}</td>
                  <td className="num">
                    {si(i.peak.pps, 'pps')}
                    <span className="sub"> {si(i.peak.bps, 'bps')}</span>
                  </td>
                  <td>{topUpstream(i) || '–'}</td>
                  <td>
                    <span className={`status status-${i.status}`}>{i.status}</span>
                  </td>
                  <td className="num">{age(now - Date.parse(i.firstSeen))}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && (
            <div className="empty" data-testid="incidents-empty">
              {!hasSnapshot
                ? 'Connecting to the live feed…'
                : filtered
                  ? 'No incident matches these filters. Clear them to see everything.'
                  : 'No active incidents. Downstream is watching the flow exporters and will list abuse here as soon as it is detected.'}
            </div>
          )}
        </div>
      </div>
    </main>
  );
}
