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
    this.table = new KeyTable(
      capacity,
      (s) => this.packets[s],
      (s) => {
        this.packets[s] = 0;
        this.bytes[s] = 0;
      },
      16,
    );
  }

  get size(): number {
    return this.table.size;
  }

  get memoryBytes(): number {
    return (
      this.table.bytes +
      this.packets.byteLength * 2 +
      this.asn.byteLength +
      this.customer.byteLength +
      this.firstTick.byteLength
    );
  }

  add(
    words: Uint32Array,
    off: number,
    hash: number,
    packets: number,
    bytes: number,
    asn: number,
    customer: number,
    tick: number,
  ): void {
    const t = this.table;
    let s = t.find(words, off, hash);
    if (s < 0) {
      // Full: a newcomer only displaces a lighter entry (space-saving style admission), so a
      // flood of one-packet spoofed sources cannot churn out the real heavy hitters.
      if (t.size >= this.capacity && !this.admit(packets)) return;
      s = t.upsert(words, off, hash);
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

  private readonly rng = new Int32Array([0x2545f491]);

  private admit(packets: number): boolean {
    let min = Infinity;
    for (let k = 0; k < 4; k++) {
      let x = this.rng[0];
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rng[0] = x;
      const p = this.packets[(x >>> 2) % this.capacity];
      if (p < min) min = p;
    }
    return packets > min;
  }

  /** Occupied slots, heaviest (packets) first; a bounded min-heap when only the top few are wanted. */
  slotsByPackets(limit = this.capacity): number[] {
    const pk = this.packets;
    if (limit * 4 >= this.table.size) {
      const out: number[] = [];
      this.table.forEach((s) => out.push(s));
      out.sort((a, b) => pk[b] - pk[a]);
      return out.length > limit ? out.slice(0, limit) : out;
    }
    const heap: number[] = [];
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && pk[heap[l]] < pk[heap[m]]) m = l;
        if (r < heap.length && pk[heap[r]] < pk[heap[m]]) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    };
    this.table.forEach((s) => {
      if (heap.length < limit) {
        heap.push(s);
        for (let i = heap.length - 1; i > 0;) {
          const p = (i - 1) >> 1;
          if (pk[heap[p]] <= pk[heap[i]]) break;
          [heap[i], heap[p]] = [heap[p], heap[i]];
          i = p;
        }
      } else if (pk[s] > pk[heap[0]]) {
        heap[0] = s;
        down(0);
      }
    });
    return heap.sort((a, b) => pk[b] - pk[a]);
  }

  clear(): void {
    const t = this.table;
    t.forEach((s) => t.remove(s));
    this.inserted = 0;
  }
}
