import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  assertBindAllowed,
  bearerToken,
  BindRefusedError,
  createAuthenticator,
  isLoopbackHost,
  LOCAL_PRINCIPAL,
  originAllowed,
  rateLimit,
  requireRole,
  roleAtLeast,
  type AuthEnv,
} from './index.js';

const tokens = [
  { name: 'wall', role: 'viewer' as const, token: 'viewer-token-0123456789' },
  { name: 'ops', role: 'operator' as const, token: 'operator-token-0123456789' },
];

describe('authenticator', () => {
  it('maps each token to its principal and rejects anything else', () => {
    const a = createAuthenticator(tokens);
    expect(a.enabled).toBe(true);
    expect(a.authenticate('viewer-token-0123456789')).toEqual({ name: 'wall', role: 'viewer' });
    expect(a.authenticate('operator-token-0123456789')).toEqual({ name: 'ops', role: 'operator' });
    for (const bad of [
      undefined,
      null,
      '',
      'viewer-token-012345678',
      'viewer-token-01234567890',
      'VIEWER-TOKEN-0123456789',
    ]) {
      expect(a.authenticate(bad)).toBeUndefined();
    }
  });

  it('with no tokens everyone is the local admin', () => {
    const a = createAuthenticator([]);
    expect(a.enabled).toBe(false);
    expect(a.authenticate(undefined)).toBe(LOCAL_PRINCIPAL);
    expect(LOCAL_PRINCIPAL.role).toBe('admin');
  });

  it('orders roles viewer < operator < admin', () => {
    expect(roleAtLeast('viewer', 'viewer')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
    expect(roleAtLeast('operator', 'viewer')).toBe(true);
    expect(roleAtLeast('operator', 'admin')).toBe(false);
    expect(roleAtLeast('admin', 'operator')).toBe(true);
  });

  it('parses Bearer headers only', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc  ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('bind guard', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.0.2.1', '10.0.0.1', 'example.com', '::ffff:10.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses non-loopback without tokens, allows it with tokens', () => {
    expect(() => assertBindAllowed('0.0.0.0', [])).toThrow(BindRefusedError);
    expect(() => assertBindAllowed('0.0.0.0', [])).toThrow(/auth\.tokens/);
    expect(() => assertBindAllowed('127.0.0.1', [])).not.toThrow();
    expect(() => assertBindAllowed('0.0.0.0', tokens)).not.toThrow();
  });
});

describe('origin check', () => {
  it('allows no origin, the same host, and loopback pages only', () => {
    expect(originAllowed(undefined, '127.0.0.1:8080')).toBe(true);
    expect(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080')).toBe(true);
    expect(originAllowed('https://noc.example:8443', 'noc.example:8443')).toBe(true);
    expect(originAllowed('http://localhost:5173', '127.0.0.1:8080')).toBe(true);
    expect(originAllowed('http://[::1]:5173', '127.0.0.1:8080')).toBe(true);
    expect(originAllowed('https://evil.example', '127.0.0.1:8080')).toBe(false);
    expect(originAllowed('https://127.0.0.1.evil.example', '127.0.0.1:8080')).toBe(false);
    expect(originAllowed('null', '127.0.0.1:8080')).toBe(false);
  });
});

describe('requireRole and rateLimit middleware', () => {
  function app(now: () => number) {
    const auth = createAuthenticator(tokens);
    return new Hono<AuthEnv>().post(
      '/feed',
      requireRole(auth, 'viewer'),
      rateLimit({ perSecond: 2, burst: 3, now }),
      (c) => c.json({ ok: true, by: c.get('principal').name }),
    );
  }
  const post = (a: ReturnType<typeof app>, token: string) =>
    a.request('/feed', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });

  it('allows a burst, then 429 with Retry-After and a JSON reason, then refills over time', async () => {
    let t = 1_000_000;
    const a = app(() => t);
    for (let i = 0; i < 3; i++) expect((await post(a, tokens[0].token)).status).toBe(200);
    const limited = await post(a, tokens[0].token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toMatchObject({ error: 'rate limit exceeded', details: [{ path: 'request' }] });
    // Another principal has its own bucket.
    expect((await post(a, tokens[1].token)).status).toBe(200);
    t += 500; // one token back at 2/s
    expect((await post(a, tokens[0].token)).status).toBe(200);
    expect((await post(a, tokens[0].token)).status).toBe(429);
  });

  it('keeps a bounded number of keys', async () => {
    const t = 0;
    const mw = rateLimit({ perSecond: 1, burst: 1, maxKeys: 2, now: () => t, key: (c) => c.req.header('x-k') ?? '' });
    const a = new Hono<AuthEnv>().get('/', mw, (c) => c.text('ok'));
    const get = (k: string) => a.request('/', { headers: { 'x-k': k } });
    expect((await get('a')).status).toBe(200);
    expect((await get('a')).status).toBe(429);
    await get('b');
    await get('c'); // evicts a, the least recently used
    expect((await get('a')).status).toBe(200);
  });
});
