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
import type { SimFlow } from '../sim-flow.js';
import { pick, randInt, rngFor, type Rng } from './rng.js';
import {
  ESTABLISHED,
  FLAGS,
  SESSION,
  compose,
  conversation,
  simFlow,
  type Component,
  type Leg,
  type Scenario,
  type ScenarioLabel,
} from './scenario.js';

const TCP = 6;
const UDP = 17;

/** Customer addresses used by the library (all inside demoNetworkConfig's prefixes). */
export const HOSTS = {
  fanInTarget: '198.51.100.10',
  ampTarget: '198.51.100.20',
  volumetricTarget: '203.0.113.50',
  webServer: '203.0.113.80',
  scanner: '203.0.113.77',
  allowedMail: '203.0.113.25',
  backupTarget: '192.0.2.150',
  cdnCache: '192.0.2.160',
} as const;

export function residential(n: number, from: number): string[] {
  return Array.from({ length: n }, (_, i) => `198.51.100.${from + i}`);
}

/** Residential IPv6 hosts 2001:db8:100::<from + i> (hex), in RFC 5952 form as the collector prints them. */
function residential6(n: number, from: number): string[] {
  return Array.from({ length: n }, (_, i) => `2001:db8:100::${(from + i).toString(16)}`);
}

/** Customer IPv6 addresses used by the IPv6 scenarios (inside demoNetworkConfig's v6 prefixes). */
export const HOSTS6 = {
  fanInTarget: '2001:db8:100::10',
  ampTarget: '2001:db8:100::20',
  webServer: '2001:db8:200::80',
  spamBots: residential6(12, 0x200),
  participationBots: residential6(40, 0x100),
} as const;

/** The same component under another label name (the IPv6 variants of an attack). */
function renamed(c: Component, name: string): Component {
  return c.label ? { ...c, label: { ...c.label, name } } : c;
}

/** A random stream per component (by name), so two components never share random numbers. */
export function stream(seed: number, name: string): number {
  let h = seed;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0;
  return h;
}

/**
 * A component active over [start, end), labelled (when it is) for the same seconds; `emit` gets
 * the second's own random stream from `s`, so any second can be generated on its own.
 */
export function component(
  s: number,
  start: number,
  end: number,
  label: Omit<ScenarioLabel, 'startSecond' | 'endSecond'> | null,
  emit: (r: Rng, now: number, out: SimFlow[], sec: number) => void,
): Component {
  return {
    start,
    end,
    ...(label && { label: { ...label, startSecond: start, endSecond: end } }),
    emit: (sec, now, out) => emit(rngFor(s, 1, sec), now, out, sec),
  };
}

/** `n` TCP sessions to `server`:443 this second, each from a random one of `clients` (which sit outside). */
export function httpsVisits(
  r: Rng,
  now: number,
  out: SimFlow[],
  clients: readonly string[],
  server: string,
  n: number,
  request: Leg,
  response: Leg,
): void {
  for (let i = 0; i < n; i++) {
    const c = pick(r, clients);
    const sp = randInt(r, 32768, 60999);
    conversation(out, now, TCP, [c, sp], [server, 443], request, response, true);
  }
}

/** `n` SMTP sessions this second from customer host `host` to random outside mail servers in `mxRanges`. */
function smtpSessions(
  r: Rng,
  now: number,
  out: SimFlow[],
  host: string,
  n: number,
  mxRanges: readonly OutsideRange[],
  request: Leg,
  response: Leg,
): void {
  for (let k = 0; k < n; k++) {
    const mx = pickAddress(r, mxRanges);
    const sp = randInt(r, 32768, 60999);
    conversation(out, now, TCP, [host, sp], [mx, 25], request, response, false);
  }
}

// ---------------------------------------------------------------- background

