import type { AddressInfo, Enricher } from '../context.js';
import { FlowDirection, type EnrichedBatch } from '../enrich/enriched-batch.js';
import { addrFromString, setV4, v4FromString } from '@downstream/shared';
import { createFlowBatch, type FlowBatch } from '../flow/flow-batch.js';
import type { SimFlow } from '../sim/sim-flow.js';

/** An empty EnrichedBatch of `capacity` records (tests and benchmarks feed detectors directly). */
export function createEnrichedBatch(capacity: number): EnrichedBatch {
  const b = createFlowBatch(capacity) as EnrichedBatch;
  b.direction = new Uint8Array(capacity);
  b.srcAsn = new Uint32Array(capacity);
  b.dstAsn = new Uint32Array(capacity);
  b.srcCustomer = new Int16Array(capacity).fill(-1);
  b.dstCustomer = new Int16Array(capacity).fill(-1);
  b.inLink = new Int16Array(capacity).fill(-1);
  b.outLink = new Int16Array(capacity).fill(-1);
  b.exporters = ['192.0.2.1'];
  return b;
}

export interface SyntheticRecord {
  src: number;
  dst: number;
  srcPort?: number;
  dstPort?: number;
  proto?: number;
  tcpFlags?: number;
  packets?: number;
  bytes?: number;
  samplingRate?: number;
  direction?: number;
  srcAsn?: number;
  srcCustomer?: number;
  dstCustomer?: number;
  inLink?: number;
  outLink?: number;
}

/** Write record `i` (IPv4 addresses as numbers); packets/bytes are taken as already scaled. */
export function setRecord(b: EnrichedBatch, i: number, r: SyntheticRecord): void {
  setV4(b.src, i, r.src);
  setV4(b.dst, i, r.dst);
  b.srcPort[i] = r.srcPort ?? 40000;
  b.dstPort[i] = r.dstPort ?? 80;
  b.proto[i] = r.proto ?? 17;
  b.tcpFlags[i] = r.tcpFlags ?? 0;
  b.packets[i] = r.packets ?? 1;
  b.bytes[i] = r.bytes ?? 64 * (r.packets ?? 1);
  b.samplingRate[i] = r.samplingRate ?? 1;
  b.direction[i] = r.direction ?? FlowDirection.inbound;
  b.srcAsn[i] = r.srcAsn ?? 0;
  b.srcCustomer[i] = r.srcCustomer ?? -1;
  b.dstCustomer[i] = r.dstCustomer ?? -1;
  b.inLink[i] = r.inLink ?? 0;
  b.outLink[i] = r.outLink ?? -1;
  b.exporter[i] = 0;
  b.start[i] = 0;
  b.end[i] = 0;
}

/** An Enricher that knows nothing: every address is AS 64496 "Example", links "link N". */
export function stubEnricher(customers: string[] = []): Enricher {
  return {
    enrich: (b) => b as EnrichedBatch,
    lookup: (): AddressInfo => ({ asn: 64496, asName: 'Example', country: 'ZZ' }),
    customerName: (i) => customers[i],
    linkName: (i) => `link ${i}`,
  };
}

export const ip = v4FromString;

/** SimFlows as a FlowBatch, the shape the collectors hand on (benchmarks skip the UDP path with it). */
export function batchFromSimFlows(flows: SimFlow[], exporterAddress = '127.0.0.1'): FlowBatch {
  const b = createFlowBatch(flows.length);
  b.exporters = [exporterAddress];
  const w = new Uint32Array(4);
  flows.forEach((f, i) => {
    addrFromString(f.src, w);
    b.src.set(w, i * 4);
    addrFromString(f.dst, w);
    b.dst.set(w, i * 4);
    b.start[i] = f.startMs;
    b.end[i] = f.endMs;
    b.srcPort[i] = f.srcPort;
    b.dstPort[i] = f.dstPort;
    b.proto[i] = f.proto;
    b.tcpFlags[i] = f.tcpFlags;
    b.packets[i] = f.packets;
    b.bytes[i] = f.bytes;
    b.inIf[i] = f.inIf;
    b.outIf[i] = f.outIf;
    b.exporter[i] = 0;
    b.samplingRate[i] = 1;
  });
  b.length = flows.length;
  return b;
}
