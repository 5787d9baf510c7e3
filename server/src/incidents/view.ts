import type { Incident, SourceEndpoint } from '@downstream/shared';
import { MAX_SOURCES, type Live } from './live-incident.js';

/** Sources carried by inbound incidents in lists, socket deltas and the store. */
const LIST_TOP_INBOUND = 100;

export function sortedSources(live: Live, limit = MAX_SOURCES): SourceEndpoint[] {
  const all = [...live.sources.values()];
  all.sort((a, b) => b.packets - a.packets);
  return all.length > limit ? all.slice(0, limit) : all;
}

/** The incident as lists, deltas and the store carry it: inbound source lists trimmed. */
export function incidentView(live: Live): Incident {
  const limit = live.inc.direction === 'inbound' ? LIST_TOP_INBOUND : MAX_SOURCES;
  return {
    ...live.inc,
    sources: { ...live.inc.sources, top: sortedSources(live, limit) },
    notes: [...live.inc.notes],
  };
}
