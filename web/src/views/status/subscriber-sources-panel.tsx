import { SubscribersStatus } from '@downstream/shared';
import { useEffect, useState } from 'react';
import { int } from '../../format.js';
import { apiGet } from '../../live/api.js';

/**
 * The `/status` panel for what tells Downstream who held an address (issue 14): the RADIUS
 * accounting listener, lease and detail files, the contacts CSV. A silent RADIUS listener or a
 * lease file full of parse errors means remediation rows name nobody, so it sits beside the
 * exporters and feeds rather than on the remediation page.
 */
export function SubscriberSourcesPanel({ refreshMs }: { refreshMs: number }) {
  const [status, setStatus] = useState<SubscribersStatus>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    let alive = true;
    let ctl = new AbortController();
    const load = () => {
      ctl = new AbortController();
      apiGet('/api/subscribers/status', SubscribersStatus, ctl.signal)
        .then((s) => {
          if (!alive) return;
          setStatus(s);
          setError(undefined);
        })
        .catch((e: Error) => alive && !ctl.signal.aborted && setError(e.message));
    };
    load();
    const t = window.setInterval(load, refreshMs);
    return () => {
      alive = false;
      ctl.abort();
      window.clearInterval(t);
    };
  }, [refreshMs]);

  const r = status?.radius;
  const configured = !!status && (!!r || status.files.length > 0);
  const badTotal = r ? Object.values(r.bad).reduce((a, b) => a + b, 0) : 0;
  return (
    <section className="panel" data-testid="status-subscribers">
      <h2>Subscriber sources</h2>
      {error && <p className="banner banner-error">Cannot read subscriber sources: {error}</p>}
      {status && !configured && (
        <p className="empty" data-testid="status-no-subscriber-sources">
          No RADIUS accounting or lease file is set up: incidents and remediation rows name addresses, not subscribers.
          See <code>subscribers</code> in the config.
        </p>
      )}
      {status && configured && (
        <>
          <p className="sub" data-testid="status-bindings">
            {int(status.bindings)} address binding{status.bindings === 1 ? '' : 's'} stored · notices{' '}
            {status.canNotify ? 'on' : 'off'} · walled garden {status.canWalledGarden ? 'on' : 'off'}
          </p>
          <table className="data-table">
            <thead>
              <tr>
                <th>Source</th>
                <th>Kind</th>
                <th className="num">Accepted</th>
                <th className="num">Rejected</th>
                <th>Last problem</th>
              </tr>
            </thead>
            <tbody>
              {r && (
                <tr
                  className={badTotal > 0 ? 'row-error' : undefined}
                  data-testid="status-subscriber-source"
                  data-kind="radius"
                  data-accepted={r.accepted}
                  data-rejected={badTotal}
                >
                  <td className="mono">UDP {r.port}</td>
                  <td>RADIUS accounting</td>
                  <td className="num">
                    {int(r.accepted)}
                    <span className="sub"> of {int(r.received)}</span>
                  </td>
                  <td
                    className={`num${badTotal > 0 ? ' cell-bad' : ''}`}
                    title={Object.entries(r.bad)
                      .map(([k, v]) => `${k}: ${v}`)
                      .join(', ')}
                  >
                    {int(badTotal)}
                  </td>
                  <td className="sub">{r.lastBad ? `${r.lastBad.from}: ${r.lastBad.message}` : ''}</td>
                </tr>
              )}
              {status.files.map((f) => (
                <tr
                  key={f.path}
                  className={f.errors > 0 ? 'row-error' : undefined}
                  data-testid="status-subscriber-source"
                  data-kind={f.format}
                  data-accepted={f.records}
                  data-rejected={f.errors}
                >
                  <td className="mono">{f.path}</td>
                  <td>{FILE_KIND[f.format]}</td>
                  <td className="num">{int(f.records)}</td>
                  <td className={`num${f.errors > 0 ? ' cell-bad' : ''}`}>{int(f.errors)}</td>
                  <td className="sub">{f.lastErrors.at(-1) ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {status.contacts.csvErrors.length > 0 && (
            <p className="banner banner-warn" data-testid="status-contact-errors">
              Contacts CSV: {status.contacts.csvErrors.slice(-3).join('; ')}
            </p>
          )}
        </>
      )}
    </section>
  );
}

const FILE_KIND: Record<SubscribersStatus['files'][number]['format'], string> = {
  'radius-detail': 'FreeRADIUS detail file',
  kea: 'Kea lease file',
  dhcpd: 'ISC dhcpd leases',
};
