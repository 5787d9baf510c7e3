import { NavLink, useSearchParams } from 'react-router';
import { si } from '../../format.js';
import { activeCounts, freshness, hasSnapshot, useLive } from '../../live/live-store.js';
import { useNow } from '../../live/use-now.js';
import { rangeParams } from './time-range.js';

/** Connection state and live numbers, on every page except the wall. */
export function Header() {
  const now = useNow(1000);
  const connection = useLive((s) => s.connection);
  const lastDataAt = useLive((s) => s.lastDataAt);
  const summary = useLive((s) => s.summary);
  // From the incidents the list shows, not the (≤ 1 Hz) summary, so the two always agree.
  const active = useLive((s) => (hasSnapshot(s) ? activeCounts(s.incidents).active : undefined));
  const error = useLive((s) => s.error);
  const state = freshness({ connection, lastDataAt }, now);
  // The time range follows the operator from page to page, as in Grafana.
  const [params] = useSearchParams();
  const carried = rangeParams(params).toString();
  const withRange = (path: string) => (carried ? `${path}?${carried}` : path);
  return (
    <header className="app-header">
      <NavLink to="/" className="brand">
        Downstream
      </NavLink>
      <nav>
        <NavLink to="/incidents">Incidents</NavLink>
        <NavLink to={withRange('/asns')}>ASNs</NavLink>
        <NavLink to={withRange('/trends')}>Trends</NavLink>
        <NavLink to="/remediation">Remediation</NavLink>
        <NavLink to="/report-card">Report card</NavLink>
        <NavLink to="/status">Status</NavLink>
        <NavLink to="/wall">Wall</NavLink>
      </nav>
      <div className="header-numbers">
        <span className="metric">
          <span className="metric-value" data-testid="flows-per-second">
            {summary ? si(summary.flowsPerSecond) : '–'}
          </span>
          <span className="metric-label">flows/s</span>
        </span>
        <span className="metric">
          <span className="metric-value" data-testid="active-incidents">
            {active ?? '–'}
          </span>
          <span className="metric-label">active incidents</span>
        </span>
        <span
          className={`connection connection-${state.toLowerCase()}`}
          data-testid="connection-state"
          data-state={state}
          title={error ?? (lastDataAt ? `last update ${Math.round((now - lastDataAt) / 1000)} s ago` : 'no data yet')}
        >
          {state}
        </span>
      </div>
    </header>
  );
}
