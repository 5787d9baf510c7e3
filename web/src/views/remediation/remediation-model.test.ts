import type { RemediationEntry } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { filterQuery, groupByCustomer, movesFrom, parseFilter } from './remediation-model.js';

const entry = (
  id: number,
  customer: string,
  status: RemediationEntry['status'],
  lastSeen: string,
): RemediationEntry => ({
  id,
  customer,
  ip: `198.51.100.${id}`,
  kinds: ['spam-bot'],
  incidents: ['i1'],
  evidence: 'SMTP to 800 hosts',
  packets: 10,
  bytes: 1000,
  firstSeen: '2026-11-24T10:00:00Z',
  lastSeen,
  status,
  statusAt: lastSeen,
  statusBy: null,
  note: null,
  recurred: false,
});

describe('remediation filter', () => {
  it('reads customer and status from the URL, ignoring unknown statuses and blanks', () => {
    expect(parseFilter(new URLSearchParams('customer=Residential+pool+A&status=notified'))).toEqual({
      customer: 'Residential pool A',
      status: 'notified',
    });
    expect(parseFilter(new URLSearchParams('customer=%20&status=bogus'))).toEqual({});
  });

  it('writes the same query back for the list and the CSV', () => {
    expect(filterQuery({ customer: 'A & B', status: 'open' })).toBe('customer=A+%26+B&status=open');
    expect(filterQuery({})).toBe('');
    const f = parseFilter(new URLSearchParams(filterQuery({ customer: 'Hosting', status: 'remediated' })));
    expect(f).toEqual({ customer: 'Hosting', status: 'remediated' });
  });
});

describe('remediation moves', () => {
  it('offers exactly the moves the server allows', () => {
    expect(movesFrom('open').map((m) => m.to)).toEqual(['notified', 'remediated']);
    expect(movesFrom('notified').map((m) => m.to)).toEqual(['remediated', 'open']);
    expect(movesFrom('remediated').map((m) => m.to)).toEqual(['open']);
  });
});

describe('grouping by customer', () => {
  it('puts customers with more open endpoints first and open endpoints first within one', () => {
    const groups = groupByCustomer([
      entry(1, 'B', 'remediated', '2026-11-24T10:09:00Z'),
      entry(2, 'A', 'notified', '2026-11-24T10:08:00Z'),
      entry(3, 'B', 'open', '2026-11-24T10:01:00Z'),
      entry(4, 'B', 'open', '2026-11-24T10:05:00Z'),
      entry(5, 'C', 'notified', '2026-11-24T10:05:00Z'),
    ]);
    expect(groups.map((g) => [g.customer, g.open])).toEqual([
      ['B', 2],
      ['A', 0],
      ['C', 0],
    ]);
    expect(groups[0]!.entries.map((e) => e.id)).toEqual([4, 3, 1]);
  });
});
