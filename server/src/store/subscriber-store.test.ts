import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { canonicalPrefix, SubscriberStore, type BindingInput } from './subscriber-store.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const MIN = 60_000;

function store(): SubscriberStore {
  return new SubscriberStore(new Database(':memory:'), () => T0);
}

const radius = (over: Partial<BindingInput>): BindingInput => ({
  prefix: '198.51.100.7',
  subscriber: 'alice',
  session: 'S1',
  nas: '192.0.2.10',
  source: 'radius',
  from: T0,
  to: null,
  ...over,
});

describe('canonicalPrefix', () => {
  it('normalises addresses, prefixes and IPv4-mapped IPv6', () => {
    expect(canonicalPrefix('198.51.100.7')).toEqual({ family: 4, net: '198.51.100.7', plen: 32 });
    expect(canonicalPrefix('2001:db8:1:0:0:0:0:5/56')).toEqual({ family: 6, net: '2001:db8:1::', plen: 56 });
    expect(canonicalPrefix('::ffff:198.51.100.7')).toEqual({ family: 4, net: '198.51.100.7', plen: 32 });
    expect(() => canonicalPrefix('198.51.100.300')).toThrow(/not an IP address/);
    expect(() => canonicalPrefix('2001:db8::/129')).toThrow(/prefix length/);
  });
});

describe('SubscriberStore', () => {
  it('answers who held an address at a time, and keeps answering after it is re-assigned', () => {
    const s = store();
    s.record(radius({}));
    // alice's session ends, bob gets the same address ten minutes later
    s.record(radius({ to: T0 + 30 * MIN }));
    s.record(radius({ subscriber: 'bob', session: 'S2', from: T0 + 40 * MIN }));
    expect(s.lookup('198.51.100.7', T0 + 5 * MIN)?.subscriber).toBe('alice');
    expect(s.lookup('198.51.100.7', T0 + 35 * MIN)).toBeUndefined();
    expect(s.lookup('198.51.100.7', T0 + 45 * MIN)).toMatchObject({
      subscriber: 'bob',
      session: 'S2',
      nas: '192.0.2.10',
      to: null,
      prefix: '198.51.100.7/32',
    });
    expect(s.lookup('198.51.100.7', T0 - MIN)).toBeUndefined();
    expect(s.lookup('198.51.100.8', T0 + 5 * MIN)).toBeUndefined();
  });

  it('ends the previous holder at the new Start when its Stop was lost', () => {
    const s = store();
    s.record(radius({}));
    s.record(radius({ subscriber: 'bob', session: 'S2', from: T0 + 10 * MIN }));
    expect(s.lookup('198.51.100.7', T0 + 9 * MIN)?.subscriber).toBe('alice');
    expect(s.lookup('198.51.100.7', T0 + 11 * MIN)?.subscriber).toBe('bob');
    const alice = s.during('198.51.100.7', T0, T0 + 60 * MIN).find((b) => b.subscriber === 'alice');
    expect(alice?.to).toBe(new Date(T0 + 10 * MIN).toISOString());
  });

  it('lets a later holder already known win over data that arrives late', () => {
    const s = store();
    s.record(radius({ subscriber: 'bob', session: 'S2', from: T0 + 10 * MIN }));
    // a detail file read afterwards says alice had it from T0, still open in that file
    s.record(radius({ source: 'radius-detail' }));
    expect(s.lookup('198.51.100.7', T0 + 5 * MIN)?.subscriber).toBe('alice');
    expect(s.lookup('198.51.100.7', T0 + 15 * MIN)?.subscriber).toBe('bob');
  });

  it('merges Interim-Update and Stop into one interval; an Interim after the Stop keeps it closed', () => {
    const s = store();
    s.record(radius({}));
    s.record(radius({ from: T0 + 5 * MIN }));
    s.record(radius({ from: T0 + 20 * MIN, to: T0 + 20 * MIN }));
    s.record(radius({ from: T0 + 10 * MIN }));
    expect(s.count()).toBe(1);
    expect(s.lookup('198.51.100.7', T0 + 19 * MIN)?.to).toBe(new Date(T0 + 20 * MIN).toISOString());
    expect(s.lookup('198.51.100.7', T0 + 21 * MIN)).toBeUndefined();
  });

  it('matches IPv6 addresses inside a delegated prefix, longest prefix first', () => {
    const s = store();
    s.record(radius({ prefix: '2001:db8:1::/48', subscriber: 'carol', session: 'S3' }));
    s.record(radius({ prefix: '2001:db8:1:100::/56', subscriber: 'dave', session: 'S4' }));
    expect(s.lookup('2001:db8:1:1ff::9', T0 + MIN)?.subscriber).toBe('dave');
    expect(s.lookup('2001:db8:1:200::9', T0 + MIN)?.subscriber).toBe('carol');
    expect(s.lookup('2001:db8:2::1', T0 + MIN)).toBeUndefined();
  });

  it('extends a DHCP lease on renewal and splits on a new client', () => {
    const s = store();
    const lease = { session: null, nas: null, source: 'kea' as const, prefix: '198.51.100.20' };
    s.record({ ...lease, subscriber: '01:aa', from: T0, to: T0 + 60 * MIN });
    s.record({ ...lease, subscriber: '01:aa', from: T0 + 30 * MIN, to: T0 + 90 * MIN });
    s.record({ ...lease, subscriber: '01:bb', from: T0 + 120 * MIN, to: T0 + 180 * MIN });
    expect(s.count()).toBe(2);
    expect(s.lookup('198.51.100.20', T0 + 80 * MIN)?.subscriber).toBe('01:aa');
    expect(s.lookup('198.51.100.20', T0 + 100 * MIN)).toBeUndefined();
    expect(s.lookup('198.51.100.20', T0 + 130 * MIN)?.subscriber).toBe('01:bb');
  });

  it('closes sessions by Acct-Session-Id and by NAS restart, prunes old ones, survives reopening', () => {
    const db = new Database(':memory:');
    const s = new SubscriberStore(db, () => T0);
    s.record(radius({}));
    s.record(radius({ prefix: '2001:db8:9::/56' }));
    s.record(radius({ prefix: '198.51.100.9', subscriber: 'erin', session: 'S9' }));
    expect(s.stopSession('radius', '192.0.2.10', 'S1', T0 + 10 * MIN)).toBe(2);
    expect(s.lookup('2001:db8:9::1', T0 + 11 * MIN)).toBeUndefined();
    expect(s.stopNas('radius', '192.0.2.10', T0 + 20 * MIN)).toBe(1);
    expect(s.lookup('198.51.100.9', T0 + 21 * MIN)).toBeUndefined();
    const again = new SubscriberStore(db, () => T0);
    expect(again.lookup('198.51.100.9', T0 + 19 * MIN)?.subscriber).toBe('erin');
    expect(again.prune(T0 + 15 * MIN)).toBe(2);
    expect(again.count()).toBe(1);
  });

  it('rejects bad input with a reason', () => {
    const s = store();
    expect(() => s.record(radius({ prefix: 'nope' }))).toThrow(/not an IP address/);
    expect(() => s.record(radius({ subscriber: '' }))).toThrow(/empty subscriber/);
    expect(() => s.record(radius({ to: T0 - 1 }))).toThrow(/ends before/);
  });
});
