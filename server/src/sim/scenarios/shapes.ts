import {
  ALL_RANGES,
  CDN_RANGES,
  EYEBALL_RANGES,
  EYEBALL_RANGES_V6,
  HOSTING_RANGES,
  HOSTING_RANGES_V6,
  pickAddress,
  pickDistinct,
  type OutsideRange,
} from './address-space.js';
import {
  background,
  background6,
  component,
  httpsVisits,
  residential,
  stream,
  type ScenarioFactory,
} from './library.js';
import { pick, randInt, rngFor } from './rng.js';
import { FLAGS, SESSION, compose, conversation, simFlow, type Component, type Leg } from './scenario.js';
import type { SimFlow } from '../sim-flow.js';

/**
 * Attacks told by their shape rather than their volume, and the benign traffic that looks like
 * them: reflection from ports no list names, at a few hundred packets/s, from IP fragments or as
 * TCP SYN-ACK/RST; floods that fit no kind; spoofed SYN floods; slow coordinated outbound
 * floods — and a customer resolver, NTP server, game server, VPN concentrator and a flash crowd
 * seen packet by packet (the way sFlow and softflowd see TCP flags), which all stay quiet
 * because the target asked for, or answers, what it gets. Shapes follow the real captures in
 * ../shared/data/captures/raw (ISAKMP 4500 246 B, SNMP 161 251 B, DNS RRSIG in 1444-byte
 * fragments, SYN-ACK reflection from 80/443 with resets, spoofed SYN and SYN-ECE-CWR floods).
 */

const TCP = 6;
const UDP = 17;

/** Customer addresses these scenarios use (inside demoNetworkConfig, clear of the library's). */
export const SHAPE_HOSTS = {
  reflectionTarget: '198.51.100.21',
  lowReflectionTarget: '198.51.100.22',
  tcpReflectionTarget: '198.51.100.23',
  fragmentTarget: '198.51.100.24',
  floodTarget: '203.0.113.60',
  synTarget: '203.0.113.61',
  resolver: '192.0.2.153',
  ntpServer: '192.0.2.170',
  gameServer: '192.0.2.171',
  vpnConcentrator: '203.0.113.45',
  webServer: '192.0.2.180',
  halfOpenScanner: '203.0.113.92',
  // IPv6 targets of the reflection variants (inside 2001:db8:100::/48, clear of the library's hosts).
  reflectionTarget6: '2001:db8:100::a21',
  lowReflectionTarget6: '2001:db8:100::a22',
  tcpReflectionTarget6: '2001:db8:100::a23',
  fragmentTarget6: '2001:db8:100::a24',
  natGateway: '198.51.100.240',
  participationBots: residential(25, 2),
  slowBots: residential(40, 100),
} as const;

export interface ReflectionOptions {
  /** Reflectors' service port (0 with `fragments`). */
  port: number;
  /** Mean reflected packet size, bytes. */
  size: number;
  reflectors?: number;
  /** Reflected packets/s toward the target, in all. */
  pps?: number;
  target?: string;
  name?: string;
  /** DNS answers too big for one packet: a first fragment from `port`, then non-first fragments (no ports). */
  fragments?: boolean;
  /** Where the reflectors live (default IPv4 hosting and eyeball space; the IPv6 variants: IPv6 space). */
  ranges?: readonly OutsideRange[];
}

/**
 * Reflection by shape: `reflectors` open services answering spoofed requests from `port` at
 * one customer host that never asked. Below one packet/s per reflector, each second a random
 * subset of them sends (a few thousand reflectors at some hundred packets/s).
 */
