import { IncidentKind, Severity } from '@downstream/shared';
import { z } from 'zod';
import { IpAddress } from '../config/net.js';

const Email = z.email();
const Community = z.string().regex(/^\d{1,10}:\d{1,10}$/, 'expected ASN:VALUE, e.g. 65535:666');

const Webhook = z.strictObject({
  name: z.string().min(1).optional(),
  url: z.url({ protocol: /^https?$/ }),
  /** Severities that trigger this hook; default all. */
  severities: z.array(Severity).min(1).default(['low', 'medium', 'high', 'critical']),
  /** new = an incident appears; escalated = its severity rises. */
  events: z
    .array(z.enum(['new', 'escalated']))
    .min(1)
    .default(['new', 'escalated']),
  retries: z.number().int().min(0).max(10).default(4),
  /** First retry delay; doubled each attempt (with jitter), capped at 60 s. */
  backoff_ms: z.number().int().min(1).max(60_000).default(1000),
  timeout_ms: z.number().int().min(100).max(60_000).default(5000),
  headers: z.record(z.string(), z.string()).default({}),
});

/** `actions:` — what Downstream does about incidents: reports, notifications, mitigation. */
export const ActionsConfig = z
  .strictObject({
    /** Address operators open the UI at, for links in webhook messages (e.g. https://noc.example.net). */
    public_url: z.url({ protocol: /^https?$/ }).optional(),
    reports: z
      .strictObject({
        /** Who the reports come from (X-ARF ReporterInfo, ARF From:). */
        org: z.string().min(1).max(200).default('Downstream NOC'),
        email: Email.default('abuse@example.net'),
        domain: z.string().min(1).optional(),
        /** Abuse contacts by ASN ("174": "abuse@cogentco.com"), from RDAP/WHOIS or peering agreements. */
        asn_contacts: z.record(z.string().regex(/^\d+$/, 'ASN as digits'), Email).default({}),
        /** NOC contacts of upstream / peer links, by link name from network.links. */
        link_contacts: z.record(z.string(), Email).default({}),
        /** How many source ASNs (largest share first) get a report for one incident. */
        max_asn_recipients: z.number().int().min(1).max(100).default(10),
        /** Look up unknown ASN abuse contacts in RDAP (RFC 9083 entities with role "abuse"); cached. */
        rdap: z
          .strictObject({
            enabled: z.boolean().default(false),
            /** An RDAP bootstrap redirector or a registry's server; `/autnum/N` is appended. */
            base_url: z.url({ protocol: /^https?$/ }).default('https://rdap.org'),
            timeout_ms: z.number().int().min(100).max(60_000).default(5000),
            cache_days: z.number().positive().default(7),
          })
          .prefault({}),
      })
      .prefault({}),
    remediation: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** SQLite file; default `<storage.path>/actions.sqlite`. Not used with storage.postgres: the actions tables are then in that database. */
        path: z.string().min(1).optional(),
        /**
         * Days an endpoint marked remediated is watched: abuse from it within them reopens it as a
         * recurrence; after them it counts as verified clean.
         */
        watch_days: z.number().positive().max(365).default(14),
      })
      .prefault({}),
    webhooks: z.array(Webhook).default([]),
    mitigation: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** Named pipe ExaBGP reads API commands from (its `process` reading a FIFO). */
        pipe: z.string().min(1).optional(),
        /** Or a command (argv) that gets each API line on stdin, e.g. ["exabgpcli"] via a wrapper. */
        command: z.array(z.string().min(1)).min(1).optional(),
        /** Prefix every line with `neighbor X` to address one ExaBGP neighbor. */
        neighbor: IpAddress.optional(),
        rtbh: z
          .strictObject({
            next_hop: IpAddress.default('192.0.2.1'),
            /** Next hop for IPv6 (/128) blackholes while next_hop is IPv4; RFC 6666 discard prefix by default. */
            next_hop_v6: IpAddress.default('100::1'),
            /** RFC 7999 BLACKHOLE by default. */
            communities: z.array(Community).min(1).default(['65535:666']),
          })
          .prefault({}),
        /** Automatic mitigation; off unless configured. */
        auto: z
          .strictObject({
            enabled: z.boolean().default(false),
            type: z.enum(['rtbh', 'flowspec']).default('rtbh'),
            kinds: z.array(IncidentKind).default(['ddos-fan-in', 'volumetric', 'amplification']),
            min_severity: Severity.default('critical'),
          })
          .prefault({}),
      })
      .prefault({})
      .refine((m) => !m.enabled || m.pipe !== undefined || m.command !== undefined, {
        message: 'mitigation.enabled needs a pipe or a command',
      })
      .refine((m) => !(m.pipe !== undefined && m.command !== undefined), {
        message: 'give mitigation.pipe or mitigation.command, not both',
      }),
  })
  .prefault({});
export type ActionsConfig = z.infer<typeof ActionsConfig>;