/** Ordinary life of a few hundred customer hosts: web, DNS, replies; never an incident. */
export function background(seed: number, start = 0, end = Infinity, hosts = 300): Component {
  const s = stream(seed, 'background');
  const r0 = rngFor(s, 0);
  const customers = [
    ...residential(200, 30),
    ...Array.from({ length: hosts - 200 }, (_, i) => `203.0.113.${100 + (i % 150)}`),
  ];
  const servers = pickDistinct(r0, [...HOSTING_RANGES, ...CDN_RANGES], 200);
  const resolvers = ['8.8.8.8', '8.8.4.4', '1.1.1.1', '9.9.9.9'];
  const clients = pickDistinct(r0, EYEBALL_RANGES, 400);
  return component(s, start, end, null, (r, now, out) => {
    for (const h of customers) {
      if (r() < 0.6) {
        const srv = pick(r, servers);
        const pk = randInt(r, 5, 30);
        const sp = randInt(r, 32768, 60999);
        conversation(
          out,
          now,
          TCP,
          [h, sp],
          [srv, 443],
          { packets: pk, size: 90, flags: ESTABLISHED },
          { packets: pk * 1.5, size: 1200, flags: ESTABLISHED },
          false,
        );
      }
      if (r() < 0.3) {
        const res = pick(r, resolvers);
        const sp = randInt(r, 32768, 60999);
        conversation(
          out,
          now,
          UDP,
          [h, sp],
          [res, 53],
          { packets: 1, size: 70, flags: 0 },
          { packets: 1, size: 150, flags: 0 },
          false,
        );
      }
    }
    // The business park's web server has steady visitors.
    httpsVisits(
      r,
      now,
      out,
      clients,
      HOSTS.webServer,
      50,
      { packets: 12, size: 110, flags: SESSION },
      { packets: 16, size: 1300, flags: SESSION },
    );
  });
}

/** Steady legitimate load on one server (what a volumetric baseline learns from). */
function steadyLoad(seed: number, server: string, start: number, end: number, clientsPerSecond: number): Component {
  const s = stream(seed, `steady-${server}`);
  const clients = pickDistinct(rngFor(s, 0), EYEBALL_RANGES, 500);
  return component(s, start, end, null, (r, now, out) => {
    httpsVisits(
      r,
      now,
      out,
      clients,
      server,
      clientsPerSecond,
      { packets: 20, size: 120, flags: SESSION },
      { packets: 25, size: 1300, flags: SESSION },
    );
  });
}

/**
 * Ordinary IPv6 life of dual-stack customers: residential hosts on IPv6 web services, DNS over
 * IPv6, and visitors from IPv6 eyeball networks on the hosting customer's web server.
 */
export function background6(seed: number, start = 0, end = Infinity, hosts = 80): Component {
  const s = stream(seed, 'background-ipv6');
  const r0 = rngFor(s, 0);
  const customers = residential6(hosts, 0x30);
  const servers = pickDistinct(r0, HOSTING_RANGES_V6, 100);
  const resolvers = ['2001:4860:4860::8888', '2606:4700:4700::1111'];
  const clients = pickDistinct(r0, EYEBALL_RANGES_V6, 300);
  return component(s, start, end, null, (r, now, out) => {
    for (const h of customers) {
      if (r() < 0.6) {
        const pk = randInt(r, 5, 30);
        conversation(
          out,
          now,
          TCP,
          [h, randInt(r, 32768, 60999)],
          [pick(r, servers), 443],
          { packets: pk, size: 90, flags: ESTABLISHED },
          { packets: pk * 1.5, size: 1200, flags: ESTABLISHED },
          false,
        );
      }
      if (r() < 0.3)
        conversation(
          out,
          now,
          UDP,
          [h, randInt(r, 32768, 60999)],
          [pick(r, resolvers), 53],
          { packets: 1, size: 90, flags: 0 },
          { packets: 1, size: 170, flags: 0 },
          false,
        );
    }
    httpsVisits(
      r,
      now,
      out,
      clients,
      HOSTS6.webServer,
      30,
      { packets: 12, size: 130, flags: SESSION },
      { packets: 16, size: 1300, flags: SESSION },
    );
  });
}

// ---------------------------------------------------------------- attacks

export interface FanInOptions {
  target?: string;
  sources?: number;
  ppsPerSource?: number;
  /** Where the sources live (default EYEBALL_RANGES; EYEBALL_RANGES_V6 for an IPv6 attack). */
  ranges?: readonly OutsideRange[];
}

/** ddos-fan-in: thousands of sources, small UDP and SYN packets, one customer host. */
export function fanIn(seed: number, start: number, end: number, o: FanInOptions = {}): Component {
  const target = o.target ?? HOSTS.fanInTarget;
  const s = stream(seed, `fan-in-${target}`);
  const sources = pickDistinct(rngFor(s, 0), o.ranges ?? EYEBALL_RANGES, o.sources ?? 3000);
  const pps = o.ppsPerSource ?? 100;
  return component(
    s,
    start,
    end,
    {
      name: 'fan-in DDoS',
      kind: 'ddos-fan-in',
      direction: 'inbound',
      target,
      sources,
    },
    (r, now, out) => {
      sources.forEach((src, i) => {
        const pk = pps * (0.8 + 0.4 * r());
        if (i % 5 < 3)
          out.push(
            simFlow(
              src,
              target,
              {
                srcPort: randInt(r, 1024, 65535),
                dstPort: 80,
                proto: UDP,
                tcpFlags: 0,
                packets: pk,
                bytes: pk * randInt(r, 60, 90),
              },
              now,
              true,
            ),
          );
        else
          out.push(
            simFlow(
              src,
              target,
              {
                srcPort: randInt(r, 1024, 65535),
                dstPort: 443,
                proto: TCP,
                tcpFlags: FLAGS.SYN,
                packets: pk,
                bytes: pk * 60,
              },
              now,
              true,
            ),
          );
      });
    },
  );
}

