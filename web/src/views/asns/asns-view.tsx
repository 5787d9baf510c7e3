import { AsnHeatmap as AsnHeatmapSchema, IncidentKind } from '@downstream/shared';
import { Suspense, useMemo } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { int, KIND_LABEL, si, time } from '../../format.js';
import { useApi } from '../../live/use-api.js';
import { TimePicker } from '../common/range-picker.js';
import { type RangeKey } from '../common/ranges.js';
import { SimulatedNote } from '../common/simulated-note.js';
import { parseTimeRange, rangeParams, timeRangeQuery } from '../common/time-range.js';
import { lazyRetry } from '../common/lazy-retry.js';
import { DataAttribution } from '../common/attribution.js';

const AsnHeatmap = lazyRetry(() => import('../../charts/asn-heatmap.js').then((m) => ({ default: m.AsnHeatmap })));
const OPTIONS: RangeKey[] = ['1h', '6h', '24h', '7d', '30d'];

/** `/asns`: which source networks send abuse, over time, ranked by bytes. */
export function AsnsView() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const range = parseTimeRange(params, '24h');
  const kindParsed = IncidentKind.safeParse(params.get('kind'));
  const kind = kindParsed.success ? kindParsed.data : undefined;
  const path = useMemo(() => {
    const q = timeRangeQuery(range);
    q.set('top', '40');
    if (kind) q.set('kind', kind);
    return `/api/asns/heatmap?${q}`;
  }, [range.from, range.to, range.step, kind]);
  const carry = rangeParams(params).toString();
  const { data, error, loading } = useApi(path, AsnHeatmapSchema, 60_000);
  const set = (k: string, v: string | undefined) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };

  return (
    <main className="page" data-testid="asns-page">
      <div className="toolbar">
        <h1 className="page-title">Source networks</h1>
        <TimePicker range={range} options={OPTIONS} />
        <select
          value={kind ?? ''}
          onChange={(e) => set('kind', e.target.value || undefined)}
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
      </div>
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {!data && loading && <p className="empty">Loading the heatmap…</p>}
      {data && <SimulatedNote span={data.simulated} />}
      {data && data.rows.length === 0 && (
        <p className="empty" data-testid="asns-empty">
          No abusive traffic recorded in this range{kind ? ` for ${KIND_LABEL[kind]}` : ''}. Pick a longer range, or
          wait for the detectors to report.
        </p>
      )}
      {data && data.rows.length > 0 && (
        <>
          <section className="panel">
            <h2>
              Abusive bytes by source ASN × time ({data.resolution} data, step {data.step})
            </h2>
            <Suspense fallback={<p className="empty">Loading chart…</p>}>
              <AsnHeatmap
                buckets={data.buckets.map((b) => Date.parse(b))}
                stepMs={data.stepMs}
                rows={data.rows.map((r) => ({ asn: r.asn, name: r.name || `AS${r.asn}`, values: r.bytes }))}
                height={Math.max(220, data.rows.length * 22 + 60)}
                onSelect={(asn) => navigate(`/asns/${asn}?${carry}`)}
              />
            </Suspense>
          </section>
          <section className="panel">
            <h2>Ranked</h2>
            <table className="data-table" data-testid="asn-ranking">
              <thead>
                <tr>
                  <th className="num">#</th>
                  <th>ASN</th>
                  <th>Name</th>
                  <th className="num">Bytes</th>
                  <th className="num">Packets</th>
                  <th className="num">Flows</th>
                  <th>Main kind</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {data.rows.map((r, k) => {
                  const main = Object.entries(r.byKind).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0];
                  return (
                    <tr key={r.asn} data-testid="asn-row" data-asn={r.asn}>
                      <td className="num">{k + 1}</td>
                      <td>
                        <Link to={`/asns/${r.asn}?${carry}`}>AS{r.asn}</Link>
                      </td>
                      <td>{r.name || (r.asn === 0 ? 'unknown network (no ASN in the data set)' : '')}</td>
                      <td className="num">{si(r.total.bytes, 'B')}</td>
                      <td className="num">{si(r.total.packets)}</td>
                      <td className="num">{int(r.total.flows)}</td>
                      <td>{main ? KIND_LABEL[main[0] as IncidentKind] : '–'}</td>
                      <td>{r.lastSeen ? time(r.lastSeen) : '–'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        </>
      )}
      <DataAttribution />
    </main>
  );
}
