import { actionsFor, stopActions } from '../actions/actions.js';
import { stopSubscriberActions, subscriberActionsFor } from '../actions/subscriber-actions.js';
import { complaintsFor, stopComplaints } from '../api/complaints.js';
import type { AppContext } from '../context.js';
import { feedsFor, stopFeeds } from '../feeds/feeds.js';

/** Which services a role runs besides its routes. */
export interface ServiceSet {
  /** Feed file tailers (Suricata EVE) and the complaints maildir reader. */
  feeds: boolean;
  /** Subscriber notices and walled garden (RADIUS CoA), on incidents. */
  subscriberActions: boolean;
}

/**
 * Starts the services behind the routes here, in main/, before any route mounts: actions
 * (webhooks, remediation list, mitigation withdrawal) subscribe to incidents whether or not the
 * report routes are mounted, and the feed tailers and the maildir reader run whether or not the
 * feed routes are. Route factories only look these up (`actionsFor(ctx)` …) and start nothing.
 * Returns the stop, in dependency order: what uses the actions database first, then actions,
 * then the feed tailers.
 */
export function startServices(ctx: AppContext, which: ServiceSet): () => Promise<void> {
  actionsFor(ctx);
  if (which.subscriberActions) subscriberActionsFor(ctx);
  if (which.feeds) {
    feedsFor(ctx).start();
    const complaints = ctx.config.feeds.complaints;
    if (complaints.enabled && complaints.maildir) complaintsFor(ctx).inbox?.start();
  }
  return async () => {
    await stopComplaints(ctx);
    await stopSubscriberActions(ctx);
    await stopActions(ctx);
    await stopFeeds(ctx);
  };
}
