import type { MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { jsonError } from '../http/errors.js';
import { bearerToken, isLoopbackHost, roleAtLeast, type Authenticator, type Principal, type Role } from './auth.js';

/** Hono env every route of the app uses: the authenticated caller. */
export interface AuthEnv {
  Variables: { principal: Principal };
}

/**
 * Rejects callers who hold none of `roles` (or a role above one): 401 without a valid token, 403
 * with a token of another role.
 * With no tokens configured everyone is the local admin (the server then only binds loopback).
 */
export function requireRole(auth: Authenticator, ...roles: [Role, ...Role[]]): MiddlewareHandler<AuthEnv> {
  const need = roles.join(' or ');
  return async (c, next) => {
    const header = c.req.header('authorization');
    const principal = auth.authenticate(bearerToken(header));
    if (!principal) {
      c.header('WWW-Authenticate', 'Bearer realm="downstream"');
      return jsonError(c, 401, header ? 'invalid token' : 'authentication required', [
        { path: 'headers.authorization', message: header ? 'token not recognised' : 'missing Bearer token' },
      ]);
    }
    if (!roles.some((r) => roleAtLeast(principal.role, r))) {
      return jsonError(c, 403, `role ${need} required`, [
        { path: 'headers.authorization', message: `token "${principal.name}" has role ${principal.role}` },
      ]);
    }
    c.set('principal', principal);
    await next();
  };
}

export interface RateLimitOptions {
  /** Sustained requests per second allowed per key. */
  perSecond: number;
  /** Burst size (bucket capacity). */
  burst: number;
  /** What to count by; defaults to the authenticated principal, else the peer address. */
  key?: (c: Parameters<MiddlewareHandler<AuthEnv>>[0]) => string;
  /** Most keys tracked at once; the oldest are forgotten first so memory stays bounded. */
  maxKeys?: number;
  now?: () => number;
}

function peerAddress(c: Parameters<MiddlewareHandler<AuthEnv>>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Token-bucket rate limit, per principal (or peer address). For feed endpoints: a looping
 * FastNetMon hook or a misbehaving script must not flood the incident manager.
 * Answers 429 with Retry-After.
 */
export function rateLimit(opts: RateLimitOptions): MiddlewareHandler<AuthEnv> {
  const { perSecond, burst } = opts;
  const maxKeys = opts.maxKeys ?? 10_000;
  const now = opts.now ?? Date.now;
  const keyOf = opts.key ?? ((c) => c.get('principal')?.name ?? `ip:${peerAddress(c)}`);
  // Map keeps insertion order; re-inserting on use makes it an LRU.
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async (c, next) => {
    const key = keyOf(c);
    const t = now();
    let b = buckets.get(key);
    if (b) {
      buckets.delete(key);
      b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * perSecond);
      b.at = t;
    } else {
      b = { tokens: burst, at: t };
      if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value as string);
    }
    buckets.set(key, b);
    if (b.tokens < 1) {
      const wait = Math.ceil(((1 - b.tokens) / perSecond) * 1000) / 1000;
      c.header('Retry-After', String(Math.max(1, Math.ceil(wait))));
      return jsonError(c, 429, 'rate limit exceeded', [
        { path: 'request', message: `at most ${perSecond}/s (burst ${burst}) for ${key}; retry in ${wait}s` },
      ]);
    }
    b.tokens -= 1;
    await next();
  };
}

/**
 * Whether a browser request's Origin may act on this server: no Origin (curl, scripts), the
 * same host:port as the request, or a page served from loopback (the Vite dev server).
 */
export function originAllowed(
  origin: string | undefined | null,
  host: string | undefined | null,
  extra: readonly string[] = [],
): boolean {
  if (!origin) return true;
  if (extra.includes(origin)) return true;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (host && u.host.toLowerCase() === host.toLowerCase()) return true;
  return isLoopbackHost(u.hostname);
}

/**
 * Without tokens anyone on this machine is admin, and so would be any web page the operator
 * has open: a cross-site `fetch(…/resolve, { method: 'POST', mode: 'no-cors' })` needs no
 * preflight. Refuse state-changing requests whose Origin is another site.
 */
export function sameOriginWrites(extraOrigins: readonly string[] = []): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const m = c.req.method;
    if (
      m !== 'GET' &&
      m !== 'HEAD' &&
      m !== 'OPTIONS' &&
      !originAllowed(c.req.header('origin'), c.req.header('host'), extraOrigins)
    ) {
      return jsonError(c, 403, 'cross-site request refused', [
        { path: 'headers.origin', message: `${c.req.header('origin')} may not act on this server` },
      ]);
    }
    await next();
  };
}
