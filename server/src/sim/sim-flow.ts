/** One simulated flow, as the scenario generator describes it before a flow encoder turns it into datagrams. */
export interface SimFlow {
  /** IPv4 or IPv6 address as text. */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  tcpFlags: number;
  /** True packets and bytes on the wire (the encoder applies any 1-in-N sampling). */
  packets: number;
  bytes: number;
  startMs: number;
  endMs: number;
  inIf: number;
  outIf: number;
}
