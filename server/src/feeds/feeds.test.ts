import { readFileSync } from 'node:fs';
import { DetectionEvent } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { incidentHarness } from '../testing/incident-harness.js';
import { FeedsConfig } from './config.js';
import { fakeLookup } from '../testing/recording-context.js';
import { FeedInputError, Feeds, makeIsOurs } from './feeds.js';

function setup(raw: Record<string, unknown> = {}, now?: () => number) {
  const out: DetectionEvent[] = [];
  const feeds = new Feeds({
    config: FeedsConfig.parse(raw),
    sink: (e) => void out.push(DetectionEvent.parse(e)),
    lookup: fakeLookup,
    customerPrefixes: ['198.51.100.0/24', '2001:db8:100::/48'],
    now,
  });
  return { feeds, out };
}

const ban = {
  ip: '198.51.100.7',
  direction: 'incoming',
  pps: 19577,
  action: 'ban',
  details: readFileSync(new URL('./fixtures/fastnetmon-ban.txt', import.meta.url), 'utf8'),
};

const alert = (over: Record<string, unknown> = {}) => ({
  timestamp: '2026-11-24T21:40:01.123456+0000',
  flow_id: 1234567,
  event_type: 'alert',
  src_ip: '198.51.100.23',
  src_port: 51515,
  dest_ip: '192.0.2.50',
  dest_port: 22,
  proto: 'TCP',
  alert: {
    action: 'allowed',
    gid: 1,
    signature_id: 2001219,
    rev: 20,
    signature: 'ET SCAN Potential SSH Scan',
    category: 'Attempted Information Leak',
    severity: 2,
  },
  ...over,
});

function errorOf(f: () => unknown): FeedInputError {
  try {
    f();
  } catch (e) {
    if (e instanceof FeedInputError) return e;
    throw e;
  }
  throw new Error('expected FeedInputError');
}

describe('Feeds: FastNetMon', () => {
  it('accepts a notification once and counts the repeat as a duplicate', async () => {
    const { feeds, out } = setup();
    expect(feeds.fastnetmon(ban)).toEqual({ accepted: 1, duplicates: 0, ignored: 0, rateLimited: 0 });
    expect(feeds.fastnetmon(ban)).toEqual({ accepted: 0, duplicates: 1, ignored: 0, rateLimited: 0 });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ detector: 'fastnetmon', kind: 'ddos-fan-in', key: '198.51.100.7' });
    const h = feeds.health().find((x) => x.name === 'fastnetmon')!;
    expect(h).toMatchObject({ events: 1, errors: 0, duplicates: 1 });
    expect(h.lastEvent).not.toBeNull();
  });

  it('forgets a duplicate after the dedup window', async () => {
    let t = 1_000_000;
    const { feeds, out } = setup({ dedup_window_s: 60 }, () => t);
    feeds.fastnetmon(ban);
    t += 61_000;
    expect(feeds.fastnetmon(ban).accepted).toBe(1);
    expect(out).toHaveLength(2);
  });

  it('rejects malformed input naming the field, and counts it', async () => {
    const { feeds, out } = setup();
    const e = errorOf(() => feeds.fastnetmon({ ...ban, ip: 'not-an-ip', pps: -1 }));
    expect(e.details.map((d) => d.path).sort()).toEqual(['body.ip', 'body.pps']);
    const e2 = errorOf(() => feeds.fastnetmon({ ...ban, extra: 1 }));
    expect(e2.details).toEqual([{ path: 'body.extra', message: 'unknown field' }]);
    expect(out).toHaveLength(0);
    expect(feeds.health().find((x) => x.name === 'fastnetmon')).toMatchObject({ events: 0, errors: 2 });
  });

  it('ignores unban', async () => {
    const { feeds, out } = setup();
    expect(feeds.fastnetmon({ ip: '198.51.100.7', direction: 'incoming', pps: 0, action: 'unban' }).ignored).toBe(1);
    expect(out).toHaveLength(0);
  });

  it('rate-limits a flood of distinct alerts and lets them through again later', async () => {
    let t = 0;
    const { feeds, out } = setup({ rate_limit: { per_second: 2, burst: 3 } }, () => t);
    const results = Array.from({ length: 6 }, (_, i) => feeds.fastnetmon({ ...ban, pps: 1000 + i }));
    expect(results.filter((r) => r.accepted === 1)).toHaveLength(3);
    expect(results.filter((r) => r.rateLimited === 1)).toHaveLength(3);
    t += 1000;
    expect(feeds.fastnetmon({ ...ban, pps: 1003 }).accepted).toBe(1); // not remembered as seen while dropped
    expect(out).toHaveLength(4);
    expect(feeds.health().find((x) => x.name === 'fastnetmon')!.rateLimited).toBe(3);
  });
});

