import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SubscriberStore } from '../store/subscriber-store.js';
import { parseDhcpdLeases } from './dhcpd-leases.js';
import type { LeaseRecord } from './kea-leases.js';
import { applyLease } from './leases.js';
import { collect, describeLineError } from './parse-errors.js';

const T = Date.parse('2026-12-02T10:00:00Z');
const MIN = 60_000;
const read = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('ISC dhcpd.leases', () => {
  it('reads leases (active and since freed), names bad ones by file:line, imports the rest', () => {
    const sink = collect<LeaseRecord>();
    parseDhcpdLeases(read('dhcpd.leases'), 'dhcpd.leases', sink);
    expect(sink.errors.map(describeLineError)).toEqual([
      'dhcpd.leases:61: statement "hardware ethernet 08:00:27:aa:00:45" lacks its ;',
      'dhcpd.leases:63: block "lease 198.51.100.46" is never closed',
      'dhcpd.leases:40: starts: cannot read date "3 2026/13/02 10:00:00"',
      'dhcpd.leases:39: lease 198.51.100.42: no readable starts',
      'dhcpd.leases:57: lease 198.51.100.45: no hardware, uid or agent.remote-id',
    ]);
    expect(sink.records.map((r) => [r.line, r.value.prefix, r.value.subscriber])).toEqual([
      [9, '198.51.100.40', '08:00:27:aa:00:40'],
      [21, '198.51.100.41', 'line-0041'],
      [31, '198.51.100.41', '08:00:27:aa:00:99'],
      [51, '198.51.100.44', '08:00:27:aa:00:44'],
    ]);
    const store = new SubscriberStore(new Database(':memory:'));
    for (const r of sink.records) applyLease(store, r.value, 'dhcpd');
    expect(store.lookup('198.51.100.41', T + 20 * MIN)?.subscriber).toBe('line-0041');
    expect(store.lookup('198.51.100.41', T + 35 * MIN)).toBeUndefined();
    expect(store.lookup('198.51.100.41', T + 50 * MIN)?.subscriber).toBe('08:00:27:aa:00:99');
    // "ends never": held with no end
    expect(store.lookup('198.51.100.44', T + 10_000 * MIN)?.to).toBeNull();
  });

  it('reads dhcpd6 ia-na addresses and ia-pd prefixes', () => {
    const sink = collect<LeaseRecord>();
    parseDhcpdLeases(read('dhcpd6.leases'), 'dhcpd6.leases', sink);
    expect(sink.errors.map(describeLineError)).toEqual([
      'dhcpd6.leases:27: iaprefix "2001:db8:zz::/56": not an IPv6 prefix',
    ]);
    expect(sink.records.map((r) => [r.value.prefix, r.value.from, r.value.to])).toEqual([
      ['2001:db8:20::1:5', T, T + 120 * MIN],
      ['2001:db8:300::/56', T, T + 120 * MIN],
    ]);
    expect(sink.records[0].value.subscriber).toBe("\\001\\000\\000\\000\\000\\003\\000\\001\\010\\000'%\\323\\364");
  });

  it('reports an unmatched brace and an unterminated string', () => {
    const sink = collect<LeaseRecord>();
    parseDhcpdLeases('}\nlease 198.51.100.1 {\n  client-hostname "oops;\n}\n', 'f', sink);
    expect(sink.errors.map(describeLineError)).toEqual([
      'f:3: unterminated string',
      'f:1: unmatched }',
      'f:2: block "lease 198.51.100.1" is never closed',
    ]);
  });
});
