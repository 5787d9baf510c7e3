import type { FlowBatch } from '../flow/flow-batch.js';

/** Flow direction relative to our network (inbound = toward our customers, as `Direction` in shared/src/incident.ts). */
export const FlowDirection = { unknown: 0, inbound: 1, outbound: 2, transit: 3, internal: 4 } as const;
export type FlowDirection = (typeof FlowDirection)[keyof typeof FlowDirection];

/**
 * A FlowBatch plus the columns enrich adds. Same columnar rule: one typed array per field.
 * Customer and link columns are indexes into the site config (`network.customers`,
 * `network.links`), -1 where none applies.
 */
export interface EnrichedBatch extends FlowBatch {
  direction: Uint8Array;
  srcAsn: Uint32Array;
  dstAsn: Uint32Array;
  srcCustomer: Int16Array;
  dstCustomer: Int16Array;
  /** Link the flow entered on (exporter + inIf), -1 when unknown. */
  inLink: Int16Array;
  /** Link the flow left on (exporter + outIf), -1 when unknown: the upstream outbound abuse leaves by. */
  outLink: Int16Array;
  /**
   * Set only on a detector shard's share of a batch (detect/shard.ts): per record, which of its
   * keys this shard owns — ShardRole.local (the inbound target / outbound customer endpoint:
   * inbound and outbound detectors) and/or ShardRole.remote (the outside party: participation).
   * Absent = every role (one detector set sees everything).
   */
  shardRoles?: Uint8Array;
}

export const ShardRole = { local: 1, remote: 2 } as const;
