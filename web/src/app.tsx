import { BrowserRouter, Outlet, Route, Routes } from 'react-router';
import { Header } from './views/header.js';
import { IncidentView } from './views/incident-view.js';
import { IncidentsView } from './views/incidents-view.js';
import { NotFoundView } from './views/not-found-view.js';
import { WallView } from './views/wall-view.js';

function Layout() {
  return (
    <div className="app">
      <Header />
      <Outlet />
    </div>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <Routes>
        <Route path="wall" element={<WallView />} />
        <Route element={<Layout />}>
          <Route index element={<IncidentsView />} />
          <Route path="incidents" element={<IncidentsView />} />
          <Route path="incidents/:id" element={<IncidentView />} />
          <Route path="*" element={<NotFoundView />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}
