import { useParams, Link } from 'react-router';
import { age, int, KIND_LABEL, kindColor, pct, si, time } from '../format.js';
import { useIncident } from '../live/use-incident.js';
import { useNow } from '../live/use-now.js';

/** `/incidents/:id`: everything an operator needs to understand and act on one incident. */
export function IncidentView() {
  const { id = '' } = useParams();
  const now = useNow(1000);
  const { incident, loading, error, notFound } = useIncident(id);

  if (!incident) {
    return (
      <main className="page">
        {loading ? (
          <p className="empty">Loading incident {id}…</p>
        ) : notFound ? (
          <p className="empty" role="alert">
            Incident {id} does not exist (any more). <Link to="/incidents">Back to the incident list</Link>.
          </p>
        ) : (
          <p className="banner banner-error" role="alert">
            Could not load incident {id}: {error}
          </p>
        )}
      </main>
    );
  }

  const i = incident;
  return (
    <main className="page incident-page" data-testid="incident-detail" data-id={i.id} data-kind={i.kind}>
      <section className="incident-head">
        <h1>
          <span className="kind-chip big" style={{ borderColor: kindColor(i.kind), color: kindColor(i.kind) }} data-testid="incident-kind">
            {KIND_LABEL[i.kind]}
          </span>
          <span className="mono" data-testid="incident-target">
            {i.target?.ip ?? 'no single target'}
          </span>
          {i.target?.customer && <span className="sub">{i.target.customer}</span>}
          <span className={`status status-${i.status}`} data-testid="incident-status">
            {i.status}
          </span>
        </h1>
        <dl className="facts">
          <div>
            <dt>Direction</dt>
            <dd>{i.direction}</dd>
          </div>
          <div>
            <dt>Severity</dt>
            <dd className={`sev-${i.severity}`}>{i.severity}</dd>
          </div>
          <div>
            <dt>Sources</dt>
            <dd data-testid="incident-sources">{int(i.sources.distinct)}</dd>
          </div>
          <div>
            <dt>Peak</dt>
            <dd data-testid="incident-peak">
              {si(i.peak.pps, 'pps')} · {si(i.peak.bps, 'bps')}
            </dd>
          </div>
          <div>
            <dt>First seen</dt>
            <dd title={time(i.firstSeen)}>{age(now - Date.parse(i.firstSeen))} ago</dd>
          </div>
          <div>
            <dt>Last seen</dt>
            <dd title={time(i.lastSeen)}>{age(now - Date.parse(i.lastSeen))} ago</dd>
          </div>
          <div>
            <dt>Detectors</dt>
            <dd>{i.detectors.join(', ') || '–'}</dd>
          </div>
        </dl>
        {i.evidence.summary && <p className="evidence-summary">{i.evidence.summary}</p>}
      </section>

      <section className="panel graph-panel" data-testid="incident-graph">
        <div className="graph-placeholder">Fan-in graph of {int(i.sources.distinct)} sources</div>
      </section>

      <div className="grid-2">
        <section className="panel">
          <h2>Top sources</h2>
          <table className="data-table" data-testid="top-sources">
            <thead>
              <tr>
                <th>IP</th>
                <th>ASN</th>
                <th>Country</th>
                <th>Customer</th>
                <th className="num">Packets</th>
                <th className="num">Bytes</th>
              </tr>
            </thead>
            <tbody>
              {i.sources.top.slice(0, 50).map((s) => (
                <tr key={s.ip}>
                  <td className="mono">
                    <Link to={`/endpoints/${encodeURIComponent(s.ip)}`}>{s.ip}</Link>
                  </td>
                  <td>
                    <Link to={`/asns/${s.asn}`}>AS{s.asn}</Link> <span className="sub">{s.asName}</span>
                  </td>
                  <td>{s.country}</td>
                  <td>{s.customer ?? ''}</td>
                  <td className="num">{si(s.packets)}</td>
                  <td className="num">{si(s.bytes, 'B')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {i.sources.top.length === 0 && <p className="empty">No individual sources reported.</p>}
        </section>
        <section className="panel">
          <h2>Source ASNs</h2>
          <table className="data-table" data-testid="top-asns">
            <thead>
              <tr>
                <th>ASN</th>
                <th>Name</th>
                <th className="num">Share</th>
              </tr>
            </thead>
            <tbody>
              {i.sources.asns.slice(0, 30).map((a) => (
                <tr key={a.asn}>
                  <td>
                    <Link to={`/asns/${a.asn}`}>AS{a.asn}</Link>
                  </td>
                  <td>{a.name}</td>
                  <td className="num">{pct(a.share)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Upstream links</h2>
          <table className="data-table" data-testid="upstreams">
            <tbody>
              {i.upstreams.map((u) => (
                <tr key={u.name}>
                  <td>{u.name}</td>
                  <td className="num">{pct(u.share)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {i.upstreams.length === 0 && <p className="empty">No upstream link attributed.</p>}
        </section>
      </div>
    </main>
  );
}
