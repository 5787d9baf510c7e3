import { ipToWords, type GraphNode } from '@downstream/shared';
import type { GraphColumns } from './fan-in-layout.js';

/** REST `graph.nodes` → the columns the graph draws from (same shape as a live frame). */
export function columnsFromNodes(nodes: readonly GraphNode[]): GraphColumns {
  const n = nodes.length;
  const ip = new Uint32Array(4 * n);
  const asn = new Uint32Array(n);
  const pps = new Float32Array(n);
  const country = new Uint8Array(2 * n);
  const customer = new Int16Array(n).fill(-1);
  const customers: string[] = [];
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const node = nodes[i]!;
    ipToWords(node.ip, ip, 4 * i);
    asn[i] = node.asn;
    pps[i] = node.pps;
    if (node.country.length === 2) {
      country[2 * i] = node.country.charCodeAt(0);
      country[2 * i + 1] = node.country.charCodeAt(1);
    }
    if (node.customer !== undefined) {
      let k = index.get(node.customer);
      if (k === undefined) {
        k = customers.length;
        customers.push(node.customer);
        index.set(node.customer, k);
      }
      customer[i] = k;
    }
  }
  return { count: n, ip, asn, pps, country, customer, customers };
}
