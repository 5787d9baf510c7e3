import { DetectionEvent } from '@downstream/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FeedsConfig } from './config.js';
import { fakeLookup } from '../testing/recording-context.js';
import { parseFastNetMonDetails } from './fastnetmon.js';
import { FeedInputError, Feeds } from './feeds.js';

/** Whatever arrives, a feed either produces valid detections or a FeedInputError — never a crash. */
function feeds() {
  const out: unknown[] = [];
  const f = new Feeds({
    config: FeedsConfig.parse({ rate_limit: { per_second: 1e6, burst: 1e6 } }),
    sink: (e) => void out.push(e),
    lookup: fakeLookup,
    customerPrefixes: ['198.51.100.0/24'],
  });
  return { f, out };
}

const tolerant = (run: () => unknown) => {
  try {
    run();
  } catch (e) {
    if (!(e instanceof FeedInputError)) throw e;
  }
};

const detailLine = fc.oneof(
  fc.string(),
  fc
    .constantFrom(
      'Attack type: ',
      'Attack protocol: ',
      'Peak attack power: ',
      'Average packet size for incoming traffic: ',
    )
    .chain((k) => fc.string().map((v) => k + v)),
  fc
    .tuple(fc.ipV4(), fc.nat(70000), fc.constantFrom('<', '>'), fc.ipV4(), fc.nat(70000), fc.nat(), fc.nat())
    .map(([a, ap, arrow, b, bp, bytes, packets]) => `${a}:${ap} ${arrow} ${b}:${bp} ${bytes} bytes ${packets} packets`),
);

describe('feeds under arbitrary input', () => {
  it('the FastNetMon details parser never throws and yields finite numbers', () => {
    fc.assert(
      fc.property(fc.array(detailLine, { maxLength: 40 }), (lines) => {
        const d = parseFastNetMonDetails(lines.join('\n'));
        for (const f of d.flows) expect(Number.isFinite(f.packets) && Number.isFinite(f.bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('FastNetMon notifications: valid detections or a named input error', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            ip: fc.oneof(fc.ipV4(), fc.string()),
            direction: fc.constantFrom('incoming', 'outgoing', 'sideways'),
            pps: fc.oneof(fc.nat(), fc.double()),
            action: fc.constantFrom('ban', 'attack_details', 'unban', 'x'),
            details: fc.array(detailLine, { maxLength: 30 }).map((l) => l.join('\n')),
          },
          { requiredKeys: [] },
        ),
        (body) => {
          const { f, out } = feeds();
          tolerant(() => f.fastnetmon(body));
          for (const e of out) DetectionEvent.parse(e);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('Suricata and generic feeds: valid detections or a named input error', () => {
    fc.assert(
      fc.property(fc.anything(), fc.string(), (value, text) => {
        const { f, out } = feeds();
        tolerant(() => f.suricata(value));
        tolerant(() => f.suricata(text));
        tolerant(() => f.generic(value));
        f.suricataLine(text);
        for (const e of out) DetectionEvent.parse(e);
      }),
      { numRuns: 300 },
    );
  });

  it('any well-formed EVE alert becomes a valid detection keyed by one of its addresses', () => {
    fc.assert(
      fc.property(
        fc.ipV4(),
        fc.oneof(fc.ipV4(), fc.constant('198.51.100.9')),
        fc.string(),
        fc.option(fc.string(), { nil: undefined }),
        fc.nat(),
        (src, dst, signature, category, sid) => {
          const { f, out } = feeds();
          const r = f.suricata({
            timestamp: '2026-11-24T21:40:01.000000+0000',
            event_type: 'alert',
            src_ip: src,
            dest_ip: dst,
            alert: { signature_id: sid, signature, ...(category !== undefined ? { category } : {}) },
          });
          expect(r.accepted).toBe(1);
          const e = DetectionEvent.parse(out[0]);
          expect([src, dst]).toContain(e.key);
        },
      ),
      { numRuns: 300 },
    );
  });
});
