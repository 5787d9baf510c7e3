import { EndpointHistory, IncidentKind } from '@downstream/shared';
import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { SeriesChart, type SeriesLine } from '../../charts/series-chart.js';
import { KIND_LABEL, kindColor, si, time } from '../../format.js';
import { useApi } from '../../live/use-api.js';
import { IncidentMiniTable } from '../common/incident-mini-table.js';
import { TimePicker } from '../common/range-picker.js';
import { type RangeKey } from '../common/ranges.js';
import { SimulatedNote } from '../common/simulated-note.js';
import { parseTimeRange, timeRangeQuery } from '../common/time-range.js';
import { DataAttribution } from '../common/attribution.js';
import { EndpointSubscribers } from '../remediation/subscriber-actions.js';

const OPTIONS: RangeKey[] = ['24h', '7d', '30d', '90d'];

const STEP_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "15m" / "6h" / "1d" → ms. */
export function stepMs(step: string): number {
  const m = /^(\d+)([mhd])$/.exec(step);
  return m ? Number(m[1]) * STEP_MS[m[2]!]! : 3_600_000;
}

/**
 * Rollup rows (newest first, per kind) → one series per kind over fixed buckets spanning the
 * whole selected range [from, to): a bucket without rows is 0 (no abuse recorded), so the
 * chart drops to zero between incidents instead of drawing a line from one to the next.
 */
export function rollupLines(
  rollups: EndpointHistory['rollups'],
  from: number,
  to: number,
  step: number,
): { times: number[]; lines: SeriesLine[] } {
  const first = Math.floor(from / step) * step;
  const n = Math.max(1, Math.ceil((to - first) / step));
  const times = Array.from({ length: n }, (_, i) => first + i * step);
  const byKind = new Map<IncidentKind, number[]>();
  for (const r of rollups) {
    const i = Math.floor((Date.parse(r.t) - first) / step);
    if (i < 0 || i >= n) continue;
    let v = byKind.get(r.kind);
    if (!v) byKind.set(r.kind, (v = new Array<number>(n).fill(0)));
    v[i]! += r.bytes;
  }
  const lines = [...byKind.entries()].map(([k, values]) => ({ label: KIND_LABEL[k], color: kindColor(k), values }));
  return { times, lines };
}

/** `/endpoints/:ip`: one address over time — what an operator reads before calling the customer. */
export function EndpointView() {
  const { ip = '' } = useParams();
  const [params] = useSearchParams();
  const range = parseTimeRange(params, '7d');
  const path = useMemo(() => {
    const q = timeRangeQuery(range);
    q.delete('step');
    return `/api/endpoints/${encodeURIComponent(ip)}?${q}`;
  }, [ip, range.from, range.to]);
  const { data, error, loading } = useApi(path, EndpointHistory, 60_000);
  const series = useMemo(
    () =>
      data && data.rollups.length > 0
        ? rollupLines(data.rollups, Date.parse(data.from), Date.parse(data.to), stepMs(range.step))
        : undefined,
    [data, range.step],
  );

  return (
    <main className="page" data-testid="endpoint-page" data-ip={ip}>
      <div className="toolbar">
        <h1 className="page-title mono">{ip}</h1>
        <TimePicker range={range} options={OPTIONS} />
      </div>
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {!data && loading && <p className="empty">Loading {ip}…</p>}
      {data && (
        <>
          <SimulatedNote span={data.simulated} />
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
              <dt>Abusive bytes ({range.label})</dt>
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
            {series ? (
              <SeriesChart
                times={series.times}
                lines={series.lines}
                unit="B"
                stepped
                range={{ from: Date.parse(data.from), to: Date.parse(data.to) }}
                testId="endpoint-timeline"
              />
            ) : (
              <p className="empty">
                No abusive traffic from or to {ip} recorded in this range. Traffic is stored per completed minute, so a
                just-started incident shows here within a minute.
              </p>
            )}
          </section>
          <EndpointSubscribers ip={ip} history={data} />
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
