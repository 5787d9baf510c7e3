import { AsnHeatmap as AsnHeatmapSchema, IncidentKind, type Incident } from '@downstream/shared';
import { Suspense, useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { SourceFlow } from '../../charts/world-map.js';
import { age, int, KIND_LABEL, kindColor, si } from '../../format.js';
import { activeCounts, freshness, hasSnapshot, useLive } from '../../live/live-store.js';
import { useApi } from '../../live/use-api.js';
import { useIncident } from '../../live/use-incident.js';
import { useIncidentRoom } from '../../live/use-incident-room.js';
import { useNow } from '../../live/use-now.js';
import { ErrorBoundary } from '../common/error-boundary.js';
import { lazyRetry } from '../common/lazy-retry.js';
import { DataAttribution } from '../common/attribution.js';

const FanInGraph = lazyRetry(() => import('../../charts/fan-in-graph.js').then((m) => ({ default: m.FanInGraph })));
const WorldMap = lazyRetry(() => import('../../charts/world-map.js').then((m) => ({ default: m.WorldMap })));
const AsnHeatmap = lazyRetry(() => import('../../charts/asn-heatmap.js').then((m) => ({ default: m.AsnHeatmap })));

// A wall has all day: fetch every panel's code up front so a later server outage cannot
// leave a panel without it.
const preload = () =>
  Promise.all([
    import('../../charts/fan-in-graph.js'),
    import('../../charts/world-map.js'),
    import('../../charts/asn-heatmap.js'),
  ]);

export const WALL_PANELS = ['attack', 'map', 'asns'] as const;
export type WallPanel = (typeof WALL_PANELS)[number];
/** The attack panel stays put; only these take turns beside it. */
export const SECONDARY_PANELS = ['map', 'asns'] as const satisfies readonly WallPanel[];
type SecondaryPanel = (typeof SECONDARY_PANELS)[number];

const PANEL_TITLE: Record<WallPanel, string> = {
  attack: 'Largest current attack',
  map: 'Where attacks come from',
  asns: 'Source networks, last hour',
};

/** Wall settings from the URL, so the display is configured by the link it is opened with. */
export function wallSettings(params: URLSearchParams) {
  const rotate = Number(params.get('rotate') ?? 20);
  const pinned = params.get('panel');
  const home = (params.get('home') ?? '8.68,50.11').split(',').map(Number);
  return {
    /** Seconds per secondary panel; 0 stops rotation. */
    rotateS: Number.isFinite(rotate) && rotate >= 0 ? rotate : 20,
    /** A secondary panel that stays (`panel=map|asns`); the attack panel is always shown. */
    pinned: (SECONDARY_PANELS as readonly string[]).includes(pinned ?? '') ? (pinned as SecondaryPanel) : undefined,
    /** Kiosk mode (`kiosk=1`): no controls, no cursor, for an unattended screen. */
    kiosk: params.get('kiosk') === '1' || params.get('kiosk') === 'true',
    home: (home.length === 2 && home.every(Number.isFinite) ? home : [8.68, 50.11]) as [number, number],
  };
}

function Big({ label, value, testId, tone }: { label: string; value: string; testId?: string; tone?: string }) {
  return (
    <div className="wall-big">
      <div className="wall-big-value" data-testid={testId} style={tone ? { color: tone } : undefined}>
        {value}
      </div>
      <div className="wall-big-label">{label}</div>
    </div>
  );
}

function AttackPanel({ incident }: { incident?: Incident }) {
  if (!incident) return <div className="wall-calm">No attack in progress</div>;
  return <AttackGraph incident={incident} />;
}

function AttackGraph({ incident }: { incident: Incident }) {
  const { columns } = useIncident(incident.id);
  const room = useIncidentRoom(incident.id);
  const graph = room.graph ?? columns;
  const names = useMemo(() => new Map(incident.sources.asns.map((a) => [a.asn, a.name])), [incident.sources.asns]);
  return (
    <div className="wall-attack" data-testid="wall-attack" data-id={incident.id}>
      <div className="wall-attack-head">
        <span
          className="kind-chip big"
          style={{ borderColor: kindColor(incident.kind), color: kindColor(incident.kind) }}
        >
          {KIND_LABEL[incident.kind]}
        </span>
        <span className="mono">{incident.target?.ip ?? incident.sources.top[0]?.ip ?? ''}</span>
        {incident.target?.customer && <span className="sub">{incident.target.customer}</span>}
        <span className="wall-attack-num">{si(incident.peak.pps, 'pps')}</span>
        <span className="wall-attack-num">{int(incident.sources.distinct)} sources now</span>
      </div>
      <div className="wall-attack-graph">
        {graph && graph.count > 0 ? (
          <FanInGraph
            graph={graph}
            kind={incident.kind}
            targetLabel={incident.target?.ip ?? ''}
            asnNames={names}
            wall
            maxClusters={20}
            upstreams={incident.upstreams}
            labelPx={Math.max(14, Math.round(window.innerHeight * 0.017))}
          />
        ) : (
          <div className="wall-calm">Waiting for the source list…</div>
        )}
      </div>
    </div>
  );
}

function MapPanel({ incidents, home }: { incidents: Incident[]; home: [number, number] }) {
  const flows = useMemo<SourceFlow[]>(
    () =>
      incidents
        .filter((i) => i.direction === 'inbound')
        .flatMap((i) =>
          i.sources.top
            .filter((s) => s.country)
            .map((s) => ({ country: s.country, kind: i.kind, weight: s.bytes || s.packets })),
        ),
    [incidents],
  );
  return <WorldMap flows={flows} home={home} />;
}

function AsnsPanel({ height }: { height: number }) {
  // The last hour, moving once a minute (rollups are per minute); polled every 10 s while
  // empty, as the first rows land only when the first minute closes.
  const minute = Math.floor(useNow(60_000) / 60_000);
  const path = `/api/asns/heatmap?from=${(minute - 60) * 60_000}&step=1m&top=15`;
  const [empty, setEmpty] = useState(true);
  const { data, error } = useApi(path, AsnHeatmapSchema, empty ? 10_000 : undefined);
  useEffect(() => setEmpty(!data || data.rows.length === 0), [data]);
  if (!data) return <div className="wall-calm">{error ? `Heatmap unavailable: ${error}` : 'Loading…'}</div>;
  if (data.rows.length === 0) return <div className="wall-calm">No abusive traffic recorded in the last hour</div>;
  return (
    <AsnHeatmap
      buckets={data.buckets.map((b) => Date.parse(b))}
      stepMs={data.stepMs}
      rows={data.rows.map((r) => ({ asn: r.asn, name: r.name || `AS${r.asn}`, values: r.bytes }))}
      height={height}
      fontPx={Math.max(12, Math.round(window.innerHeight * 0.014))}
    />
  );
}

/** `/wall`: the unattended NOC screen. No controls, no scrolling; configured by URL. */
export function WallView() {
  const [params, setParams] = useSearchParams();
  const settings = wallSettings(params);
  const setKiosk = (on: boolean) => {
    const next = new URLSearchParams(params);
    if (on) next.set('kiosk', '1');
    else next.delete('kiosk');
    setParams(next, { replace: true });
    if (on) document.documentElement.requestFullscreen?.().catch(() => undefined);
    else if (document.fullscreenElement) document.exitFullscreen?.().catch(() => undefined);
  };
  useEffect(() => {
    if (!settings.kiosk) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setKiosk(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });
  useEffect(() => {
    preload().catch(() => undefined);
  }, []);
  const now = useNow(1000);
  const connection = useLive((s) => s.connection);
  const lastDataAt = useLive((s) => s.lastDataAt);
  const summary = useLive((s) => s.summary);
  const incidentsById = useLive((s) => s.incidents);
  const ticker = useLive((s) => s.ticker);
  const state = freshness({ connection, lastDataAt }, now);
  const stale = state === 'STALE' || state === 'offline';

  const active = useMemo(() => Object.values(incidentsById).filter((i) => i.status !== 'resolved'), [incidentsById]);
  // Counts from the same incidents as the ticker and the attack panel; the summary lags by up to 1 s.
  const snapshot = useLive(hasSnapshot);
  const counts = useMemo(() => (snapshot ? activeCounts(incidentsById) : undefined), [snapshot, incidentsById]);
  const largest = useMemo(
    () =>
      [...active].sort((a, b) =>
        a.direction === b.direction ? b.peak.pps - a.peak.pps : a.direction === 'inbound' ? -1 : 1,
      )[0],
    [active],
  );

  const panel: SecondaryPanel =
    settings.pinned ??
    (settings.rotateS > 0
      ? SECONDARY_PANELS[Math.floor(now / 1000 / settings.rotateS) % SECONDARY_PANELS.length]!
      : 'map');
  const heatmapHeight = Math.round(window.innerHeight * 0.32);
  const lastAge = lastDataAt === undefined ? undefined : now - lastDataAt;

  return (
    <div
      className={`wall${stale ? ' wall-stale' : ''}${settings.kiosk ? ' wall-kiosk' : ''}`}
      data-testid="wall"
      data-state={state}
      data-kiosk={settings.kiosk}
    >
      <header className="wall-top">
        <h1 className="wall-brand">Downstream</h1>
        {!settings.kiosk && (
          <nav className="wall-chrome" data-testid="wall-chrome" aria-label="Wall controls">
            <Link to="/incidents">Incidents</Link>
            <button type="button" onClick={() => setKiosk(true)} data-testid="kiosk-toggle">
              Kiosk mode
            </button>
          </nav>
        )}
        <div
          className={`wall-freshness freshness-${state.toLowerCase()}`}
          data-testid="wall-freshness"
          data-state={state}
        >
          {state === 'live' && `LIVE · updated ${age(lastAge ?? 0)} ago`}
          {state === 'STALE' &&
            `STALE · ${connection === 'live' ? 'no data' : 'disconnected'} for ${lastAge === undefined ? '–' : age(lastAge)}`}
          {state === 'connecting' && 'CONNECTING…'}
          {state === 'offline' && 'OFFLINE · cannot reach the server'}
        </div>
        <div className="wall-clock">{new Date(now).toISOString().slice(11, 19)} UTC</div>
      </header>

      <section className="wall-numbers">
        <Big label="flows / s" value={summary ? si(summary.flowsPerSecond) : '–'} testId="wall-flows" />
        <Big label="packets / s" value={summary ? si(summary.packetsPerSecond) : '–'} />
        <Big label="bits / s" value={summary ? si(summary.bitsPerSecond) : '–'} />
        <Big
          label="active incidents"
          value={counts ? String(counts.active) : '–'}
          testId="wall-active"
          tone={counts && counts.active > 0 ? 'var(--bad)' : 'var(--ok)'}
        />
        <Big label="inbound" value={counts ? String(counts.inbound) : '–'} testId="wall-inbound" />
        <Big label="outbound" value={counts ? String(counts.outbound) : '–'} testId="wall-outbound" />
        <div className="wall-kinds" data-testid="wall-kinds">
          {IncidentKind.options
            .filter((k) => (counts?.byKind[k] ?? 0) > 0)
            .map((k) => (
              <span
                key={k}
                className="wall-kind"
                style={{ color: kindColor(k), borderColor: kindColor(k) }}
                data-kind={k}
              >
                {KIND_LABEL[k]} <b>{counts?.byKind[k]}</b>
              </span>
            ))}
          {counts && counts.active === 0 && <span className="wall-kind calm">no active abuse</span>}
        </div>
      </section>

      <section className="wall-main">
        <div className="wall-panel wall-attack-panel" data-testid="wall-attack-panel">
          <div className="wall-panel-title">{PANEL_TITLE.attack}</div>
          <div className="wall-panel-body">
            <ErrorBoundary what="The attack panel" retryMs={10_000} resetKey={largest?.id ?? ''}>
              <Suspense fallback={<div className="wall-calm">Loading…</div>}>
                <AttackPanel incident={largest} />
              </Suspense>
            </ErrorBoundary>
          </div>
        </div>
        <div className="wall-side">
          <div className="wall-panel" data-testid="wall-panel" data-panel={panel}>
            <div className="wall-panel-title">
              {PANEL_TITLE[panel]}
              <span className="wall-dots">
                {SECONDARY_PANELS.map((p) => (
                  <span key={p} className={p === panel ? 'on' : undefined} />
                ))}
              </span>
            </div>
            <div className="wall-panel-body">
              <ErrorBoundary what={`The ${panel} panel`} retryMs={10_000} resetKey={panel}>
                <Suspense fallback={<div className="wall-calm">Loading…</div>}>
                  {panel === 'map' && <MapPanel incidents={active} home={settings.home} />}
                  {panel === 'asns' && <AsnsPanel height={heatmapHeight} />}
                </Suspense>
              </ErrorBoundary>
            </div>
          </div>
          <aside className="wall-ticker" data-testid="wall-ticker">
            <div className="wall-panel-title">New and reopened</div>
            <ol>
              {ticker.slice(0, 8).map((t) => {
                const i = incidentsById[t.id] ?? t.incident;
                return (
                  <li
                    key={t.id}
                    className={i.status === 'resolved' ? 'resolved' : undefined}
                    data-kind={i.kind}
                    data-id={i.id}
                    data-reopened={t.reopened ? 'true' : undefined}
                  >
                    <span className="tick-kind" style={{ background: kindColor(i.kind) }} />
                    <div>
                      <div className="tick-line">
                        <span className={`tick-tag${t.reopened ? ' reopened' : ''}`}>
                          {t.reopened ? 'reopened' : 'new'}
                        </span>{' '}
                        <b>{KIND_LABEL[i.kind]}</b>{' '}
                        <span className="mono">{i.target?.ip ?? i.sources.top[0]?.ip ?? ''}</span>
                      </div>
                      <div className="tick-sub">
                        {si(i.peak.pps, 'pps')} · {int(i.sources.distinct)} src now ·{' '}
                        {age(now - Date.parse(i.firstSeen))} ago
                        {i.status === 'resolved' ? ' · resolved' : ''}
                      </div>
                    </div>
                  </li>
                );
              })}
            </ol>
            {ticker.length === 0 && <div className="wall-calm small">Nothing new</div>}
          </aside>
        </div>
      </section>
      <DataAttribution corner />
      {stale && (
        <div className="wall-stale-banner" data-testid="wall-stale" role="alert">
          STALE — {connection === 'live' ? 'no update' : 'server unreachable'} for{' '}
          {lastAge === undefined ? '–' : age(lastAge)}; numbers below may be out of date
        </div>
      )}
    </div>
  );
}