export function reflection(seed: number, start: number, end: number, o: ReflectionOptions): Component {
  const target = o.target ?? SHAPE_HOSTS.reflectionTarget;
  const s = stream(seed, `reflection-${o.port}-${target}`);
  const sources = pickDistinct(rngFor(s, 0), o.ranges ?? [...HOSTING_RANGES, ...EYEBALL_RANGES], o.reflectors ?? 1500);
  const pps = o.pps ?? 6000;
  const per = pps / sources.length;
  return component(
    s,
    start,
    end,
    {
      name: o.name ?? `reflection from UDP ${o.port}`,
      kind: 'amplification',
      direction: 'inbound',
      target,
      sources,
    },
    (r, now, out) => {
      for (const src of sources) {
        // Fewer packets than reflectors: each sends with probability `per` this second.
        const pk = per >= 1 ? per * (0.8 + 0.4 * r()) : r() < per ? 1 : 0;
        if (pk === 0) continue;
        const dport = randInt(r, 1024, 65535);
        if (o.fragments) {
          // One answer = first fragment (with the UDP header) + ~2.6 non-first fragments.
          const answers = pk / 3.6;
          out.push(
            simFlow(
              src,
              target,
              { srcPort: o.port, dstPort: dport, proto: UDP, tcpFlags: 0, packets: answers, bytes: answers * 1149 },
              now,
              true,
            ),
          );
          const frags = answers * 2.6;
          out.push(
            simFlow(
              src,
              target,
              { srcPort: 0, dstPort: 0, proto: UDP, tcpFlags: 0, packets: frags, bytes: frags * o.size },
              now,
              true,
            ),
          );
        } else
          out.push(
            simFlow(
              src,
              target,
              { srcPort: o.port, dstPort: dport, proto: UDP, tcpFlags: 0, packets: pk, bytes: pk * o.size },
              now,
              true,
            ),
          );
      }
    },
  );
}

export interface TcpReflectionOptions {
  target?: string;
  reflectors?: number;
  pps?: number;
  /** Source ports with their share of packets. */
  ports?: { port: number; share: number }[];
  /** Share of SYN-ACKs (0x12); the rest are resets (RST 0x04 or RST-ACK 0x14). */
  synAckShare?: number;
  /** Share of bare SYNs from the same ports (the mixed SYN-ACK/SYN capture from port 21). */
  synShare?: number;
  name?: string;
  ranges?: readonly OutsideRange[];
}

/**
 * TCP reflection: SYNs spoofed with the target's address sent to many web (or FTP) servers,
 * whose SYN-ACKs — and resets once the target resets them — all come back to the target.
 */
export function tcpReflection(seed: number, start: number, end: number, o: TcpReflectionOptions = {}): Component {
  const target = o.target ?? SHAPE_HOSTS.tcpReflectionTarget;
  const s = stream(seed, `tcp-reflection-${target}`);
  const sources = pickDistinct(rngFor(s, 0), o.ranges ?? [...HOSTING_RANGES, ...EYEBALL_RANGES], o.reflectors ?? 4000);
  const ports = o.ports ?? [
    { port: 80, share: 0.84 },
    { port: 443, share: 0.16 },
  ];
  const portOf = sources.map((_, i) => {
    let x = (i * 0.618034) % 1;
    for (const p of ports) if ((x -= p.share) <= 0) return p.port;
    return ports[0].port;
  });
  const per = (o.pps ?? 20_000) / sources.length;
  const synAck = o.synAckShare ?? 0.85;
  const syn = o.synShare ?? 0;
  return component(
    s,
    start,
    end,
    {
      name: o.name ?? 'TCP SYN-ACK reflection',
      kind: 'amplification',
      direction: 'inbound',
      target,
      sources,
    },
    (r, now, out) => {
      sources.forEach((src, i) => {
        const pk = per >= 1 ? per * (0.8 + 0.4 * r()) : r() < per ? 1 : 0;
        if (pk === 0) return;
        const x = r();
        const flags =
          x < syn
            ? FLAGS.SYN
            : x < syn + synAck
              ? FLAGS.SYN | FLAGS.ACK
              : r() < 0.5
                ? FLAGS.RST
                : FLAGS.RST | FLAGS.ACK;
        out.push(
          simFlow(
            src,
            target,
            {
              srcPort: portOf[i],
              dstPort: randInt(r, 1024, 65535),
              proto: TCP,
              tcpFlags: flags,
              packets: pk,
              bytes: pk * (flags & FLAGS.RST ? 54 : 58),
            },
            now,
            true,
          ),
        );
      });
    },
  );
}