describe('Feeds: generic webhook', () => {
  const ev = {
    detector: 'honeypot',
    id: 'a-1',
    kind: 'scanner',
    direction: 'outbound',
    sources: [{ ip: '198.51.100.9', packets: 10, bytes: 600 }],
    pps: 5,
  };

  it('maps an outbound scanner to the customer endpoint key, dedups by id', async () => {
    const { feeds, out } = setup();
    expect(feeds.generic(ev).accepted).toBe(1);
    expect(feeds.generic({ ...ev, pps: 7 }).duplicates).toBe(1); // same detector + id
    expect(out[0]).toMatchObject({ detector: 'honeypot', kind: 'scanner', direction: 'outbound', key: '198.51.100.9' });
    expect(out[0].sources.top[0]).toMatchObject({ ip: '198.51.100.9', customer: 'Residential pool A' });
  });

  it('defaults kind to external and keys inbound events by target', async () => {
    const { feeds, out } = setup();
    feeds.generic({ detector: 'x', direction: 'inbound', target: '198.51.100.7', bps: 1e9 });
    expect(out[0]).toMatchObject({ kind: 'external', key: '198.51.100.7', rate: { pps: 0, bps: 1e9 } });
  });

  it('takes the valid events of a batch and names the invalid ones', async () => {
    const { feeds, out } = setup();
    const r = feeds.generic({
      events: [ev, { ...ev, id: 'a-2', kind: 'nonsense' }, { ...ev, id: 'a-3', direction: undefined }],
    });
    expect(r.accepted).toBe(1);
    expect(r.errors!.map((e) => e.path)).toEqual(['body.events[1].kind', 'body.events[2].direction']);
    expect(out).toHaveLength(1);
  });

  it('refuses events from the future, beyond clock skew', async () => {
    const { feeds, out } = setup({}, () => Date.parse('2026-11-24T12:00:00Z'));
    expect(errorOf(() => feeds.generic({ ...ev, at: '2026-11-24T13:00:00Z' })).details).toEqual([
      { path: 'body.at', message: '3600 s in the future (clock skew?)' },
    ]);
    expect(feeds.generic({ ...ev, at: '2026-11-24T12:01:00Z' }).accepted).toBe(1);
    expect(out[0].at).toBe('2026-11-24T12:01:00.000Z');
  });

  it('rejects a body with nothing valid', async () => {
    const { feeds } = setup();
    const e = errorOf(() => feeds.generic({ detector: 'bad name!', direction: 'up' }));
    expect(e.details.map((d) => d.path)).toEqual(expect.arrayContaining(['body.detector', 'body.direction']));
  });
});

describe('Feeds: Suricata EVE', () => {
  it('maps an ET SCAN alert from a customer to an outbound scanner keyed by the endpoint', async () => {
    const { feeds, out } = setup();
    expect(feeds.suricata(alert()).accepted).toBe(1);
    expect(out[0]).toMatchObject({
      detector: 'suricata',
      kind: 'scanner',
      direction: 'outbound',
      key: '198.51.100.23',
      at: '2026-11-24T21:40:01.123Z',
    });
    expect(out[0].evidence).toMatchObject({
      signatureId: 2001219,
      ports: [{ port: 22, share: 1 }],
      protocols: [{ proto: 6, share: 1 }],
    });
  });

  it('maps a DoS alert aimed at a customer to inbound volumetric keyed by the target; unknown signatures to external', async () => {
    const { feeds, out } = setup();
    feeds.suricata([
      alert({
        flow_id: 1,
        src_ip: '203.0.113.5',
        dest_ip: '198.51.100.7',
        alert: {
          signature_id: 2019010,
          signature: 'ET DOS Possible NTP DDoS Multiple MON_LIST Seq 0 Response Spanning Multiple Packets IMPL 0x02',
          category: 'Attempted Denial of Service',
          severity: 2,
        },
      }),
      alert({
        flow_id: 2,
        src_ip: '203.0.113.5',
        dest_ip: '198.51.100.8',
        alert: { signature_id: 1, signature: 'ET DOS Inbound flood', severity: 1 },
      }),
      alert({
        flow_id: 3,
        src_ip: '203.0.113.5',
        dest_ip: '198.51.100.9',
        alert: { signature_id: 2, signature: 'ET POLICY curl User-Agent', severity: 3 },
      }),
    ]);
    expect(out.map((e) => [e.kind, e.direction, e.key])).toEqual([
      ['amplification', 'inbound', '198.51.100.7'],
      ['volumetric', 'inbound', '198.51.100.8'],
      ['external', 'inbound', '198.51.100.9'],
    ]);
  });

  it('applies configured signature rules first', async () => {
    const { feeds, out } = setup({ suricata: { signatures: [{ match: 'curl User-Agent', kind: 'scanner' }] } });
    feeds.suricata(alert({ alert: { signature_id: 2, signature: 'ET POLICY curl User-Agent' } }));
    expect(out[0].kind).toBe('scanner');
  });

  it('updates an alerted flow with its volumes from the flow record; ignores other flows and event types', async () => {
    const { feeds, out } = setup();
    const flow = {
      timestamp: '2026-11-24T21:40:11.000000+0000',
      flow_id: 1234567,
      event_type: 'flow',
      src_ip: '198.51.100.23',
      dest_ip: '192.0.2.50',
      proto: 'TCP',
      flow: {
        pkts_toserver: 100,
        pkts_toclient: 0,
        bytes_toserver: 6000,
        bytes_toclient: 0,
        start: '2026-11-24T21:40:01.000000+0000',
        end: '2026-11-24T21:40:11.000000+0000',
        alerted: true,
      },
    };
    const ndjson = [alert(), flow, { ...flow, flow_id: 99 }, { event_type: 'dns', timestamp: flow.timestamp }]
      .map((r) => JSON.stringify(r))
      .join('\n');
    const r = feeds.suricata(ndjson);
    expect(r).toEqual({ accepted: 2, duplicates: 0, ignored: 2, rateLimited: 0 });
    expect(out[1]).toMatchObject({ kind: 'scanner', key: '198.51.100.23', rate: { pps: 10, bps: 4800 } });
    expect(out[1].sources.top[0]).toMatchObject({ ip: '198.51.100.23', packets: 100, bytes: 6000 });
  });

  it('dedups the same alert on the same flow, reports malformed records by index', async () => {
    const { feeds, out } = setup();
    const r = feeds.suricata([alert(), alert(), { event_type: 'alert', src_ip: 'x' }, 'nope']);
    expect(r.accepted).toBe(1);
    expect(r.duplicates).toBe(1);
    const paths = r.errors!.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body[2].src_ip', 'body[2].alert', 'body[3]']));
    expect(out).toHaveLength(1);
    expect(() => feeds.suricata('not json\n{also not')).toThrow(FeedInputError);
  });
});

