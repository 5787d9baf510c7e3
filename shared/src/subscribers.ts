import { z } from 'zod';

// Not imported from incident.ts: incident.ts imports this file (a source endpoint carries its binding).
const Timestamp = z.string().datetime({ offset: true });

/** Where an address → subscriber binding came from. */
export const BindingSource = z.enum(['radius', 'radius-detail', 'kea', 'dhcpd']);
export type BindingSource = z.infer<typeof BindingSource>;

/**
 * Who held an address (or prefix) over a time interval: one RADIUS session or DHCP lease. The
 * subscriber shown for an incident is the one whose interval covers the abuse, not whoever holds
 * the address now (residential addresses are re-assigned).
 */
export const SubscriberBinding = z.object({
  /** The address or prefix held, e.g. `198.51.100.7/32` or `2001:db8:1::/56`. */
  prefix: z.string(),
  /** RADIUS User-Name, or the DHCP client id / hardware address / DUID. */
  subscriber: z.string(),
  /** RADIUS Acct-Session-Id (what CoA / Disconnect-Request address); null for DHCP. */
  session: z.string().nullable(),
  /** NAS-IP-Address of the BNG that holds the session; null for DHCP. */
  nas: z.string().nullable(),
  source: BindingSource,
  from: Timestamp,
  /** Null while the session or lease is still open. */
  to: Timestamp.nullable(),
});
export type SubscriberBinding = z.infer<typeof SubscriberBinding>;

/** A subscriber's contact, from the subscribers CSV or the HTTP lookup hook. */
export const SubscriberContact = z.object({
  subscriber: z.string(),
  name: z.string().optional(),
  email: z.email().optional(),
  phone: z.string().optional(),
});
export type SubscriberContact = z.infer<typeof SubscriberContact>;

/** GET /api/subscribers/lookup?ip=&at= */
export const SubscriberLookup = z.object({
  ip: z.string(),
  at: Timestamp,
  binding: SubscriberBinding.nullable(),
  contact: SubscriberContact.nullable(),
});
export type SubscriberLookup = z.infer<typeof SubscriberLookup>;

export const SubscriberLookupQuery = z.object({
  ip: z.string().min(1),
  /** ISO-8601 or epoch ms; default now. */
  at: z.string().optional(),
});

/** One abuse notice e-mailed to a subscriber (audited; moves the remediation row to notified). */
export const SubscriberNotice = z.object({
  id: z.number().int(),
  remediationId: z.number().int(),
  at: Timestamp,
  by: z.string(),
  subscriber: z.string(),
  to: z.string(),
  subject: z.string(),
  messageId: z.string().nullable(),
  /** `sent`, or `failed` with the SMTP error in `error`. */
  result: z.enum(['sent', 'failed']),
  error: z.string().nullable(),
});
export type SubscriberNotice = z.infer<typeof SubscriberNotice>;

/** `POST /api/remediation/:id/notify` body. */
export const NotifyRequest = z.strictObject({
  /** Override the contact's address (e.g. a ticket system alias). */
  to: z.email().optional(),
  note: z.string().max(2000).optional(),
});

export const WalledGardenAction = z.enum(['hold', 'release']);
export type WalledGardenAction = z.infer<typeof WalledGardenAction>;

/** One CoA / Disconnect-Request exchange with the BNG (RFC 5176). */
export const WalledGardenStep = z.object({
  id: z.number().int(),
  remediationId: z.number().int(),
  action: WalledGardenAction,
  at: Timestamp,
  by: z.string(),
  /** What was sent: CoA-Request or Disconnect-Request. */
  request: z.enum(['CoA-Request', 'Disconnect-Request']),
  nas: z.string(),
  subscriber: z.string(),
  session: z.string().nullable(),
  /** ack / nak from the BNG, timeout when it never answered, error when it could not be sent. */
  result: z.enum(['ack', 'nak', 'timeout', 'error']),
  /** Error-Cause (RFC 5176 §3.5) of a NAK, or the error text. */
  detail: z.string().nullable(),
});
export type WalledGardenStep = z.infer<typeof WalledGardenStep>;

/** `POST /api/remediation/:id/walled-garden` body: the operator's confirmation is the request itself. */
export const WalledGardenRequest = z.strictObject({
  action: WalledGardenAction,
  note: z.string().max(2000).optional(),
});

/** What the remediation row carries about the subscriber side. */
export const RemediationSubscriber = z.object({
  /** Who held the address at the row's last abuse. */
  binding: SubscriberBinding.nullable(),
  contact: SubscriberContact.nullable(),
  notices: z.array(SubscriberNotice),
  walledGarden: z.object({
    /** Held in the walled garden right now (last acknowledged step was a hold). */
    held: z.boolean(),
    steps: z.array(WalledGardenStep),
  }),
  /** What the server is configured to do: the UI shows only the actions that can work. */
  canNotify: z.boolean(),
  canWalledGarden: z.boolean(),
});
export type RemediationSubscriber = z.infer<typeof RemediationSubscriber>;

/** GET /api/subscribers/status — what feeds the bindings, and what the server may do with them. */
export const SubscribersStatus = z.object({
  bindings: z.number().int().nonnegative(),
  radius: z
    .object({
      port: z.number().int(),
      received: z.number().int(),
      accepted: z.number().int(),
      ignored: z.number().int(),
      /** Dropped datagrams by reason (bad-authenticator, unknown-client, length, …). */
      bad: z.record(z.string(), z.number().int()),
      lastBad: z.object({ at: Timestamp, from: z.string(), reason: z.string(), message: z.string() }).optional(),
    })
    .optional(),
  files: z.array(
    z.object({
      path: z.string(),
      format: z.enum(['radius-detail', 'kea', 'dhcpd']),
      records: z.number().int(),
      errors: z.number().int(),
      /** The latest few, as `file:line: message`. */
      lastErrors: z.array(z.string()),
    }),
  ),
  contacts: z.object({ csvErrors: z.array(z.string()) }),
  canNotify: z.boolean(),
  canWalledGarden: z.boolean(),
});
export type SubscribersStatus = z.infer<typeof SubscribersStatus>;
