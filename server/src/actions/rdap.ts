import type { Logger } from 'pino';
import { z } from 'zod';
import type { SchemaSteps, SqlDb } from '../store/sql-db.js';
import type { ActionsConfig } from './config.js';

/*
 * RDAP (RFC 9083) autnum responses: the abuse mailbox is the email in the jCard of an entity with
 * role "abuse", often nested inside the registrant's entity (ARIN, RIPE). Only the fields used
 * are validated; registries add plenty of others.
 */
interface RdapEntity {
  roles?: string[];
  vcardArray?: unknown;
  entities?: RdapEntity[];
}
const RdapEntitySchema: z.ZodType<RdapEntity> = z.lazy(() =>
  z.looseObject({
    roles: z.array(z.string()).optional(),
    vcardArray: z.unknown().optional(),
    entities: z.array(RdapEntitySchema).optional(),
  }),
);
const RdapAutnum = z.looseObject({ entities: z.array(RdapEntitySchema).default([]) });

const Email = z.email();

/** The email of a jCard (`["vcard", [["email", {}, "text", "abuse@x"], …]]`), if any. */
function vcardEmail(vcard: unknown): string | undefined {
  if (!Array.isArray(vcard) || !Array.isArray(vcard[1])) return undefined;
  for (const prop of vcard[1] as unknown[]) {
    if (Array.isArray(prop) && prop[0] === 'email' && typeof prop[3] === 'string') {
      const ok = Email.safeParse(prop[3].trim());
      if (ok.success) return ok.data;
    }
  }
  return undefined;
}

export function abuseEmailOf(body: unknown): string | undefined {
  const r = RdapAutnum.safeParse(body);
  if (!r.success) return undefined;
  const stack = [...r.data.entities];
  while (stack.length) {
    const e = stack.shift()!;
    if (e.roles?.some((x) => x.toLowerCase() === 'abuse')) {
      const email = vcardEmail(e.vcardArray);
      if (email) return email;
    }
    if (e.entities) stack.push(...e.entities);
  }
  return undefined;
}

export const RDAP_SCHEMA: SchemaSteps = {
  sqlite: [
    'CREATE TABLE IF NOT EXISTS rdap_contacts (asn INTEGER PRIMARY KEY, email TEXT, fetched_at INTEGER NOT NULL)',
  ],
  pg: ['CREATE TABLE rdap_contacts (asn bigint PRIMARY KEY, email text, fetched_at bigint NOT NULL)'],
};

/**
 * Abuse contacts of ASNs from RDAP, cached in the actions database (negative answers for a day)
 * so a report page does not hit the registries every time.
 */
export class RdapContacts {
  constructor(
    private readonly db: SqlDb,
    private readonly cfg: ActionsConfig['reports']['rdap'],
    private readonly logger?: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    db.migrate('rdap', RDAP_SCHEMA);
  }

  async lookup(asn: number, now = Date.now()): Promise<string | null> {
    if (!this.cfg.enabled) return null;
    const row = await this.db.get<{ email: string | null; fetched_at: number }>(
      'SELECT email, fetched_at FROM rdap_contacts WHERE asn = $1',
      [asn],
    );
    const ttl = row?.email ? this.cfg.cache_days * 86_400_000 : 86_400_000;
    if (row && now - row.fetched_at < ttl) return row.email;
    let email: string | null = null;
    try {
      const res = await this.fetchImpl(`${this.cfg.base_url.replace(/\/+$/, '')}/autnum/${asn}`, {
        headers: { accept: 'application/rdap+json, application/json' },
        signal: AbortSignal.timeout(this.cfg.timeout_ms),
      });
      if (res.status === 404) email = null;
      else if (!res.ok) throw new Error(`HTTP ${res.status}`);
      else email = abuseEmailOf(await res.json()) ?? null;
    } catch (err) {
      // Transient failure: keep an old answer if there is one, cache nothing new.
      this.logger?.warn({ asn, err: (err as Error).message }, 'RDAP lookup failed');
      return row?.email ?? null;
    }
    await this.db.run(
      `INSERT INTO rdap_contacts (asn, email, fetched_at) VALUES ($1, $2, $3)
       ON CONFLICT (asn) DO UPDATE SET email = excluded.email, fetched_at = excluded.fetched_at`,
      [asn, email, now],
    );
    return email;
  }
}
