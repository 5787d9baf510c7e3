import { Health, type ExporterHealth, type FeedHealth } from '@downstream/shared';
import { useEffect, useState } from 'react';
import { age, int, si, time } from '../../format.js';
import { apiGet } from '../../live/api.js';
import { useNow } from '../../live/use-now.js';
import { exporterRows, feedRows, type Sample } from './status-model.js';
import { SubscriberSourcesPanel } from './subscriber-sources-panel.js';

/** How often the page polls /api/health. */
export const STATUS_REFRESH_MS = 3000;

interface Samples {
  exporters: { prev?: Sample<ExporterHealth>; cur: Sample<ExporterHealth> };
  feeds: { prev?: Sample<FeedHealth>; cur: Sample<FeedHealth> };
  health: Health;
}

const PROTOCOL: Record<ExporterHealth['protocol'], string> = {
  'netflow-v5': 'NetFlow v5',
  'netflow-v9': 'NetFlow v9',
  ipfix: 'IPFIX',
  'sflow-v5': 'sFlow v5',
};

/** `/status`: is data arriving? Every exporter and feed, refreshed every few seconds. */
export function StatusView() {
  const now = useNow(1000);
  const [samples, setSamples] = useState<Samples>();
  const [error, setError] = useState<string>();
  const [updatedAt, setUpdatedAt] = useState<number>();

  useEffect(() => {
    let alive = true;
    let ctl = new AbortController();
    const load = () => {
      ctl = new AbortController();
      apiGet('/api/health', Health, ctl.signal)
        .then((h) => {
          if (!alive) return;
          const at = Date.now();
          setSamples((s) => ({
            health: h,
            exporters: { prev: s?.exporters.cur, cur: { at, items: h.exporters } },
            feeds: { prev: s?.feeds.cur, cur: { at, items: h.feeds ?? [] } },
          }));
          setUpdatedAt(at);
          setError(undefined);
        })
        .catch((e: Error) => alive && !ctl.signal.aborted && setError(e.message));
    };
    load();
    const t = window.setInterval(load, STATUS_REFRESH_MS);
    return () => {
      alive = false;
      ctl.abort();
      window.clearInterval(t);
    };
  }, []);

  const exporters = samples ? exporterRows(samples.exporters.prev, samples.exporters.cur, now) : [];
  const feeds = samples ? feedRows(samples.feeds.prev, samples.feeds.cur) : [];
  const bad = exporters.filter((e) => e.state !== 'ok').length + feeds.filter((f) => f.state === 'erroring').length;
  return (
    <main className="page" data-testid="status-page">
      <div className="toolbar">
        <h1 className="page-title">Status</h1>
        {samples && (
          <span className="sub" data-testid="status-server">
            Downstream {samples.health.version} · up {age(samples.health.uptime * 1000)} · refreshed{' '}
            {updatedAt ? `${age(now - updatedAt)} ago` : '–'} (every {STATUS_REFRESH_MS / 1000} s)
          </span>
        )}
      </div>
      {error && (
        <p className="banner banner-error" role="alert" data-testid="status-error">
          Cannot read the server&apos;s health: {error}
          {samples ? ' The figures below are from the last successful refresh.' : ''}
        </p>
      )}
      {!samples && !error && <p className="empty">Asking the server for its health…</p>}
      {samples && bad > 0 && (
        <p className="banner banner-warn" data-testid="status-attention">
          {bad} source{bad === 1 ? ' needs' : 's need'} attention (highlighted below).
        </p>
      )}
      {samples && (
        <>
          <section className="panel">
            <h2>Flow exporters ({exporters.length})</h2>
            {exporters.length === 0 ? (
              <p className="empty" data-testid="status-no-exporters">
                No router has sent flow data yet. Point NetFlow/IPFIX/sFlow exports at the collector ports in the
                config.
              </p>
            ) : (
              <table className="data-table" data-testid="status-exporters">
                <thead>
                  <tr>
                    <th>Exporter</th>
                    <th>Protocol</th>
                    <th>Last seen</th>
                    <th className="num">Datagrams</th>
                    <th className="num">Records</th>
                    <th className="num">Decode errors</th>
                    <th className="num">Sequence gaps</th>
                    <th className="num">Templates</th>
                  </tr>
                </thead>
                <tbody>
                  {exporters.map((e) => (
                    <tr
                      key={e.key}
                      className={e.state === 'erroring' ? 'row-error' : e.state === 'stale' ? 'row-stale' : undefined}
                      title={e.reason}
                      data-testid="status-exporter"
                      data-address={e.address}
                      data-protocol={e.protocol}
                      data-state={e.state}
                      data-datagrams={e.datagrams}
                    >
                      <td className="mono">{e.address}</td>
                      <td>{PROTOCOL[e.protocol]}</td>
                      <td title={time(e.lastSeen)} className={e.state === 'stale' ? 'cell-warn' : undefined}>
                        {age(now - Date.parse(e.lastSeen))} ago
                      </td>
                      <td className="num">
                        {int(e.datagrams)}
                        {e.datagramsPerSecond !== undefined && (
                          <span className="sub"> · {si(e.datagramsPerSecond)}/s</span>
                        )}
                      </td>
                      <td className="num">
                        {int(e.records)}
                        {e.recordsPerSecond !== undefined && <span className="sub"> · {si(e.recordsPerSecond)}/s</span>}
                        {e.sampleDrops !== undefined && e.sampleDrops > 0 && (
                          <span
                            className="sub cell-warn"
                            data-testid="exporter-sample-drops"
                            title="Flow samples the sFlow agent says it dropped (over its sample budget); Downstream scales the samples that follow to make up for them. Many mean the agent's sampling rate is too low for the traffic."
                          >
                            {' '}
                            · {int(e.sampleDrops)} dropped by the agent
                          </span>
                        )}
                      </td>
                      <td
                        className={`num${e.newErrors > 0 ? ' cell-bad' : ''}`}
                        title={
                          e.errorsByReason
                            ? Object.entries(e.errorsByReason)
                                .map(([k, v]) => `${k}: ${v}`)
                                .join(', ')
                            : undefined
                        }
                      >
                        {int(e.decodeErrors)}
                        {e.newErrors > 0 && <span> (+{int(e.newErrors)})</span>}
                      </td>
                      <td className={`num${e.newGaps > 0 ? ' cell-warn' : ''}`}>{int(e.sequenceGaps)}</td>
                      <td className="num">{e.templates === undefined ? '–' : int(e.templates)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="panel">
            <h2>Detector feeds ({feeds.length})</h2>
            {feeds.length === 0 ? (
              <p className="empty" data-testid="status-no-feeds">
                No detector feed is set up on this server.
              </p>
            ) : (
              <table className="data-table" data-testid="status-feeds">
                <thead>
                  <tr>
                    <th>Feed</th>
                    <th>Last event</th>
                    <th className="num">Events</th>
                    <th className="num">Errors</th>
                    <th className="num">Duplicates</th>
                    <th className="num">Rate-limited</th>
                    <th>Last error</th>
                  </tr>
                </thead>
                <tbody>
                  {feeds.map((f) => (
                    <tr
                      key={f.name}
                      className={f.state === 'erroring' ? 'row-error' : undefined}
                      data-testid="status-feed"
                      data-name={f.name}
                      data-state={f.state}
                      data-events={f.events}
                    >
                      <td>{f.name}</td>
                      <td title={f.lastEvent ? time(f.lastEvent) : undefined}>
                        {f.lastEvent ? `${age(now - Date.parse(f.lastEvent))} ago` : 'never'}
                      </td>
                      <td className="num">{int(f.events)}</td>
                      <td className={`num${f.newErrors > 0 ? ' cell-bad' : ''}`}>{int(f.errors)}</td>
                      <td className="num">{f.duplicates === undefined ? '–' : int(f.duplicates)}</td>
                      <td className="num">{f.rateLimited === undefined ? '–' : int(f.rateLimited)}</td>
                      <td className="sub">{f.lastError ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <SubscriberSourcesPanel refreshMs={STATUS_REFRESH_MS} />
        </>
      )}
    </main>
  );
}
