import type { Actions } from '../actions/actions.js';
import type { SubscriberActions } from '../actions/subscriber-actions.js';
import type { Authenticator } from '../auth/index.js';
import type { Complaints } from '../feeds/complaint-desk.js';
import type { Feeds } from '../feeds/feeds.js';

/**
 * The services behind the routes, built and started in main/services.ts and handed to each
 * route factory (which takes the part it uses): routes look nothing up and start nothing.
 */
export interface ApiServices {
  auth: Authenticator;
  /** Webhooks, abuse reports, mitigations, the remediation list. */
  actions: Actions;
  /** Notices and walled garden for the subscriber behind a remediation row. */
  subscriberActions: SubscriberActions;
  /** Detector feeds (FastNetMon, Suricata, webhooks): their channels and health. */
  feeds: Feeds;
  complaints: Complaints;
}
