import { addrFromString } from '@downstream/shared';

/** Largest export datagram the encoders build, bytes (below a 1500-byte MTU with IP/UDP headers). */
export const MAX_DATAGRAM = 1400;

export interface EncoderOptions {
  sourceId?: number;
  /** 1-in-N rate announced in an options record (the flows must already be sampled). */
  samplingRate?: number;
  /** When the simulated router booted (sysUptime origin), ms since epoch. */
  bootMs?: number;
  /** Re-send templates every this many datagrams (and always in the first one). */
  templateEvery?: number;
}

/** A growable big-endian byte writer for building export datagrams. */
export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(size = 1500) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    nb.set(this.buf);
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }

  u8(x: number): this {
    this.room(1);
    this.view.setUint8(this.pos, x & 0xff);
    this.pos += 1;
    return this;
  }
  u16(x: number): this {
    this.room(2);
    this.view.setUint16(this.pos, x & 0xffff);
    this.pos += 2;
    return this;
  }
  u32(x: number): this {
    this.room(4);
    this.view.setUint32(this.pos, x >>> 0);
    this.pos += 4;
    return this;
  }
  u64(x: number): this {
    const v = Math.max(0, Math.floor(x));
    this.u32(Math.floor(v / 4294967296));
    return this.u32(v % 4294967296);
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  /** 4 bytes of an IPv4 address or 16 of an IPv6 one. */
  addr(s: string, v6: boolean): this {
    const w = addrFromString(s);
    if (!v6) return this.u32(w[3]);
    for (let k = 0; k < 4; k++) this.u32(w[k]);
    return this;
  }
  pad4(): this {
    while (this.pos % 4 !== 0) this.u8(0);
    return this;
  }
  setU16(at: number, x: number): void {
    this.view.setUint16(at, x & 0xffff);
  }
  setU32(at: number, x: number): void {
    this.view.setUint32(at, x >>> 0);
  }
  /** A copy of what was written. */
  take(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export function isV6(addr: string): boolean {
  return addr.includes(':');
}
