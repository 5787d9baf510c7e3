import type { FlowBatch } from '../flow/flow-batch.js';
import type { EnrichedBatch } from './enriched-batch.js';

/** What an IP resolves to in enrich/. */
export interface AddressInfo {
  asn: number;
  asName: string;
  country: string;
  customer?: string;
}

/** enrich/: ASN data set + site config. */
export interface Enricher {
  /** Adds direction, ASN, customer and link columns; may reuse `batch`'s buffers. */
  enrich(batch: FlowBatch): EnrichedBatch;
  lookup(ip: string): AddressInfo;
  customerName(index: number): string | undefined;
  linkName(index: number): string | undefined;
}
