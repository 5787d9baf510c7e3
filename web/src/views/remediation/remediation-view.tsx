import { RemediationEntry, RemediationList, RemediationStatus } from '@downstream/shared';
import { Fragment, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { z } from 'zod';
import { age, KIND_LABEL, si, time } from '../../format.js';
import { apiPost, downloadFile } from '../../live/api.js';
import { useApi } from '../../live/use-api.js';
import { useNow } from '../../live/use-now.js';
import { RemediationHistoryRow, RemediationWatchNote } from './remediation-history.js';
import { filterQuery, groupByCustomer, movesFrom, parseFilter, type RemediationFilter } from './remediation-model.js';
import { SubscriberButtons, SubscriberCell, useSubscriberCaps } from './subscriber-actions.js';

const Summary = z.object({
  customers: z.array(
    z.object({
      customer: z.string(),
      open: z.number(),
      notified: z.number(),
      remediated: z.number(),
      lastSeen: z.string(),
    }),
  ),
});

const STATUS_OPTIONS: (RemediationStatus | 'all')[] = ['all', ...RemediationStatus.options];

/**
 * `/remediation`: infected customer endpoints, per customer — the customer-care call list
 * (RFC 6561 spirit). Operators move each endpoint open → notified → remediated.
 */
export function RemediationView() {
  const [params, setParams] = useSearchParams();
  const filter = parseFilter(params);
  const query = filterQuery(filter);
  const now = useNow(5000);
  const list = useApi(`/api/remediation${query ? `?${query}` : ''}`, RemediationList, 10_000);
  const summary = useApi('/api/remediation/summary', Summary, 10_000);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState<number>();
  const [expanded, setExpanded] = useState<number>();
  const [actionError, setActionError] = useState<string>();
  const caps = useSubscriberCaps();

  const setFilter = (f: RemediationFilter) => setParams(new URLSearchParams(filterQuery(f)), { replace: true });

  const move = async (e: RemediationEntry, to: RemediationStatus) => {
    setBusy(e.id);
    setActionError(undefined);
    try {
      const text = note.trim();
      await apiPost(`/api/remediation/${e.id}`, text ? { status: to, note: text } : { status: to }, RemediationEntry);
      setNote('');
      list.reload();
      summary.reload();
    } catch (err) {
      setActionError(`${e.ip}: ${(err as Error).message}`);
    } finally {
      setBusy(undefined);
    }
  };

  const csv = `/api/remediation.csv${query ? `?${query}` : ''}`;
  const groups = groupByCustomer(list.data?.entries ?? []);
  return (
    <main className="page" data-testid="remediation-page">
      <div className="toolbar">
        <h1 className="page-title">Remediation</h1>
        <label>
          Customer{' '}
          <select
            value={filter.customer ?? ''}
            onChange={(ev) => setFilter({ ...filter, customer: ev.target.value || undefined })}
            data-testid="filter-customer"
          >
            <option value="">all customers</option>
            {filter.customer && !summary.data?.customers.some((c) => c.customer === filter.customer) && (
              <option value={filter.customer}>{filter.customer}</option>
            )}
            {summary.data?.customers.map((c) => (
              <option key={c.customer} value={c.customer}>
                {c.customer}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select
            value={filter.status ?? 'all'}
            onChange={(ev) => {
              const s = RemediationStatus.safeParse(ev.target.value);
              setFilter({ ...filter, status: s.success ? s.data : undefined });
            }}
            data-testid="filter-status"
          >
            {STATUS_OPTIONS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <a
          className="button"
          href={csv}
          data-testid="remediation-csv"
          onClick={(ev) => {
            if (ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
            ev.preventDefault();
            downloadFile(csv, 'remediation.csv').catch((err: Error) => setActionError(err.message));
          }}
        >
          CSV
        </a>
        <input
          className="note-input"
          value={note}
          onChange={(ev) => setNote(ev.target.value)}
          placeholder="Note for the next status change (ticket, who you called)…"
          aria-label="Note"
          data-testid="remediation-note"
        />
      </div>

      {summary.data && summary.data.customers.length > 0 && (
        <table className="data-table remediation-summary" data-testid="remediation-summary">
          <thead>
            <tr>
              <th>Customer</th>
              <th className="num">Open</th>
              <th className="num">Notified</th>
              <th className="num">Remediated</th>
              <th>Last seen</th>
            </tr>
          </thead>
          <tbody>
            {summary.data.customers.map((c) => (
              <tr key={c.customer} className={c.customer === filter.customer ? 'selected' : undefined}>
                <td>
                  <button
                    type="button"
                    className="link"
                    onClick={() =>
                      setFilter({ ...filter, customer: c.customer === filter.customer ? undefined : c.customer })
                    }
                  >
                    {c.customer}
                  </button>
                </td>
                <td className="num">{c.open}</td>
                <td className="num">{c.notified}</td>
                <td className="num">{c.remediated}</td>
                <td title={time(c.lastSeen)}>{age(now - Date.parse(c.lastSeen))} ago</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {actionError && (
        <p className="banner banner-error" role="alert" data-testid="remediation-error">
          {actionError}
        </p>
      )}
      {list.error && (
        <p className="banner banner-error" role="alert">
          {list.error}
        </p>
      )}
      {!list.data && list.loading && <p className="empty">Loading the remediation list…</p>}
      {list.data && groups.length === 0 && (
        <p className="empty" data-testid="remediation-empty">
          {query
            ? 'No customer endpoint matches these filters.'
            : 'No infected customer endpoint yet. Outbound incidents (spam bots, scanners, botnet participation) put the customer endpoints they name on this list.'}
        </p>
      )}
      {groups.length > 0 && (
        <table className="data-table" data-testid="remediation-table">
          <thead>
            <tr>
              <th>Endpoint</th>
              <th>Subscriber</th>
              <th>Abuse</th>
              <th>Evidence</th>
              <th className="num">Traffic</th>
              <th>First seen</th>
              <th>Last seen</th>
              <th>Status</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <Fragment key={g.customer}>
                <tr className="group-row">
                  <th colSpan={9}>
                    {g.customer}{' '}
                    <span className="sub">
                      {g.entries.length} endpoint{g.entries.length === 1 ? '' : 's'}
                    </span>
                  </th>
                </tr>
                {g.entries.map((e) => (
                  <Fragment key={e.id}>
                    <tr data-testid="remediation-row" data-id={e.id} data-status={e.status}>
                      <td className="mono">
                        <Link to={`/endpoints/${encodeURIComponent(e.ip)}`}>{e.ip}</Link>
                      </td>
                      <td>
                        <SubscriberCell entry={e} />
                        {/* In the subscriber cell: the row's action column would overflow with four more buttons. */}
                        <div className="row-actions subscriber-actions">
                          <SubscriberButtons
                            entry={e}
                            caps={caps}
                            disabled={busy !== undefined}
                            onDone={() => {
                              list.reload();
                              summary.reload();
                            }}
                            onError={setActionError}
                          />
                        </div>
                      </td>
                      <td>
                        {e.kinds.map((k) => KIND_LABEL[k]).join(', ')}{' '}
                        <span className="sub">
                          {e.incidents.slice(-3).map((id, k) => (
                            <Fragment key={id}>
                              {k > 0 && ' '}
                              <Link to={`/incidents/${encodeURIComponent(id)}`}>#{k + 1}</Link>
                            </Fragment>
                          ))}
                        </span>
                      </td>
                      <td className="evidence">{e.evidence}</td>
                      <td className="num nowrap">
                        {si(e.packets)} pkts · {si(e.bytes, 'B')}
                      </td>
                      <td title={time(e.firstSeen)}>{age(now - Date.parse(e.firstSeen))} ago</td>
                      <td title={time(e.lastSeen)}>{age(now - Date.parse(e.lastSeen))} ago</td>
                      <td>
                        <span className={`status rem-${e.status}`} data-testid="remediation-status">
                          {e.status}
                        </span>
                        {e.recurred && (
                          <span className="sub" title="Seen again after it was marked remediated">
                            {' '}
                            recurred
                          </span>
                        )}
                        {e.statusBy && (
                          <div className="sub" title={e.note ?? undefined}>
                            {e.statusBy}, {age(now - Date.parse(e.statusAt))} ago{e.note ? `: ${e.note}` : ''}
                          </div>
                        )}
                        <RemediationWatchNote entry={e} now={now} />
                      </td>
                      <td className="row-actions">
                        {movesFrom(e.status).map((m) => (
                          <button
                            key={m.to}
                            type="button"
                            disabled={busy !== undefined}
                            onClick={() => move(e, m.to)}
                            data-testid={`remediation-${m.to}`}
                          >
                            {m.label}
                          </button>
                        ))}
                        <button
                          type="button"
                          className="link"
                          aria-expanded={expanded === e.id}
                          onClick={() => setExpanded(expanded === e.id ? undefined : e.id)}
                          data-testid="remediation-history-toggle"
                        >
                          History
                        </button>
                      </td>
                    </tr>
                    {expanded === e.id && <RemediationHistoryRow id={e.id} colSpan={9} />}
                  </Fragment>
                ))}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