/** A flood that fits no kind: thousands of sources, mid-size UDP on random ports, at a target with no history. */
export function shapelessFlood(
  seed: number,
  start: number,
  end: number,
  o: { target?: string; sources?: number; pps?: number } = {},
): Component {
  const target = o.target ?? SHAPE_HOSTS.floodTarget;
  const s = stream(seed, `shapeless-${target}`);
  const sources = pickDistinct(rngFor(s, 0), ALL_RANGES, o.sources ?? 3000);
  const per = (o.pps ?? 30_000) / sources.length;
  return component(
    s,
    start,
    end,
    { name: 'flood of no particular shape', kind: 'volumetric', direction: 'inbound', target, sources },
    (r, now, out) => {
      for (const src of sources) {
        const pk = per * (0.8 + 0.4 * r());
        out.push(
          simFlow(
            src,
            target,
            {
              srcPort: randInt(r, 1024, 65535),
              dstPort: randInt(r, 1, 65535),
              proto: UDP,
              tcpFlags: 0,
              packets: pk,
              bytes: pk * randInt(r, 500, 900),
            },
            now,
            true,
          ),
        );
      }
    },
  );
}

/**
 * A spoofed SYN flood: every flow from a fresh random address (the real captures: 37,623
 * sources for 37,841 packets), SYN only — or SYN with ECE and CWR (0xc2).
 */
export function synFlood(
  seed: number,
  start: number,
  end: number,
  o: { target?: string; pps?: number; flags?: number; port?: number; name?: string } = {},
): Component {
  const target = o.target ?? SHAPE_HOSTS.synTarget;
  const s = stream(seed, `syn-flood-${target}-${o.flags ?? FLAGS.SYN}`);
  const flows = Math.round((o.pps ?? 10_000) / 2);
  const flags = o.flags ?? FLAGS.SYN;
  return component(
    s,
    start,
    end,
    { name: o.name ?? 'spoofed SYN flood', kind: 'ddos-fan-in', direction: 'inbound', target, sources: [] },
    (r, now, out) => {
      for (let k = 0; k < flows; k++)
        out.push(
          simFlow(
            pickAddress(r, ALL_RANGES),
            target,
            {
              srcPort: randInt(r, 1024, 65535),
              dstPort: o.port ?? 80,
              proto: TCP,
              tcpFlags: flags,
              packets: 2,
              bytes: 120,
            },
            now,
            true,
          ),
        );
    },
  );
}

/**
 * Customer hosts flooding one outside target: `bots` × `ppsPerBot`, as SYNs (the victim's
 * SYN-ACKs, small, come back for some) or as UDP.
 */
export function outboundFlood(
  seed: number,
  start: number,
  end: number,
  o: { bots: readonly string[]; ppsPerBot: number; syn?: boolean; name: string },
): Component {
  const s = stream(seed, `outbound-flood-${o.name}`);
  const victim = pickAddress(rngFor(s, 0), HOSTING_RANGES);
  return component(
    s,
    start,
    end,
    {
      name: o.name,
      kind: 'ddos-participation',
      direction: 'outbound',
      target: victim,
      sources: [...o.bots],
    },
    (r, now, out, sec) => {
      o.bots.forEach((b, i) => {
        if (sec < i % 2) return; // joining within two seconds: coordinated
        const pk = o.ppsPerBot * (0.8 + 0.4 * r());
        const sp = randInt(r, 1024, 65535);
        if (o.syn) {
          out.push(
            simFlow(
              b,
              victim,
              { srcPort: sp, dstPort: 80, proto: TCP, tcpFlags: FLAGS.SYN, packets: pk, bytes: pk * 60 },
              now,
              false,
            ),
          );
          // The victim answers some with SYN-ACKs (60 B): a flooded host, not a service.
          out.push(
            simFlow(
              victim,
              b,
              {
                srcPort: 80,
                dstPort: sp,
                proto: TCP,
                tcpFlags: FLAGS.SYN | FLAGS.ACK,
                packets: pk * 0.3,
                bytes: pk * 0.3 * 60,
              },
              now,
              true,
            ),
          );
        } else
          out.push(
            simFlow(
              b,
              victim,
              { srcPort: sp, dstPort: 80, proto: UDP, tcpFlags: 0, packets: pk, bytes: pk * 512 },
              now,
              false,
            ),
          );
      });
    },
  );
}

/**
 * A SYN scan of web servers that answer, followed by service detection (nmap -p 80 -A, as in
 * the real capture scan-nmap-port-80-aggressive.pcap): each host gets one half-open probe — SYN,
 * the host's SYN-ACK, a reset without ACK — then a dozen short HTTP sessions it answers. Too few
 * hosts and too many answered sessions for the spread rule; the half-open probes give it away.
 */
