import { AsnHistory, IncidentKind } from '@downstream/shared';
import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { SeriesChart } from '../../charts/series-chart.js';
import { int, KIND_LABEL, kindColor, si, time } from '../../format.js';
import { useApi } from '../../live/use-api.js';
import { IncidentMiniTable } from '../common/incident-mini-table.js';
import { TimePicker } from '../common/range-picker.js';
import { type RangeKey } from '../common/ranges.js';
import { SimulatedNote } from '../common/simulated-note.js';
import { parseTimeRange, rangeParams, timeRangeQuery } from '../common/time-range.js';
import { DataAttribution } from '../common/attribution.js';

const OPTIONS: RangeKey[] = ['1h', '6h', '24h', '7d', '30d', '90d'];

/** `/asns/:asn`: one source network's abuse over time and its incidents. */
export function AsnView() {
  const { asn = '' } = useParams();
  const [params] = useSearchParams();
  const range = parseTimeRange(params, '7d');
  const valid = /^\d+$/.test(asn);
  const path = useMemo(
    () => (valid ? `/api/asns/${asn}?${timeRangeQuery(range)}` : undefined),
    [asn, range.from, range.to, range.step, valid],
  );
  const { data, error, loading } = useApi(path, AsnHistory, 60_000);

  if (!valid) {
    return (
      <main className="page">
        <p className="banner banner-error" role="alert">
          “{asn}” is not an AS number. Use a link like /asns/64500.
        </p>
      </main>
    );
  }
  const times = data?.series.buckets.map((b) => Date.parse(b)) ?? [];
  return (
    <main className="page" data-testid="asn-page" data-asn={asn}>
      <div className="toolbar">
        <h1 className="page-title">
          AS{asn} {data?.name && <span className="sub">{data.name}</span>}
        </h1>
        <TimePicker range={range} options={OPTIONS} />
        <Link to={`/asns?${rangeParams(params)}`}>all networks</Link>
      </div>
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {!data && loading && <p className="empty">Loading AS{asn}…</p>}
      {data && (
        <>
          <SimulatedNote span={data.series.simulated} />
          <dl className="facts">
            <div>
              <dt>Abusive bytes</dt>
              <dd data-testid="asn-bytes">{si(data.series.total.bytes, 'B')}</dd>
            </div>
            <div>
              <dt>Packets</dt>
              <dd>{si(data.series.total.packets)}</dd>
            </div>
            <div>
              <dt>Flows</dt>
              <dd>{int(data.series.total.flows)}</dd>
            </div>
            <div>
              <dt>Incidents</dt>
              <dd data-testid="asn-incident-count">{data.incidents.length}</dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd>{data.series.lastSeen ? time(data.series.lastSeen) : 'not in this range'}</dd>
            </div>
          </dl>
          <div className="kind-bars">
            {IncidentKind.options
              .filter((k) => (data.series.byKind[k] ?? 0) > 0)
              .map((k) => (
                <span key={k} className="kind-chip" style={{ color: kindColor(k), borderColor: kindColor(k) }}>
                  {KIND_LABEL[k]} {si(data.series.byKind[k] ?? 0, 'B')}
                </span>
              ))}
          </div>
          <section className="panel">
            <h2>
              Abusive traffic from AS{asn} (step {data.series.step})
            </h2>
            <SeriesChart
              range={{ from: Date.parse(data.series.from), to: Date.parse(data.series.to) }}
              times={times}
              lines={[{ label: 'bytes', color: '#ff5252', values: data.series.bytes }]}
              unit="B"
              stepped
              testId="asn-series"
            />
          </section>
          <section className="panel">
            <h2>Incidents with sources in AS{asn}</h2>
            <IncidentMiniTable incidents={data.incidents} testId="asn-incidents" />
          </section>
        </>
      )}
      <DataAttribution />
    </main>
  );
}