describe('makeIsOurs', () => {
  it('matches IPv4, IPv4-mapped and IPv6 customer prefixes only', async () => {
    const ours = makeIsOurs(['198.51.100.0/24', '2001:db8:100::/48']);
    expect(ours('198.51.100.200')).toBe(true);
    expect(ours('::ffff:198.51.100.1')).toBe(true);
    expect(ours('2001:db8:100:5::1')).toBe(true);
    expect(ours('198.51.101.1')).toBe(false);
    expect(ours('garbage')).toBe(false);
  });
});

describe('Feeds: merging with built-in incidents (through the incident manager)', () => {
  const T = Date.UTC(2026, 10, 24, 21, 40, 0);
  function withManager() {
    const { m, clock } = incidentHarness({ startMs: T });
    const feeds = new Feeds({
      config: FeedsConfig.parse({}),
      sink: (e) => m.ingest(DetectionEvent.parse(e)),
      lookup: fakeLookup,
      now: () => clock.now,
    });
    return { m, feeds, clock };
  }
  const volumetric = (at: number): DetectionEvent => ({
    detector: 'volumetric',
    kind: 'volumetric',
    direction: 'inbound',
    at: new Date(at).toISOString(),
    key: '198.51.100.7',
    target: { ip: '198.51.100.7', customer: 'Residential pool A' },
    sources: {
      distinct: 2,
      top: [{ ip: '192.0.2.99', asn: 64496, asName: 'Example', country: 'ZZ', packets: 10, bytes: 640 }],
      asns: [{ asn: 64496, name: 'Example', share: 1 }],
    },
    upstreams: [{ name: 'Transit A', share: 1 }],
    rate: { pps: 20_000, bps: 10e6 },
    evidence: { summary: 'volumetric: 20 kpps, 40x baseline' },
  });

  it('passes its own verdict on (no kind borrowed from open incidents), marked as a feed', async () => {
    const { feeds, out } = setup();
    feeds.fastnetmon(ban);
    expect(out[0]).toMatchObject({ kind: 'ddos-fan-in', key: '198.51.100.7', evidence: { feed: 'fastnetmon' } });
    expect(out[0].sources.top).toHaveLength(21);
  });

  it('corroborates a built-in incident of another kind: one incident, its kind, sources and summary kept', async () => {
    const { m, feeds, clock } = withManager();
    m.ingest(volumetric(clock.now));
    clock.now += 1000;
    feeds.fastnetmon(ban); // FastNetMon's own guess: ddos-fan-in
    const list = await m.list({ limit: 10 });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ kind: 'volumetric', detectors: ['volumetric', 'fastnetmon'] });
    expect(list[0].sources.top.map((s) => s.ip)).toEqual(['192.0.2.99']);
    expect(list[0].evidence.summary).toBe('volumetric: 20 kpps, 40x baseline');
    expect(list[0].evidence.fastnetmon).toMatchObject({ kind: 'ddos-fan-in', attackType: 'syn_flood', sources: 21 });
  });
});
