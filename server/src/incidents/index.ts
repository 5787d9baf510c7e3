import type { IncidentManager } from '../context.js';
import { Incidents, type IncidentManagerOptions } from './manager.js';

export { Incidents, mergeKeyOf, type IncidentManagerOptions, type IncidentStore } from './manager.js';
export { MemoryStore } from './memory-store.js';
export { severityOf } from './severity.js';

/**
 * Merges detections into incidents with a lifecycle (open → resolved after a quiet period,
 * re-opened if it returns), persists them through the Store and emits 'upsert' / 'resolved'.
 * Loads incidents that were not resolved back from the store on start.
 */
export function createIncidentManager(opts: IncidentManagerOptions): IncidentManager & { flush(): void } {
  return new Incidents(opts);
}
