import {
  RemediationList,
  SubscribersStatus,
  SubscriberNotice,
  WalledGardenStep,
  type EndpointHistory,
  type RemediationEntry,
  type SubscriberBinding,
} from '@downstream/shared';
import { useState } from 'react';
import { time } from '../../format.js';
import { apiPost } from '../../live/api.js';
import { useApi } from '../../live/use-api.js';

/** What the server may do about subscribers: the buttons shown are the ones that can work. */
export function useSubscriberCaps() {
  return useApi('/api/subscribers/status', SubscribersStatus, 60_000).data;
}

/** "alice@isp.example · session A-1 · 10:00 – 10:30" — who held the address, over which interval. */
export function bindingText(b: SubscriberBinding): string {
  const span = `${time(b.from)} – ${b.to ? time(b.to) : 'now'}`;
  return `${b.session ? `session ${b.session} · ` : ''}${b.source} · ${span}`;
}

export function SubscriberCell({ entry }: { entry: RemediationEntry }) {
  const b = entry.subscriber;
  if (!b) return <span className="sub">subscriber unknown</span>;
  return (
    <span data-testid="remediation-subscriber" title={`held ${b.prefix}: ${bindingText(b)}`}>
      {b.subscriber}
      {entry.walledGarden === 'held' && (
        <span className="status rem-open" data-testid="walled-garden-held">
          {' '}
          walled garden
        </span>
      )}
      {entry.lastNotice && <div className="sub">notice sent {time(entry.lastNotice)}</div>}
    </span>
  );
}

/**
 * Notify and walled-garden buttons of one remediation row. The walled garden acts on a
 * subscriber's live session, so it asks the operator to confirm first; a NAK or timeout from the
 * BNG is shown, not hidden (it is in the audit trail too).
 */
export function SubscriberButtons({
  entry,
  caps,
  onDone,
  onError,
  disabled,
}: {
  entry: RemediationEntry;
  caps: SubscribersStatus | undefined;
  onDone: () => void;
  onError: (message: string) => void;
  disabled?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  if (!caps || !entry.subscriber) return null;
  const who = entry.subscriber.subscriber;
  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    try {
      await f();
      onDone();
    } catch (err) {
      onError(`${entry.ip}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const notify = () =>
    run(async () => {
      await apiPost(`/api/remediation/${entry.id}/notify`, {}, SubscriberNotice);
    });
  const garden = (action: 'hold' | 'release') => {
    const q =
      action === 'hold'
        ? `Hold ${who}'s session in the walled garden? Their connection is restricted until released.`
        : `Release ${who} from the walled garden?`;
    if (!window.confirm(q)) return;
    void run(async () => {
      const step = await apiPost(`/api/remediation/${entry.id}/walled-garden`, { action }, WalledGardenStep);
      if (step.result !== 'ack')
        throw new Error(
          `walled garden ${action}: the BNG answered ${step.result}${step.detail ? ` (${step.detail})` : ''}`,
        );
    });
  };
  const off = disabled || busy;
  return (
    <>
      {caps.canNotify && entry.status !== 'remediated' && (
        <button
          type="button"
          disabled={off}
          onClick={() => void notify()}
          title={`E-mail the abuse notice to ${who}`}
          data-testid="subscriber-notify"
        >
          {entry.lastNotice ? 'Notify again' : 'Notify'}
        </button>
      )}
      {caps.canWalledGarden &&
        (entry.walledGarden === 'held' ? (
          <button type="button" disabled={off} onClick={() => garden('release')} data-testid="walled-garden-release">
            Release
          </button>
        ) : (
          <button type="button" disabled={off} onClick={() => garden('hold')} data-testid="walled-garden-hold">
            Walled garden
          </button>
        ))}
    </>
  );
}

/**
 * Endpoint page: who held the address over the range (RADIUS sessions, DHCP leases, newest
 * first), which incidents fell in each holder's time, and the remediation row's actions.
 */
export function EndpointSubscribers({ ip, history }: { ip: string; history: EndpointHistory }) {
  const caps = useSubscriberCaps();
  const [error, setError] = useState<string>();
  const rows = useApi(
    history.customer ? `/api/remediation?customer=${encodeURIComponent(history.customer)}` : undefined,
    RemediationList,
    30_000,
  );
  const entry = rows.data?.entries.find((e) => e.ip === ip);
  const bindings = history.subscribers ?? [];
  const during = (b: SubscriberBinding) =>
    history.incidents.filter((i) => {
      const held = i.sources.top.find((s) => s.ip === ip)?.subscriber;
      return held !== undefined && held.subscriber === b.subscriber && held.from === b.from;
    }).length;
  return (
    <section className="panel" data-testid="endpoint-subscribers">
      <div className="panel-head">
        <h2>Who held {ip}</h2>
        {entry && (
          <span className="row-actions">
            <SubscriberCell entry={entry} />{' '}
            <SubscriberButtons entry={entry} caps={caps} onDone={rows.reload} onError={setError} />
          </span>
        )}
      </div>
      {error && (
        <p className="banner banner-error" role="alert" data-testid="endpoint-subscriber-error">
          {error}
        </p>
      )}
      {bindings.length === 0 ? (
        <p className="empty">
          No RADIUS session or DHCP lease for {ip} in this range (configure <code>subscribers:</code> to import them).
        </p>
      ) : (
        <table className="data-table" data-testid="endpoint-bindings">
          <thead>
            <tr>
              <th>Subscriber</th>
              <th>Held</th>
              <th>Session</th>
              <th>From</th>
              <th>To</th>
              <th className="num">Incidents then</th>
            </tr>
          </thead>
          <tbody>
            {bindings.map((b) => (
              <tr key={`${b.subscriber}|${b.from}|${b.prefix}`}>
                <td>{b.subscriber}</td>
                <td className="mono">{b.prefix}</td>
                <td className="sub">
                  {b.session ?? '–'} {b.nas ? `@ ${b.nas}` : ''} ({b.source})
                </td>
                <td>{time(b.from)}</td>
                <td>{b.to ? time(b.to) : 'still held'}</td>
                <td className="num">{during(b)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
