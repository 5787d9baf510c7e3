import { RemediationHistory, type RemediationEntry } from '@downstream/shared';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { age, time } from '../../format.js';
import { useApi } from '../../live/use-api.js';
import { ComplaintsTable } from './complaints-panel.js';

/** Under the status: recurrences in the watch, the watch itself, complaints attached. */
export function RemediationWatchNote({ entry, now }: { entry: RemediationEntry; now: number }) {
  const parts: ReactNode[] = [];
  if (entry.watch?.state === 'watching')
    parts.push(
      <span key="w" title={`abuse before ${time(entry.watch.until)} reopens it as a recurrence`}>
        watched {age(Date.parse(entry.watch.until) - now)} more
      </span>,
    );
  if (entry.watch?.state === 'verified')
    parts.push(
      <span key="v" className="rem-verified" title={`no abuse until ${time(entry.watch.until)}`}>
        verified clean
      </span>,
    );
  if (entry.recurrences)
    parts.push(
      <span key="r" data-testid="remediation-recurrences">
        {entry.recurrences} recurrence{entry.recurrences === 1 ? '' : 's'}
      </span>,
    );
  if (entry.complaints)
    parts.push(
      <span key="c" data-testid="remediation-complaints">
        {entry.complaints} complaint{entry.complaints === 1 ? '' : 's'}
      </span>,
    );
  if (parts.length === 0) return null;
  return (
    <div className="sub">
      {parts.map((p, i) => (
        <span key={i}>
          {i > 0 && ' · '}
          {p}
        </span>
      ))}
    </div>
  );
}

const WHAT: Record<string, string> = {
  recurrence: 'recurrence',
  reopen: 'reopened (after the watch)',
  complaint: 'complaint attached',
  verified: 'verified clean (no abuse during the watch)',
};

/** The expanded row: the entry's history and the complaints about it. */
export function RemediationHistoryRow({ id, colSpan }: { id: number; colSpan: number }) {
  const h = useApi(`/api/remediation/${id}/history`, RemediationHistory);
  return (
    <tr className="history-row" data-testid="remediation-history">
      <td colSpan={colSpan}>
        {h.error && <p className="banner banner-error">{h.error}</p>}
        {!h.data && !h.error && <p className="empty">Loading…</p>}
        {h.data && (
          <ol className="history-list">
            {h.data.events.map((e, k) => (
              <li key={k} data-kind={e.kind}>
                {time(e.at)} —{' '}
                {e.kind === 'status' ? (e.from ? `${e.from} → ${e.to}` : `opened (${e.to})`) : WHAT[e.kind]}
                {e.by && <span className="sub"> by {e.by}</span>}
                {e.detail && <span className="sub">: {e.detail}</span>}
                {e.incidentId && (
                  <>
                    {' '}
                    <Link to={`/incidents/${encodeURIComponent(e.incidentId)}`}>incident</Link>
                  </>
                )}
              </li>
            ))}
          </ol>
        )}
        <ComplaintsTable query={`remediation=${id}`} />
      </td>
    </tr>
  );
}