export function halfOpenScan(
  seed: number,
  start: number,
  end: number,
  o: { scanner?: string; hostsPerSecond?: number; sessionsPerHost?: number } = {},
): Component {
  const scanner = o.scanner ?? SHAPE_HOSTS.halfOpenScanner;
  const s = stream(seed, `half-open-scan-${scanner}`);
  const per = o.hostsPerSecond ?? 3;
  const sessions = o.sessionsPerHost ?? 12;
  return component(
    s,
    start,
    end,
    {
      name: 'SYN scan with service detection',
      kind: 'scanner',
      direction: 'outbound',
      sources: [scanner],
      signature: { what: 'half-open probes (SYN, then RST without ACK; one per host)', packets: 2, perSecond: per },
    },
    (r, now, out) => {
      for (let k = 0; k < per; k++) {
        const host = pickAddress(r, HOSTING_RANGES);
        conversation(
          out,
          now,
          TCP,
          [scanner, randInt(r, 32768, 60999)],
          [host, 80],
          { packets: 2, size: 50, flags: FLAGS.SYN | FLAGS.RST },
          { packets: 1, size: 44, flags: FLAGS.SYN | FLAGS.ACK },
          false,
        );
        for (let j = 0; j < sessions; j++)
          conversation(
            out,
            now,
            TCP,
            [scanner, randInt(r, 32768, 60999)],
            [host, 80],
            { packets: 5, size: 120, flags: SESSION },
            { packets: 6, size: 700, flags: SESSION },
            false,
          );
      }
    },
  );
}

// ---------------------------------------------------------------- benign look-alikes

/** A customer's recursive resolver asking thousands of authoritative servers; DNSSEC answers, some fragmented. */
export function customerResolver(
  seed: number,
  start: number,
  end: number,
  o: { resolver?: string; qps?: number; servers?: number } = {},
): Component {
  const resolver = o.resolver ?? SHAPE_HOSTS.resolver;
  const s = stream(seed, `resolver-${resolver}`);
  const servers = pickDistinct(rngFor(s, 0), [...HOSTING_RANGES, ...EYEBALL_RANGES], o.servers ?? 3000);
  const qps = o.qps ?? 2000;
  return component(
    s,
    start,
    end,
    {
      name: 'customer resolver',
      kind: null,
      direction: 'inbound',
      target: resolver,
      sources: [],
      involved: [resolver],
    },
    (r, now, out) => {
      for (let k = 0; k < qps; k++) {
        const srv = pick(r, servers);
        const sp = randInt(r, 1024, 65535);
        const big = r() < 0.4;
        conversation(
          out,
          now,
          UDP,
          [resolver, sp],
          [srv, 53],
          { packets: 1, size: 80, flags: 0 },
          { packets: 1, size: big ? 1400 : 300, flags: 0 },
          false,
        );
        if (big && r() < 0.5)
          out.push(
            simFlow(
              srv,
              resolver,
              { srcPort: 0, dstPort: 0, proto: UDP, tcpFlags: 0, packets: 1, bytes: 1200 },
              now,
              true,
            ),
          );
      }
    },
  );
}

/** A customer's public NTP server: thousands of clients, half of them from UDP 123 (ntpd), 76-byte packets both ways. */
export function ntpServer(
  seed: number,
  start: number,
  end: number,
  o: { server?: string; qps?: number } = {},
): Component {
  const server = o.server ?? SHAPE_HOSTS.ntpServer;
  const s = stream(seed, `ntp-${server}`);
  const clients = pickDistinct(rngFor(s, 0), EYEBALL_RANGES, 3000);
  const qps = o.qps ?? 2000;
  return component(
    s,
    start,
    end,
    { name: 'customer NTP server', kind: null, direction: 'inbound', target: server, sources: [], involved: [server] },
    (r, now, out) => {
      for (let k = 0; k < qps; k++) {
        const c = pick(r, clients);
        const sp = r() < 0.5 ? 123 : randInt(r, 1024, 65535);
        const leg: Leg = { packets: 1, size: 76, flags: 0 };
        conversation(out, now, UDP, [c, sp], [server, 123], leg, leg, true);
      }
    },
  );
}

