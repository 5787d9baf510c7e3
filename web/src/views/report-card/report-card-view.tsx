import { ReportCard, type ReportCardRow } from '@downstream/shared';
import { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { int, KIND_LABEL, si } from '../../format.js';
import { downloadFile } from '../../live/api.js';
import { useApi } from '../../live/use-api.js';
import { TimePicker } from '../common/range-picker.js';
import { parseTimeRange } from '../common/time-range.js';
import { CARD_PERIODS, cardRange, durationText, rateText, sparkBars, type CardPeriod } from './report-card-model.js';

const PERIODS = Object.keys(CARD_PERIODS) as CardPeriod[];
const SPARK_W = 120;
const SPARK_H = 22;

function CardTable({ rows, level, days }: { rows: ReportCardRow[]; level: 'downstream' | 'customer'; days: string[] }) {
  return (
    <table className="data-table report-card-table" data-testid={`report-card-${level}s`}>
      <thead>
        <tr>
          <th>{level === 'downstream' ? 'Downstream' : 'Customer network'}</th>
          <th>{level === 'downstream' ? 'Customer networks' : 'Downstream'}</th>
          <th>Abuse sent upstream per day</th>
          <th className="num">Total</th>
          <th className="num">Open</th>
          <th className="num">Notified</th>
          <th className="num">Remediated</th>
          <th className="num">Time to remediate</th>
          <th className="num">Recurrence</th>
          <th className="num">Complaints</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const ttr = durationText(r.timeToRemediate);
          const main = Object.entries(r.abuseByKind).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0];
          const peak = Math.max(0, ...r.abusePerDay);
          return (
            <tr key={r.name} data-testid="report-card-row" data-level={level} data-name={r.name}>
              <td>{r.name}</td>
              <td className="sub">{level === 'downstream' ? r.customers.join(', ') : (r.downstream ?? '–')}</td>
              <td>
                <svg
                  className="spark"
                  width={SPARK_W}
                  height={SPARK_H}
                  viewBox={`0 0 ${SPARK_W} ${SPARK_H}`}
                  role="img"
                  aria-label={`abuse per day over ${days.length} days, peak ${si(peak, 'B')}`}
                >
                  <title>{`peak ${si(peak, 'B')} on one day`}</title>
                  <line x1={0} y1={SPARK_H - 0.5} x2={SPARK_W} y2={SPARK_H - 0.5} className="spark-axis" />
                  <path d={sparkBars(r.abusePerDay, SPARK_W, SPARK_H)} className="spark-bars" />
                </svg>
              </td>
              <td className="num" title={main ? `mostly ${KIND_LABEL[main[0] as keyof typeof KIND_LABEL]}` : undefined}>
                {si(r.abuseBytes, 'B')}
              </td>
              <td className="num">{int(r.endpoints.open)}</td>
              <td className="num">{int(r.endpoints.notified)}</td>
              <td className="num" title={`${r.remediatedInRange} marked remediated in the period`}>
                {int(r.endpoints.remediated)}
              </td>
              <td className="num" title={ttr.title}>
                {ttr.text}
              </td>
              <td className="num">{rateText(r.recurrenceRate)}</td>
              <td className="num">{int(r.complaints)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * `/report-card`: for each downstream (reseller, business customer) and customer network, the
 * abuse it sent upstream, how many of its endpoints are still open, how fast they get cleaned and
 * what others complained about — a page to print and a CSV to forward.
 */
export function ReportCardView() {
  const [params] = useSearchParams();
  // The shared time range (`range`, or `from`/`to`; `period` still read): presets are whole UTC days.
  const range = parseTimeRange(params, '30d');
  const period = range.key && range.key in CARD_PERIODS ? (range.key as CardPeriod) : undefined;
  const { from, to } = useMemo(
    () => (period ? cardRange(period) : { from: range.from, to: range.to ?? Date.now() }),
    [period, range.from, range.to],
  );
  const q = `from=${from}&to=${to}`;
  const card = useApi(`/api/report-card?${q}`, ReportCard, 60_000);
  const [csvError, setCsvError] = useState<string>();
  const csv = `/api/report-card.csv?${q}`;
  const d = card.data;
  const totals = useMemo(() => {
    const rows = d?.customers ?? [];
    return {
      abuse: rows.reduce((s, r) => s + r.abuseBytes, 0),
      open: rows.reduce((s, r) => s + r.endpoints.open, 0),
      remediated: rows.reduce((s, r) => s + r.remediatedInRange, 0),
      complaints: rows.reduce((s, r) => s + r.complaints, 0),
    };
  }, [d]);
  return (
    <main className="page report-card-page" data-testid="report-card-page" data-period={period ?? 'custom'}>
      <div className="toolbar">
        <h1 className="page-title">
          Downstream report card · {period ? `last ${CARD_PERIODS[period]} days` : range.label}
        </h1>
        <TimePicker range={range} options={PERIODS} />
        <span className="toolbar-spacer" />
        <a
          className="button no-print"
          href={csv}
          data-testid="report-card-csv"
          onClick={(ev) => {
            if (ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
            ev.preventDefault();
            downloadFile(csv, 'report-card.csv').catch((err: Error) => setCsvError(err.message));
          }}
        >
          CSV
        </a>
        <button type="button" onClick={() => window.print()} className="no-print">
          Print
        </button>
      </div>
      {(card.error ?? csvError) && (
        <p className="banner banner-error" role="alert">
          {card.error ?? csvError}
        </p>
      )}
      {!d && card.loading && <p className="empty">Loading the report card…</p>}
      {d && (
        <>
          <div className="grid-3 kpis">
            <section className="panel kpi">
              <h2>Abuse sent upstream</h2>
              <div className="kpi-value" data-testid="card-abuse">
                {si(totals.abuse, 'B')}
              </div>
              <div className="sub">spam, scanning and botnet flooding from customer networks</div>
            </section>
            <section className="panel kpi">
              <h2>Endpoints open</h2>
              <div className="kpi-value" data-testid="card-open">
                {int(totals.open)}
              </div>
              <div className="sub">{int(totals.remediated)} remediated in the period</div>
            </section>
            <section className="panel kpi">
              <h2>Complaints received</h2>
              <div className="kpi-value" data-testid="card-complaints">
                {int(totals.complaints)}
              </div>
              <div className="sub">ARF / X-ARF reports from other networks</div>
            </section>
          </div>
          <section className="panel">
            <h2>Per downstream</h2>
            {d.downstreams.length > 0 ? (
              <CardTable rows={d.downstreams} level="downstream" days={d.days} />
            ) : (
              <p className="empty" data-testid="report-card-no-downstreams">
                No downstream configured: give customer networks a `downstream` in network.customers to add them up per
                reseller or business customer.
              </p>
            )}
          </section>
          <section className="panel">
            <h2>Per customer network</h2>
            {d.customers.length > 0 ? (
              <CardTable rows={d.customers} level="customer" days={d.days} />
            ) : (
              <p className="empty">No customer network configured (network.customers).</p>
            )}
          </section>
          <p className="sub">
            {d.from.slice(0, 10)} to {d.to.slice(0, 10)} (UTC). Time to remediate: abuse first seen → marked remediated
            (median; hover for the 90th percentile). Recurrence: remediated endpoints that sent abuse again within the
            watch period.
          </p>
        </>
      )}
    </main>
  );
}
