import type { BindingSource } from '@downstream/shared';
import type { SubscriberStore } from '../store/subscriber-store.js';
import type { LeaseRecord } from './kea-leases.js';

/** A DHCP lease into the intervals: held over [from, to], or (a release) ended at `to`. */
export function applyLease(store: SubscriberStore, lease: LeaseRecord, source: BindingSource): void {
  if (lease.released) {
    store.end(lease.prefix, lease.subscriber, source, lease.to);
    return;
  }
  store.record({
    prefix: lease.prefix,
    subscriber: lease.subscriber,
    session: null,
    nas: null,
    source,
    from: lease.from,
    to: lease.to >= Number.MAX_SAFE_INTEGER ? null : lease.to,
  });
}
