import { addrFromString, v4FromString, v4ToString, v6GroupsToString } from '@downstream/shared';
import { randInt, type Rng } from './rng.js';

/**
 * Outside address space the simulator draws from: real allocated ranges, each one a whole
 * row of @ip-location-db/asn (RouteViews + DB-IP, CC-BY-4.0) for the AS named, so the
 * dashboard's ASN attribution shows real networks. address-space.test.ts checks every range
 * against the package's data.
 */
export interface OutsideRange {
  first: string;
  last: string;
  asn: number;
  name: string;
}

/** Eyeball (residential/mobile) networks: where botnet members and real clients live. */
export const EYEBALL_RANGES: readonly OutsideRange[] = [
  { first: '115.200.224.0', last: '115.219.255.255', asn: 4134, name: 'Chinanet' },
  { first: '112.224.214.0', last: '113.5.0.255', asn: 4837, name: 'CHINA UNICOM China169 Backbone' },
  { first: '14.160.0.0', last: '14.191.255.255', asn: 45899, name: 'VNPT Corp' },
  { first: '171.226.16.0', last: '171.242.5.255', asn: 7552, name: 'Viettel Group' },
  { first: '117.192.0.0', last: '117.255.255.255', asn: 9829, name: 'Bharat Sanchar Nigam Ltd' },
  { first: '122.160.245.0', last: '122.165.199.255', asn: 24560, name: 'Bharti Airtel Limited' },
  { first: '179.176.0.0', last: '179.187.255.255', asn: 18881, name: 'TELEFONICA BRASIL S.A' },
  { first: '191.176.0.0', last: '191.185.223.255', asn: 28573, name: 'Claro NXT Telecomunicacoes Ltda' },
  { first: '178.64.0.0', last: '178.71.255.255', asn: 12389, name: 'PJSC Rostelecom' },
  { first: '85.96.0.0', last: '85.111.255.255', asn: 9121, name: 'Turk Telekomunikasyon Anonim Sirketi' },
  { first: '73.0.0.0', last: '73.255.255.255', asn: 7922, name: 'Comcast Cable Communications, LLC' },
  { first: '75.131.186.0', last: '75.140.127.255', asn: 20115, name: 'Charter Communications' },
  { first: '175.214.184.0', last: '175.255.255.255', asn: 4766, name: 'Korea Telecom' },
  { first: '36.66.23.0', last: '36.95.255.255', asn: 7713, name: 'Telekomunikasi Indonesia (PT)' },
  { first: '1.160.0.0', last: '1.175.255.255', asn: 3462, name: 'Chunghwa Telecom Co., Ltd.' },
  { first: '189.171.32.0', last: '189.183.63.255', asn: 8151, name: 'Uninet S.A. de C.V.' },
  { first: '156.192.0.0', last: '156.223.255.255', asn: 8452, name: 'TE-AS' },
  { first: '105.96.0.0', last: '105.111.255.255', asn: 36947, name: 'Telecom Algeria' },
  { first: '112.200.0.0', last: '112.211.255.255', asn: 9299, name: 'Philippine Long Distance Telephone Co.' },
  { first: '79.192.0.0', last: '79.255.255.255', asn: 3320, name: 'Deutsche Telekom AG' },
  { first: '90.0.0.0', last: '90.36.127.255', asn: 3215, name: 'Orange S.A.' },
  { first: '86.0.0.0', last: '86.31.255.255', asn: 5089, name: 'Virgin Media Limited' },
];

/** Hosting and cloud networks: servers customers talk to, reflectors, backup targets. */
export const HOSTING_RANGES: readonly OutsideRange[] = [
  { first: '3.96.0.0', last: '3.207.255.255', asn: 16509, name: 'Amazon.com, Inc.' },
  { first: '35.208.0.0', last: '35.219.255.255', asn: 15169, name: 'Google LLC' },
  { first: '48.160.0.0', last: '48.255.255.255', asn: 8075, name: 'Microsoft Corporation' },
  { first: '54.36.0.0', last: '54.39.255.255', asn: 16276, name: 'OVH SAS' },
  { first: '2.28.0.0', last: '2.29.255.255', asn: 24940, name: 'Hetzner Online GmbH' },
  { first: '45.55.0.0', last: '45.55.255.255', asn: 14061, name: 'DigitalOcean, LLC' },
];

