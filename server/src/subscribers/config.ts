import { IncidentKind } from '@downstream/shared';
import { z } from 'zod';
import { IpAddress, Port } from '../config/net.js';

const Secret = z.string().min(6, 'RADIUS shared secrets must be at least 6 characters').max(128);
/** A RADIUS attribute value to send in a CoA-Request (Filter-Id, a vendor's policy name…). */
const AttrValue = z.union([z.string(), z.number().int().nonnegative()]);

const CoaRequest = z.strictObject({
  /** CoA-Request changes the session's policy; Disconnect-Request ends it (the BNG re-auths it). */
  request: z.enum(['coa', 'disconnect']).default('coa'),
  /** Attributes beside the session identification, by dictionary name, e.g. { Filter-Id: walled-garden }. */
  attributes: z.record(z.string().min(1), AttrValue).default({}),
});

/** `subscribers:` — who held an address when, how to reach them, and the walled garden. */
export const SubscribersConfig = z
  .strictObject({
    /** RFC 2866 accounting server the BNGs (or a FreeRADIUS proxy) send Accounting-Requests to. */
    radius: z
      .strictObject({
        host: z.string().default('0.0.0.0'),
        port: Port.default(1813),
        /** Shared secret of every client not in `clients`. */
        secret: Secret.optional(),
        /** Per-NAS shared secrets by packet source address. */
        clients: z.record(IpAddress, Secret).default({}),
      })
      .refine((r) => r.secret !== undefined || Object.keys(r.clients).length > 0, {
        message: 'radius needs a secret or clients with their secrets',
      })
      .optional(),
    /** Session and lease files, read from the start and then followed (rotation-safe). */
    files: z
      .array(
        z.strictObject({
          path: z.string().min(1),
          /** radius-detail: FreeRADIUS detail file; kea: Kea memfile lease CSV (v4 or v6); dhcpd: ISC dhcpd(6).leases. */
          format: z.enum(['radius-detail', 'kea', 'dhcpd']),
        }),
      )
      .default([]),
    poll_ms: z.number().int().min(50).max(60_000).default(1000),
    /** How long ended sessions and leases are kept; default `storage.retention_days`. */
    retention_days: z.number().int().positive().optional(),
    contacts: z
      .strictObject({
        /** CSV with a header: subscriber,name,email,phone (re-read when it changes). */
        csv: z.string().min(1).optional(),
        /**
         * HTTP GET hook for subscribers not in the CSV; `{subscriber}` in the URL is replaced
         * (URL-encoded), else `?subscriber=` is appended. Answers JSON { email, name?, phone? }, 404 for unknown.
         */
        lookup_url: z.url({ protocol: /^https?$/ }).optional(),
        headers: z.record(z.string(), z.string()).default({}),
        timeout_ms: z.number().int().min(100).max(60_000).default(3000),
        cache_s: z.number().int().min(0).max(86_400).default(600),
      })
      .prefault({}),
    /** Abuse notices to subscribers by e-mail. */
    notify: z
      .strictObject({
        enabled: z.boolean().default(false),
        smtp: z
          .strictObject({
            host: z.string().min(1).default('127.0.0.1'),
            port: Port.default(25),
            /** TLS from the start (465); otherwise STARTTLS when the server offers it. */
            secure: z.boolean().default(false),
            user: z.string().optional(),
            pass: z.string().optional(),
            timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
          })
          .prefault({}),
        from: z.email().default('abuse@example.net'),
        reply_to: z.email().optional(),
        org: z.string().min(1).max(200).default('Your Internet provider'),
        /** How the subscriber gets help: shown in every notice. */
        help: z
          .strictObject({
            url: z.url({ protocol: /^https?$/ }).optional(),
            phone: z.string().max(50).optional(),
            email: z.email().optional(),
          })
          .prefault({}),
        /** Send automatically when an endpoint lands on the remediation list (off unless set). */
        auto: z
          .strictObject({ enabled: z.boolean().default(false), kinds: z.array(IncidentKind).min(1).optional() })
          .prefault({}),
      })
      .prefault({}),
    /** RFC 5176 CoA / Disconnect-Request to the BNG holding the subscriber's session. */
    walled_garden: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** Dynamic Authorization port of the BNGs (RFC 5176: 3799). */
        port: Port.default(3799),
        secret: Secret.optional(),
        /** Per-NAS overrides: where to send (default the NAS address itself) and its secret. */
        nas: z
          .record(
            IpAddress,
            z.strictObject({ host: IpAddress.optional(), port: Port.optional(), secret: Secret.optional() }),
          )
          .default({}),
        timeout_ms: z.number().int().min(100).max(60_000).default(3000),
        retries: z.number().int().min(0).max(5).default(2),
        hold: CoaRequest.prefault({ attributes: { 'Filter-Id': 'walled-garden' } }),
        release: CoaRequest.prefault({ attributes: { 'Filter-Id': 'default' } }),
        /** Hold automatically when an endpoint lands on the remediation list (off unless set). */
        auto: z
          .strictObject({ enabled: z.boolean().default(false), kinds: z.array(IncidentKind).min(1).optional() })
          .prefault({}),
      })
      .prefault({})
      .refine((w) => !w.enabled || w.secret !== undefined || Object.values(w.nas).some((n) => n.secret), {
        message: 'walled_garden.enabled needs a secret',
      }),
  })
  .prefault({});
export type SubscribersConfig = z.infer<typeof SubscribersConfig>;
