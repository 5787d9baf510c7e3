/**
 * enrich/: who an address belongs to (ASN, AS name, country, our customer) and which way each
 * flow goes relative to our network.
 */
import { addrFromString } from '@downstream/shared';
import type { AddressInfo, Enricher } from './types.js';
import { type FlowBatch } from '../flow/flow-batch.js';
import { asnDb, countryName, type AsnDb } from './asn-db.js';
import { FlowDirection, type EnrichedBatch } from './enriched-batch.js';
import { lookupWords } from './range-table.js';
import {
  buildLinkMap,
  buildPrefixTables,
  canonicalAddress,
  LinkRoleCode,
  type AddressTables,
  type Network,
} from './site.js';

export { FlowDirection, type EnrichedBatch } from './enriched-batch.js';
export { asnDb, loadAsnDb, dataFiles } from './asn-db.js';

export interface LinkInfo {
  name: string;
  role: 'upstream' | 'peer' | 'customer';
  asn?: number;
  exporter: string;
  ifindex: number;
}

/** What createEnricher returns: the Enricher seam plus allocation-free helpers for detectors. */
export interface SiteEnricher extends Enricher {
  /** ASN of record `i` of an address column (FlowBatch layout); 0 = unknown. */
  asnAt(words: Uint32Array, i: number): number;
  /** Two-letter country of record `i`, '' = unknown (cached strings, no allocation). */
  countryAt(words: Uint32Array, i: number): string;
  /** Index into network.customers of record `i`'s longest matching prefix, -1 = none. */
  customerAt(words: Uint32Array, i: number): number;
  /** Whether record `i` is one of `network.allowed_smtp`. */
  allowedSmtpAt(words: Uint32Array, i: number): boolean;
  allowedSmtp(ip: string): boolean;
  /** AS name from the data set; our own ASN (network.asn) is named even when the data set lacks it. */
  asName(asn: number): string;
  link(index: number): LinkInfo | undefined;
}

/**
 * Build an enricher for a site config. The ASN data set is loaded on the first call in the
 * process (~0.2–0.5 s, synchronous) and shared by every enricher afterwards.
 */
