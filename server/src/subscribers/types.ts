import type { SubscriberBinding, SubscriberContact } from '@downstream/shared';

/**
 * subscribers/: who held an address when (RADIUS accounting, DHCP leases), and how to reach them.
 * Async: the process that collects the bindings answers from its own SQLite file, an API process
 * of a cluster from the copy in PostgreSQL (shared-bindings.ts).
 */
export interface SubscriberDirectory {
  /** The holder for an abuse interval [fromMs, toMs]: whoever held `ip` at its end, else during it. */
  holder(ip: string, fromMs: number, toMs: number): Promise<SubscriberBinding | undefined>;
  /** Everyone who held `ip` during [fromMs, toMs), newest first. */
  during(ip: string, fromMs: number, toMs: number): Promise<SubscriberBinding[]>;
  /** The subscriber's RADIUS sessions still open now, newest first. */
  openSessions(subscriber: string): Promise<SubscriberBinding[]>;
  contact(subscriber: string): Promise<SubscriberContact | null>;
}