/** A customer's game server: 1,500 players at 20 packets/s of small UDP each, answered with state updates. */
export function gameServer(
  seed: number,
  start: number,
  end: number,
  o: { server?: string; players?: number } = {},
): Component {
  const server = o.server ?? SHAPE_HOSTS.gameServer;
  const s = stream(seed, `game-${server}`);
  const r0 = rngFor(s, 0);
  const players = pickDistinct(r0, EYEBALL_RANGES, o.players ?? 1500);
  const ports = players.map(() => randInt(r0, 1024, 65535));
  return component(
    s,
    start,
    end,
    { name: 'game server', kind: null, direction: 'inbound', target: server, sources: [], involved: [server] },
    (r, now, out) => {
      players.forEach((p, i) =>
        conversation(
          out,
          now,
          UDP,
          [p, ports[i]],
          [server, 27015],
          { packets: 20 * (0.8 + 0.4 * r()), size: 80, flags: 0 },
          { packets: 20, size: 220, flags: 0 },
          true,
        ),
      );
    },
  );
}

/**
 * A VPN concentrator on UDP 4500 (IPsec NAT-T): many clients sending ESP-in-UDP from port 4500
 * with large packets — the shape of IKE reflection, but the concentrator answers each of them.
 */
export function vpnConcentrator(
  seed: number,
  start: number,
  end: number,
  o: { server?: string; clients?: number } = {},
): Component {
  const server = o.server ?? SHAPE_HOSTS.vpnConcentrator;
  const s = stream(seed, `vpn-${server}`);
  const clients = pickDistinct(rngFor(s, 0), EYEBALL_RANGES, o.clients ?? 1500);
  return component(
    s,
    start,
    end,
    { name: 'VPN concentrator', kind: null, direction: 'inbound', target: server, sources: [], involved: [server] },
    (r, now, out) => {
      for (const c of clients)
        conversation(
          out,
          now,
          UDP,
          [c, 4500],
          [server, 4500],
          { packets: 15 * (0.5 + r()), size: 900, flags: 0 },
          { packets: 25 * (0.5 + r()), size: 1300, flags: 0 },
          true,
        );
    },
  );
}

/**
 * A flash crowd as packet sampling and softflowd see it: each TCP session in records by TCP
 * flags — the client's SYN, bare ACKs, its request (PSH-ACK) and FIN; the server's SYN-ACK and
 * its data. Most of what the clients send is then SYNs and bare ACKs, as in a flood; what tells
 * it apart is the data the server sends back.
 */
export function flashCrowdPackets(
  seed: number,
  start: number,
  end: number,
  o: { server?: string; clients?: number; sessionsPerSecond?: number } = {},
): Component {
  const server = o.server ?? SHAPE_HOSTS.webServer;
  const s = stream(seed, `flash-packets-${server}`);
  const pool = pickDistinct(rngFor(s, 0), EYEBALL_RANGES, o.clients ?? 20_000);
  const per = o.sessionsPerSecond ?? 2000;
  const { SYN, ACK, PSH, FIN } = FLAGS;
  const inbound: [number, number, number][] = [
    [SYN, 1, 60],
    [ACK, 8, 52],
    [PSH | ACK, 2, 400],
    [FIN | ACK, 1, 52],
  ];
  const outbound: [number, number, number][] = [
    [SYN | ACK, 1, 60],
    [PSH | ACK, 14, 1350],
    [FIN | ACK, 1, 52],
  ];
  return component(
    s,
    start,
    end,
    {
      name: 'flash crowd (packet view)',
      kind: null,
      direction: 'inbound',
      target: server,
      sources: [],
      involved: [server],
    },
    (r, now, out: SimFlow[]) => {
      for (let k = 0; k < per; k++) {
        const c = pick(r, pool);
        const sp = randInt(r, 32768, 60999);
        for (const [flags, packets, size] of inbound)
          out.push(
            simFlow(
              c,
              server,
              { srcPort: sp, dstPort: 443, proto: TCP, tcpFlags: flags, packets, bytes: packets * size },
              now,
              true,
            ),
          );
        for (const [flags, packets, size] of outbound)
          out.push(
            simFlow(
              server,
              c,
              { srcPort: 443, dstPort: sp, proto: TCP, tcpFlags: flags, packets, bytes: packets * size },
              now,
              false,
            ),
          );
      }
    },
  );
}

