import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SubscriberStore } from '../store/subscriber-store.js';
import { applyAccounting, type AccountingRecord } from './accounting.js';
import { DetailParser } from './detail-file.js';
import { collect, describeLineError } from './parse-errors.js';

const FILE = new URL('./fixtures/detail-20261202', import.meta.url);
const T = Date.parse('2026-12-02T10:00:00Z');
const MIN = 60_000;

function parse(text: string, name = 'detail-20261202') {
  const sink = collect<AccountingRecord>();
  const p = new DetailParser(name, sink);
  for (const l of text.split('\n')) p.line(l);
  p.end();
  return sink;
}

describe('FreeRADIUS detail file', () => {
  const { records, errors } = parse(readFileSync(FILE, 'utf8'));

  it('reads every good record with its line, status, session and addresses', () => {
    expect(records.map((r) => [r.line, r.value.status, r.value.userName])).toEqual([
      [1, 'Start', 'alice@isp.example'],
      [16, 'Interim-Update', 'alice@isp.example'],
      [34, 'Start', 'carol'],
      [44, 'Stop', 'alice@isp.example'],
      [55, 'Start', 'bob@isp.example'],
    ]);
    expect(records[0].value).toEqual({
      status: 'Start',
      userName: 'alice@isp.example',
      sessionId: '0A0B0C01',
      nas: '192.0.2.10',
      addresses: ['198.51.100.7', '2001:db8:1::/56', '2001:db8:100::/56'],
      at: T,
      sessionTime: undefined,
    });
    // no Event-Timestamp: Timestamp less Acct-Delay-Time
    expect(records[2].value.at).toBe(T + 25 * MIN);
    // Event-Timestamp as epoch seconds, Acct-Status-Type as its number
    expect(records[4].value).toMatchObject({ status: 'Start', at: T + 40 * MIN });
  });

  it('reports bad lines by file:line and imports the rest', () => {
    expect(errors.map(describeLineError)).toEqual([
      'detail-20261202:28: attribute line outside a record (no header line before it)',
      'detail-20261202:29: record without Acct-Status-Type',
      'detail-20261202:37: expected "Attribute = value", got "this line is not an attribute"',
    ]);
  });

  it('turns the file into intervals: alice until her Stop, then bob on the same address', () => {
    const store = new SubscriberStore(new Database(':memory:'));
    for (const r of records) applyAccounting(store, r.value, 'radius-detail');
    expect(store.lookup('198.51.100.7', T + 20 * MIN)?.subscriber).toBe('alice@isp.example');
    expect(store.lookup('198.51.100.7', T + 35 * MIN)).toBeUndefined();
    expect(store.lookup('198.51.100.7', T + 45 * MIN)).toMatchObject({
      subscriber: 'bob@isp.example',
      source: 'radius-detail',
    });
    expect(store.lookup('2001:db8:100:0:1::1', T + 10 * MIN)?.subscriber).toBe('alice@isp.example');
    expect(store.lookup('198.51.100.8', T + 26 * MIN)?.subscriber).toBe('carol');
  });

  it('rejects a header that is not a date and an unreadable Event-Timestamp', () => {
    const s = parse('garbage here\n\tAcct-Status-Type = Start\n\tEvent-Timestamp = "yesterday"\n', 'd');
    expect(s.errors.map(describeLineError)).toEqual([
      'd:1: expected a record header (a date such as "Wed Dec  2 10:00:00 2026"), got "garbage here"',
      'd:1: Event-Timestamp "yesterday" is not a date',
    ]);
    expect(s.records).toHaveLength(0);
  });
});
