import { hashPair, hashWords } from './hash.js';

/** Answer packets one request packet may account for: DNS/DNSSEC answers in fragments, multi-packet replies. */
export const ANSWERS_PER_REQUEST = 8;
/** Port key of IP fragments (non-first fragments carry no ports: flows show them as UDP 0 → 0). */
export const FRAGMENT_PORT = 0;

/**
 * What our customers asked for: packets a customer address sent toward a service port, kept as
 * "credit" that the answers coming back from that port use up. An inbound packet from UDP 53 to
 * a resolver that queried port 53 is an answer; one to a host that asked nothing is reflected.
 *
 * Kept per (customer address, protocol, service port), not per outside peer: under 1:N packet
 * sampling a query and its answer are almost never both sampled, but the sums of requests and
 * answers per service port still match. Fixed memory: one hashed table of 2^bits credits per
 * half-window (two halves, the older one cleared as the window moves, like the sketches), so a
 * collision at most lends one customer another's credit.
 */
export class RequestCredits {
  private readonly mask: number;
  private readonly halves: [Float64Array, Float64Array];
  private half = 0;

  constructor(bits = 16) {
    const n = 1 << bits;
    this.mask = n - 1;
    this.halves = [new Float64Array(n), new Float64Array(n)];
  }

  get bytes(): number {
    return this.halves[0].byteLength * 2;
  }

  /** Bucket of (address at `words[off..]`, proto, port). */
  slot(words: Uint32Array, off: number, proto: number, port: number): number {
    return hashPair(hashWords(words, off, 0x3c6ef372), proto * 65536 + port) & this.mask;
  }

  /** `packets` (scaled) sent by the customer toward `port`: credit for that many answers times ANSWERS_PER_REQUEST. */
  request(words: Uint32Array, off: number, proto: number, port: number, packets: number): void {
    const c = packets * ANSWERS_PER_REQUEST;
    this.halves[this.half][this.slot(words, off, proto, port)] += c;
    // A UDP request may be answered in fragments, which carry no port.
    if (proto === 17) this.halves[this.half][this.slot(words, off, 17, FRAGMENT_PORT)] += c;
  }

  /** Use up to `packets` of credit in bucket `k`, older half first; returns the packets accounted as answers. */
  consume(k: number, packets: number): number {
    const older = this.halves[this.half ^ 1];
    const newer = this.halves[this.half];
    let left = packets;
    const a = Math.min(older[k], left);
    older[k] -= a;
    left -= a;
    const b = Math.min(newer[k], left);
    newer[k] -= b;
    left -= b;
    return packets - left;
  }

  /** The window moved half its length: forget the older half's credit. */
  rotate(): void {
    this.half ^= 1;
    this.halves[this.half].fill(0);
  }
}
