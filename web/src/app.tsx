import { Suspense } from 'react';
import { BrowserRouter, Outlet, Route, Routes, useLocation } from 'react-router';
import { ErrorBoundary } from './views/common/error-boundary.js';
import { lazyRetry } from './views/common/lazy-retry.js';
import { AsnView } from './views/asns/asn-view.js';
import { AsnsView } from './views/asns/asns-view.js';
import { EndpointView } from './views/endpoint/endpoint-view.js';
import { Header } from './views/common/header.js';
import { IncidentView } from './views/incident/incident-view.js';
import { IncidentsView } from './views/incidents/incidents-view.js';
import { NotFoundView } from './views/common/not-found-view.js';
import { RemediationView } from './views/remediation/remediation-view.js';
import { ReportCardView } from './views/report-card/report-card-view.js';
import { StatusView } from './views/status/status-view.js';
import { TrendsView } from './views/trends/trends-view.js';
import { WallView } from './views/wall/wall-view.js';

// Benchmark baseline only; its own chunk so no user page downloads it.
const BenchScatterView = lazyRetry(() =>
  import('./views/bench/bench-scatter-view.js').then((m) => ({ default: m.BenchScatterView })),
);

function Layout() {
  return (
    <div className="app">
      <Header />
      <ErrorBoundary what="This page" resetKey={useLocation().pathname}>
        <Outlet />
      </ErrorBoundary>
    </div>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <Routes>
        <Route path="wall" element={<WallView />} />
        <Route
          path="bench/scatter/:id"
          element={
            <Suspense fallback={null}>
              <BenchScatterView />
            </Suspense>
          }
        />
        <Route element={<Layout />}>
          <Route index element={<IncidentsView />} />
          <Route path="incidents" element={<IncidentsView />} />
          <Route path="incidents/:id" element={<IncidentView />} />
          <Route path="endpoints/:ip" element={<EndpointView />} />
          <Route path="asns" element={<AsnsView />} />
          <Route path="asns/:asn" element={<AsnView />} />
          <Route path="trends" element={<TrendsView />} />
          <Route path="remediation" element={<RemediationView />} />
          <Route path="report-card" element={<ReportCardView />} />
          <Route path="status" element={<StatusView />} />
          <Route path="*" element={<NotFoundView />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}
