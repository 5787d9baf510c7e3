import { Link, useLocation } from 'react-router';

export function NotFoundView() {
  const { pathname } = useLocation();
  return (
    <main className="page">
      <p className="empty" role="alert">
        Nothing lives at <span className="mono">{pathname}</span>. Go to the <Link to="/incidents">incident list</Link>.
      </p>
    </main>
  );
}
