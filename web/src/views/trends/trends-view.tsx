import { CustomerScorecard, IncidentKind, IncidentList, UpstreamTrends, type Incident } from '@downstream/shared';
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { SeriesChart } from '../../charts/series-chart.js';
import { age, int, KIND_LABEL, kindColor, si, time } from '../../format.js';
import { useApi } from '../../live/use-api.js';
import { downloadCsv, quantile } from '../common/csv.js';
import { TimePicker } from '../common/range-picker.js';
import { RemediationTrendsPanel } from './remediation-trends-panel.js';
import { type RangeKey } from '../common/ranges.js';
import { SimulatedNote } from '../common/simulated-note.js';
import { parseTimeRange, timeRangeQuery } from '../common/time-range.js';

const PERIODS = ['7d', '30d', '90d'] as const satisfies readonly RangeKey[];
type Period = (typeof PERIODS)[number];
const PALETTE = ['#4fc3f7', '#ff8a65', '#aed581', '#ba68c8', '#ffd54f', '#4db6ac', '#f06292', '#90a4ae'];

/** Trend steps per period: enough points to see a trend, few enough to print. */
const STEP: Record<Period, string> = { '7d': '6h', '30d': '1d', '90d': '1d' };

function durations(incidents: readonly Incident[]) {
  const resolved = incidents.filter((i) => i.status === 'resolved');
  const d = resolved.map((i) => Date.parse(i.lastSeen) - Date.parse(i.firstSeen));
  // Acknowledgement time from the audit notes where an operator left one.
  return { resolved: resolved.length, median: quantile(d, 0.5), p90: quantile(d, 0.9) };
}

