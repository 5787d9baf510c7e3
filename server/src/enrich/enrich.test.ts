import { addrFromString } from '@downstream/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { createFlowBatch, exporterIndex, type FlowBatch } from '../flow/flow-batch.js';
import { FlowDirection } from './enriched-batch.js';
import { createEnricher } from './index.js';
import { lookupWords } from './range-table.js';
import { buildPrefixTables, prefixRange } from './site.js';

const network = parseConfig({
  network: {
    asn: 64500,
    customers: [
      { name: 'Residential A', prefixes: ['198.51.100.0/24', '2001:db8:100::/48'] },
      { name: 'Business B', prefixes: ['198.51.100.128/25', '2001:db8:100:1::/64'] },
      { name: 'Hosting C', prefixes: ['198.51.100.192/26', '203.0.113.0/24'] },
      { name: 'Single host D', prefixes: ['198.51.100.200/32'] },
    ],
    allowed_smtp: ['198.51.100.25', '2001:db8:100::25'],
    links: [
      { exporter: '192.0.2.1', ifindex: 10, name: 'Transit A', role: 'upstream', asn: 174 },
      { exporter: '192.0.2.1', ifindex: 11, name: 'IX peering', role: 'peer' },
      { exporter: '192.0.2.1', ifindex: 20, name: 'Downstream ISP', role: 'customer', asn: 64511 },
      { exporter: '2001:db8::1', ifindex: 10, name: 'Transit B v6', role: 'upstream', asn: 3356 },
    ],
  },
}).network;

const enricher = createEnricher(network);

interface Flow {
  src: string;
  dst: string;
  exporter?: string;
  inIf?: number;
  outIf?: number;
}

function batchOf(flows: Flow[]): FlowBatch {
  const b = createFlowBatch(flows.length);
  const w = new Uint32Array(4);
  flows.forEach((f, i) => {
    b.src.set(addrFromString(f.src, w), i * 4);
    b.dst.set(addrFromString(f.dst, w), i * 4);
    b.exporter[i] = exporterIndex(b, f.exporter ?? '192.0.2.9');
    b.inIf[i] = f.inIf ?? 0;
    b.outIf[i] = f.outIf ?? 0;
    b.packets[i] = 1;
  });
  b.length = flows.length;
  return b;
}

