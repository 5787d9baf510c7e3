import type { Direction, IncidentKind } from '@downstream/shared';
import type { SimFlow } from '../sim-flow.js';
import type { AttackSignature } from '../detectability.js';
import { customerIf, upstreamIf } from './network.js';

/** What a scenario contains, for tests: an attack with its expected incident, or a benign look-alike. */
export interface ScenarioLabel {
  name: string;
  /** Expected incident kind; null for benign traffic that must not raise one. */
  kind: IncidentKind | null;
  direction?: Direction;
  /** Inbound target, or the outside victim of ddos-participation. */
  target?: string;
  /** Offending addresses: attackers (inbound) or customer endpoints (outbound). */
  sources: string[];
  /** Addresses involved in benign traffic (must not be reported). */
  involved?: string[];
  startSecond: number;
  endSecond: number;
  /** The attack's tell where it is not every packet (sim/detectability.ts): `perSecond` units on the wire each second. */
  signature?: AttackSignature & { perSecond: number };
}

/** A deterministic traffic generator, one simulated second at a time. */
export interface Scenario {
  name: string;
  description: string;
  /** Simulated seconds; Infinity for the looping demo. */
  durationSeconds: number;
  labels: ScenarioLabel[];
  /** Flows for simulated second `second` (0-based), covering the second that ends at `nowMs`. */
  flows(second: number, nowMs: number): SimFlow[];
}

/** A piece of traffic active in [start, end): adds its flows for one second. */
export interface Component {
  label?: ScenarioLabel;
  start: number;
  end: number;
  emit(second: number, nowMs: number, out: SimFlow[]): void;
}

export function compose(name: string, description: string, durationSeconds: number, parts: Component[]): Scenario {
  return {
    name,
    description,
    durationSeconds,
    labels: parts.flatMap((p) => (p.label ? [p.label] : [])),
    flows(second, nowMs) {
      const out: SimFlow[] = [];
      for (const p of parts) if (second >= p.start && second < p.end) p.emit(second - p.start, nowMs, out);
      return out;
    },
  };
}

/** What a flow carries over the second; packets and bytes are rounded (at least 1) by simFlow. */
export type FlowShape = Pick<SimFlow, 'srcPort' | 'dstPort' | 'proto' | 'tcpFlags' | 'packets' | 'bytes'>;

/** A flow over the last second, with interfaces as the border router would see them. */
export function simFlow(src: string, dst: string, s: FlowShape, nowMs: number, inbound: boolean): SimFlow {
  return {
    src,
    dst,
    srcPort: s.srcPort,
    dstPort: s.dstPort,
    proto: s.proto,
    tcpFlags: s.tcpFlags,
    packets: Math.max(1, Math.round(s.packets)),
    bytes: Math.max(1, Math.round(s.bytes)),
    startMs: nowMs - 1000,
    endMs: nowMs - 1,
    inIf: inbound ? upstreamIf(src) : customerIf(src),
    outIf: inbound ? customerIf(dst) : upstreamIf(dst),
  };
}

/** One direction of a conversation: packets over the second, their mean size in bytes, TCP flags. */
export interface Leg {
  packets: number;
  size: number;
  flags: number;
}

/**
 * A two-way conversation over the last second: `a` → `b` from port `aPort` to `bPort`, and
 * `b`'s answer with the ports mirrored. `inbound` is the direction of the a → b flow.
 */
export function conversation(
  out: SimFlow[],
  now: number,
  proto: number,
  [a, aPort]: [string, number],
  [b, bPort]: [string, number],
  there: Leg,
  back: Leg,
  inbound: boolean,
): void {
  const leg = (l: Leg, srcPort: number, dstPort: number): FlowShape => ({
    srcPort,
    dstPort,
    proto,
    tcpFlags: l.flags,
    packets: l.packets,
    bytes: l.packets * l.size,
  });
  out.push(simFlow(a, b, leg(there, aPort, bPort), now, inbound));
  out.push(simFlow(b, a, leg(back, bPort, aPort), now, !inbound));
}

export const FLAGS = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;
/** Cumulative flags of a complete TCP session. */
export const SESSION = FLAGS.SYN | FLAGS.ACK | FLAGS.PSH | FLAGS.FIN;
/** A long-lived TCP flow's per-second record (no SYN in this interval). */
export const ESTABLISHED = FLAGS.ACK | FLAGS.PSH;
