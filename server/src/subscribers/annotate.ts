import type { Incident } from '@downstream/shared';
import type { SubscriberDirectory } from './types.js';

/** Most endpoints of one incident looked up (the detail endpoint lists up to 10,000). */
const MAX_LOOKUPS = 10_000;

/**
 * The incident with, on each customer endpoint of an outbound incident, the subscriber who held
 * that address while the incident lasted. Looked up at read time from the stored intervals, so a
 * session or lease that arrives late (a detail file read afterwards) still counts, and an address
 * re-assigned since still shows who had it then.
 */
export async function withSubscribers<T extends Incident>(
  dir: SubscriberDirectory | undefined,
  inc: T,
  onlyIp?: string,
): Promise<T> {
  if (!dir || inc.direction !== 'outbound') return inc;
  const from = Date.parse(inc.firstSeen);
  const to = Date.parse(inc.lastSeen);
  let n = 0;
  const top = await Promise.all(
    inc.sources.top.map(async (s) => {
      if (!s.customer || (onlyIp !== undefined && s.ip !== onlyIp) || n >= MAX_LOOKUPS) return s;
      n++;
      const b = await dir.holder(s.ip, from, to);
      return b ? { ...s, subscriber: b } : s;
    }),
  );
  return { ...inc, sources: { ...inc.sources, top } };
}
