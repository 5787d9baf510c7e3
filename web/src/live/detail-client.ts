import type { GraphColumns } from '../charts/fan-in-layout.js';
import { columnsFromNodes } from '../charts/graph-columns.js';
import { ApiRequestError, request } from './api.js';
import { IncidentDetailWire } from './incident-detail-wire.js';
import { authHeaders } from './token.js';

export interface DetailRequest {
  seq: number;
  path: string;
  headers: Record<string, string>;
}

export type DetailReply =
  | { seq: number; ok: true; detail: IncidentDetailWire; columns?: GraphColumns; columnsError?: string }
  | { seq: number; ok: false; status: number; message: string };

/** The detail without its node list, plus the nodes as columns (or why they could not be read). */
export interface FetchedDetail {
  detail: IncidentDetailWire;
  columns?: GraphColumns;
  columnsError?: string;
}

let worker: Worker | undefined;
let workerBroken = false;
let nextSeq = 1;
const pending = new Map<number, { resolve: (r: FetchedDetail) => void; reject: (e: Error) => void }>();

function getWorker(): Worker | undefined {
  if (workerBroken || typeof Worker === 'undefined') return undefined;
  if (!worker) {
    try {
      worker = new Worker(new URL('./detail-worker.ts', import.meta.url), { type: 'module' });
    } catch {
      workerBroken = true;
      return undefined;
    }
    worker.addEventListener('message', (e: MessageEvent<DetailReply>) => {
      const p = pending.get(e.data.seq);
      if (!p) return;
      pending.delete(e.data.seq);
      if (e.data.ok) p.resolve({ detail: e.data.detail, columns: e.data.columns, columnsError: e.data.columnsError });
      else p.reject(new ApiRequestError(e.data.message, e.data.status, ''));
    });
    worker.addEventListener('error', () => {
      // A worker that cannot start (CSP, old browser): fall back to the main thread for good.
      workerBroken = true;
      worker = undefined;
      for (const [, p] of pending) p.reject(new Error('worker failed'));
      pending.clear();
    });
  }
  return worker;
}

async function onMainThread(path: string, signal?: AbortSignal): Promise<FetchedDetail> {
  const detail = await request(path, IncidentDetailWire, { signal });
  try {
    return { detail: { ...detail, graph: { nodes: [] } }, columns: columnsFromNodes(detail.graph.nodes) };
  } catch (e) {
    return { detail: { ...detail, graph: { nodes: [] } }, columnsError: (e as Error).message };
  }
}

/** GET /api/incidents/:id, parsed off the main thread where the browser allows. */
export function fetchIncidentDetail(id: string, signal?: AbortSignal): Promise<FetchedDetail> {
  const path = `/api/incidents/${encodeURIComponent(id)}`;
  const w = getWorker();
  if (!w) return onMainThread(path, signal);
  const seq = nextSeq++;
  return new Promise<FetchedDetail>((resolve, reject) => {
    pending.set(seq, { resolve, reject });
    signal?.addEventListener('abort', () => {
      pending.delete(seq);
      reject(new DOMException('aborted', 'AbortError'));
    });
    w.postMessage({
      seq,
      path: new URL(path, window.location.href).href,
      headers: authHeaders(),
    } satisfies DetailRequest);
  }).catch((e: Error) => (e.message === 'worker failed' ? onMainThread(path, signal) : Promise.reject(e)));
}
