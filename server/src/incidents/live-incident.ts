import type { Incident, SourceEndpoint, TimelinePoint } from '@downstream/shared';
import type { MergeKey } from './merge-key.js';

/** Listed sources an incident keeps (the detail's call list / graph). */
export const MAX_SOURCES = 10_000;

/** One incident the manager holds in memory, with what merging and the lifecycle need. */
export interface Live {
  inc: Incident;
  mergeKey: MergeKey;
  /** Every listed source, heaviest first (≤ MAX_SOURCES). */
  sources: Map<string, SourceEndpoint>;
  timeline: TimelinePoint[];
  /** Sum of the rates of the events of one second (a campaign is many endpoints' events). */
  secAt: string;
  secPps: number;
  secBps: number;
  lastEventMs: number;
  startedMs: number;
  lastPersistMs: number;
  resolvedMs?: number;
  manualResolvedMs?: number;
  dirty: boolean;
  lastEmitMs: number;
  /** Changed since the last 'upsert' was emitted (emits are at most one a second per incident). */
  pendingEmit: boolean;
  /** A built-in detector has reported this incident (its verdict and sources rule over feeds'). */
  builtIn: boolean;
  /** Last detection from a built-in detector (manager clock). */
  lastBuiltInMs: number;
  /** Second (`at`) last counted in the rollups, for incidents whose events each measure the whole attack. */
  rolledAt: string;
}
