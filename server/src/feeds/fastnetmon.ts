import type { DetectionEvent, FastNetMonNotification, IncidentKind } from '@downstream/shared';
import { buildSources, shares, targetOf, type Lookup, type SourceSample } from './sources.js';

/** UDP source ports of the usual reflectors (DNS, NTP, SSDP, memcached, CLDAP, chargen, SNMP…). */
export const AMPLIFICATION_PORTS = new Set([19, 53, 111, 123, 137, 161, 389, 1900, 3283, 3702, 5353, 11211, 27015]);

const PROTO = { tcp: 6, udp: 17, icmp: 1 } as const;

export interface FastNetMonFlow {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  protocol?: string;
  packets: number;
  bytes: number;
}

/** What FastNetMon (community 1.2) writes on the notify script's stdin, parsed. */
export interface FastNetMonDetails {
  attackType?: string;
  protocol?: string;
  direction?: string;
  initialPps?: number;
  peakPps?: number;
  /** Per direction, `Total incoming traffic: N mbps` etc. */
  totals: Record<string, number>;
  meanPacketSize: { incoming?: number; outgoing?: number };
  flows: FastNetMonFlow[];
}

const ADDR = String.raw`(\[[0-9a-f:.]+\]|[0-9a-f:.]+?)`;
// "198.51.100.7:80 < 203.207.113.162:1221 12800 bytes 200 packets" (the ban message's flow table)
const FLOW_TABLE = new RegExp(String.raw`^${ADDR}:(\d+) ([<>]) ${ADDR}:(\d+) (\d+) bytes (\d+) packets`, 'i');
// "2026-11-24 21:33:21.68 203.1.113.189:12036 > 198.51.100.7:80 protocol: tcp … packets: 200 size: 12800 bytes"
const FLOW_SAMPLE = new RegExp(
  String.raw`${ADDR}:(\d+) > ${ADDR}:(\d+) protocol: (\w+).*?packets: (\d+) size: (\d+) bytes`,
  'i',
);

const unbracket = (s: string): string => s.replace(/^\[|\]$/g, '');

/**
 * Parse FastNetMon's attack details. The format is plain "Key: value" lines followed by flow
 * samples; unknown lines are skipped so a newer FastNetMon adding fields still parses.
 */
export function parseFastNetMonDetails(text: string): FastNetMonDetails {
  const out: FastNetMonDetails = { totals: {}, meanPacketSize: {}, flows: [] };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    let m: RegExpExecArray | null;
    if ((m = /^Attack type:\s*(\S+)/i.exec(line))) out.attackType = m[1];
    else if ((m = /^Attack protocol:\s*(\S+)/i.exec(line))) out.protocol = m[1].toLowerCase();
    else if ((m = /^Attack direction:\s*(\S+)/i.exec(line))) out.direction = m[1].toLowerCase();
    else if ((m = /^Initial attack power:\s*(\d+(?:\.\d+)?)(?![\d.])/i.exec(line))) out.initialPps = Number(m[1]);
    else if ((m = /^Peak attack power:\s*(\d+(?:\.\d+)?)(?![\d.])/i.exec(line))) out.peakPps = Number(m[1]);
    else if ((m = /^Average packet size for (incoming|outgoing) traffic:\s*(\d+(?:\.\d+)?)(?![\d.])/i.exec(line)))
      out.meanPacketSize[m[1].toLowerCase() as 'incoming' | 'outgoing'] = Number(m[2]);
    else if (
      (m = /^(Total|Average) (incoming|outgoing) (\w+(?: \w+)*?) (traffic|pps|flows):\s*(\d+(?:\.\d+)?)(?![\d.])/i.exec(
        line,
      ))
    )
      out.totals[`${m[1]} ${m[2]} ${m[3]} ${m[4]}`.toLowerCase()] = Number(m[5]);
    else if ((m = /^(Total|Average) (incoming|outgoing) (traffic|pps|flows):\s*(\d+(?:\.\d+)?)(?![\d.])/i.exec(line)))
      out.totals[`${m[1]} ${m[2]} ${m[3]}`.toLowerCase()] = Number(m[4]);
    else if ((m = FLOW_TABLE.exec(line))) {
      const [a, aPort, arrow, b, bPort] = [unbracket(m[1]), Number(m[2]), m[3], unbracket(m[4]), Number(m[5])];
      // "<" means the right-hand side sent to the left-hand side.
      const inbound = arrow === '<';
      out.flows.push({
        src: inbound ? b : a,
        srcPort: inbound ? bPort : aPort,
        dst: inbound ? a : b,
        dstPort: inbound ? aPort : bPort,
        bytes: Number(m[6]),
        packets: Number(m[7]),
      });
    } else if ((m = FLOW_SAMPLE.exec(line))) {
      out.flows.push({
        src: unbracket(m[1]),
        srcPort: Number(m[2]),
        dst: unbracket(m[3]),
        dstPort: Number(m[4]),
        protocol: m[5].toLowerCase(),
        packets: Number(m[6]),
        bytes: Number(m[7]),
      });
    }
  }
  return out;
}

/**
 * FastNetMon says "attack on X" without telling fan-in from a plain flood; its flow samples can.
 * Reflected UDP from well-known ports → amplification; many distinct small-packet sources →
 * ddos-fan-in (the built-in fan-in detector's definition); anything else → volumetric. Using the
 * built-in kinds (key = target IP) is what lets the incident manager merge both reports.
 */
