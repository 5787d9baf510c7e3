import { ComplaintList } from '@downstream/shared';
import { Link } from 'react-router';
import { time } from '../../format.js';
import { useApi } from '../../live/use-api.js';

const FORMAT: Record<string, string> = { arf: 'ARF', 'xarf-0.2': 'X-ARF 0.2', 'xarf-3': 'X-ARF v3' };

/** Abuse reports other networks sent about an incident's or a remediation entry's endpoint. */
export function ComplaintsTable({ query, empty }: { query: string; empty?: string }) {
  const list = useApi(`/api/complaints?${query}`, ComplaintList, 30_000);
  if (list.error)
    return (
      <p className="banner banner-error" role="alert">
        {list.error}
      </p>
    );
  if (!list.data) return <p className="empty">Loading complaints…</p>;
  if (list.data.complaints.length === 0) return empty ? <p className="empty">{empty}</p> : null;
  return (
    <table className="data-table" data-testid="complaints-table">
      <thead>
        <tr>
          <th>Reported</th>
          <th>From</th>
          <th>Type</th>
          <th>Address</th>
          <th>Report</th>
          <th>Incidents</th>
        </tr>
      </thead>
      <tbody>
        {list.data.complaints.map((c) => (
          <tr key={c.id} data-testid="complaint-row">
            <td title={`received ${time(c.receivedAt)} via ${c.via}`}>{time(c.reportedAt)}</td>
            <td>{c.reporter ?? '–'}</td>
            <td>
              {c.type} <span className="sub">{FORMAT[c.format] ?? c.format}</span>
            </td>
            <td className="mono">
              <Link to={`/endpoints/${encodeURIComponent(c.ip)}`}>{c.ip}</Link>
            </td>
            <td className="complaint-report">
              {c.subject && <div>{c.subject}</div>}
              <div className="sub">{c.summary}</div>
            </td>
            <td>
              {c.incidents.map((id, k) => (
                <Link key={id} to={`/incidents/${encodeURIComponent(id)}`}>
                  {k > 0 && ' '}#{k + 1}
                </Link>
              ))}
              {c.opened && <div className="sub">opened: nothing seen in flows</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The incident page's panel: shown once a complaint is attached. */
export function IncidentComplaints({ incidentId }: { incidentId: string }) {
  return (
    <section className="panel" data-testid="incident-complaints">
      <h2>Complaints from other networks</h2>
      <ComplaintsTable
        query={`incident=${encodeURIComponent(incidentId)}`}
        empty="No abuse report from another network is attached to this incident."
      />
    </section>
  );
}
