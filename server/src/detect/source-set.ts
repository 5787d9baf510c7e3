import { KeyTable } from './key-table.js';

/**
 * The sources seen for one watched key (a target under attack, an outside victim): a bounded
 * table of address → packets, bytes, ASN, customer, first-seen tick. When full, the lightest
 * entries give way (sampled eviction, as in space-saving), so it holds every source of an
 * attack up to its capacity and the heaviest beyond that.
 */
export class SourceSet {
  readonly table: KeyTable;
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  readonly asn: Uint32Array;
  readonly customer: Int16Array;
  readonly firstTick: Uint32Array;
  /** Inserts since the last `clear`, including those later evicted. */
  inserted = 0;

  constructor(readonly capacity: number) {
    this.packets = new Float64Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.asn = new Uint32Array(capacity);
    this.customer = new Int16Array(capacity);
    this.firstTick = new Uint32Array(capacity);
    this.table = new KeyTable(capacity, (s) => this.packets[s], (s) => {
      this.packets[s] = 0;
      this.bytes[s] = 0;
    }, 16);
  }

  get size(): number {
    return this.table.size;
  }

  get memoryBytes(): number {
    return this.table.bytes + this.packets.byteLength * 2 + this.asn.byteLength + this.customer.byteLength + this.firstTick.byteLength;
  }

  add(words: Uint32Array, off: number, hash: number, packets: number, bytes: number, asn: number, customer: number, tick: number): void {
    const t = this.table;
    const s = t.upsert(words, off, hash);
    if (t.isNew) {
      this.packets[s] = 0;
      this.bytes[s] = 0;
      this.asn[s] = asn;
      this.customer[s] = customer;
      this.firstTick[s] = tick;
      this.inserted++;
    }
    this.packets[s] += packets;
    this.bytes[s] += bytes;
  }

  /** Occupied slots, heaviest (packets) first. */
  slotsByPackets(limit = this.capacity): number[] {
    const out: number[] = [];
    this.table.forEach((s) => out.push(s));
    out.sort((a, b) => this.packets[b] - this.packets[a]);
    return out.length > limit ? out.slice(0, limit) : out;
  }

  clear(): void {
    const t = this.table;
    t.forEach((s) => t.remove(s));
    this.inserted = 0;
  }
}
