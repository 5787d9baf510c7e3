import { z } from 'zod';

/**
 * `detect:` — detector thresholds. Each detector owns its block; all optional with sound
 * defaults. Rates are per second after sampling scale-up (a 1:1000 sFlow sample counts as
 * 1000 packets), so the same numbers hold for sampled and unsampled exporters.
 */

const FanIn = z.strictObject({
  /** Distinct sources toward one target within the window before it is a fan-in. */
  minSources: z.number().int().positive().default(500),
  /** Packets per second toward the target (after sampling scale-up). */
  minPps: z.number().positive().default(5000),
  /** Mean packet size at or below this (bytes) counts as "small packets". */
  maxMeanPacketSize: z.number().positive().default(200),
  windowSeconds: z.number().int().min(2).max(120).default(10),
  /**
   * Above this share of packets in completed-handshake TCP flows (ACK with SYN/PSH/FIN) the
   * traffic looks like real clients (a flash crowd), not a flood.
   */
  maxEstablishedShare: z.number().min(0).max(1).default(0.5),
  /**
   * Data packets the target sends back (mean size ≥ 100 B: not SYN-ACKs, resets or ICMP errors)
   * per packet it receives outside completed handshakes, above which it is serving clients (a
   * flash crowd seen packet by packet: SYNs and bare ACKs), not being flooded — a busy server
   * under a flood answers its clients, not the flood. Answers survive packet sampling when
   * handshakes do not.
   */
  maxAnswerRatio: z.number().min(0).default(0.5),
});

const Volumetric = z.strictObject({
  /** Absolute floor: below both of these nothing is volumetric, whatever the baseline. */
  minPps: z.number().positive().default(50_000),
  minBps: z.number().positive().default(500_000_000),
  /** Fires when the window rate is this many times the target's EWMA baseline. */
  factor: z.number().positive().default(8),
  /** EWMA baseline half-life; the baseline does not learn while the target is under attack. */
  baselineHalfLifeSeconds: z.number().positive().default(600),
  maxEstablishedShare: z.number().min(0).max(1).default(0.5),
  /**
   * Absolute floor, baseline or not (a new or quiet target has none): this many packets/s from
   * at least `floorSources` distinct sources is a flood whatever its shape.
   */
  floorPps: z.number().positive().default(20_000),
  floorSources: z.number().int().positive().default(1000),
  /** As fanIn.maxAnswerRatio: a target answering with data is serving, not flooded. */
  maxAnswerRatio: z.number().min(0).default(0.5),
});

/**
 * Reflection by shape: many sources answering from one service port (UDP, IP fragments, or TCP
 * SYN-ACK/RST) with what the target never asked for — requests the target sent toward that port
 * account for answers (see request-credits.ts). Low volume opens at low severity.
 */
const Amplification = z.strictObject({
  /**
   * UDP source ports of well-known reflectors (DNS, NTP, SSDP, memcached, CLDAP, chargen, SNMP …):
   * counted whatever their packet size. Any other UDP port counts when its packets are large.
   */
  ports: z
    .array(z.number().int().min(0).max(65535))
    .default([53, 123, 1900, 11211, 389, 19, 161, 17, 111, 137, 1434, 3702, 5353, 27015, 3283, 10001]),
  /** Reflected (unasked-for) packets/s or bits/s toward the target, either suffices. */
  minPps: z.number().positive().default(100),
  minBps: z.number().positive().default(1_000_000),
  /** Distinct reflectors within the window. */
  minReflectors: z.number().int().positive().default(20),
  /** Share of the target's bytes that is reflected. */
  minShare: z.number().min(0).max(1).default(0.5),
  /** UDP from a port not in `ports` counts as reflected at this mean packet size (bytes) or more. */
  minPacketSize: z.number().positive().default(160),
  /** Share of the reflected packets from the one dominant port (or from the listed ports together). */
  minPortShare: z.number().min(0).max(1).default(0.5),
  /** Sampled packets in the window before a verdict (fewer cannot tell a shape from noise). */
  minSamples: z.number().int().positive().default(20),
});

const SpamBot = z.strictObject({
  /** Distinct SMTP servers one customer endpoint talks to within the outbound window. */
  minDistinctTargets: z.number().int().positive().default(50),
  ports: z.array(z.number().int().min(0).max(65535)).default([25]),
  /**
   * Packets in a typical SMTP session. Under 1:N packet sampling a session is seen with
   * probability 1-(1-1/N)^k, so the distinct threshold is scaled by that to stay meaningful.
   */
  sessionPackets: z.number().positive().default(20),
});

const Scanner = z.strictObject({
  /** Distinct hosts probed within the outbound window … */
  minDistinctTargets: z.number().int().positive().default(200),
  /** … or distinct destination ports (a vertical scan of one host). */
  minDistinctPorts: z.number().int().positive().default(200),
  /** … or distinct (host, port) probes (many ports on a few hosts: neither count alone reaches its threshold). */
  minDistinctProbes: z.number().int().positive().default(400),
  /** Mostly-TCP endpoints: share of TCP flows that never saw an ACK (SYN-only probes) at or above which probes go unanswered. */
  minUnansweredShare: z.number().min(0).max(1).default(0.6),
  /** Mostly UDP/ICMP endpoints: packets coming back per packet sent at or below this. */
  maxAnswerRatio: z.number().min(0).default(0.2),
  /** Probes are single-packet flows: mean packets per flow at or below this. */
  maxPacketsPerFlow: z.number().positive().default(4),
  /** Distinct hosts (or ports) per packet seen, at or above which traffic is spread like probes. */
  minSpread: z.number().min(0).max(1).default(0.5),
  /**
   * … or this many distinct hosts got half-open probes (SYN, then RST without ACK, in one
   * unsampled flow record) — a SYN scanner's tell even when it goes on to talk to what it found …
   */
  minHalfOpenTargets: z.number().int().positive().default(20),
  /**
   * … making up at least this share of the hosts contacted: a NAT's clients reset the odd
   * unwanted SYN-ACK (happy eyeballs), a scanner probes every host it contacts this way.
   */
  minHalfOpenShare: z.number().min(0).max(1).default(0.5),
});

