import { IncidentKind } from '@downstream/shared';
import { z } from 'zod';

/** A Suricata signature rule: the first whose regex matches the signature (or category) wins. */
const SignatureRule = z.strictObject({
  /** Case-insensitive regular expression tested against `alert.signature` and `alert.category`. */
  match: z.string().refine((s) => {
    try {
      new RegExp(s, 'i');
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression'),
  kind: IncidentKind,
});

/** `feeds:` — detectors outside Downstream (FastNetMon, Suricata, any webhook). */
export const FeedsConfig = z
  .strictObject({
    /** The same alert seen again within this many seconds is one detection. */
    dedup_window_s: z.number().int().positive().default(600),
    /** Largest request body a feed endpoint accepts. */
    max_body_bytes: z
      .number()
      .int()
      .positive()
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    /** Detections per second each feed may hand the incident manager (token bucket). */
    rate_limit: z
      .strictObject({
        per_second: z.number().positive().default(100),
        burst: z.number().int().positive().default(500),
      })
      .prefault({}),
    fastnetmon: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    suricata: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** EVE JSON files to tail (rotation-safe); events may also be POSTed. */
        eve_files: z.array(z.string().min(1)).default([]),
        poll_ms: z.number().int().min(50).max(60_000).default(500),
        /** Read existing file content on start; otherwise only what is appended afterwards. */
        from_start: z.boolean().default(false),
        /** Extra signature → kind rules, tried before the built-in ones. */
        signatures: z.array(SignatureRule).default([]),
      })
      .prefault({}),
    generic: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    /** Abuse reports other networks send: ARF (RFC 5965), X-ARF 0.2 and v3 JSON. */
    complaints: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** An incident matches a report when the reported time is within this many minutes of it. */
        match_window_minutes: z
          .number()
          .int()
          .min(0)
          .max(7 * 24 * 60)
          .default(60),
        /** A maildir the abuse mailbox delivers to: new/ is read, processed mail moves to cur/. */
        maildir: z
          .strictObject({
            path: z.string().min(1),
            poll_ms: z.number().int().min(100).max(3_600_000).default(5000),
            /** Where unreadable reports go, each with a `.error.txt`; default `<path>/failed`. */
            failed: z.string().min(1).optional(),
          })
          .optional(),
      })
      .prefault({}),
  })
  .prefault({});
export type FeedsConfig = z.infer<typeof FeedsConfig>;
