import type { AppContext } from '../context.js';
import { startServices, type RunningServices, type ServiceSet } from '../main/services.js';

export type { RunningServices };

/**
 * The services of a test context, built by main/services.ts as a server builds them. By default
 * nothing is started that polls (feed tailers, maildir), so a test starts what it exercises;
 * automatic subscriber actions are on, as in the `all` role. Tests stop them with `stop()`.
 */
export function testServices(
  ctx: AppContext,
  which: ServiceSet = { feeds: false, subscriberActions: true },
): RunningServices {
  return startServices(ctx, which);
}