/**
 * A carrier-grade NAT address: hundreds of subscribers behind one customer endpoint browsing
 * thousands of web servers a minute. Some connection attempts end half-open — happy eyeballs
 * drops the IPv4 attempt once IPv6 won, and the late SYN-ACK is reset without ACK — so tens of
 * hosts a minute get exactly a scanner's half-open probe, but only a few per cent of the hosts
 * contacted.
 */
export function natGateway(
  seed: number,
  start: number,
  end: number,
  o: { gateway?: string; sessionsPerSecond?: number; halfOpenShare?: number } = {},
): Component {
  const gw = o.gateway ?? SHAPE_HOSTS.natGateway;
  const s = stream(seed, `nat-${gw}`);
  const servers = pickDistinct(rngFor(s, 0), [...HOSTING_RANGES, ...CDN_RANGES], 4000);
  const per = o.sessionsPerSecond ?? 60;
  const halfOpen = o.halfOpenShare ?? 0.04;
  return component(
    s,
    start,
    end,
    { name: 'CGNAT address', kind: null, direction: 'outbound', sources: [], involved: [gw] },
    (r, now, out) => {
      for (let k = 0; k < per; k++) {
        const srv = pick(r, servers);
        const dport = r() < 0.8 ? 443 : 80;
        const ho = r() < halfOpen;
        conversation(
          out,
          now,
          TCP,
          [gw, randInt(r, 1024, 65535)],
          [srv, dport],
          ho ? { packets: 2, size: 50, flags: FLAGS.SYN | FLAGS.RST } : { packets: 12, size: 110, flags: SESSION },
          ho ? { packets: 1, size: 44, flags: FLAGS.SYN | FLAGS.ACK } : { packets: 18, size: 1300, flags: SESSION },
          false,
        );
      }
    },
  );
}

/** Visitors a web server had before the crowd (so it is no new target). */
function regulars(seed: number, server: string, start: number, end: number): Component {
  const s = stream(seed, `regulars-${server}`);
  const clients = pickDistinct(rngFor(s, 0), EYEBALL_RANGES, 300);
  return component(s, start, end, null, (r, now, out) =>
    httpsVisits(
      r,
      now,
      out,
      clients,
      server,
      20,
      { packets: 12, size: 110, flags: SESSION },
      { packets: 16, size: 1300, flags: SESSION },
    ),
  );
}

/** The reflection vectors by port, with the packet sizes they answer with. */
export const REFLECTION_VECTORS: { name: string; port: number; size: number; reflectors: number }[] = [
  { name: 'ike-500', port: 500, size: 300, reflectors: 1500 },
  { name: 'ike-4500', port: 4500, size: 246, reflectors: 2800 },
  { name: 'bacnet', port: 47808, size: 340, reflectors: 1000 },
  { name: 'dhdiscover-37810', port: 37810, size: 420, reflectors: 1200 },
  { name: 'ws-discovery', port: 3702, size: 900, reflectors: 1500 },
  { name: 'arms', port: 3283, size: 1034, reflectors: 800 },
  { name: 'coap', port: 5683, size: 280, reflectors: 2000 },
  // A port no list names (Jenkins auto-discovery).
  { name: 'unlisted-33848', port: 33848, size: 400, reflectors: 1000 },
  { name: 'snmp', port: 161, size: 251, reflectors: 4000 },
];

const DURATION = 30;
const V6_RANGES = [...HOSTING_RANGES_V6, ...EYEBALL_RANGES_V6];

/** An IPv6 variant: the same reflection from IPv6 reflectors to an IPv6 customer host, over dual-stack background. */
function v6(name: string, description: string, attack: Component, seed: number): ReturnType<ScenarioFactory> {
  const c = attack.label ? { ...attack, label: { ...attack.label, name: `${attack.label.name} (IPv6)` } } : attack;
  return compose(name, `${description} (IPv6)`, DURATION, [background(seed), background6(seed), c]);
}