export function createEnricher(network: Network, db: AsnDb = asnDb()): SiteEnricher {
  // Batch columns hold customer and link indexes as Int16 (-1 = none).
  if (network.customers.length > 32767)
    throw new Error(`network.customers: at most 32767 customers (got ${network.customers.length})`);
  if (network.links.length > 32767) throw new Error(`network.links: at most 32767 links (got ${network.links.length})`);
  const customers: AddressTables = buildPrefixTables(
    network.customers.flatMap((c, i) => c.prefixes.map((cidr) => ({ cidr, value: i + 1 }))),
  );
  const smtp: AddressTables = buildPrefixTables(
    network.allowed_smtp.map((ip) => ({ cidr: ip.includes(':') ? `${ip}/128` : `${ip}/32`, value: 1 })),
  );
  const linkMap = buildLinkMap(network.links);
  const linkRole = new Uint8Array(network.links.map((l) => LinkRoleCode[l.role]));
  const links: LinkInfo[] = network.links.map((l) => ({
    name: l.name,
    role: l.role,
    asn: l.asn,
    exporter: l.exporter,
    ifindex: l.ifindex,
  }));
  // Exporter address text (as batches carry it) → its ifindex map; null when it has no links.
  const exporterLinks = new Map<string, Map<number, number> | null>();
  const linksOf = (exporter: string): Map<number, number> | null => {
    let m = exporterLinks.get(exporter);
    if (m === undefined) {
      m = linkMap.get(canonicalAddress(exporter) ?? exporter) ?? null;
      exporterLinks.set(exporter, m);
    }
    return m;
  };

  const asnAt = (w: Uint32Array, i: number): number => lookupWords(db.asnV4, db.asnV6, w, i);
  const customerAt = (w: Uint32Array, i: number): number => lookupWords(customers.v4, customers.v6, w, i) - 1;
  const asName = (asn: number): string => db.names.get(asn) ?? '';
  const scratch = new Uint32Array(4);
  // Our own customers' addresses are often missing from the public data set (new or
  // documentation prefixes, space announced only as an aggregate): they are ours, so they
  // belong to our AS (network.asn) whatever the data set says — or does not.
  const ownAsn = network.asn ?? 0;
  const ownName = ownAsn ? db.names.get(ownAsn) || `our network (AS${ownAsn})` : 'our network';

  return {
    enrich(batch: FlowBatch): EnrichedBatch {
      const n = batch.length;
      const direction = new Uint8Array(n);
      const srcAsn = new Uint32Array(n);
      const dstAsn = new Uint32Array(n);
      const srcCustomer = new Int16Array(n);
      const dstCustomer = new Int16Array(n);
      const inLink = new Int16Array(n);
      const outLink = new Int16Array(n);
      const perExporter = batch.exporters.map(linksOf);
      const { src, dst, exporter, inIf, outIf } = batch;
      for (let i = 0; i < n; i++) {
        srcAsn[i] = lookupWords(db.asnV4, db.asnV6, src, i);
        dstAsn[i] = lookupWords(db.asnV4, db.asnV6, dst, i);
        let sc = lookupWords(customers.v4, customers.v6, src, i) - 1;
        let dc = lookupWords(customers.v4, customers.v6, dst, i) - 1;
        let srcOurs = sc >= 0;
        let dstOurs = dc >= 0;
        let li = -1;
        let lo = -1;
        const m = perExporter[exporter[i]];
        if (m) {
          li = m.get(inIf[i]) ?? -1;
          if (li >= 0) {
            // Entering from an upstream or peer, the source is outside whatever it claims (a
            // source inside our prefixes is spoofed); entering from a customer link it is one of
            // ours even when that downstream's prefixes are not listed.
            if (linkRole[li] === LinkRoleCode.customer) srcOurs = true;
            else {
              srcOurs = false;
              sc = -1;
            }
          }
          lo = m.get(outIf[i]) ?? -1;
          if (lo >= 0) {
            if (linkRole[lo] === LinkRoleCode.customer) dstOurs = true;
            else {
              dstOurs = false;
              dc = -1;
            }
          }
        }
        direction[i] = srcOurs
          ? dstOurs
            ? FlowDirection.internal
            : FlowDirection.outbound
          : dstOurs
            ? FlowDirection.inbound
            : FlowDirection.transit;
        if (srcOurs && srcAsn[i] === 0) srcAsn[i] = ownAsn;
        if (dstOurs && dstAsn[i] === 0) dstAsn[i] = ownAsn;
        srcCustomer[i] = sc;
        dstCustomer[i] = dc;
        inLink[i] = li;
        outLink[i] = lo;
      }
      const out = batch as EnrichedBatch;
      out.direction = direction;
      out.srcAsn = srcAsn;
      out.dstAsn = dstAsn;
      out.srcCustomer = srcCustomer;
      out.dstCustomer = dstCustomer;
      out.inLink = inLink;
      out.outLink = outLink;
      return out;
    },

    lookup(ip: string): AddressInfo {
      addrFromString(ip, scratch);
      const c = customerAt(scratch, 0);
      let asn = asnAt(scratch, 0);
      let name = asName(asn);
      if (asn === 0 && c >= 0) {
        asn = ownAsn;
        name = ownName;
      }
      const info: AddressInfo = {
        asn,
        asName: name,
        country: countryName(lookupWords(db.countryV4, db.countryV6, scratch, 0)),
      };
      if (c >= 0) info.customer = network.customers[c].name;
      return info;
    },

    customerName: (index) => network.customers[index]?.name,
    linkName: (index) => network.links[index]?.name,
    asnAt,
    countryAt: (w, i) => countryName(lookupWords(db.countryV4, db.countryV6, w, i)),
    customerAt,
    allowedSmtpAt: (w, i) => lookupWords(smtp.v4, smtp.v6, w, i) === 1,
    allowedSmtp(ip: string): boolean {
      addrFromString(ip, scratch);
      return lookupWords(smtp.v4, smtp.v6, scratch, 0) === 1;
    },
    asName: (asn) => (asn !== 0 && asn === ownAsn ? ownName : asName(asn)),
    link: (index) => links[index],
  };
}