const Participation = z.strictObject({
  /** Distinct customer endpoints sending to the same outside target. */
  minSources: z.number().int().positive().default(5),
  minPps: z.number().positive().default(500),
  /** Mean rate per participating endpoint: tells a flood from many clients using one service. */
  minPpsPerSource: z.number().positive().default(20),
  windowSeconds: z.number().int().min(2).max(120).default(10),
  maxEstablishedShare: z.number().min(0).max(1).default(0.5),
  /**
   * Data packets (mean size ≥ 100 B) the target sends back per packet received, above which it is
   * a service, not a victim (a flooded host's SYN-ACKs, resets and ICMP errors do not count).
   */
  maxAnswerRatio: z.number().min(0).default(0.3),
});

const Outbound = z.strictObject({
  /** Window for the per-endpoint outbound detectors (spam-bot, scanner). */
  windowSeconds: z.number().int().min(2).max(3600).default(60),
});

const Limits = z.strictObject({
  /** Inbound targets tracked at once (fan-in, volumetric, amplification); least active evicted. */
  maxTargets: z.number().int().positive().default(4096),
  /** Customer endpoints tracked at once (spam-bot, scanner). */
  maxEndpoints: z.number().int().positive().default(8192),
  /** Outside targets tracked at once (ddos-participation). */
  maxOutsideTargets: z.number().int().positive().default(4096),
  /** Keys per detector whose sources are listed (attacks in progress and near-misses). */
  maxWatched: z.number().int().positive().default(32),
  /** Sources listed per watched key: the remediation call list and fan-in graph. */
  maxListedSources: z.number().int().positive().default(10_000),
  /** HyperLogLog precision for inbound targets (2^p one-byte registers, error 1.04/sqrt(2^p)). */
  hllPrecision: z.number().int().min(4).max(14).default(10),
});

const Incidents = z.strictObject({
  /** No detection for this long → resolved. */
  quietSeconds: z.number().positive().default(30),
  /** A resolved incident that fires again within this long is re-opened rather than new. */
  reopenSeconds: z.number().nonnegative().default(600),
  /** Timeline points kept per incident (one a second). */
  timelinePoints: z.number().int().positive().default(3600),
});

const Thresholds = {
  fanIn: FanIn.partial().optional(),
  volumetric: Volumetric.partial().optional(),
  amplification: Amplification.partial().optional(),
  spamBot: SpamBot.partial().optional(),
  scanner: Scanner.partial().optional(),
};

/** Per-customer overrides: merged over the defaults for targets (inbound) or endpoints (outbound) of that customer. */
const Override = z.strictObject({ customer: z.string().min(1), ...Thresholds });

export const DetectConfig = z
  .strictObject({
    fanIn: FanIn.prefault({}),
    volumetric: Volumetric.prefault({}),
    amplification: Amplification.prefault({}),
    spamBot: SpamBot.prefault({}),
    scanner: Scanner.prefault({}),
    participation: Participation.prefault({}),
    outbound: Outbound.prefault({}),
    limits: Limits.prefault({}),
    incidents: Incidents.prefault({}),
    overrides: z.array(Override).default([]),
  })
  .prefault({});
export type DetectConfig = z.infer<typeof DetectConfig>;
export type FanInConfig = z.infer<typeof FanIn>;
export type VolumetricConfig = z.infer<typeof Volumetric>;
export type AmplificationConfig = z.infer<typeof Amplification>;
export type SpamBotConfig = z.infer<typeof SpamBot>;
export type ScannerConfig = z.infer<typeof Scanner>;

/** Effective thresholds for one customer (index into network.customers), or -1 for none. */
export interface CustomerThresholds {
  fanIn: FanInConfig;
  volumetric: VolumetricConfig;
  amplification: AmplificationConfig;
  spamBot: SpamBotConfig;
  scanner: ScannerConfig;
}

/** Resolves overrides once, so the tick path indexes an array instead of merging objects. */
export function thresholdsByCustomer(
  cfg: DetectConfig,
  customerNames: string[],
): { base: CustomerThresholds; byCustomer: CustomerThresholds[] } {
  const base: CustomerThresholds = {
    fanIn: cfg.fanIn,
    volumetric: cfg.volumetric,
    amplification: cfg.amplification,
    spamBot: cfg.spamBot,
    scanner: cfg.scanner,
  };
  const known = new Set(customerNames);
  for (const o of cfg.overrides) {
    if (!known.has(o.customer))
      throw new Error(`detect.overrides: unknown customer "${o.customer}" (not in network.customers)`);
  }
  const byCustomer = customerNames.map((name) => {
    const t = { ...base };
    for (const o of cfg.overrides) {
      if (o.customer !== name) continue;
      if (o.fanIn) t.fanIn = { ...t.fanIn, ...o.fanIn };
      if (o.volumetric) t.volumetric = { ...t.volumetric, ...o.volumetric };
      if (o.amplification) t.amplification = { ...t.amplification, ...o.amplification };
      if (o.spamBot) t.spamBot = { ...t.spamBot, ...o.spamBot };
      if (o.scanner) t.scanner = { ...t.scanner, ...o.scanner };
    }
    return t;
  });
  return { base, byCustomer };
}