/** volumetric: a target with a steady baseline suddenly gets ~60× its usual rate from a few rented servers. */
export function volumetric(
  seed: number,
  start: number,
  end: number,
  o: { target?: string; sources?: number; pps?: number } = {},
): Component[] {
  const target = o.target ?? HOSTS.volumetricTarget;
  const s = stream(seed, `volumetric-${target}`);
  const sources = pickDistinct(rngFor(s, 0), HOSTING_RANGES, o.sources ?? 20);
  const total = o.pps ?? 120_000;
  const flood: Component = component(
    s,
    start,
    end,
    {
      name: 'volumetric flood',
      kind: 'volumetric',
      direction: 'inbound',
      target,
      sources,
    },
    (r, now, out) => {
      for (const src of sources) {
        const pk = (total / sources.length) * (0.9 + 0.2 * r());
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
              bytes: pk * 1200,
            },
            now,
            true,
          ),
        );
      }
    },
  );
  // The baseline: starts well before the flood and goes on after it.
  return [steadyLoad(seed, target, Math.max(0, start - 60), end + 30, 100), flood];
}

const AMP = [
  { port: 53, size: 1400, weight: 0.7 },
  { port: 123, size: 468, weight: 0.2 },
  { port: 1900, size: 320, weight: 0.1 },
];

/** amplification: hundreds of open DNS/NTP/SSDP reflectors answering spoofed queries at one host. */
export function amplification(
  seed: number,
  start: number,
  end: number,
  o: { target?: string; reflectors?: number; ppsPerReflector?: number; ranges?: readonly OutsideRange[] } = {},
): Component {
  const target = o.target ?? HOSTS.ampTarget;
  const s = stream(seed, `amplification-${target}`);
  const r0 = rngFor(s, 0);
  const sources = pickDistinct(r0, o.ranges ?? [...HOSTING_RANGES, ...EYEBALL_RANGES], o.reflectors ?? 400);
  const kinds = sources.map(() => {
    let x = r0();
    for (const a of AMP) if ((x -= a.weight) <= 0) return a;
    return AMP[0];
  });
  const pps = o.ppsPerReflector ?? 60;
  return component(
    s,
    start,
    end,
    {
      name: 'reflection/amplification',
      kind: 'amplification',
      direction: 'inbound',
      target,
      sources,
    },
    (r, now, out) => {
      sources.forEach((src, i) => {
        const a = kinds[i];
        const pk = pps * (0.8 + 0.4 * r());
        out.push(
          simFlow(
            src,
            target,
            {
              srcPort: a.port,
              dstPort: randInt(r, 1024, 65535),
              proto: UDP,
              tcpFlags: 0,
              packets: pk,
              bytes: pk * a.size,
            },
            now,
            true,
          ),
        );
      });
    },
  );
}

/** spam-bot: a dozen customer PCs each opening SMTP sessions to fresh mail servers every second. */
export function spamBots(
  seed: number,
  start: number,
  end: number,
  o: { bots?: string[]; sessionsPerSecond?: number; mxRanges?: readonly OutsideRange[] } = {},
): Component {
  const bots = o.bots ?? residential(12, 200);
  const s = stream(seed, 'spam');
  const per = o.sessionsPerSecond ?? 5;
  const mxRanges = o.mxRanges ?? [...HOSTING_RANGES, ...EYEBALL_RANGES];
  return component(
    s,
    start,
    end,
    {
      name: 'spam bots',
      kind: 'spam-bot',
      direction: 'outbound',
      sources: bots,
    },
    (r, now, out) => {
      for (const b of bots)
        smtpSessions(
          r,
          now,
          out,
          b,
          per,
          mxRanges,
          { packets: 20, size: 300, flags: SESSION },
          { packets: 14, size: 80, flags: SESSION },
        );
    },
  );
}

