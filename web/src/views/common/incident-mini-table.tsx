import type { Incident } from '@downstream/shared';
import { Link } from 'react-router';
import { int, KIND_LABEL, kindColor, si, time } from '../../format.js';

/** A compact incident list for drill-down pages; each row links to its incident. */
export function IncidentMiniTable({ incidents, testId }: { incidents: readonly Incident[]; testId?: string }) {
  if (incidents.length === 0) return <p className="empty">No incident in this range.</p>;
  return (
    <table className="data-table" data-testid={testId}>
      <thead>
        <tr>
          <th>Kind</th>
          <th>Target</th>
          <th className="num">Sources now</th>
          <th className="num">Peak</th>
          <th>Status</th>
          <th>First seen</th>
        </tr>
      </thead>
      <tbody>
        {incidents.map((i) => (
          <tr key={i.id} data-testid="mini-incident-row" data-id={i.id}>
            <td>
              <Link to={`/incidents/${encodeURIComponent(i.id)}`} style={{ color: kindColor(i.kind) }}>
                {KIND_LABEL[i.kind]}
              </Link>
              {i.simulated && (
                <>
                  {' '}
                  <span className="badge-simulated" title="Backfilled demo history, not observed traffic">
                    simulated
                  </span>
                </>
              )}
            </td>
            <td className="mono">{i.target?.ip ?? i.sources.top[0]?.ip ?? ''}</td>
            <td className="num">{int(i.sources.distinct)}</td>
            <td className="num">{si(i.peak.pps, 'pps')}</td>
            <td>
              <span className={`status status-${i.status}`}>{i.status}</span>
            </td>
            <td>{time(i.firstSeen)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
