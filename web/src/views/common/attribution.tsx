/**
 * Credit the AS-name/country data requires (CC BY 4.0; DB-IP asks for a link back on every page
 * that shows its results): see server/src/enrich/DATA-LICENSES.md. Every view that shows AS names
 * or countries renders this; the wall puts it small in a corner.
 */
export function DataAttribution({ corner = false }: { corner?: boolean }) {
  return (
    <footer className={`attribution${corner ? ' corner' : ''}`} data-testid="data-attribution">
      IP to ASN data: <a href="https://www.routeviews.org/routeviews/">RouteViews</a>, DB-IP (
      <a href="https://db-ip.com">IP Geolocation by DB-IP</a>, https://db-ip.com),{' '}
      <a href="https://www.nro.net/">NRO</a>, <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>
    </footer>
  );
}
