import type { IncidentManager } from './types.js';
import { Incidents, type IncidentManagerOptions } from './manager.js';

export { Incidents, type IncidentManagerOptions, type IncidentStore } from './manager.js';
export { mergeKeyOf, type MergeKey } from './merge-key.js';
export { MemoryStore } from './memory-store.js';
export { severityOf } from './severity.js';

/**
 * Merges detections into incidents with a lifecycle (open → resolved after a quiet period,
 * re-opened if it returns), persists them through the Store and emits 'upsert' / 'resolved'.
 * Loads incidents that were not resolved back from the store on start (`ready` resolves after).
 */
export function createIncidentManager(
  opts: IncidentManagerOptions,
): IncidentManager & { flush(): Promise<void>; readonly ready: Promise<void> } {
  return new Incidents(opts);
}