/** The scenarios of this file, each on the library's background traffic. Attacks from second 5 on. */
export const SHAPE_SCENARIOS: Record<string, ScenarioFactory> = {
  ...Object.fromEntries(
    REFLECTION_VECTORS.map((v) => [
      `reflection-${v.name}`,
      (seed: number) =>
        compose(`reflection-${v.name}`, `reflection from UDP ${v.port}, ${v.size}-byte packets`, DURATION, [
          background(seed),
          reflection(seed, 5, DURATION, { port: v.port, size: v.size, reflectors: v.reflectors }),
        ]),
    ]),
  ),
  'reflection-dns-fragments': (seed) =>
    compose('reflection-dns-fragments', 'DNS RRSIG reflection in IP fragments', DURATION, [
      background(seed),
      reflection(seed, 5, DURATION, {
        port: 53,
        size: 1444,
        reflectors: 240,
        pps: 8000,
        fragments: true,
        target: SHAPE_HOSTS.fragmentTarget,
        name: 'fragmented DNS reflection',
      }),
    ]),
  'reflection-low-ntp': (seed) =>
    compose('reflection-low-ntp', 'low-volume NTP reflection: 2,000 reflectors, 400 pps', DURATION, [
      background(seed),
      reflection(seed, 5, DURATION, {
        port: 123,
        size: 468,
        reflectors: 2000,
        pps: 400,
        target: SHAPE_HOSTS.lowReflectionTarget,
        name: 'low-volume NTP reflection',
      }),
    ]),
  'reflection-low-dns': (seed) =>
    compose('reflection-low-dns', 'low-volume DNS reflection: 3,000 reflectors, 300 pps', DURATION, [
      background(seed),
      reflection(seed, 5, DURATION, {
        port: 53,
        size: 1400,
        reflectors: 3000,
        pps: 300,
        target: SHAPE_HOSTS.lowReflectionTarget,
        name: 'low-volume DNS reflection',
      }),
    ]),
  'synack-reflection': (seed) =>
    compose('synack-reflection', 'TCP SYN-ACK reflection from web servers (80/443), with resets', DURATION, [
      background(seed),
      tcpReflection(seed, 5, DURATION),
    ]),
  'rst-flood': (seed) =>
    compose('rst-flood', 'TCP RST reflection from 443', DURATION, [
      background(seed),
      tcpReflection(seed, 5, DURATION, {
        ports: [{ port: 443, share: 1 }],
        synAckShare: 0,
        reflectors: 3000,
        pps: 15_000,
        name: 'TCP RST reflection',
      }),
    ]),
  'synack-reflection-ftp': (seed) =>
    compose('synack-reflection-ftp', 'mixed SYN-ACK/SYN reflection from FTP servers (port 21)', DURATION, [
      background(seed),
      tcpReflection(seed, 5, DURATION, {
        ports: [{ port: 21, share: 1 }],
        reflectors: 60,
        pps: 8000,
        synAckShare: 0.6,
        synShare: 0.3,
        name: 'SYN-ACK/SYN reflection from port 21',
      }),
    ]),
  'volumetric-no-baseline': (seed) =>
    compose('volumetric-no-baseline', 'a flood of no particular shape at a target with no history', DURATION, [
      background(seed),
      shapelessFlood(seed, 5, DURATION),
    ]),
  'syn-flood-spoofed': (seed) =>
    compose('syn-flood-spoofed', 'spoofed SYN flood, a fresh source per flow', DURATION, [
      background(seed),
      synFlood(seed, 5, DURATION),
    ]),
  'syn-flood-ecn': (seed) =>
    compose('syn-flood-ecn', 'spoofed SYN flood with ECE+CWR (0xc2)', DURATION, [
      background(seed),
      synFlood(seed, 5, DURATION, { flags: 0xc2, port: 30120, name: 'spoofed SYN-ECE-CWR flood' }),
    ]),
  'participation-syn': (seed) =>
    compose('participation-syn', 'SYN flood from 25 customer hosts toward one outside target', DURATION, [
      background(seed),
      outboundFlood(seed, 5, DURATION, {
        bots: SHAPE_HOSTS.participationBots,
        ppsPerBot: 150,
        syn: true,
        name: 'SYN flood from 25 customer hosts',
      }),
    ]),
  'participation-slow': (seed) =>
    compose('participation-slow', 'forty customer hosts at 40 pps each toward one outside target', DURATION, [
      background(seed),
      outboundFlood(seed, 5, DURATION, {
        bots: SHAPE_HOSTS.slowBots,
        ppsPerBot: 40,
        name: 'slow coordinated flood',
      }),
    ]),
  'scanner-half-open': (seed) =>
    compose('scanner-half-open', 'SYN scan of answering web servers with service detection (nmap -A)', DURATION, [
      background(seed),
      halfOpenScan(seed, 5, DURATION),
    ]),
  'nat-gateway': (seed) =>
    compose('nat-gateway', 'benign: a CGNAT address browsing thousands of servers, a few half-open resets', DURATION, [
      background(seed),
      natGateway(seed, 0, DURATION),
    ]),
  // IPv6: the reflection shapes again, reflectors and target in IPv6 (non-first IPv6 fragments
  // carry no ports either: the exporters report them as UDP 0 → 0, as for IPv4).
  ...Object.fromEntries(
    REFLECTION_VECTORS.map((v) => [
      `reflection-${v.name}-ipv6`,
      (seed: number) =>
        v6(
          `reflection-${v.name}-ipv6`,
          `reflection from UDP ${v.port}, ${v.size}-byte packets`,
          reflection(seed, 5, DURATION, {
            port: v.port,
            size: v.size,
            reflectors: v.reflectors,
            target: SHAPE_HOSTS.reflectionTarget6,
            ranges: V6_RANGES,
          }),
          seed,
        ),
    ]),
  ),
  'reflection-dns-fragments-ipv6': (seed) =>
    v6(
      'reflection-dns-fragments-ipv6',
      'DNS RRSIG reflection in IP fragments',
      reflection(seed, 5, DURATION, {
        port: 53,
        size: 1444,
        reflectors: 240,
        pps: 8000,
        fragments: true,
        target: SHAPE_HOSTS.fragmentTarget6,
        name: 'fragmented DNS reflection',
        ranges: V6_RANGES,
      }),
      seed,
    ),
  'reflection-low-ntp-ipv6': (seed) =>
    v6(
      'reflection-low-ntp-ipv6',
      'low-volume NTP reflection: 2,000 reflectors, 400 pps',
      reflection(seed, 5, DURATION, {
        port: 123,
        size: 468,
        reflectors: 2000,
        pps: 400,
        target: SHAPE_HOSTS.lowReflectionTarget6,
        name: 'low-volume NTP reflection',
        ranges: V6_RANGES,
      }),
      seed,
    ),
  'synack-reflection-ipv6': (seed) =>
    v6(
      'synack-reflection-ipv6',
      'TCP SYN-ACK reflection from web servers (80/443), with resets',
      tcpReflection(seed, 5, DURATION, { target: SHAPE_HOSTS.tcpReflectionTarget6, ranges: V6_RANGES }),
      seed,
    ),
  'rst-flood-ipv6': (seed) =>
    v6(
      'rst-flood-ipv6',
      'TCP RST reflection from 443',
      tcpReflection(seed, 5, DURATION, {
        target: SHAPE_HOSTS.tcpReflectionTarget6,
        ports: [{ port: 443, share: 1 }],
        synAckShare: 0,
        reflectors: 3000,
        pps: 15_000,
        name: 'TCP RST reflection',
        ranges: V6_RANGES,
      }),
      seed,
    ),
  'customer-resolver': (seed) =>
    compose('customer-resolver', 'benign: a customer resolver asking thousands of authoritative servers', DURATION, [
      background(seed),
      customerResolver(seed, 0, DURATION),
    ]),
  'ntp-server': (seed) =>
    compose('ntp-server', 'benign: a customer NTP server', DURATION, [background(seed), ntpServer(seed, 0, DURATION)]),
  'game-server': (seed) =>
    compose('game-server', 'benign: a customer game server with 1,500 players', DURATION, [
      background(seed),
      gameServer(seed, 5, DURATION),
    ]),
  'vpn-concentrator': (seed) =>
    compose('vpn-concentrator', 'benign: an IPsec VPN concentrator on UDP 4500', DURATION, [
      background(seed),
      vpnConcentrator(seed, 5, DURATION),
    ]),
  'flash-crowd-packets': (seed) =>
    compose('flash-crowd-packets', 'benign: 20,000 clients on a web server, TCP flags packet by packet', DURATION, [
      background(seed),
      regulars(seed, SHAPE_HOSTS.webServer, 0, DURATION),
      flashCrowdPackets(seed, 5, DURATION),
    ]),
};
