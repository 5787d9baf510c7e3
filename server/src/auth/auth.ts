import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Config } from '../config/config.js';

/**
 * viewer < operator < admin are people, each allowed what the one below is. `feed` is a
 * machine (FastNetMon hook, Suricata, a webhook): it may post to /api/feeds/* and nothing
 * else, not even read, so a token leaked from a detector box cannot see or change incidents.
 */
export type Role = 'feed' | 'viewer' | 'operator' | 'admin';
const RANK: Record<Role, number> = { feed: 0, viewer: 1, operator: 2, admin: 3 };

export interface Principal {
  name: string;
  role: Role;
}

/** Who everyone is when no tokens are configured (only ever reachable on loopback). */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({ name: 'local', role: 'admin' });

/** Whether `have` may do what `need` may; `feed` is outside the ladder: only `feed` satisfies it. */
export function roleAtLeast(have: Role, need: Role): boolean {
  if (need === 'feed' || have === 'feed') return have === need;
  return RANK[have] >= RANK[need];
}

export interface Authenticator {
  /** False when no tokens are configured: every caller is LOCAL_PRINCIPAL. */
  readonly enabled: boolean;
  /** The principal a presented token belongs to; undefined for a missing or wrong token. */
  authenticate(token: string | undefined | null): Principal | undefined;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Token check in constant time. Both sides are hashed first so timingSafeEqual always compares
 * equal-length buffers (it throws otherwise, and a length check would leak the token length),
 * and every configured token is compared on every call so the time does not say which matched.
 */
export function createAuthenticator(tokens: Config['auth']['tokens']): Authenticator {
  const entries = tokens.map((t) => ({
    principal: { name: t.name, role: t.role } as Principal,
    hash: digest(t.token),
  }));
  const enabled = entries.length > 0;
  return {
    enabled,
    authenticate(token) {
      if (!enabled) return LOCAL_PRINCIPAL;
      if (typeof token !== 'string' || token.length === 0) return undefined;
      const h = digest(token);
      let found: Principal | undefined;
      for (const e of entries) {
        if (timingSafeEqual(h, e.hash) && !found) found = e.principal;
      }
      return found;
    },
  };
}

/** `Authorization: Bearer TOKEN` → TOKEN (undefined when absent or another scheme). */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

export class BindRefusedError extends Error {
  constructor(host: string) {
    super(
      `refusing to listen on ${host}: no auth tokens are configured, so the server would be open to anyone ` +
        `who can reach it. Add tokens under auth.tokens in the config, or listen on 127.0.0.1.`,
    );
    this.name = 'BindRefusedError';
  }
}

/** Start-up guard: without tokens the server may only bind to loopback. */
export function assertBindAllowed(host: string, tokens: Config['auth']['tokens']): void {
  if (tokens.length === 0 && !isLoopbackHost(host)) throw new BindRefusedError(host);
}
