import { RemediationTrends, type RemediationMetrics } from '@downstream/shared';
import { int } from '../../format.js';
import { useApi } from '../../live/use-api.js';
import { durationText, rateText } from '../report-card/report-card-model.js';

function Cells({ m }: { m: RemediationMetrics }) {
  const notify = durationText(m.timeToNotify);
  const fix = durationText(m.timeToRemediate);
  return (
    <>
      <td className="num">{int(m.cases)}</td>
      <td className="num" title={notify.title}>
        {notify.text}
      </td>
      <td className="num" title={fix.title}>
        {fix.text}
      </td>
      <td
        className="num"
        title={`${m.recurrences} recurred, ${m.verified} verified clean, ${m.watching} still watched`}
      >
        {rateText(m.recurrenceRate)}
      </td>
    </>
  );
}

const Head = ({ first }: { first: string }) => (
  <thead>
    <tr>
      <th>{first}</th>
      <th className="num">Cases</th>
      <th className="num">Time to notify</th>
      <th className="num">Time to remediate</th>
      <th className="num">Recurrence</th>
    </tr>
  </thead>
);

/** Trends panel: how fast infected endpoints are told and cleaned, per customer and downstream. */
export function RemediationTrendsPanel({ from }: { from: number }) {
  const t = useApi(`/api/remediation/trends?from=${from}`, RemediationTrends);
  const d = t.data;
  return (
    <section className="panel" data-testid="remediation-trends">
      <h2>Remediation: time to notify, time to remediate, recurrence</h2>
      {t.error && (
        <p className="banner banner-error" role="alert">
          {t.error}
        </p>
      )}
      {!d && !t.error && <p className="empty">Loading…</p>}
      {d && d.total.cases === 0 && <p className="empty">No endpoint was put on the remediation list in this period.</p>}
      {d && d.total.cases > 0 && (
        <>
          <table className="data-table" data-testid="remediation-trends-customers">
            <Head first="Customer network" />
            <tbody>
              <tr data-testid="remediation-trends-total">
                <td>
                  <strong>All customer networks</strong>
                </td>
                <Cells m={d.total} />
              </tr>
              {d.customers
                .filter((c) => c.cases > 0)
                .map((c) => (
                  <tr key={c.name} data-testid="remediation-trends-row">
                    <td>
                      {c.name}
                      {c.downstream && <span className="sub"> · {c.downstream}</span>}
                    </td>
                    <Cells m={c} />
                  </tr>
                ))}
            </tbody>
          </table>
          <table className="data-table" data-testid="remediation-trends-downstreams">
            <Head first="Downstream" />
            <tbody>
              {d.downstreams.map((c) => (
                <tr key={c.name}>
                  <td>
                    {c.name} <span className="sub">{c.customers.join(', ')}</span>
                  </td>
                  <Cells m={c} />
                </tr>
              ))}
              {d.downstreams.length === 0 && (
                <tr>
                  <td colSpan={5} className="sub">
                    No downstream configured (network.customers[].downstream).
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
      {d && (
        <p className="sub">
          Median over cases opened in the period (hover for the 90th percentile). Recurrence: share of remediations
          followed by abuse within {d.watchDays} days, of those whose watch has ended.
        </p>
      )}
    </section>
  );
}