/** CDN networks: what a cache fill comes from. */
export const CDN_RANGES: readonly OutsideRange[] = [
  { first: '172.226.227.0', last: '172.231.255.255', asn: 20940, name: 'Akamai International B.V.' },
  { first: '146.75.0.0', last: '146.75.255.255', asn: 54113, name: 'Fastly, Inc.' },
  { first: '104.16.0.0', last: '104.21.127.255', asn: 13335, name: 'Cloudflare, Inc.' },
];

export const ALL_RANGES: readonly OutsideRange[] = [...EYEBALL_RANGES, ...HOSTING_RANGES, ...CDN_RANGES];

/** IPv6 eyeball networks (rows of the package's asn-ipv6.csv), for the IPv6 scenarios. */
export const EYEBALL_RANGES_V6: readonly OutsideRange[] = [
  { first: '2003::', last: '2003:1ff:ffff:ffff:ffff:ffff:ffff:ffff', asn: 3320, name: 'Deutsche Telekom AG' },
  {
    first: '2601:a80::',
    last: '2601:fff:ffff:ffff:ffff:ffff:ffff:ffff',
    asn: 7922,
    name: 'Comcast Cable Communications, LLC',
  },
  { first: '240e:108:4bc1::', last: '240e:97d:7fff:ffff:ffff:ffff:ffff:ffff', asn: 4134, name: 'Chinanet' },
  {
    first: '2408:822e::',
    last: '2408:8239:ffff:ffff:ffff:ffff:ffff:ffff',
    asn: 4837,
    name: 'CHINA UNICOM China169 Backbone',
  },
  {
    first: '2409:40f4:4000::',
    last: '2409:43ff:ffff:ffff:ffff:ffff:ffff:ffff',
    asn: 55836,
    name: 'Reliance Jio Infocomm Limited',
  },
  { first: '2001:ee0::', last: '2001:ee3:ffff:ffff:ffff:ffff:ffff:ffff', asn: 45899, name: 'VNPT Corp' },
  { first: '2401:d800::', last: '2401:d800:ffff:ffff:ffff:ffff:ffff:ffff', asn: 7552, name: 'Viettel Group' },
  {
    first: '2804:7f4:100::',
    last: '2804:7f4:7803:ffff:ffff:ffff:ffff:ffff',
    asn: 18881,
    name: 'TELEFONICA BRASIL S.A',
  },
  { first: '2a06:a600::', last: '2a06:a607:ffff:ffff:ffff:ffff:ffff:ffff', asn: 12389, name: 'PJSC Rostelecom' },
  {
    first: '2a00:1d30::',
    last: '2a00:1d37:ffff:ffff:ffff:ffff:ffff:ffff',
    asn: 9121,
    name: 'Turk Telekomunikasyon Anonim Sirketi',
  },
  { first: '2603:6090::', last: '2603:609f:ffff:ffff:ffff:ffff:ffff:ffff', asn: 20115, name: 'Charter Communications' },
  {
    first: '2607:fb90:c13f::',
    last: '2607:fb9f:ffff:ffff:ffff:ffff:ffff:ffff',
    asn: 21928,
    name: 'T-Mobile USA, Inc.',
  },
  {
    first: '2001:b042:3801::',
    last: '2001:b07f:ffff:ffff:ffff:ffff:ffff:ffff',
    asn: 3462,
    name: 'Chunghwa Telecom Co., Ltd.',
  },
  { first: '2806:1000:301::', last: '2806:1010:ffff:ffff:ffff:ffff:ffff:ffff', asn: 8151, name: 'Uninet S.A. de C.V.' },
  { first: '2a01:c910::', last: '2a01:c918:ffff:ffff:ffff:ffff:ffff:ffff', asn: 3215, name: 'Orange S.A.' },
  { first: '2a02:8880::', last: '2a02:88ff:ffff:ffff:ffff:ffff:ffff:ffff', asn: 5089, name: 'Virgin Media Limited' },
  { first: '2a01:e14::', last: '2a01:e3f:ffff:ffff:ffff:ffff:ffff:ffff', asn: 12322, name: 'Free SAS' },
];

