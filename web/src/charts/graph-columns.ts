import { ipToWords, type GraphNode } from '@downstream/shared';
import type { GraphColumns } from './fan-in-layout.js';

/**
 * REST `graph.nodes` → the columns the graph draws from (same shape as a live frame),
 * validating each node on the way. Hand-written rather than zod because a 50,000-node graph
 * is on the page's critical path: one pass, no intermediate objects. Throws naming the node
 * and field that is wrong.
 */
export function columnsFromNodes(nodes: readonly unknown[] | readonly GraphNode[]): GraphColumns {
  const n = nodes.length;
  const ip = new Uint32Array(4 * n);
  const asn = new Uint32Array(n);
  const pps = new Float32Array(n);
  const country = new Uint8Array(2 * n);
  const customer = new Int16Array(n).fill(-1);
  const customers: string[] = [];
  const index = new Map<string, number>();
  const bad = (i: number, field: string, want: string): never => {
    throw new Error(`graph.nodes[${i}].${field}: expected ${want}`);
  };
  for (let i = 0; i < n; i++) {
    const node = nodes[i] as Partial<Record<keyof GraphNode, unknown>> | null;
    if (typeof node !== 'object' || node === null) bad(i, '', 'an object');
    const { ip: a, asn: as, pps: p, country: cc, customer: cu } = node!;
    if (typeof a !== 'string') bad(i, 'ip', 'a string');
    if (typeof as !== 'number' || !Number.isInteger(as) || as < 0) bad(i, 'asn', 'a non-negative integer');
    if (typeof p !== 'number' || !(p >= 0)) bad(i, 'pps', 'a non-negative number');
    if (typeof cc !== 'string') bad(i, 'country', 'a string');
    if (cu !== undefined && typeof cu !== 'string') bad(i, 'customer', 'a string or nothing');
    ipToWords(a as string, ip, 4 * i);
    asn[i] = as as number;
    pps[i] = p as number;
    if ((cc as string).length === 2) {
      country[2 * i] = (cc as string).charCodeAt(0);
      country[2 * i + 1] = (cc as string).charCodeAt(1);
    }
    if (typeof cu === 'string') {
      let k = index.get(cu);
      if (k === undefined && customers.length < 0x7fff) {
        k = customers.length;
        customers.push(cu);
        index.set(cu, k);
      }
      if (k !== undefined) customer[i] = k;
    }
  }
  return { count: n, ip, asn, pps, country, customer, customers };
}