/** scanner: one customer host SYN-probing hundreds of random outside hosts per second on telnet/ssh/smb. */
export function scanner(
  seed: number,
  start: number,
  end: number,
  o: { host?: string; probesPerSecond?: number } = {},
): Component {
  const host = o.host ?? HOSTS.scanner;
  const s = stream(seed, `scanner-${host}`);
  const per = o.probesPerSecond ?? 300;
  const ports = [23, 22, 2323, 445, 3389];
  return component(
    s,
    start,
    end,
    {
      name: 'scanner',
      kind: 'scanner',
      direction: 'outbound',
      sources: [host],
    },
    (r, now, out) => {
      for (let k = 0; k < per; k++) {
        const dst = pickAddress(r, ALL_RANGES);
        out.push(
          simFlow(
            host,
            dst,
            {
              srcPort: randInt(r, 32768, 60999),
              dstPort: ports[k % ports.length],
              proto: TCP,
              tcpFlags: FLAGS.SYN,
              packets: 1,
              bytes: 60,
            },
            now,
            false,
          ),
        );
      }
    },
  );
}

/** ddos-participation: forty infected customer hosts flood the same outside victim, starting together. */
export function participation(
  seed: number,
  start: number,
  end: number,
  o: { bots?: string[]; victim?: string; ppsPerBot?: number } = {},
): Component {
  const s = stream(seed, 'participation');
  const bots = o.bots ?? residential(40, 100);
  const victim = o.victim ?? pickAddress(rngFor(s, 0), HOSTING_RANGES);
  const pps = o.ppsPerBot ?? 300;
  // Bots join within two seconds of each other: coordinated, unlike organic traffic.
  const join = bots.map((_, i) => i % 3);
  return component(
    s,
    start,
    end,
    {
      name: 'botnet participation',
      kind: 'ddos-participation',
      direction: 'outbound',
      target: victim,
      sources: bots,
    },
    (r, now, out, sec) => {
      bots.forEach((b, i) => {
        if (sec < join[i]) return;
        const pk = pps * (0.8 + 0.4 * r());
        out.push(
          simFlow(
            b,
            victim,
            { srcPort: randInt(r, 1024, 65535), dstPort: 80, proto: UDP, tcpFlags: 0, packets: pk, bytes: pk * 512 },
            now,
            false,
          ),
        );
      });
    },
  );
}

// ---------------------------------------------------------------- benign look-alikes

/** Flash crowd: thousands of real clients completing TCP handshakes to one web server. */
export function flashCrowd(
  seed: number,
  start: number,
  end: number,
  o: { server?: string; clientsPerSecond?: number } = {},
): Component {
  const server = o.server ?? HOSTS.webServer;
  const s = stream(seed, `flash-${server}`);
  const pool = pickDistinct(rngFor(s, 0), EYEBALL_RANGES, 20_000);
  const per = o.clientsPerSecond ?? 4000;
  return component(
    s,
    start,
    end,
    {
      name: 'flash crowd',
      kind: null,
      direction: 'inbound',
      target: server,
      sources: [],
      involved: [server],
    },
    (r, now, out) => {
      httpsVisits(
        r,
        now,
        out,
        pool,
        server,
        per,
        { packets: 20, size: 95, flags: SESSION },
        { packets: 30, size: 1350, flags: SESSION },
      );
    },
  );
}

/** The customer's real mail server (in allowed_smtp) delivering to many outside mail servers. */
export function allowedMail(
  seed: number,
  start: number,
  end: number,
  o: { server?: string; sessionsPerSecond?: number } = {},
): Component {
  const server = o.server ?? HOSTS.allowedMail;
  const s = stream(seed, `mail-${server}`);
  const per = o.sessionsPerSecond ?? 10;
  return component(
    s,
    start,
    end,
    {
      name: 'allowed mail server',
      kind: null,
      direction: 'outbound',
      sources: [],
      involved: [server],
    },
    (r, now, out) => {
      smtpSessions(
        r,
        now,
        out,
        server,
        per,
        HOSTING_RANGES,
        { packets: 24, size: 700, flags: SESSION },
        { packets: 16, size: 80, flags: SESSION },
      );
    },
  );
}

