import { EndpointHistory, IncidentKind } from '@downstream/shared';
import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { SeriesChart, type SeriesLine } from '../charts/series-chart.js';
import { KIND_LABEL, kindColor, si, time } from '../format.js';
import { useApi } from '../live/use-api.js';
import { IncidentMiniTable } from './incident-mini-table.js';
import { RangePicker } from './range-picker.js';
import { parseRange, RANGES, rangeQuery, type RangeKey } from './ranges.js';
import { DataAttribution } from './attribution.js';

const OPTIONS: RangeKey[] = ['24h', '7d', '30d', '90d'];

/** Rollup rows (newest first, per kind) → one aligned series per kind. */
export function rollupLines(rollups: EndpointHistory['rollups']): { times: number[]; lines: SeriesLine[] } {
  const times = [...new Set(rollups.map((r) => Date.parse(r.t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const byKind = new Map<IncidentKind, (number | null)[]>();
  for (const r of rollups) {
    let v = byKind.get(r.kind);
    if (!v) byKind.set(r.kind, (v = times.map(() => null)));
    const i = index.get(Date.parse(r.t))!;
    v[i] = (v[i] ?? 0) + r.bytes;
  }
  const lines = [...byKind.entries()].map(([k, values]) => ({ label: KIND_LABEL[k], color: kindColor(k), values }));
  return { times, lines };
}

/** `/endpoints/:ip`: one address over time — what an operator reads before calling the customer. */
export function EndpointView() {
  const { ip = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const range = parseRange(params.get('range'), '7d');
  const path = useMemo(() => {
    const q = rangeQuery(range);
    q.delete('step');
    return `/api/endpoints/${encodeURIComponent(ip)}?${q}`;
  }, [ip, range]);
  const { data, error, loading } = useApi(path, EndpointHistory, 60_000);
  const series = useMemo(() => (data ? rollupLines(data.rollups) : undefined), [data]);

  return (
    <main className="page" data-testid="endpoint-page" data-ip={ip}>
      <div className="toolbar">
        <h1 className="page-title mono">{ip}</h1>
        <RangePicker value={range} options={OPTIONS} onChange={(r) => setParams({ range: r }, { replace: true })} />
      </div>
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {!data && loading && <p className="empty">Loading {ip}…</p>}
      {data && (
        <>
          <dl className="facts" data-testid="endpoint-facts">
            <div>
              <dt>Customer</dt>
              <dd data-testid="endpoint-customer">{data.customer ?? 'not one of ours'}</dd>
            </div>
            <div>
              <dt>Network</dt>
              <dd>
                <Link to={`/asns/${data.asn}`}>AS{data.asn}</Link> {data.asName}
              </dd>
            </div>
            <div>
              <dt>Country</dt>
              <dd>{data.country || '–'}</dd>
            </div>
            <div>
              <dt>Abusive bytes ({RANGES[range].label})</dt>
              <dd>{si(data.total.bytes, 'B')}</dd>
            </div>
            <div>
              <dt>Incidents</dt>
              <dd data-testid="endpoint-incident-count">{data.incidents.length}</dd>
            </div>
          </dl>
          <div className="kind-bars">
            {IncidentKind.options
              .filter((k) => (data.byKind[k] ?? 0) > 0)
              .map((k) => (
                <span key={k} className="kind-chip" style={{ color: kindColor(k), borderColor: kindColor(k) }}>
                  {KIND_LABEL[k]} {si(data.byKind[k] ?? 0, 'B')}
                </span>
              ))}
          </div>
          <section className="panel">
            <h2>Abusive traffic by kind</h2>
            {series && series.times.length > 0 ? (
              <SeriesChart times={series.times} lines={series.lines} unit="B" stepped testId="endpoint-timeline" />
            ) : (
              <p className="empty">
                No abusive traffic from or to {ip} recorded in this range. Traffic is stored per completed minute, so a
                just-started incident shows here within a minute.
              </p>
            )}
          </section>
          <section className="panel">
            <h2>Incidents involving {ip}</h2>
            <IncidentMiniTable incidents={data.incidents} testId="endpoint-incidents" />
          </section>
          <p className="sub">
            Range {time(data.from)} – {time(data.to)}
          </p>
        </>
      )}
      <DataAttribution />
    </main>
  );
}