/** `/trends`: for executives — who carries and who sends abuse over 7/30/90 days. */
export function TrendsView() {
  const [params] = useSearchParams();
  const range = parseTimeRange(params, '30d');
  const preset = (PERIODS as readonly string[]).includes(range.key ?? '') ? (range.key as Period) : undefined;
  const period = preset ?? 'custom';
  const q = useMemo(
    () => timeRangeQuery(range, preset ? STEP[preset] : range.step),
    [range.from, range.to, range.step, preset],
  );
  const from = range.from;
  const toQ = range.to !== undefined ? `&to=${range.to}` : '';
  const upstreams = useApi(`/api/upstreams/trends?${q}`, UpstreamTrends);
  const customers = useApi(`/api/customers?from=${from}${toQ}`, CustomerScorecard);
  const incidents = useApi(
    `/api/incidents?since=${encodeURIComponent(new Date(from).toISOString())}&limit=1000`,
    IncidentList,
  );
  // An absolute range ends before now: leave out incidents first seen after it.
  const inRange = useMemo(
    () => (incidents.data?.incidents ?? []).filter((i) => range.to === undefined || Date.parse(i.firstSeen) < range.to),
    [incidents.data, range.to],
  );

  const byKind = useMemo(() => {
    const m = new Map<IncidentKind, number>();
    for (const i of inRange) m.set(i.kind, (m.get(i.kind) ?? 0) + 1);
    return m;
  }, [inRange]);
  const maxKind = Math.max(1, ...byKind.values());
  const dur = useMemo(() => durations(inRange), [inRange]);
  // Detection latency is only known where a detector reports when the abuse began
  // (evidence.onset); the server does not record it for every kind yet.
  const onsets = inRange.flatMap((i) => {
    const onset = typeof i.evidence.onset === 'string' ? Date.parse(i.evidence.onset) : NaN;
    return Number.isFinite(onset) ? [Date.parse(i.firstSeen) - onset] : [];
  });
  const detect = quantile(onsets, 0.5);
  const detectN = onsets.length;
  const evidenceKey =
    detectN > 0
      ? 'abuse onset → incident opened'
      : 'not reported: no detector states when the abuse began (evidence.onset)';

  const exportCsv = () => {
    const rows: (string | number | null)[][] = [];
    const u = upstreams.data;
    if (u) {
      rows.push(['# abusive bytes per upstream link', `${u.from} – ${u.to}`, `step ${u.step}`]);
      rows.push(['bucket', ...u.upstreams.map((x) => x.name)]);
      u.buckets.forEach((b, k) => rows.push([b, ...u.upstreams.map((x) => x.bytes[k] ?? 0)]));
      rows.push([]);
    }
    const c = customers.data;
    if (c) {
      rows.push(['# customer scorecard']);
      rows.push([
        'customer',
        'endpoints',
        'incidents',
        'active',
        'bytes',
        'packets',
        'last seen',
        ...IncidentKind.options.map((k) => `bytes ${k}`),
      ]);
      for (const x of c.customers)
        rows.push([
          x.name,
          x.endpoints,
          x.incidents.total,
          x.incidents.active,
          x.traffic.bytes,
          x.traffic.packets,
          x.lastSeen,
          ...IncidentKind.options.map((k) => x.byKind[k] ?? 0),
        ]);
      rows.push([]);
    }
    rows.push(['# incidents by kind']);
    for (const k of IncidentKind.options) rows.push([k, byKind.get(k) ?? 0]);
    downloadCsv(`downstream-trends-${period}.csv`, rows);
  };

  const err = upstreams.error ?? customers.error ?? incidents.error;
  return (
    <main className="page trends-page" data-testid="trends-page" data-period={period}>
      <div className="toolbar">
        <h1 className="page-title">Abuse trends · {range.label}</h1>
        <TimePicker range={range} options={PERIODS} />
        <span className="toolbar-spacer" />
        <button
          type="button"
          onClick={exportCsv}
          disabled={!upstreams.data && !customers.data}
          data-testid="export-csv"
          className="no-print"
        >
          Export CSV
        </button>
        <button type="button" onClick={() => window.print()} className="no-print">
          Print
        </button>
      </div>
      {err && (
        <p className="banner banner-error" role="alert">
          {err}
        </p>
      )}
      <SimulatedNote span={upstreams.data?.simulated ?? customers.data?.simulated} />

      <div className="grid-3 kpis">
        <section className="panel kpi">
          <h2>Incidents</h2>
          <div className="kpi-value" data-testid="kpi-incidents">
            {incidents.data ? int(inRange.length) : '…'}
          </div>
          <div className="sub">
            {incidents.data && incidents.data.incidents.length >= 1000
              ? 'at least (list capped at 1000)'
              : 'first seen in the period'}
          </div>
        </section>
        <section className="panel kpi">
          <h2>Time to resolve</h2>
          <div className="kpi-value" data-testid="kpi-resolve">
            {dur.median !== undefined ? age(dur.median) : '–'}
          </div>
          <div className="sub">
            median{dur.p90 !== undefined ? `, 90 % within ${age(dur.p90)}` : ''} · first seen → resolved, {dur.resolved}{' '}
            resolved
          </div>
        </section>
        <section className="panel kpi">
          <h2>Time to detect</h2>
          <div className="kpi-value" data-testid="kpi-detect">
            {detect !== undefined ? age(detect) : '–'}
          </div>
          <div className="sub">
            {detect !== undefined ? `median, ${detectN} incidents: ` : ''}
            {evidenceKey}
          </div>
        </section>
      </div>

      <section className="panel">
        <h2>Abusive traffic per upstream link</h2>
        {upstreams.data ? (
          upstreams.data.upstreams.length > 0 ? (
            <>
              <SeriesChart
                range={{ from: Date.parse(upstreams.data.from), to: Date.parse(upstreams.data.to) }}
                times={upstreams.data.buckets.map((b) => Date.parse(b))}
                lines={upstreams.data.upstreams.map((u, k) => ({
                  label: u.name,
                  color: PALETTE[k % PALETTE.length]!,
                  values: u.bytes,
                }))}
                unit="B"
                height={260}
                testId="upstream-trends"
              />
              <table className="data-table" data-testid="upstream-table">
                <thead>
                  <tr>
                    <th>Link</th>
                    <th>Role</th>
                    <th className="num">Bytes</th>
                    <th className="num">Packets</th>
                    <th>Main kind</th>
                    <th>Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {upstreams.data.upstreams.map((u) => {
                    const main = Object.entries(u.byKind).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0];
                    return (
                      <tr key={u.name} data-testid="upstream-row">
                        <td>{u.name}</td>
                        <td>
                          {u.role ?? ''}
                          {u.asn !== undefined && <span className="sub"> AS{u.asn}</span>}
                        </td>
                        <td className="num">{si(u.total.bytes, 'B')}</td>
                        <td className="num">{si(u.total.packets)}</td>
                        <td>{main ? KIND_LABEL[main[0] as IncidentKind] : '–'}</td>
                        <td>{u.lastSeen ? time(u.lastSeen) : '–'}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </>
          ) : (
            <p className="empty">
              No upstream link configured or seen. Add `network.links` to the config to attribute traffic to links.
            </p>
          )
        ) : (
          <p className="empty">{upstreams.loading ? 'Loading…' : 'Unavailable.'}</p>
        )}
      </section>

      <RemediationTrendsPanel from={from} />

      <div className="grid-2">
        <section className="panel">
          <h2>Customers involved in abuse</h2>
          {customers.data ? (
            customers.data.customers.length > 0 ? (
              <table className="data-table" data-testid="customer-table">
                <thead>
                  <tr>
                    <th>Customer</th>
                    <th className="num">Endpoints</th>
                    <th className="num">Incidents</th>
                    <th className="num">Active</th>
                    <th className="num">Bytes</th>
                    <th>Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {customers.data.customers.map((c) => (
                    <tr key={c.name} data-testid="customer-row">
                      <td>
                        <Link to={`/incidents?q=${encodeURIComponent(c.name)}&status=all`}>{c.name}</Link>
                      </td>
                      <td className="num">{int(c.endpoints)}</td>
                      <td className="num">{int(c.incidents.total)}</td>
                      <td className="num">{int(c.incidents.active)}</td>
                      <td className="num">{si(c.traffic.bytes, 'B')}</td>
                      <td>{c.lastSeen ? time(c.lastSeen) : '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="empty">No customer involved in abuse in this period.</p>
            )
          ) : (
            <p className="empty">{customers.loading ? 'Loading…' : 'Unavailable.'}</p>
          )}
        </section>
        <section className="panel">
          <h2>Incidents by kind</h2>
          <div className="bars" data-testid="kind-bars">
            {IncidentKind.options.map((k) => (
              <div key={k} className="bar-row" data-kind={k}>
                <span className="bar-label">{KIND_LABEL[k]}</span>
                <span
                  className="bar"
                  style={{ width: `${((byKind.get(k) ?? 0) / maxKind) * 100}%`, background: kindColor(k) }}
                />
                <span className="bar-value">{byKind.get(k) ?? 0}</span>
              </div>
            ))}
          </div>
        </section>
      </div>
    </main>
  );
}