/** IPv6 hosting and cloud networks: mail and web servers customers talk to over IPv6. */
export const HOSTING_RANGES_V6: readonly OutsideRange[] = [
  { first: '2600:f000::', last: '2600:f0f0:10:ffff:ffff:ffff:ffff:ffff', asn: 16509, name: 'Amazon.com, Inc.' },
  { first: '2404:6800::', last: '2404:6800:ffff:ffff:ffff:ffff:ffff:ffff', asn: 15169, name: 'Google LLC' },
  { first: '2603:1000::', last: '2603:1063:2ff:ffff:ffff:ffff:ffff:ffff', asn: 8075, name: 'Microsoft Corporation' },
  { first: '2001:41d0::', last: '2001:41d0:fbff:ffff:ffff:ffff:ffff:ffff', asn: 16276, name: 'OVH SAS' },
  { first: '2a06:be80::', last: '2a06:be87:ffff:ffff:ffff:ffff:ffff:ffff', asn: 24940, name: 'Hetzner Online GmbH' },
  { first: '2400:6180:100::', last: '2400:6180:1ff:ffff:ffff:ffff:ffff:ffff', asn: 14061, name: 'DigitalOcean, LLC' },
];

export const ALL_RANGES_V6: readonly OutsideRange[] = [...EYEBALL_RANGES_V6, ...HOSTING_RANGES_V6];

/** 128-bit value of an IPv6 address. */
export function v6ToBigInt(s: string): bigint {
  const w = addrFromString(s);
  return (BigInt(w[0]) << 96n) | (BigInt(w[1]) << 64n) | (BigInt(w[2]) << 32n) | BigInt(w[3]);
}

/** The range of `ranges` an address lies in (IPv4 or IPv6), if any. */
export function rangeOf(ip: string, ranges: readonly OutsideRange[]): OutsideRange | undefined {
  const v6 = ip.includes(':');
  const x = v6 ? v6ToBigInt(ip) : BigInt(v4FromString(ip));
  return ranges.find((r) => {
    if (r.first.includes(':') !== v6) return false;
    const [lo, hi] = v6
      ? [v6ToBigInt(r.first), v6ToBigInt(r.last)]
      : [BigInt(v4FromString(r.first)), BigInt(v4FromString(r.last))];
    return x >= lo && x <= hi;
  });
}

const numeric6 = new Map<OutsideRange, [bigint, bigint]>();

/** A host in an IPv6 range: uniform over the range, never an all-zero interface id (subnet-router anycast). */
function pickAddress6(rng: Rng, r: OutsideRange): string {
  let b = numeric6.get(r);
  if (!b) {
    b = [v6ToBigInt(r.first), v6ToBigInt(r.last)];
    numeric6.set(r, b);
  }
  const [lo, hi] = b;
  const span = hi - lo + 1n;
  for (;;) {
    let x = 0n;
    for (let k = 0; k < 4; k++) x = (x << 32n) | BigInt(Math.floor(rng() * 4294967296));
    const a = lo + (x % span);
    if ((a & 0xffff_ffff_ffff_ffffn) === 0n) continue;
    const groups: number[] = [];
    for (let k = 7; k >= 0; k--) groups.push(Number((a >> BigInt(16 * k)) & 0xffffn));
    return v6GroupsToString(groups);
  }
}

const numeric = new Map<OutsideRange, [number, number]>();
function bounds(r: OutsideRange): [number, number] {
  let b = numeric.get(r);
  if (!b) {
    b = [v4FromString(r.first), v4FromString(r.last)];
    numeric.set(r, b);
  }
  return b;
}

/** One host address (IPv4: never .0 or .255) from one of `ranges`. */
export function pickAddress(rng: Rng, ranges: readonly OutsideRange[]): string {
  const r = ranges[Math.floor(rng() * ranges.length)];
  if (r.first.includes(':')) return pickAddress6(rng, r);
  const [lo, hi] = bounds(r);
  for (;;) {
    const a = randInt(rng, lo, hi);
    const last = a & 255;
    if (last !== 0 && last !== 255) return v4ToString(a);
  }
}

/** `n` distinct addresses, deterministic for a given rng state. */
export function pickDistinct(rng: Rng, ranges: readonly OutsideRange[], n: number): string[] {
  const seen = new Set<string>();
  while (seen.size < n) seen.add(pickAddress(rng, ranges));
  return [...seen];
}
