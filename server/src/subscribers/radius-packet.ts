import radius from 'radius';

/**
 * RADIUS packet coding goes through the `radius` package (dictionaries, authenticators,
 * Message-Authenticator). What it leaves as raw bytes — the IPv6 prefix attributes, which it has
 * no type coder for — is decoded here from its `raw_attributes`.
 */

export const HEADER = 20;
export const MAX_PACKET = 4096;

export const ATTR = {
  framedIpv6Prefix: 97,
  delegatedIpv6Prefix: 123,
  framedIpv6Address: 168,
  nasIpv6Address: 95,
} as const;

/** Why a datagram was not accepted; the label on downstream_radius_bad_packets_total. */
export type BadReason =
  | 'short'
  | 'length'
  | 'malformed-attribute'
  | 'bad-authenticator'
  | 'unknown-client'
  | 'not-accounting'
  | 'no-status-type'
  | 'decode';

export class BadPacket extends Error {
  constructor(
    readonly reason: BadReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Header and attribute framing checks before handing the datagram to the library, which trusts
 * the lengths it is given (RFC 2865 §3: a packet shorter than its Length field is discarded; bytes
 * past it are padding and ignored).
 */
export function checkFraming(buf: Buffer): Buffer {
  if (buf.length < HEADER) throw new BadPacket('short', `datagram of ${buf.length} bytes, a RADIUS header is 20`);
  const len = buf.readUInt16BE(2);
  if (len < HEADER || len > MAX_PACKET) throw new BadPacket('length', `Length field ${len} outside 20..4096`);
  if (len > buf.length) throw new BadPacket('length', `Length field ${len} but the datagram has ${buf.length} bytes`);
  for (let off = HEADER; off < len;) {
    if (off + 2 > len) throw new BadPacket('malformed-attribute', `attribute header cut off at offset ${off}`);
    const alen = buf[off + 1];
    if (alen < 2 || off + alen > len)
      throw new BadPacket('malformed-attribute', `attribute ${buf[off]} at offset ${off} has length ${alen}`);
    off += alen;
  }
  return buf.subarray(0, len);
}

export function decodeVerified(buf: Buffer, secret: string): radius.RadiusPacket {
  try {
    // decode() verifies the Request Authenticator (and Message-Authenticator) of request codes.
    return radius.decode({ packet: Buffer.from(buf), secret });
  } catch (e) {
    const err = e as Error;
    if (err.name === 'Invalid Secret Error' || /authenticator mismatch/i.test(err.message))
      throw new BadPacket('bad-authenticator', 'Request Authenticator does not match the shared secret');
    throw new BadPacket('decode', err.message);
  }
}

/** RFC 3162 §2.3 prefix attribute: Reserved, Prefix-Length, then as many prefix bytes as sent. */
export function decodeIpv6Prefix(v: Buffer): string | undefined {
  if (v.length < 2 || v.length > 18) return undefined;
  const plen = v[1];
  if (plen > 128 || v.length - 2 < Math.ceil(plen / 8)) return undefined;
  const bytes = Buffer.alloc(16);
  v.copy(bytes, 0, 2);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return `${groups.join(':')}/${plen}`;
}

export function decodeIpv6Address(v: Buffer): string | undefined {
  if (v.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(v.readUInt16BE(i).toString(16));
  return groups.join(':');
}

export function rawValues(p: radius.RadiusPacket, type: number): Buffer[] {
  const raw = (p as unknown as { raw_attributes?: [number, Buffer][] }).raw_attributes ?? [];
  return raw.filter((a) => a[0] === type).map((a) => a[1]);
}

/** A decoded attribute as one string (the library gives an array when an attribute repeats). */
export function attrString(p: radius.RadiusPacket, name: string): string | undefined {
  const v = (p.attributes as Record<string, unknown>)[name];
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined || one === null) return undefined;
  if (one instanceof Date) return one.toISOString();
  return Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

export function attrNumber(p: radius.RadiusPacket, name: string): number | undefined {
  const v = (p.attributes as Record<string, unknown>)[name];
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === 'number' && Number.isFinite(one) ? one : undefined;
}

export function attrDate(p: radius.RadiusPacket, name: string): number | undefined {
  const v = (p.attributes as Record<string, unknown>)[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one instanceof Date && Number.isFinite(one.getTime()) ? one.getTime() : undefined;
}

export { radius };
