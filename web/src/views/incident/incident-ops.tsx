import { Mitigation, ReportRecipient, type Incident } from '@downstream/shared';
import { useState } from 'react';
import { z } from 'zod';
import { pct, time } from '../../format.js';
import { ApiRequestError, apiDelete, apiPost, downloadFile } from '../../live/api.js';
import { useApi } from '../../live/use-api.js';
import {
  mitigationProblem,
  mitigationState,
  orderRecipients,
  reportPath,
  type MitigationProblem,
} from './incident-ops-model.js';

const Recipients = z.object({ recipients: z.array(ReportRecipient) });
const Mitigations = z.object({ mitigations: z.array(Mitigation) });
const Withdrawn = z.object({ withdrawn: z.array(Mitigation) });

const KIND_WORD: Record<ReportRecipient['kind'], string> = {
  asn: 'source network',
  upstream: 'upstream link',
  'target-asn': 'target network',
};

/** Abuse reports (X-ARF, ARF) for each recipient the server knows, as downloads. */
export function AbuseReports({ incident }: { incident: Incident }) {
  const path = `/api/incidents/${encodeURIComponent(incident.id)}/report/recipients`;
  const { data, error, loading } = useApi(path, Recipients);
  const [downloadError, setDownloadError] = useState<string>();

  const download = (e: React.MouseEvent<HTMLAnchorElement>, href: string, name: string) => {
    // A plain link cannot carry the token: fetch with it, unless the user asked for a new tab.
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    setDownloadError(undefined);
    downloadFile(href, name).catch((err: Error) => setDownloadError(err.message));
  };

  const list = orderRecipients(data?.recipients ?? []);
  return (
    <section className="panel" data-testid="abuse-reports">
      <h2>Abuse reports</h2>
      {loading && !data && <p className="empty">Finding who to report to…</p>}
      {error && !data && (
        <p className="banner banner-error" role="alert">
          Cannot list report recipients: {error}
        </p>
      )}
      {data && list.length === 0 && (
        <p className="empty">No source network, upstream or target network to report this incident to.</p>
      )}
      {list.length > 0 && (
        <table className="data-table" data-testid="report-recipients">
          <thead>
            <tr>
              <th>Recipient and contact</th>
              <th className="num">Share</th>
              <th>Report</th>
            </tr>
          </thead>
          <tbody>
            {list.slice(0, 20).map((r) => {
              const xarf = reportPath(incident.id, 'xarf', r.id);
              const arf = reportPath(incident.id, 'arf', r.id);
              const base = `downstream-${incident.id}-${r.id.replace(/[^a-z0-9]+/gi, '-')}`;
              return (
                <tr key={r.id} data-recipient={r.id}>
                  <td>
                    {r.name} <span className="sub">{KIND_WORD[r.kind]}</span>
                    <div className="report-contact">
                      {r.email ?? (
                        <span className="sub" title="No abuse contact configured (actions.reports.asn_contacts)">
                          look up in RDAP/WHOIS
                        </span>
                      )}
                    </div>
                  </td>
                  <td className="num">{pct(r.share)}</td>
                  <td className="report-links">
                    <a href={xarf} onClick={(e) => download(e, xarf, `${base}.json`)} data-testid="report-xarf">
                      X-ARF
                    </a>{' '}
                    <a href={arf} onClick={(e) => download(e, arf, `${base}.eml`)} data-testid="report-arf">
                      ARF
                    </a>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {downloadError && (
        <p className="banner banner-error" role="alert" data-testid="report-error">
          {downloadError}
        </p>
      )}
    </section>
  );
}

export interface MitigationPanelProps {
  incident: Incident;
  /** Called after an announce or withdraw, so the page can refresh its audit trail. */
  onChanged?: () => void;
}

/** RTBH / FlowSpec for an inbound target: operator-triggered, announced through ExaBGP. */
export function MitigationPanel({ incident, onChanged }: MitigationPanelProps) {
  const path = `/api/incidents/${encodeURIComponent(incident.id)}/mitigations`;
  const { data, error, reload } = useApi(path, Mitigations);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<MitigationProblem>();

  const run = async (call: () => Promise<unknown>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await call();
      reload();
      onChanged?.();
    } catch (e) {
      const err = e as Error;
      setProblem(mitigationProblem(err instanceof ApiRequestError ? err.status : 0, err.message));
    } finally {
      setBusy(false);
    }
  };
  const base = `/api/incidents/${encodeURIComponent(incident.id)}/mitigation`;
  const announce = (type: 'rtbh' | 'flowspec') => run(() => apiPost(base, { type }, Mitigation));
  const withdraw = () => run(() => apiDelete(base, Withdrawn));

  const state = mitigationState(data?.mitigations ?? []);
  const resolved = incident.status === 'resolved';
  const target = incident.target?.ip;
  return (
    <section className="panel" data-testid="mitigation" data-active={state.active.length}>
      <h2>Mitigation</h2>
      {!target ? (
        <p className="empty">This incident has no single target address to blackhole or filter.</p>
      ) : (
        <>
          <p className="sub">
            Announce a remote-triggered blackhole (drops all traffic to {target}) or a FlowSpec rule (drops only the
            attack&apos;s protocol and ports) through ExaBGP. Withdrawn automatically on resolve.
          </p>
          <div className="action-buttons">
            <button
              type="button"
              disabled={busy || resolved}
              onClick={() => announce('rtbh')}
              data-testid="mitigate-rtbh"
            >
              Announce RTBH
            </button>
            <button
              type="button"
              disabled={busy || resolved}
              onClick={() => announce('flowspec')}
              data-testid="mitigate-flowspec"
            >
              Announce FlowSpec
            </button>
            <button
              type="button"
              disabled={busy || state.active.length === 0}
              onClick={withdraw}
              data-testid="mitigate-withdraw"
            >
              Withdraw
            </button>
          </div>
        </>
      )}
      {problem && (
        <p
          className={`banner ${problem.kind === 'not-configured' ? 'banner-warn' : 'banner-error'}`}
          role="alert"
          data-testid="mitigation-problem"
          data-kind={problem.kind}
        >
          {problem.text}
        </p>
      )}
      {error && !data && (
        <p className="banner banner-error" role="alert">
          Cannot read mitigations: {error}
        </p>
      )}
      <p data-testid="mitigation-state">
        {state.active.length === 0
          ? 'No mitigation active.'
          : `Active: ${state.active.map((m) => `${m.type === 'rtbh' ? 'RTBH' : 'FlowSpec'} ${m.prefix}`).join(', ')}`}
      </p>
      {state.active.length + state.withdrawn.length > 0 && (
        <table className="data-table" data-testid="mitigation-list">
          <tbody>
            {[...state.active, ...state.withdrawn].map((m) => (
              <tr key={m.id}>
                <td>{m.type === 'rtbh' ? 'RTBH' : 'FlowSpec'}</td>
                <td className="mono" title={m.announce}>
                  {m.prefix}
                </td>
                <td>
                  announced {time(m.announcedAt)} by {m.announcedBy}
                </td>
                <td>{m.withdrawnAt ? `withdrawn ${time(m.withdrawnAt)} by ${m.withdrawnBy ?? '?'}` : 'active'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
