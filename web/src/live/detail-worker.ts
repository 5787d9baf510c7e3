/**
 * Fetches, parses and validates an incident detail off the main thread: a 50,000-source
 * detail is ~5 MB of JSON, and parsing it on the main thread alone costs more than the page's
 * whole first-render budget. The graph nodes come back as transferred typed-array columns.
 */
import { columnsFromNodes } from '../charts/graph-columns.js';
import { ApiRequestError, request } from './api.js';
import { IncidentDetailWire } from './incident-detail-wire.js';
import type { DetailReply, DetailRequest } from './detail-client.js';

const scope = globalThis as unknown as {
  addEventListener(type: 'message', fn: (e: MessageEvent<DetailRequest>) => void): void;
  postMessage(message: DetailReply, transfer?: Transferable[]): void;
};

scope.addEventListener('message', async (e) => {
  const { seq, path, headers } = e.data;
  try {
    const d = await request(path, IncidentDetailWire, undefined, () => headers);
    let columnsError: string | undefined;
    let columns: ReturnType<typeof columnsFromNodes> | undefined;
    try {
      columns = columnsFromNodes(d.graph.nodes);
    } catch (err) {
      columnsError = (err as Error).message;
    }
    const detail = { ...d, graph: { nodes: [] } };
    const transfer = columns
      ? [columns.ip!.buffer, columns.asn.buffer, columns.pps.buffer, columns.country!.buffer, columns.customer!.buffer]
      : [];
    scope.postMessage({ seq, ok: true, detail, columns, columnsError }, transfer as Transferable[]);
  } catch (err) {
    scope.postMessage({
      seq,
      ok: false,
      status: err instanceof ApiRequestError ? err.status : 0,
      message: (err as Error).message,
    });
  }
});