describe('customer prefixes: longest-prefix match', () => {
  it('the most specific of overlapping prefixes wins, at every boundary (IPv4)', () => {
    const c = (ip: string): string | undefined => enricher.lookup(ip).customer;
    expect(c('198.51.99.255')).toBeUndefined();
    expect(c('198.51.100.0')).toBe('Residential A');
    expect(c('198.51.100.127')).toBe('Residential A');
    expect(c('198.51.100.128')).toBe('Business B');
    expect(c('198.51.100.191')).toBe('Business B');
    expect(c('198.51.100.192')).toBe('Hosting C');
    expect(c('198.51.100.199')).toBe('Hosting C');
    expect(c('198.51.100.200')).toBe('Single host D');
    expect(c('198.51.100.201')).toBe('Hosting C');
    expect(c('198.51.100.255')).toBe('Hosting C');
    expect(c('198.51.101.0')).toBeUndefined();
    expect(c('203.0.113.77')).toBe('Hosting C');
  });

  it('the most specific of overlapping prefixes wins (IPv6), and v4 never matches v6 prefixes', () => {
    const c = (ip: string): string | undefined => enricher.lookup(ip).customer;
    expect(c('2001:db8:100::1')).toBe('Residential A');
    expect(c('2001:db8:100:1::1')).toBe('Business B');
    expect(c('2001:db8:100:1:ffff:ffff:ffff:ffff')).toBe('Business B');
    expect(c('2001:db8:100:2::')).toBe('Residential A');
    expect(c('2001:db8:100:ffff:ffff:ffff:ffff:ffff')).toBe('Residential A');
    expect(c('2001:db8:101::')).toBeUndefined();
    expect(c('2001:db8:ff::')).toBeUndefined();
    expect(c('::ffff:198.51.100.1')).toBe('Residential A');
  });

  it('agrees with a naive longest-prefix match on random overlapping prefixes', () => {
    const prefix = fc.record({ a: fc.integer({ min: 0, max: 0xffffffff }), len: fc.integer({ min: 0, max: 32 }) });
    fc.assert(
      fc.property(
        fc.array(prefix, { minLength: 1, maxLength: 25 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 30 }),
        (ps, probes) => {
          // Bias probes towards the prefixes' own edges, where off-by-ones live.
          const cidrs = ps.map((p, i) => {
            const s = (p.len === 0 ? 0 : (p.a >>> (32 - p.len)) * 2 ** (32 - p.len)) >>> 0;
            const ip = [s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255].join('.');
            return { cidr: `${ip}/${p.len}`, value: i + 1 };
          });
          const t = buildPrefixTables(cidrs);
          const ranges = cidrs.map((c) => ({ ...prefixRange(c.cidr), value: c.value }));
          const edges = ranges
            .flatMap((r) => [Number(r.start), Number(r.end), Number(r.end) + 1, Number(r.start) - 1])
            .filter((x) => x >= 0 && x <= 0xffffffff);
          const w = new Uint32Array(4);
          for (const x of [...probes, ...edges]) {
            let best: (typeof ranges)[number] | undefined;
            for (const r of ranges)
              if (BigInt(x) >= r.start && BigInt(x) <= r.end && (!best || r.len > best.len)) best = r;
            w[0] = 0;
            w[1] = 0;
            w[2] = 0xffff;
            w[3] = x;
            const got = lookupWords(t.v4, t.v6, w, 0);
            // Equal prefixes listed twice: the first listed wins in both.
            expect(got).toBe(best?.value ?? 0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('site config edge cases', () => {
  it('an IPv4-mapped IPv6 prefix matches IPv4 addresses', () => {
    const e = createEnricher(
      parseConfig({ network: { customers: [{ name: 'Mapped', prefixes: ['::ffff:192.0.2.0/120'] }] } }).network,
    );
    expect(e.lookup('192.0.2.77').customer).toBe('Mapped');
    expect(e.lookup('192.0.3.1').customer).toBeUndefined();
  });

  it('refuses more customers than the batch columns can index', () => {
    const customers = Array.from({ length: 32768 }, (_, i) => ({ name: `c${i}`, prefixes: ['10.0.0.0/8'] }));
    expect(() => createEnricher({ customers, allowed_smtp: [], links: [] })).toThrow(
      /network.customers: at most 32767/,
    );
  });
});

describe('allowed SMTP', () => {
  it('matches exactly the listed hosts, v4 and v6', () => {
    expect(enricher.allowedSmtp('198.51.100.25')).toBe(true);
    expect(enricher.allowedSmtp('198.51.100.24')).toBe(false);
    expect(enricher.allowedSmtp('198.51.100.26')).toBe(false);
    expect(enricher.allowedSmtp('2001:db8:100::25')).toBe(true);
    expect(enricher.allowedSmtp('2001:db8:100::26')).toBe(false);
    const b = batchOf([
      { src: '198.51.100.25', dst: '8.8.8.8' },
      { src: '198.51.100.26', dst: '8.8.8.8' },
    ]);
    expect(enricher.allowedSmtpAt(b.src, 0)).toBe(true);
    expect(enricher.allowedSmtpAt(b.src, 1)).toBe(false);
  });
});

describe('enrich(batch): direction, customers, links, ASNs', () => {
  const OUTSIDE = '1.1.1.1'; // Cloudflare, AS13335 in the data set
  const OUTSIDE2 = '8.8.8.8';
  const cases: { name: string; flow: Flow; dir: number; srcCust: number; dstCust: number; link: number }[] = [
    {
      name: 'inbound: outside → customer',
      flow: { src: OUTSIDE, dst: '198.51.100.10' },
      dir: FlowDirection.inbound,
      srcCust: -1,
      dstCust: 0,
      link: -1,
    },
    {
      name: 'outbound: customer → outside',
      flow: { src: '198.51.100.130', dst: OUTSIDE },
      dir: FlowDirection.outbound,
      srcCust: 1,
      dstCust: -1,
      link: -1,
    },
    {
      name: 'internal: customer → customer',
      flow: { src: '198.51.100.200', dst: '203.0.113.5' },
      dir: FlowDirection.internal,
      srcCust: 3,
      dstCust: 2,
      link: -1,
    },
    {
      name: 'transit: outside → outside',
      flow: { src: OUTSIDE, dst: OUTSIDE2 },
      dir: FlowDirection.transit,
      srcCust: -1,
      dstCust: -1,
      link: -1,
    },
    {
      name: 'inbound v6',
      flow: { src: '2606:4700::1111', dst: '2001:db8:100:1::5' },
      dir: FlowDirection.inbound,
      srcCust: -1,
      dstCust: 1,
      link: -1,
    },
    {
      name: 'outbound v6',
      flow: { src: '2001:db8:100::5', dst: '2606:4700::1111' },
      dir: FlowDirection.outbound,
      srcCust: 0,
      dstCust: -1,
      link: -1,
    },
    {
      name: 'inbound on an upstream link is tagged with the link',
      flow: { src: OUTSIDE, dst: '198.51.100.10', exporter: '192.0.2.1', inIf: 10 },
      dir: FlowDirection.inbound,
      srcCust: -1,
      dstCust: 0,
      link: 0,
    },
    {
      name: 'a source in our prefixes arriving from an upstream is spoofed: inbound, no source customer',
      flow: { src: '198.51.100.10', dst: '198.51.100.20', exporter: '192.0.2.1', inIf: 10 },
      dir: FlowDirection.inbound,
      srcCust: -1,
      dstCust: 0,
      link: 0,
    },
    {
      name: 'spoofed source from a peer towards the outside is transit',
      flow: { src: '198.51.100.10', dst: OUTSIDE, exporter: '192.0.2.1', inIf: 11 },
      dir: FlowDirection.transit,
      srcCust: -1,
      dstCust: -1,
      link: 1,
    },
    {
      name: 'from a customer link, an unlisted source is still ours: outbound',
      flow: { src: '100.64.5.5', dst: OUTSIDE, exporter: '192.0.2.1', inIf: 20 },
      dir: FlowDirection.outbound,
      srcCust: -1,
      dstCust: -1,
      link: 2,
    },
    {
      name: 'out of a customer link, an unlisted destination is ours: inbound',
      flow: { src: OUTSIDE, dst: '100.64.5.5', exporter: '192.0.2.1', inIf: 10, outIf: 20 },
      dir: FlowDirection.inbound,
      srcCust: -1,
      dstCust: -1,
      link: 0,
    },
    {
      name: 'out to an upstream, the destination is outside whatever its address: outbound',
      flow: { src: '198.51.100.130', dst: '198.51.100.10', exporter: '192.0.2.1', inIf: 99, outIf: 10 },
      dir: FlowDirection.outbound,
      srcCust: 1,
      dstCust: -1,
      link: -1,
    },
    {
      name: 'customer link to customer link is internal',
      flow: { src: '100.64.5.5', dst: '198.51.100.10', exporter: '192.0.2.1', inIf: 20 },
      dir: FlowDirection.internal,
      srcCust: -1,
      dstCust: 0,
      link: 2,
    },
    {
      name: 'an exporter written IPv4-mapped finds its links',
      flow: { src: OUTSIDE, dst: '198.51.100.10', exporter: '::ffff:192.0.2.1', inIf: 11 },
      dir: FlowDirection.inbound,
      srcCust: -1,
      dstCust: 0,
      link: 1,
    },
    {
      name: 'an IPv6 exporter with its own links',
      flow: { src: '2606:4700::1111', dst: '2001:db8:100::5', exporter: '2001:0db8:0:0::1', inIf: 10 },
      dir: FlowDirection.inbound,
      srcCust: -1,
      dstCust: 0,
      link: 3,
    },
    {
      name: 'an unknown ifindex on a known exporter has no link',
      flow: { src: OUTSIDE, dst: '198.51.100.10', exporter: '192.0.2.1', inIf: 12 },
      dir: FlowDirection.inbound,
      srcCust: -1,
      dstCust: 0,
      link: -1,
    },
  ];

  it.each(cases)('$name', ({ flow, dir, srcCust, dstCust, link }) => {
    // Pad with unrelated flows so each case is checked inside a batch, not alone.
    const b = enricher.enrich(batchOf([{ src: OUTSIDE2, dst: OUTSIDE }, flow, { src: '198.51.100.1', dst: OUTSIDE }]));
    expect({ dir: b.direction[1], srcCust: b.srcCustomer[1], dstCust: b.dstCustomer[1], link: b.inLink[1] }).toEqual({
      dir,
      srcCust,
      dstCust,
      link,
    });
    expect(b.direction[0]).toBe(FlowDirection.transit);
    expect(b.direction[2]).toBe(FlowDirection.outbound);
  });

  it('fills source and destination ASNs, and names customers and links by index', () => {
    const b = enricher.enrich(batchOf([{ src: '1.1.1.1', dst: '198.51.100.10', exporter: '192.0.2.1', inIf: 10 }]));
    expect(b.srcAsn[0]).toBe(13335);
    // A customer address the data set does not cover is in our AS (network.asn).
    expect(b.dstAsn[0]).toBe(64500);
    expect(enricher.customerName(b.dstCustomer[0])).toBe('Residential A');
    expect(enricher.linkName(b.inLink[0])).toBe('Transit A');
    expect(enricher.link(0)).toMatchObject({ role: 'upstream', asn: 174 });
    expect(enricher.customerName(-1)).toBeUndefined();
  });

  it('names the link a flow leaves by (the upstream outbound abuse takes), -1 when unmapped', () => {
    const b = enricher.enrich(
      batchOf([
        { src: '198.51.100.10', dst: '1.1.1.1', exporter: '192.0.2.1', inIf: 20, outIf: 10 },
        { src: '198.51.100.10', dst: '1.1.1.1', exporter: '192.0.2.1', inIf: 20, outIf: 77 },
        { src: '198.51.100.10', dst: '1.1.1.1', exporter: '192.0.2.9', inIf: 20, outIf: 10 },
      ]),
    );
    expect([enricher.linkName(b.inLink[0]), enricher.linkName(b.outLink[0])]).toEqual(['Downstream ISP', 'Transit A']);
    expect([b.outLink[1], b.outLink[2]]).toEqual([-1, -1]);
  });

  it('lookup() gives ASN, AS name, country and customer', () => {
    expect(enricher.lookup('1.1.1.1')).toEqual({
      asn: 13335,
      asName: 'Cloudflare, Inc.',
      country: enricher.countryAt(addrFromString('1.1.1.1'), 0),
    });
    expect(enricher.lookup('198.51.100.200')).toEqual({
      asn: 64500,
      asName: 'our network (AS64500)',
      country: '',
      customer: 'Single host D',
    });
    expect(() => enricher.lookup('not-an-ip')).toThrow(/not an IPv4 address/);
  });

  it('our customers fall back to network.asn; other unknown addresses stay unknown', () => {
    expect(enricher.lookup('2001:db8:100:1::9')).toMatchObject({ asn: 64500, customer: 'Business B' });
    expect(enricher.lookup('192.0.2.200')).toEqual({ asn: 0, asName: '', country: '' });
    expect(enricher.asName(64500)).toBe('our network (AS64500)');
    // A source inside our prefixes entering from an upstream is spoofed: not given our ASN.
    const b = enricher.enrich(
      batchOf([
        { src: '198.51.100.7', dst: '1.1.1.1' },
        { src: '198.51.100.7', dst: '198.51.100.9', exporter: '192.0.2.1', inIf: 10 },
      ]),
    );
    expect([b.srcAsn[0], b.dstAsn[0]]).toEqual([64500, 13335]);
    expect([b.srcAsn[1], b.dstAsn[1]]).toEqual([0, 64500]);
    // Without network.asn a customer is still named as ours, with no ASN to claim.
    const noAsn = createEnricher(parseConfig({ network: { customers: network.customers } }).network);
    expect(noAsn.lookup('198.51.100.7')).toMatchObject({ asn: 0, asName: 'our network', customer: 'Residential A' });
  });

  it('a site with no customers or links calls everything transit', () => {
    const bare = createEnricher(parseConfig({}).network);
    const b = bare.enrich(batchOf([{ src: '198.51.100.1', dst: '1.1.1.1' }]));
    expect(b.direction[0]).toBe(FlowDirection.transit);
    expect(b.srcCustomer[0]).toBe(-1);
  });
});
