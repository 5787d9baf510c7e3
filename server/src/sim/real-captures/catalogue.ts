import type { Direction, IncidentKind } from '@downstream/shared';
import { detectWindowSeconds, detectability, type AttackSignature, type Detectability } from '../detectability.js';

/**
 * The real attack and scan captures in `../shared/data/captures/raw/` (see its SOURCES.md) and
 * what each becomes on our simulated site: which customer host it lands on, at what rate, and
 * the incident Downstream should open for it.
 */
export interface CaptureSpec {
  /** Short id (bench rows, test names). */
  id: string;
  /** File name inside the raw/ folder; read in place, never copied. */
  file: string;
  description: string;
  kind: IncidentKind;
  /**
   * inbound: the capture's victim (its most frequent destination) becomes `customerHost`;
   * outbound: its scanner (most frequent source) becomes `customerHost`, scanning outward.
   */
  direction: Direction;
  customerHost: string;
  /** Packets per second of the retimed attack (the capture is looped with varied outside addresses). */
  pps: number;
  /**
   * Where the attack's tell is not in every packet (see sim/detectability.ts): `perCopy` units
   * of it in each copy of the capture.
   */
  signature?: AttackSignature & { perCopy: number };
}

/** Path of the raw captures relative to the repository root (`../shared` beside the worktree). */
export const RAW_CAPTURES_DIR = '../shared/data/captures/raw';

export const REAL_CAPTURES: readonly CaptureSpec[] = [
  {
    id: 'syn-flood-spoofed',
    file: 'ddos-tcp-syn-flood-spoofed.pcap',
    description: 'spoofed SYN flood',
    kind: 'ddos-fan-in',
    direction: 'inbound',
    customerHost: '198.51.100.61',
    pps: 30_000,
  },
  {
    id: 'syn-ecn-cwr',
    file: 'ddos-tcp-syn-ecn-cwr.pcap',
    description: 'SYN flood with ECE+CWR',
    kind: 'ddos-fan-in',
    direction: 'inbound',
    customerHost: '198.51.100.62',
    pps: 20_000,
  },
  {
    id: 'synack-reflection',
    file: 'ddos-tcp-synack-reflection.pcap',
    description: 'SYN-ACK reflection from 80/443 (with RSTs)',
    kind: 'amplification',
    direction: 'inbound',
    customerHost: '192.0.2.170',
    pps: 20_000,
  },
  {
    id: 'syn-ack-reflection-mixed',
    file: 'ddos-tcp-syn-ack-reflection-mixed.pcap',
    description: 'SYN-ACK and SYN reflection, mostly from port 21',
    kind: 'amplification',
    direction: 'inbound',
    customerHost: '192.0.2.171',
    pps: 10_000,
  },
  {
    id: 'dns-rrsig-fragmented',
    file: 'ddos-udp-dns-rrsig-amplification-fragmented.pcap',
    description: 'DNS RRSIG amplification with IP fragments',
    kind: 'amplification',
    direction: 'inbound',
    customerHost: '198.51.100.64',
    pps: 20_000,
  },
  {
    id: 'snmp-amplification',
    file: 'ddos-udp-snmp-amplification.pcap',
    description: 'SNMP amplification from UDP 161',
    kind: 'amplification',
    direction: 'inbound',
    customerHost: '198.51.100.65',
    pps: 20_000,
  },
  {
    id: 'isakmp-amplification',
    file: 'ddos-udp-isakmp-amplification.pcap',
    description: 'ISAKMP/IKE reflection from UDP 4500',
    kind: 'amplification',
    direction: 'inbound',
    customerHost: '203.0.113.66',
    pps: 20_000,
  },
  // IPv6: the same real packets carried over IPv6 (retime.ts, raw-pcap.ts toIpv6) onto IPv6
  // customer hosts — the DNS answers' fragments become IPv6 Fragment headers.
  {
    id: 'dns-rrsig-fragmented-ipv6',
    file: 'ddos-udp-dns-rrsig-amplification-fragmented.pcap',
    description: 'DNS RRSIG amplification with IP fragments, over IPv6 (Fragment headers)',
    kind: 'amplification',
    direction: 'inbound',
    customerHost: '2001:db8:100::b64',
    pps: 20_000,
  },
  {
    id: 'snmp-amplification-ipv6',
    file: 'ddos-udp-snmp-amplification.pcap',
    description: 'SNMP amplification from UDP 161, over IPv6',
    kind: 'amplification',
    direction: 'inbound',
    customerHost: '2001:db8:100::b65',
    pps: 20_000,
  },
  {
    id: 'synack-reflection-ipv6',
    file: 'ddos-tcp-synack-reflection.pcap',
    description: 'SYN-ACK reflection from 80/443 (with RSTs), over IPv6',
    kind: 'amplification',
    direction: 'inbound',
    customerHost: '2001:db8:200::b70',
    pps: 20_000,
  },
  {
    id: 'masscan-tcp',
    file: 'scan-masscan-tcp-0-1000.pcap',
    description: 'masscan TCP SYN scan, ports 0-1000, from a customer host',
    kind: 'scanner',
    direction: 'outbound',
    customerHost: '203.0.113.90',
    pps: 5_000,
  },
  {
    id: 'masscan-udp',
    file: 'scan-masscan-udp-0-1000.pcap',
    description: 'masscan UDP scan, ports 0-1000, from a customer host',
    kind: 'scanner',
    direction: 'outbound',
    customerHost: '203.0.113.91',
    pps: 5_000,
  },
  {
    id: 'nmap-aggressive',
    file: 'scan-nmap-port-80-aggressive.pcap',
    description: 'nmap -p 80 -A (SYN scan, OS/version detection) from a customer host',
    kind: 'scanner',
    direction: 'outbound',
    customerHost: '192.0.2.190',
    pps: 2_000,
    // Mostly answered HTTP sessions: what gives the scan away is one half-open probe per host.
    signature: { what: 'half-open probes (SYN, then RST without ACK; one per host)', packets: 2, perCopy: 1 },
  },
];

/** Whether `spec`, retimed over `seconds` in `copies` copies, is detectable at 1:`rate` (sim/detectability.ts). */
export function captureDetectability(
  spec: CaptureSpec,
  o: { seconds: number; copies: number; rate: number },
): Detectability {
  const windowSeconds = Math.min(o.seconds, detectWindowSeconds(spec.kind));
  return detectability({
    packets: spec.pps * windowSeconds,
    windowSeconds,
    rate: o.rate,
    ...(spec.signature && {
      // Copies run side by side over the whole attack: the window holds its share of them.
      signature: { ...spec.signature, units: (spec.signature.perCopy * o.copies * windowSeconds) / o.seconds },
    }),
  });
}
