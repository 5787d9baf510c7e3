import { z } from 'zod';
import { ipToWords, wordsToIp } from './address.js';
import type { GraphNode } from './incident.js';

/**
 * `incident:graph` — the fan-in graph of one incident as columns of binary data, not a JSON
 * array of objects: 10,000 sources cost ~290 KB as 5 typed arrays and almost nothing to decode.
 *
 * Layout (n = `count`; every column is a separate binary attachment; multi-byte values in the
 * platform's byte order, i.e. little-endian on every machine we run on):
 * - `ip`       Uint32Array(4n): 128-bit address per node, four big-endian 32-bit words
 *              (the FlowBatch layout); IPv4 as IPv4-mapped ::ffff:a.b.c.d (words 0, 0, 0xffff, a.b.c.d).
 * - `asn`      Uint32Array(n)
 * - `pps`      Float32Array(n): packets per second from this node toward the target.
 * - `country`  Uint8Array(2n): ISO 3166 alpha-2 as two ASCII bytes, 0,0 when unknown.
 * - `customer` Int16Array(n): index into `customers`, -1 when the node is not our customer.
 * - `customers` string[]: the customer names referenced above.
 * A browser receives each column as an ArrayBuffer, Node.js as a Buffer: `decodeGraphFrame`
 * accepts both (it copies to aligned memory where needed).
 */
export interface GraphFrame {
  id: string;
  /** Monotonic per server: a frame with a lower `seq` than one already applied is stale. */
  seq: number;
  count: number;
  ip: ArrayBuffer;
  asn: ArrayBuffer;
  pps: ArrayBuffer;
  country: ArrayBuffer;
  customer: ArrayBuffer;
  customers: string[];
}

/** Binary column as it arrives: ArrayBuffer (browser), Buffer/Uint8Array (Node.js). */
const BinaryColumn = z.custom<ArrayBuffer | ArrayBufferView>(
  (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v),
  'expected binary data',
);

export const GraphFrameWire = z.object({
  id: z.string(),
  seq: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
  ip: BinaryColumn,
  asn: BinaryColumn,
  pps: BinaryColumn,
  country: BinaryColumn,
  customer: BinaryColumn,
  customers: z.array(z.string()),
});

export interface DecodedGraph {
  id: string;
  seq: number;
  count: number;
  ip: Uint32Array;
  asn: Uint32Array;
  pps: Float32Array;
  country: Uint8Array;
  customer: Int16Array;
  customers: string[];
}

/** Nodes → frame (server side). */
export function encodeGraphFrame(id: string, seq: number, nodes: readonly GraphNode[]): GraphFrame {
  const n = nodes.length;
  const ip = new Uint32Array(4 * n);
  const asn = new Uint32Array(n);
  const pps = new Float32Array(n);
  const country = new Uint8Array(2 * n);
  const customer = new Int16Array(n).fill(-1);
  const customers: string[] = [];
  const customerIndex = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    ipToWords(node.ip, ip, 4 * i);
    asn[i] = node.asn >>> 0;
    pps[i] = node.pps;
    const cc = node.country;
    if (cc && cc.length === 2) {
      country[2 * i] = cc.charCodeAt(0) & 0x7f;
      country[2 * i + 1] = cc.charCodeAt(1) & 0x7f;
    }
    if (node.customer !== undefined) {
      let k = customerIndex.get(node.customer);
      if (k === undefined && customers.length < 0x7fff) {
        k = customers.length;
        customers.push(node.customer);
        customerIndex.set(node.customer, k);
      }
      if (k !== undefined) customer[i] = k;
    }
  }
  return {
    id,
    seq,
    count: n,
    ip: ip.buffer,
    asn: asn.buffer,
    pps: pps.buffer,
    country: country.buffer,
    customer: customer.buffer,
    customers,
  };
}

function column<T>(
  v: ArrayBuffer | ArrayBufferView,
  Ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  len: number,
  name: string,
): T {
  let buf: ArrayBuffer;
  if (v instanceof ArrayBuffer) buf = v;
  else {
    // Node hands us Buffers that are slices of a larger pool, often at an unaligned offset.
    const copy = new Uint8Array(v.byteLength);
    copy.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    buf = copy.buffer;
  }
  if (buf.byteLength !== len * Ctor.BYTES_PER_ELEMENT) {
    throw new Error(
      `incident:graph column ${name}: expected ${len * Ctor.BYTES_PER_ELEMENT} bytes, got ${buf.byteLength}`,
    );
  }
  return new Ctor(buf);
}

/** Wire payload → typed columns (client side). Throws naming the column that does not fit. */
export function decodeGraphFrame(payload: unknown): DecodedGraph {
  const f = GraphFrameWire.parse(payload);
  const n = f.count;
  return {
    id: f.id,
    seq: f.seq,
    count: n,
    ip: column(f.ip, Uint32Array, 4 * n, 'ip'),
    asn: column(f.asn, Uint32Array, n, 'asn'),
    pps: column(f.pps, Float32Array, n, 'pps'),
    country: column(f.country, Uint8Array, 2 * n, 'country'),
    customer: column(f.customer, Int16Array, n, 'customer'),
    customers: f.customers,
  };
}

/** Back to objects, for tests and small views. */
export function graphNodesOf(g: DecodedGraph): GraphNode[] {
  const out: GraphNode[] = [];
  for (let i = 0; i < g.count; i++) {
    const c0 = g.country[2 * i];
    const c1 = g.country[2 * i + 1];
    const node: GraphNode = {
      ip: wordsToIp(g.ip, 4 * i),
      asn: g.asn[i],
      country: c0 ? String.fromCharCode(c0, c1) : '',
      pps: g.pps[i],
    };
    if (g.customer[i] >= 0) node.customer = g.customers[g.customer[i]];
    out.push(node);
  }
  return out;
}
