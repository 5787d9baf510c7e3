import type { Config } from '../../config/config.js';

/** The simulated site: one border router (the simulator, on loopback) and three customers. */
export const SIM_EXPORTER = '127.0.0.1';

/** Router interfaces (ifIndex) as the simulator's flow records carry them. */
export const IF = {
  transitA: 10,
  transitB: 20,
  peering: 30,
  residential: 100,
  business: 101,
  hosting: 102,
} as const;

export const CUSTOMERS = {
  residential: 'Residential pool A',
  business: 'Business park B',
  hosting: 'Hosting C',
} as const;

/**
 * Documentation prefixes only (RFC 5737 / RFC 3849), so nothing simulated can be mistaken
 * for a real customer. `pnpm start` and the scenario tests use this as `network:`.
 */
export const demoNetworkConfig: Config['network'] = {
  asn: 64500,
  customers: [
    // Downstreams: our own retail broadband, a business customer, a hosting reseller.
    { name: CUSTOMERS.residential, prefixes: ['198.51.100.0/24', '2001:db8:100::/48'], downstream: 'Retail broadband' },
    { name: CUSTOMERS.business, prefixes: ['203.0.113.0/24'], downstream: 'Business park B' },
    { name: CUSTOMERS.hosting, prefixes: ['192.0.2.128/25', '2001:db8:200::/48'], downstream: 'Hosting C (reseller)' },
  ],
  allowed_smtp: ['203.0.113.25', '192.0.2.140'],
  links: [
    { exporter: SIM_EXPORTER, ifindex: IF.transitA, name: 'Transit A (Cogent)', role: 'upstream', asn: 174 },
    { exporter: SIM_EXPORTER, ifindex: IF.transitB, name: 'Transit B (Lumen)', role: 'upstream', asn: 3356 },
    { exporter: SIM_EXPORTER, ifindex: IF.peering, name: 'IX peering', role: 'peer' },
    { exporter: SIM_EXPORTER, ifindex: IF.residential, name: 'Residential aggregation', role: 'customer' },
    { exporter: SIM_EXPORTER, ifindex: IF.business, name: 'Business park B uplink', role: 'customer' },
    { exporter: SIM_EXPORTER, ifindex: IF.hosting, name: 'Hosting C uplink', role: 'customer' },
  ],
};

/** Customer-facing interface for an address of one of the demo customers. */
export function customerIf(ip: string): number {
  if (ip.startsWith('203.0.113.')) return IF.business;
  if (ip.startsWith('192.0.2.') || ip.startsWith('2001:db8:200:')) return IF.hosting;
  return IF.residential;
}

/** Upstream an outside address's traffic uses: stable per address (routing does not flap per flow). */
export function upstreamIf(ip: string): number {
  let h = 0;
  for (let i = 0; i < ip.length; i++) h = (Math.imul(h, 31) + ip.charCodeAt(i)) | 0;
  const x = (h >>> 0) % 100;
  return x < 50 ? IF.transitA : x < 85 ? IF.transitB : IF.peering;
}