export function classifyInbound(d: FastNetMonDetails, flows: FastNetMonFlow[]): IncidentKind {
  const proto = d.protocol ?? flows.find((f) => f.protocol)?.protocol;
  if (flows.length > 0) {
    const amp = flows.filter((f) => (f.protocol ?? proto) === 'udp' && AMPLIFICATION_PORTS.has(f.srcPort)).length;
    if (amp * 2 >= flows.length) return 'amplification';
    const distinct = new Set(flows.map((f) => f.src)).size;
    const mean = d.meanPacketSize.incoming ?? meanSize(flows);
    if (distinct >= Math.min(10, Math.max(3, flows.length / 2)) && mean > 0 && mean <= 300) return 'ddos-fan-in';
  } else if (d.attackType && /syn_flood|icmp_flood/.test(d.attackType) && (d.meanPacketSize.incoming ?? 1e9) <= 300) {
    return 'ddos-fan-in';
  }
  return 'volumetric';
}

function meanSize(flows: FastNetMonFlow[]): number {
  let p = 0;
  let b = 0;
  for (const f of flows) {
    p += f.packets;
    b += f.bytes;
  }
  return p > 0 ? b / p : 0;
}

/**
 * One FastNetMon notification → a detection, or null for actions that report none (unban).
 * Inbound: key and target = the attacked address. Outbound: our host is the source; when its
 * samples converge on one outside victim it is ddos-participation keyed by that victim.
 */
export function fastNetMonToDetection(n: FastNetMonNotification, lookup: Lookup, now: Date): DetectionEvent | null {
  if (n.action === 'unban') return null;
  const d = parseFastNetMonDetails(n.details ?? '');
  const inbound = n.direction !== 'outgoing';
  const own = d.flows.filter((f) => (inbound ? f.dst === n.ip : f.src === n.ip));
  const pps = Math.max(n.pps, d.peakPps ?? 0);
  const dirWord = inbound ? 'incoming' : 'outgoing';
  const mbps = d.totals[`total ${dirWord} traffic`] ?? d.totals[`average ${dirWord} traffic`];
  const bps = mbps !== undefined ? mbps * 1e6 : pps * (d.meanPacketSize[dirWord] ?? 0) * 8;
  const meanPacketSize = d.meanPacketSize[dirWord] ?? (own.length ? meanSize(own) : undefined);
  // Flows a second, as the built-in detectors state them: what the rollups count as flows.
  const flowsPerSecond = d.totals[`total ${dirWord} flows`] ?? d.totals[`average ${dirWord} flows`];

  const ports = new Map<number, number>();
  const protocols = new Map<number, number>();
  for (const f of own) {
    ports.set(f.dstPort, (ports.get(f.dstPort) ?? 0) + f.packets);
    const p = f.protocol ?? d.protocol;
    const num = p && p in PROTO ? PROTO[p as keyof typeof PROTO] : undefined;
    if (num !== undefined) protocols.set(num, (protocols.get(num) ?? 0) + f.packets);
  }
  if (protocols.size === 0 && d.protocol && d.protocol in PROTO)
    protocols.set(PROTO[d.protocol as keyof typeof PROTO], 1);

  let kind: IncidentKind;
  let key: string;
  let target: DetectionEvent['target'];
  let samples: SourceSample[];
  if (inbound) {
    kind = classifyInbound(d, own);
    key = n.ip;
    target = targetOf(n.ip, lookup);
    samples = own.map((f) => ({ ip: f.src, packets: f.packets, bytes: f.bytes }));
  } else {
    const byDst = new Map<string, number>();
    for (const f of own) byDst.set(f.dst, (byDst.get(f.dst) ?? 0) + f.packets);
    const top = shares(byDst, 1)[0];
    const smtp = (ports.get(25) ?? 0) > 0 && shares(ports, 1)[0]?.key === 25;
    if (top && top.share >= 0.8 && own.length >= 3) {
      kind = 'ddos-participation';
      key = top.key;
      target = targetOf(top.key, lookup);
    } else {
      kind = smtp ? 'spam-bot' : byDst.size >= 10 ? 'scanner' : 'external';
      key = n.ip;
    }
    const total = own.reduce((a, f) => a + f.packets, 0);
    const bytes = own.reduce((a, f) => a + f.bytes, 0);
    samples = [{ ip: n.ip, packets: total, bytes }];
  }
  const summary =
    `FastNetMon ${n.action}: ${d.attackType ?? 'attack'} ${inbound ? 'on' : 'from'} ${n.ip}, ` +
    `${Math.round(pps).toLocaleString('en-US')} pps${d.protocol ? `, ${d.protocol}` : ''}`;
  return {
    detector: 'fastnetmon',
    kind,
    direction: inbound ? 'inbound' : 'outbound',
    at: now.toISOString(),
    key,
    ...(target ? { target } : {}),
    sources: buildSources(samples, lookup),
    upstreams: [],
    rate: { pps, bps },
    evidence: {
      ...(ports.size ? { ports: shares(ports).map((s) => ({ port: s.key, share: s.share })) } : {}),
      ...(protocols.size ? { protocols: shares(protocols).map((s) => ({ proto: s.key, share: s.share })) } : {}),
      ...(meanPacketSize !== undefined ? { meanPacketSize } : {}),
      ...(flowsPerSecond !== undefined ? { flowsPerSecond } : {}),
      summary,
      attackType: d.attackType ?? null,
      feed: 'fastnetmon',
    },
  };
}