/** A nightly backup: one large TCP flow (about 1 Gbit/s) from an offsite server to a customer host. */
export function backupJob(
  seed: number,
  start: number,
  end: number,
  o: { target?: string; pps?: number } = {},
): Component {
  const target = o.target ?? HOSTS.backupTarget;
  const s = stream(seed, `backup-${target}`);
  const src = pickAddress(rngFor(s, 0), HOSTING_RANGES);
  const pps = o.pps ?? 90_000;
  return component(
    s,
    start,
    end,
    {
      name: 'backup job',
      kind: null,
      direction: 'inbound',
      target,
      sources: [],
      involved: [target, src],
    },
    (r, now, out) => {
      const pk = pps * (0.95 + 0.1 * r());
      conversation(
        out,
        now,
        TCP,
        [src, 873],
        [target, 40_000],
        { packets: pk, size: 1400, flags: ESTABLISHED },
        { packets: pk / 2, size: 52, flags: FLAGS.ACK },
        true,
      );
    },
  );
}

/** A CDN cache fill: a dozen CDN servers pushing ~3 Gbit/s of content to a customer's cache. */
export function cdnFill(
  seed: number,
  start: number,
  end: number,
  o: { cache?: string; servers?: number; pps?: number } = {},
): Component {
  const cache = o.cache ?? HOSTS.cdnCache;
  const s = stream(seed, `cdn-${cache}`);
  const servers = pickDistinct(rngFor(s, 0), CDN_RANGES, o.servers ?? 12);
  const total = o.pps ?? 250_000;
  return component(
    s,
    start,
    end,
    {
      name: 'CDN fill',
      kind: null,
      direction: 'inbound',
      target: cache,
      sources: [],
      involved: [cache, ...servers],
    },
    (r, now, out) => {
      for (const srv of servers) {
        const pk = (total / servers.length) * (0.9 + 0.2 * r());
        const sp = 40_000 + (servers.indexOf(srv) % 1000);
        conversation(
          out,
          now,
          TCP,
          [srv, 443],
          [cache, sp],
          { packets: pk, size: 1400, flags: ESTABLISHED },
          { packets: pk / 3, size: 52, flags: FLAGS.ACK },
          true,
        );
      }
    },
  );
}

/**
 * Hundreds of customers streaming video over QUIC from one server: many endpoints, UDP, a
 * steady 120 pps each toward one outside address — but answered by far more coming back.
 */
export function quicStreaming(
  seed: number,
  start: number,
  end: number,
  o: { viewers?: number; server?: string } = {},
): Component {
  const s = stream(seed, 'quic');
  const viewers = residential(o.viewers ?? 150, 50)
    .concat(Array.from({ length: 100 }, (_, i) => `203.0.113.${120 + i}`))
    .slice(0, o.viewers ?? 250);
  const server = o.server ?? pickAddress(rngFor(s, 0), CDN_RANGES);
  return component(
    s,
    start,
    end,
    {
      name: 'QUIC streaming',
      kind: null,
      direction: 'outbound',
      target: server,
      sources: [],
      involved: [server],
    },
    (r, now, out) => {
      for (const v of viewers) {
        const down = 500 * (0.8 + 0.4 * r());
        const sp = 50_000 + (viewers.indexOf(v) % 10_000);
        conversation(
          out,
          now,
          UDP,
          [server, 443],
          [v, sp],
          { packets: down, size: 1300, flags: 0 },
          { packets: down / 4, size: 60, flags: 0 },
          true,
        );
      }
    },
  );
}

// ---------------------------------------------------------------- scenarios

export type ScenarioFactory = (seed: number) => Scenario;

/**
 * The labelled library: each attack kind and each benign look-alike on its own, over light
 * background traffic. Times are in simulated seconds.
 */
