import type { Incident } from '@downstream/shared';
import { Suspense, useMemo, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { IncidentTimeline } from '../../charts/incident-timeline.js';
import { age, int, KIND_LABEL, kindColor, pct, si, sourceCounts, time } from '../../format.js';
import { useIncident } from '../../live/use-incident.js';
import { useIncidentRoom } from '../../live/use-incident-room.js';
import { useNow } from '../../live/use-now.js';
import { ErrorBoundary } from '../common/error-boundary.js';
import { downloadCsv } from '../common/csv.js';
import { AuditTrail, IncidentActions } from './incident-actions.js';
import { AbuseReports, MitigationPanel } from './incident-ops.js';
import { IncidentComplaints } from '../remediation/complaints-panel.js';
import { lazyRetry } from '../common/lazy-retry.js';
import { DataAttribution } from '../common/attribution.js';

// deck.gl is most of the bundle: only pages with a graph download it.
const FanInGraph = lazyRetry(() => import('../../charts/fan-in-graph.js').then((m) => ({ default: m.FanInGraph })));

const PROTO: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 47: 'GRE', 50: 'ESP', 58: 'ICMPv6' };

/** `/incidents/:id`: everything an operator needs to understand and act on one incident. */
export function IncidentView() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const now = useNow(1000);
  const { detail, columns: restColumns, columnsError, incident: fetched, loading, error, notFound } = useIncident(id);
  const room = useIncidentRoom(id, detail?.timeline);
  const [local, setLocal] = useState<Incident>();
  // Bumped by mitigation announce/withdraw, which the incident itself may not reflect at once.
  const [opsVersion, setOpsVersion] = useState(0);

  const asnParam = params.get('asn');
  const selectedAsn = asnParam !== null && /^-?\d+$/.test(asnParam) ? Number(asnParam) : undefined;
  const selectAsn = (asn: number | undefined) => {
    const next = new URLSearchParams(params);
    if (asn === undefined) next.delete('asn');
    else next.set('asn', String(asn));
    setParams(next, { replace: true });
  };

  const graph = room.graph ?? restColumns;

  // The action's answer is newer than anything else until the next live upsert.
  const incident =
    local && fetched && local.lastSeen >= fetched.lastSeen && local.notes.length >= fetched.notes.length
      ? local
      : fetched;

  const asnNames = useMemo(() => {
    const m = new Map<number, string>();
    for (const s of incident?.sources.top ?? []) m.set(s.asn, s.asName);
    for (const a of incident?.sources.asns ?? []) m.set(a.asn, a.name);
    return m;
  }, [incident?.sources]);

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
  const topSources = i.sources.top.filter((s) => selectedAsn === undefined || s.asn === selectedAsn);
  const series = room.series ?? detail?.timeline ?? [];
  const counts = sourceCounts(i, graph?.count);
  const entry = i.upstreams.filter((u) => u.share > 0).sort((a, b) => b.share - a.share);
  return (
    <main
      className="page incident-page"
      data-testid="incident-detail"
      data-id={i.id}
      data-kind={i.kind}
      data-status={i.status}
    >
      <div className="incident-layout">
        <div className="incident-main">
          <section className="incident-head">
            <h1>
              <span
                className="kind-chip big"
                style={{ borderColor: kindColor(i.kind), color: kindColor(i.kind) }}
                data-testid="incident-kind"
              >
                {KIND_LABEL[i.kind]}
              </span>
              <span className="mono" data-testid="incident-target">
                {i.target ? (
                  <Link to={`/endpoints/${encodeURIComponent(i.target.ip)}`}>{i.target.ip}</Link>
                ) : (
                  'no single target'
                )}
              </span>
              {i.target?.customer && <span className="sub">{i.target.customer}</span>}
              <span className={`status status-${i.status}`} data-testid="incident-status">
                {i.status}
              </span>
              {i.simulated && (
                <span
                  className="badge-simulated"
                  data-testid="simulated-badge"
                  title="Backfilled demo history, not observed traffic"
                >
                  simulated
                </span>
              )}
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
                <dt>Sources now</dt>
                <dd data-testid="incident-sources">{int(counts.now)}</dd>
              </div>
              <div>
                <dt>Sources peak</dt>
                <dd data-testid="incident-sources-peak">{int(counts.peak)}</dd>
              </div>
              <div>
                <dt>Sources total</dt>
                <dd
                  data-testid="incident-sources-total"
                  title={
                    counts.listed < counts.total
                      ? `At least the peak (estimated); ${int(counts.listed)} sources listed by name`
                      : 'Sources listed over the whole incident'
                  }
                >
                  {int(counts.total)}
                </dd>
              </div>
              <div>
                <dt>Enters via</dt>
                <dd data-testid="incident-entry">
                  {entry.length > 0
                    ? entry
                        .slice(0, 2)
                        .map((u) => `${u.name} ${pct(u.share)}`)
                        .join(' · ')
                    : '–'}
                </dd>
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
            {i.evidence.summary && (
              <p className="evidence-summary" data-testid="evidence-summary">
                <span className="sub">Now (latest detector window):</span> {i.evidence.summary}
              </p>
            )}
            {i.evidence.reason && (
              <p className="evidence-summary" data-testid="incident-reason">
                <strong>Why:</strong> {i.evidence.reason}
              </p>
            )}
          </section>

          <section className="panel graph-panel">
            <div className="panel-bar">
              <h2>
                {i.direction === 'outbound' ? 'Offending endpoints' : 'Fan-in'} · {int(graph?.count ?? 0)} sources
                total, by network
              </h2>
              {selectedAsn !== undefined && (
                <button
                  type="button"
                  className="filter-chip"
                  onClick={() => selectAsn(undefined)}
                  data-testid="asn-filter"
                >
                  {selectedAsn < 0 ? 'other networks' : `AS${selectedAsn} ${asnNames.get(selectedAsn) ?? ''}`} ✕
                </button>
              )}
              <span className="sub hint">scroll to zoom · drag to pan · click a network to filter</span>
            </div>
            <div className="graph-body" data-testid="incident-graph">
              {graph && graph.count > 0 ? (
                <ErrorBoundary what="The graph" resetKey={id}>
                  <Suspense fallback={<p className="empty">Loading the graph…</p>}>
                    <FanInGraph
                      graph={graph}
                      kind={i.kind}
                      targetLabel={i.target?.ip ?? (i.direction === 'outbound' ? 'the Internet' : '')}
                      asnNames={asnNames}
                      selectedAsn={selectedAsn}
                      onSelectAsn={selectAsn}
                      upstreams={i.upstreams}
                    />
                  </Suspense>
                </ErrorBoundary>
              ) : (
                <p className="empty">
                  {columnsError
                    ? `The server sent a source list this page cannot read (${columnsError}); server and web app versions may differ.`
                    : detail
                      ? 'The detector reported no individual sources for this incident.'
                      : loading
                        ? 'Loading sources…'
                        : `Sources unavailable: ${error ?? 'no data'}`}
                </p>
              )}
            </div>
          </section>

          <section className="panel">
            <h2>Timeline</h2>
            <IncidentTimeline points={series} />
          </section>

          <div className="grid-2">
            <section className="panel">
              <div className="panel-head">
                <h2>
                  {i.direction === 'outbound' ? 'Offending customer endpoints' : 'Top sources'}
                  {selectedAsn !== undefined && ` in ${selectedAsn < 0 ? 'other networks' : `AS${selectedAsn}`}`} (
                  {topSources.length})
                </h2>
                <button
                  type="button"
                  data-testid="export-sources"
                  disabled={topSources.length === 0}
                  onClick={() =>
                    downloadCsv(
                      `downstream-${i.kind}-${i.id}-${i.direction === 'outbound' ? 'call-list' : 'sources'}.csv`,
                      [
                        ['ip', 'customer', 'subscriber', 'session', 'asn', 'as_name', 'country', 'packets', 'bytes'],
                        ...topSources.map((s) => [
                          s.ip,
                          s.customer ?? '',
                          s.subscriber?.subscriber ?? '',
                          s.subscriber?.session ?? '',
                          s.asn,
                          s.asName,
                          s.country,
                          s.packets,
                          s.bytes,
                        ]),
                      ],
                    )
                  }
                  title={
                    i.direction === 'outbound' ? 'The call list for remediation, every endpoint' : 'All listed sources'
                  }
                >
                  {i.direction === 'outbound' ? 'Call list CSV' : 'CSV'}
                </button>
              </div>
              <div className="scroll-y">
                <table className="data-table" data-testid="top-sources">
                  <thead>
                    <tr>
                      <th>IP</th>
                      <th>ASN</th>
                      <th>Country</th>
                      <th>Customer</th>
                      {i.direction === 'outbound' && <th>Subscriber then</th>}
                      <th className="num">Packets</th>
                      <th className="num">Bytes</th>
                    </tr>
                  </thead>
                  <tbody>
                    {topSources.slice(0, 500).map((s) => (
                      <tr key={s.ip}>
                        <td className="mono">
                          <Link to={`/endpoints/${encodeURIComponent(s.ip)}`}>{s.ip}</Link>
                        </td>
                        <td>
                          <Link to={`/asns/${s.asn}`}>AS{s.asn}</Link> <span className="sub">{s.asName}</span>
                        </td>
                        <td>{s.country}</td>
                        <td>{s.customer ?? ''}</td>
                        {i.direction === 'outbound' && (
                          <td
                            data-testid="source-subscriber"
                            title={
                              s.subscriber
                                ? `${s.subscriber.prefix}, ${s.subscriber.from} – ${s.subscriber.to ?? 'now'}`
                                : undefined
                            }
                          >
                            {s.subscriber?.subscriber ?? ''}
                          </td>
                        )}
                        <td className="num">{si(s.packets)}</td>
                        <td className="num">{si(s.bytes, 'B')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {topSources.length === 0 && (
                  <p className="empty">No listed source {selectedAsn !== undefined ? 'in this network' : ''}.</p>
                )}
              </div>
            </section>
            <section className="panel">
              <h2>Source networks</h2>
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
                    <tr key={a.asn} className={a.asn === selectedAsn ? 'selected' : undefined}>
                      <td>
                        <button
                          type="button"
                          className="link"
                          onClick={() => selectAsn(a.asn === selectedAsn ? undefined : a.asn)}
                        >
                          AS{a.asn}
                        </button>
                      </td>
                      <td>
                        <Link to={`/asns/${a.asn}`}>{a.name}</Link>
                      </td>
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
              <h2>Ports and protocols</h2>
              <table className="data-table" data-testid="ports">
                <tbody>
                  {(i.evidence.ports ?? []).map((p) => (
                    <tr key={`p${p.port}`}>
                      <td>port {p.port}</td>
                      <td className="num">{pct(p.share)}</td>
                    </tr>
                  ))}
                  {(i.evidence.protocols ?? []).map((p) => (
                    <tr key={`x${p.proto}`}>
                      <td>{PROTO[p.proto] ?? `proto ${p.proto}`}</td>
                      <td className="num">{pct(p.share)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {i.evidence.meanPacketSize !== undefined && (
                <p className="sub">mean packet size {Math.round(i.evidence.meanPacketSize)} B</p>
              )}
            </section>
          </div>
        </div>
        <aside className="incident-side" data-testid="incident-side">
          <section className="panel">
            <h2>Actions</h2>
            <IncidentActions incident={i} onChanged={setLocal} />
          </section>
          <AbuseReports incident={i} />
          {i.direction === 'inbound' ? (
            <MitigationPanel incident={i} onChanged={() => setOpsVersion((v) => v + 1)} />
          ) : (
            <section className="panel" data-testid="mitigation">
              <h2>Mitigation</h2>
              <p className="empty">
                Outbound abuse is ended at the customer: see the <Link to="/remediation">remediation list</Link>.
              </p>
            </section>
          )}
        </aside>
      </div>

      <IncidentComplaints incidentId={i.id} />

      <section className="panel">
        <h2>Audit trail</h2>
        <AuditTrail incidentId={i.id} notes={i.notes} version={`${i.status}|${i.notes.length}|${opsVersion}`} />
      </section>
      <DataAttribution />
    </main>
  );
}
