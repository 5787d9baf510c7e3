import type { FlowProtocol } from '@downstream/shared';

/**
 * Which stream of an exporter a datagram belongs to: the NetFlow v9 source id, the IPFIX
 * observation domain, the NetFlow v5 engine, the sFlow sub-agent. Templates, samplers,
 * sequence numbers and init times live per domain; the exporter table is keyed by
 * (exporter address, DomainKey).
 *
 * Branded number rather than an object or a string: it is looked up for every datagram, and a
 * number key keeps that a plain Map hit. Each protocol's ids occupy their own 2^32 range, so a
 * v9 source id 5 and an IPFIX domain 5 of the same exporter never share templates.
 */
export type DomainKey = number & { readonly __domainKey: never };

const SPACE: Record<FlowProtocol, number> = {
  'netflow-v9': 0,
  'netflow-v5': 0x1_0000_0000,
  'sflow-v5': 0x2_0000_0000,
  ipfix: 0x3_0000_0000,
};

/** The domain `id` (source id, observation domain, engine or sub-agent, 32 bits) of `protocol`. */
export function domainKey(protocol: FlowProtocol, id: number): DomainKey {
  return (SPACE[protocol] + (id >>> 0)) as DomainKey;
}
