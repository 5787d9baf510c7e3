import type { ExporterHealth, FeedHealth } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { EXPORTER_STALE_MS, exporterRows, feedRows } from './status-model.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const exp = (address: string, lastSeenAgoMs: number, datagrams: number, decodeErrors = 0): ExporterHealth => ({
  address,
  protocol: 'netflow-v9',
  lastSeen: new Date(NOW - lastSeenAgoMs).toISOString(),
  datagrams,
  records: datagrams * 20,
  decodeErrors,
  sequenceGaps: 0,
});

describe('exporter rows', () => {
  it('computes rates between polls and flags new decode errors and silence, worst first', () => {
    const prev = {
      at: NOW - 5000,
      items: [exp('192.0.2.1', 0, 100), exp('192.0.2.2', 0, 100, 3), exp('192.0.2.3', 0, 50)],
    };
    const cur = {
      at: NOW,
      items: [
        exp('192.0.2.1', 1000, 600),
        exp('192.0.2.2', 1000, 200, 7),
        exp('192.0.2.3', EXPORTER_STALE_MS + 5000, 50),
      ],
    };
    const rows = exporterRows(prev, cur, NOW);
    expect(rows.map((r) => [r.address, r.state])).toEqual([
      ['192.0.2.2', 'erroring'],
      ['192.0.2.3', 'stale'],
      ['192.0.2.1', 'ok'],
    ]);
    const ok = rows[2]!;
    expect(ok.datagramsPerSecond).toBe(100);
    expect(ok.recordsPerSecond).toBe(2000);
    expect(rows[0]!.newErrors).toBe(4);
    expect(rows[0]!.reason).toMatch(/4 decode errors/);
    expect(rows[1]!.reason).toMatch(/no datagram for 65 s/);
  });

  it('old errors alone do not keep a row red, and the first poll has no rates', () => {
    const rows = exporterRows(undefined, { at: NOW, items: [exp('192.0.2.1', 0, 10, 99)] }, NOW);
    expect(rows[0]!.state).toBe('ok');
    expect(rows[0]!.datagramsPerSecond).toBeUndefined();
  });
});

describe('feed rows', () => {
  const feed = (name: string, events: number, errors: number, lastEvent: string | null): FeedHealth => ({
    name,
    events,
    errors,
    lastEvent,
  });
  it('marks feeds with new errors, and never-heard feeds idle rather than broken', () => {
    const rows = feedRows(
      { at: 0, items: [feed('suricata', 5, 1, '2026-11-24T11:00:00Z'), feed('generic', 1, 0, null)] },
      {
        at: 1,
        items: [
          feed('suricata', 9, 2, '2026-11-24T11:59:00Z'),
          feed('generic', 1, 0, null),
          feed('fastnetmon', 3, 0, '2026-11-24T11:59:59Z'),
        ],
      },
    );
    expect(rows.map((r) => [r.name, r.state, r.newEvents, r.newErrors])).toEqual([
      ['fastnetmon', 'ok', 0, 0],
      ['generic', 'idle', 0, 0],
      ['suricata', 'erroring', 4, 1],
    ]);
  });
});