export const SCENARIOS: Record<string, ScenarioFactory> = {
  'fan-in': (seed) =>
    compose('fan-in', 'fan-in DDoS on a residential host', 40, [background(seed), fanIn(seed, 5, 40)]),
  volumetric: (seed) =>
    compose('volumetric', "a flood 60× above a web server's baseline", 90, [
      background(seed),
      ...volumetric(seed, 60, 90),
    ]),
  amplification: (seed) =>
    compose('amplification', 'DNS/NTP/SSDP reflection on a residential host', 40, [
      background(seed),
      amplification(seed, 5, 40),
    ]),
  'spam-bot': (seed) =>
    compose('spam-bot', 'twelve residential PCs mailing strangers', 60, [background(seed), spamBots(seed, 0, 60)]),
  scanner: (seed) =>
    compose('scanner', 'a business host SYN-scanning the internet', 40, [background(seed), scanner(seed, 5, 40)]),
  'ddos-participation': (seed) =>
    compose('ddos-participation', 'forty customer hosts flooding one outside victim', 40, [
      background(seed),
      participation(seed, 5, 40),
    ]),
  'flash-crowd': (seed) =>
    compose('flash-crowd', 'benign: thousands of real clients on one web server', 40, [
      background(seed),
      flashCrowd(seed, 5, 40),
    ]),
  'allowed-mail': (seed) =>
    compose('allowed-mail', 'benign: the allowed mail server delivering', 60, [
      background(seed),
      allowedMail(seed, 0, 60),
    ]),
  'backup-job': (seed) =>
    compose('backup-job', 'benign: one large backup flow', 40, [background(seed), backupJob(seed, 5, 40)]),
  'cdn-fill': (seed) =>
    compose('cdn-fill', 'benign: a CDN filling a customer cache', 40, [background(seed), cdnFill(seed, 5, 40)]),
  'quic-streaming': (seed) =>
    compose('quic-streaming', 'benign: hundreds of customers streaming QUIC video from one server', 40, [
      background(seed),
      quicStreaming(seed, 5, 40),
    ]),
  mixed: (seed) => mixedScenario(seed),
  // IPv6: the same attacks carried over IPv6 (customer prefixes 2001:db8:100::/48 and 2001:db8:200::/48,
  // outside sources in real allocated IPv6 space), over dual-stack background traffic.
  'fan-in-ipv6': (seed) =>
    compose('fan-in-ipv6', 'fan-in DDoS from IPv6 eyeball networks on a residential IPv6 host', 30, [
      background(seed),
      background6(seed),
      renamed(
        fanIn(seed, 5, 30, { target: HOSTS6.fanInTarget, ranges: EYEBALL_RANGES_V6, sources: 2000 }),
        'fan-in DDoS (IPv6)',
      ),
    ]),
  'spam-bot-ipv6': (seed) =>
    compose('spam-bot-ipv6', 'twelve residential IPv6 hosts mailing strangers over IPv6', 60, [
      background(seed),
      background6(seed),
      renamed(
        spamBots(seed, 0, 60, { bots: [...HOSTS6.spamBots], mxRanges: [...HOSTING_RANGES_V6, ...EYEBALL_RANGES_V6] }),
        'spam bots (IPv6)',
      ),
    ]),
  'amplification-ipv6': (seed) =>
    compose('amplification-ipv6', 'DNS/NTP/SSDP reflection from IPv6 reflectors on a residential IPv6 host', 30, [
      background(seed),
      background6(seed),
      renamed(
        amplification(seed, 5, 30, { target: HOSTS6.ampTarget, ranges: [...HOSTING_RANGES_V6, ...EYEBALL_RANGES_V6] }),
        'reflection/amplification (IPv6)',
      ),
    ]),
  'ddos-participation-ipv6': (seed) =>
    compose('ddos-participation-ipv6', 'forty customer IPv6 hosts flooding one outside IPv6 victim', 30, [
      background(seed),
      background6(seed),
      renamed(
        participation(seed, 5, 30, {
          bots: [...HOSTS6.participationBots],
          victim: pickAddress(rngFor(stream(seed, 'participation-ipv6'), 0), HOSTING_RANGES_V6),
        }),
        'botnet participation (IPv6)',
      ),
    ]),
};

const CYCLE = 540;

/** Every kind and look-alike, staggered, over background: what the demo shows. */
export function mixedScenario(seed: number, durationSeconds = CYCLE): Scenario {
  return compose(
    'mixed',
    'every kind of abuse and its benign look-alikes, staggered',
    durationSeconds,
    mixedParts(seed),
  );
}

function mixedParts(seed: number): Component[] {
  return [
    background(seed),
    fanIn(seed, 5, 95),
    spamBots(seed, 60, 200),
    amplification(seed, 110, 170),
    scanner(seed, 150, 230),
    participation(seed, 240, 320),
    flashCrowd(seed, 300, 360),
    ...volumetric(seed, 380, 440),
    cdnFill(seed, 400, 460),
    backupJob(seed, 430, 500),
    quicStreaming(seed, 460, 530),
  ];
}

/**
 * The demo: the mixed scenario on a loop (a fan-in DDoS about 5 s in, then the other kinds),
 * for `pnpm start`. Runs forever; labels describe the first cycle.
 */
export function demoScenario(seed = 1): Scenario {
  const once = mixedScenario(seed);
  return {
    name: 'demo',
    description: once.description,
    durationSeconds: Infinity,
    labels: once.labels,
    flows: (second, nowMs) => once.flows(second % CYCLE, nowMs),
  };
}
