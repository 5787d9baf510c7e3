/**
 * A detector shard: the built-in detectors over the flows of the keys this shard owns (every
 * ingest worker sends it its share of every batch, detect/shard.ts), ticked by the main thread,
 * which gets the detection events back for its incident manager.
 */
import type { DetectionEvent } from '@downstream/shared';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '../../config/config.js';
import { createDetectors } from '../../detect/index.js';
import { detectorState, type DetectorState } from '../../detect/metrics.js';
import { warmUpDetectors } from '../../detect/warm-up.js';
import { ShardRole, type EnrichedBatch } from '../../enrich/enriched-batch.js';
import { createEnricher } from '../../enrich/index.js';
import type { IngestToShard, ShardToIngest } from './ingest.js';
import { ownThreadId } from './spawn.js';

export interface DetectInit {
  index: number;
  config: Config;
  /** One port per ingest worker. */
  ingest: MessagePort[];
}

export type MainToShard = { type: 'tick'; id: number; nowMs: number };

export type ShardToMain =
  | { type: 'ready'; tid?: number; warmUpMs?: number }
  | {
      type: 'tick';
      id: number;
      index: number;
      events: DetectionEvent[];
      /** Records and batches processed since the last tick reply. */
      records: number;
      batches: number;
      errors: number;
      /** Records in the batches that failed. */
      dropped: number;
      state: DetectorState;
    }
  | { type: 'flushed'; id: number; index: number }
  | { type: 'error'; message: string };

function main(): void {
  const parent = parentPort;
  if (!parent) return;
  const init = workerData as DetectInit;
  const enricher = createEnricher(init.config.network);
  const warmUpMs = warmUpDetectors(() => createDetectors(init.config, enricher));
  const d = createDetectors(init.config, enricher);
  d.reserve();
  let records = 0;
  let batches = 0;
  let errors = 0;
  let dropped = 0;
  let lastError = 0;
  const post = (m: ShardToMain): void => parent.postMessage(m);
  /** Flush id → ingest workers that have reported drained. */
  const flushes = new Map<number, number>();

  const done: ShardToIngest = { type: 'done' };
  for (const port of init.ingest) {
    port.on('message', (m: IngestToShard) => {
      if (m.type === 'batch') {
        try {
          d.process(m.batch);
          records += ownRecords(m.batch);
          batches++;
        } catch (err) {
          // one bad batch must not stop the shard; the main thread counts and logs
          errors++;
          dropped += m.batch.length;
          const now = Date.now();
          if (now - lastError > 1000) {
            lastError = now;
            post({ type: 'error', message: (err as Error).stack ?? String(err) });
          }
        }
        port.postMessage(done);
      } else {
        const n = (flushes.get(m.id) ?? 0) + 1;
        if (n === init.ingest.length) {
          flushes.delete(m.id);
          post({ type: 'flushed', id: m.id, index: init.index });
        } else flushes.set(m.id, n);
      }
    });
  }
  parent.on('message', (m: MainToShard) => {
    if (m.type !== 'tick') return;
    let events: DetectionEvent[] = [];
    try {
      events = d.tick(m.nowMs);
    } catch (err) {
      errors++;
      post({ type: 'error', message: (err as Error).stack ?? String(err) });
    }
    post({
      type: 'tick',
      id: m.id,
      index: init.index,
      events,
      records,
      batches,
      errors,
      dropped,
      state: detectorState(d),
    });
    records = batches = errors = dropped = 0;
  });
  post({ type: 'ready', tid: ownThreadId(), warmUpMs });
}

/**
 * Records of a batch this shard owns the local key of: a flow whose two ends live on two shards
 * is in both shares; counted in each, `downstream_pipeline_flows_total` read 105 % of what was sent.
 */
function ownRecords(b: EnrichedBatch): number {
  const roles = b.shardRoles;
  if (roles === undefined) return b.length;
  let n = 0;
  for (let i = 0; i < b.length; i++) if ((roles[i] & ShardRole.local) !== 0) n++;
  return n;
}

main();
