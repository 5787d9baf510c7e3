import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SubscriberStore } from '../store/subscriber-store.js';
import { KeaLeaseParser, type LeaseRecord } from './kea-leases.js';
import { applyLease } from './leases.js';
import { collect, describeLineError } from './parse-errors.js';

const T = Date.parse('2026-12-02T10:00:00Z');
const MIN = 60_000;

function parseFile(name: string) {
  const sink = collect<LeaseRecord>();
  const p = new KeaLeaseParser(name, sink);
  for (const l of readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').split('\n')) p.line(l);
  p.end();
  return sink;
}

describe('Kea memfile leases', () => {
  it('lease4: intervals from expire − valid_lifetime, escaped commas, releases; bad lines named', () => {
    const { records, errors } = parseFile('kea-leases4.csv');
    expect(errors.map(describeLineError)).toEqual([
      'kea-leases4.csv:5: address "198.51.100.300" is not an IP address',
      'kea-leases4.csv:6: valid_lifetime "3600" / expire "soon" must be whole seconds',
    ]);
    // line 7 is a declined lease: skipped silently
    expect(records.map((r) => r.line)).toEqual([2, 3, 4, 8, 9]);
    expect(records[0].value).toEqual({
      prefix: '198.51.100.20',
      subscriber: '01:08:00:27:25:d3:f4',
      from: T,
      to: T + 60 * MIN,
    });
    expect(records[1].value.subscriber).toBe('52:54:00:aa:bb:01');
    expect(records[3].value).toMatchObject({ released: true, to: T + 40 * MIN });

    const store = new SubscriberStore(new Database(':memory:'));
    for (const r of records) applyLease(store, r.value, 'kea');
    // renewal extended anna's lease to 10:30+1h; then ben got the address at 11:00
    expect(store.lookup('198.51.100.20', T + 50 * MIN)?.subscriber).toBe('01:08:00:27:25:d3:f4');
    expect(store.lookup('198.51.100.20', T + 70 * MIN)?.subscriber).toBe('01:9c:b6:d0:11:22:33');
    // the printer released at 10:40
    expect(store.lookup('198.51.100.21', T + 30 * MIN)?.subscriber).toBe('52:54:00:aa:bb:01');
    expect(store.lookup('198.51.100.21', T + 45 * MIN)).toBeUndefined();
  });

  it('lease6: addresses by DUID, delegated prefixes with their length', () => {
    const { records, errors } = parseFile('kea-leases6.csv');
    expect(errors.map(describeLineError)).toEqual(['kea-leases6.csv:4: address "2001:db8:zz::1" is not an IP address']);
    expect(records.map((r) => [r.value.prefix, r.value.subscriber])).toEqual([
      ['2001:db8:10::5', '00:03:00:01:08:00:27:25:d3:f4'],
      ['2001:db8:200::/56', '00:01:00:01:2e:4f:1a:2b:08:00:27:25:d3:f4'],
    ]);
    const store = new SubscriberStore(new Database(':memory:'));
    for (const r of records) applyLease(store, r.value, 'kea');
    expect(store.lookup('2001:db8:200:ab::1', T + 60 * MIN)?.subscriber).toBe(
      '00:01:00:01:2e:4f:1a:2b:08:00:27:25:d3:f4',
    );
  });

  it('needs a header first and a usable one', () => {
    const sink = collect<LeaseRecord>();
    const p = new KeaLeaseParser('x.csv', sink);
    p.line('198.51.100.20,08:00:27:25:d3:f4,,3600,1796209200,1,0,0,,0,,0');
    p.line('address,foo,bar');
    expect(sink.errors.map(describeLineError)).toEqual([
      'x.csv:1: lease line before a Kea header line (address,hwaddr,… or address,duid,…)',
      'x.csv:2: header lacks address, expire, valid_lifetime and hwaddr (lease4) or duid (lease6)',
    ]);
  });
});
