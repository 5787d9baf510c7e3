import type { BindingSource } from '@downstream/shared';
import type { SubscriberStore } from '../store/subscriber-store.js';

/** One RADIUS accounting record, from a packet or a FreeRADIUS detail file. */
export interface AccountingRecord {
  /** Acct-Status-Type: Start, Stop, Interim-Update, Accounting-On, Accounting-Off, … */
  status: string;
  userName?: string;
  sessionId?: string;
  /** NAS-IP-Address (or NAS-IPv6-Address, or the packet's source address). */
  nas?: string;
  /** Framed-IP-Address, Framed-IPv6-Address, Framed-IPv6-Prefix, Delegated-IPv6-Prefix. */
  addresses: string[];
  /** When it happened (Event-Timestamp, else arrival less Acct-Delay-Time), ms. */
  at: number;
  /** Acct-Session-Time, seconds: lets an Interim-Update or Stop without a Start place the start. */
  sessionTime?: number;
}

export type AccountingOutcome =
  | { result: 'bound'; bindings: number }
  | { result: 'stopped'; bindings: number }
  | { result: 'nas-reset'; bindings: number }
  | { result: 'ignored'; why: string };

/**
 * What an accounting record means for the address → subscriber intervals. Start opens one
 * interval per address of the session; Interim-Update keeps it open (or opens it, placed by
 * Acct-Session-Time, when the Start was lost); Stop closes it; Accounting-On/Off (a BNG restart)
 * closes every session of that NAS.
 */
export function applyAccounting(
  store: SubscriberStore,
  rec: AccountingRecord,
  source: BindingSource,
): AccountingOutcome {
  const status = rec.status;
  if (status === 'Accounting-On' || status === 'Accounting-Off') {
    if (!rec.nas) return { result: 'ignored', why: `${status} without NAS-IP-Address` };
    return { result: 'nas-reset', bindings: store.stopNas(source, rec.nas, rec.at) };
  }
  if (status !== 'Start' && status !== 'Stop' && status !== 'Interim-Update')
    return { result: 'ignored', why: `Acct-Status-Type ${status} says nothing about addresses` };
  if (!rec.sessionId) return { result: 'ignored', why: `${status} without Acct-Session-Id` };
  if (!rec.userName) return { result: 'ignored', why: `${status} without User-Name` };
  const nas = rec.nas ?? null;
  const started =
    status === 'Start' || rec.sessionTime === undefined ? rec.at : rec.at - Math.max(0, rec.sessionTime) * 1000;
  let n = 0;
  for (const prefix of rec.addresses) {
    store.record({
      prefix,
      subscriber: rec.userName,
      session: rec.sessionId,
      nas,
      source,
      from: started,
      to: status === 'Stop' ? rec.at : null,
    });
    n++;
  }
  if (status === 'Stop') {
    const closed = store.stopSession(source, nas, rec.sessionId, rec.at);
    return { result: 'stopped', bindings: Math.max(n, closed) };
  }
  if (n === 0) return { result: 'ignored', why: `${status} without Framed-IP-Address or IPv6 prefix` };
  return { result: 'bound', bindings: n };
}
