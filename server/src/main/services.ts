import { Actions } from '../actions/actions.js';
import { SubscriberActions } from '../actions/subscriber-actions.js';
import type { ApiServices } from '../api/services.js';
import { createAuthenticator } from '../auth/index.js';
import type { AppContext } from '../context.js';
import { openComplaints } from '../feeds/complaint-desk.js';
import { createFeeds } from '../feeds/feeds.js';

/** Which services a role runs besides its routes. */
export interface ServiceSet {
  /** Feed file tailers (Suricata EVE) and the complaints maildir reader. */
  feeds: boolean;
  /** Automatic subscriber notices and walled garden (RADIUS CoA), on incidents. */
  subscriberActions: boolean;
  /** Whether this process runs what a cluster does once (webhooks, automatic mitigation); default always. */
  leader?: () => boolean;
}

export interface RunningServices extends ApiServices {
  /** Stops them in dependency order: what uses the actions database first, then actions, then the feed tailers. */
  stop(): Promise<void>;
}

/**
 * Builds the services behind the routes, with explicit dependencies, and starts what `which`
 * asks for, before any route mounts: actions (webhooks, remediation list, mitigation
 * withdrawal) subscribe to incidents whether or not the report routes are mounted, and the feed
 * tailers and the maildir reader run whether or not the feed routes are.
 */
export function startServices(ctx: AppContext, which: ServiceSet): RunningServices {
  const auth = createAuthenticator(ctx.config.auth.tokens);
  const actions = new Actions(ctx, which.leader);
  const subscriberActions = new SubscriberActions(ctx, actions, { automatic: which.subscriberActions });
  const feeds = createFeeds(ctx);
  const complaints = openComplaints(ctx, actions, feeds);
  if (which.feeds) {
    feeds.start();
    complaints.inbox?.start();
  }
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    await complaints.inbox?.stop();
    await subscriberActions.close();
    await actions.close();
    await feeds.stop();
  };
  return { auth, actions, subscriberActions, feeds, complaints, stop: () => (stopping ??= stop()) };
}
