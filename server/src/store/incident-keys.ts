import type { Incident } from '@downstream/shared';
import type { AbuseDimension } from './types.js';

/**
 * What the incident key index holds: the four rollup dimensions (incidentsFor) plus which
 * endpoints an incident attributes to which customer (the scorecard's endpoint count, without
 * parsing incidents that may list 10,000 sources each).
 */
export type IndexDim = AbuseDimension | 'customer-endpoint';
const CUSTOMER_ENDPOINT_SEP = '\n';

/** The keys an incident names, per dimension (what incidentsFor() finds it by). */
export function incidentKeys(inc: Incident): [IndexDim, string][] {
  const out = new Set<string>();
  const add = (dim: IndexDim, key: string | number | undefined): void => {
    if (key === undefined || key === '') return;
    out.add(`${dim}\u0000${key}`);
  };
  const customerEndpoint = (customer: string | undefined, ip: string): void => {
    if (customer) add('customer-endpoint', `${customer}${CUSTOMER_ENDPOINT_SEP}${ip}`);
  };
  if (inc.target) {
    add('endpoint', inc.target.ip);
    if (inc.target.asn) add('asn', inc.target.asn);
    add('customer', inc.target.customer);
    customerEndpoint(inc.target.customer, inc.target.ip);
  }
  for (const s of inc.sources.top) {
    add('endpoint', s.ip);
    if (s.asn) add('asn', s.asn);
    add('customer', s.customer);
    customerEndpoint(s.customer, s.ip);
  }
  for (const a of inc.sources.asns) if (a.asn) add('asn', a.asn);
  for (const u of inc.upstreams) add('upstream', u.name);
  return [...out].map((s) => {
    const i = s.indexOf('\u0000');
    return [s.slice(0, i) as IndexDim, s.slice(i + 1)];
  });
}

/** Cheap identity of a key set: an unchanged one is not rewritten. */
export function keysSignature(keys: [IndexDim, string][]): string {
  return `${keys.length}:${keys.map((k) => k[1]).join(',')}`;
}

export function splitCustomerEndpoint(key: string): { customer: string; ip: string } {
  const i = key.lastIndexOf(CUSTOMER_ENDPOINT_SEP);
  return { customer: key.slice(0, i), ip: key.slice(i + 1) };
}
