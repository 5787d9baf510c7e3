/**
 * Detector sharding by key. Every detector keys its state by one endpoint of a flow:
 *  - the local endpoint (our side: dst of inbound, src of outbound flows) — the inbound
 *    detector's target, the outbound detector's customer endpoint (and the replies to it);
 *  - the remote endpoint (the outside party) — participation's outside target (and its replies).
 * A flow therefore goes to the shard owning its local key with ShardRole.local and to the one
 * owning its remote key with ShardRole.remote (one shard, both roles, when they coincide), so
 * each shard sees every flow for its keys and no key lives in two shards: N shards fire what
 * one detector set fires. Internal and transit flows reach no detector and go nowhere.
 */
import type { DetectionEvent } from '@downstream/shared';
import type { Config } from '../config/config.js';
import type { Enricher } from '../context.js';
import { FlowDirection, ShardRole, type EnrichedBatch } from '../enrich/enriched-batch.js';
import { hashWords } from './hash.js';
import { createDetectors, type Detectors } from './index.js';

/** A seed of its own: table buckets use the default seed, and shard = bucket bits would crowd them. */
const SHARD_SEED = 0x2f6b1d37;

/** The shard owning the address at `words[i*4 .. i*4+3]`. */
export function shardOf(words: Uint32Array, i: number, shards: number): number {
  return shards === 1 ? 0 : hashWords(words, i * 4, SHARD_SEED) % shards;
}

/** Per-record columns of an enriched batch, as [name, values per record]. */
const COLUMNS = [
  ['start', 1],
  ['end', 1],
  ['src', 4],
  ['dst', 4],
  ['srcPort', 1],
  ['dstPort', 1],
  ['proto', 1],
  ['tcpFlags', 1],
  ['packets', 1],
  ['bytes', 1],
  ['inIf', 1],
  ['outIf', 1],
  ['exporter', 1],
  ['samplingRate', 1],
  ['direction', 1],
  ['srcAsn', 1],
  ['dstAsn', 1],
  ['srcCustomer', 1],
  ['dstCustomer', 1],
  ['inLink', 1],
  ['outLink', 1],
  ['shardRoles', 1],
] as const;

export type BatchColumn = (typeof COLUMNS)[number][0];
type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array | Int16Array;

/** The typed arrays of a batch, for transferring it to another thread. */
export function batchBuffers(b: EnrichedBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const rec = b as unknown as Record<string, Column | undefined>;
  for (const [name] of COLUMNS) {
    const a = rec[name];
    if (a !== undefined && !out.includes(a.buffer as ArrayBuffer)) out.push(a.buffer as ArrayBuffer);
  }
  return out;
}

/**
 * Split `b` into one batch per shard (undefined where a shard gets nothing), each carrying
 * `shardRoles`. Copies each record once or twice; with one shard, `b` itself is returned.
 */
export function partitionBatch(b: EnrichedBatch, shards: number): (EnrichedBatch | undefined)[] {
  if (shards === 1) return [b];
  const n = b.length;
  const dir = b.direction;
  // Pass 1: each record's local and remote shard (-1: no detector wants it), and counts.
  const local = new Int32Array(n);
  const remote = new Int32Array(n);
  const counts = new Int32Array(shards);
  for (let i = 0; i < n; i++) {
    const d = dir[i];
    if (d === FlowDirection.inbound) {
      local[i] = shardOf(b.dst, i, shards);
      remote[i] = shardOf(b.src, i, shards);
    } else if (d === FlowDirection.outbound) {
      local[i] = shardOf(b.src, i, shards);
      remote[i] = shardOf(b.dst, i, shards);
    } else {
      local[i] = remote[i] = -1;
      continue;
    }
    counts[local[i]]++;
    if (remote[i] !== local[i]) counts[remote[i]]++;
  }
  const src = b as unknown as Record<string, Column | undefined>;
  const parts: (EnrichedBatch | undefined)[] = [];
  for (let s = 0; s < shards; s++) {
    if (counts[s] === 0) {
      parts.push(undefined);
      continue;
    }
    const part: Record<string, unknown> = { length: counts[s], exporters: b.exporters };
    for (const [name, per] of COLUMNS) {
      const a = name === 'shardRoles' ? new Uint8Array(0) : src[name];
      if (a === undefined) continue;
      part[name] = new (a.constructor as new (len: number) => Column)(counts[s] * per);
    }
    parts.push(part as unknown as EnrichedBatch);
  }
  // Pass 2: each record's slot in its shard(s), then copy column by column (monomorphic loops).
  const fill = new Int32Array(shards);
  const localAt = new Int32Array(n);
  const remoteAt = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = local[i];
    if (l < 0) continue;
    const r = remote[i];
    localAt[i] = fill[l]++;
    if (r === l) {
      remoteAt[i] = -1;
      parts[l]!.shardRoles![localAt[i]] = ShardRole.local | ShardRole.remote;
    } else {
      parts[l]!.shardRoles![localAt[i]] = ShardRole.local;
      remoteAt[i] = fill[r]++;
      parts[r]!.shardRoles![remoteAt[i]] = ShardRole.remote;
    }
  }
  for (const [name, per] of COLUMNS) {
    if (name === 'shardRoles') continue;
    const from = src[name];
    if (from === undefined) continue;
    const to = parts.map((p) => (p as unknown as Record<string, Column> | undefined)?.[name]);
    const w = from.BYTES_PER_ELEMENT * per;
    // Through same-width views, one copy loop per view type: a single loop over all five column
    // types went megamorphic and cost ~10× (the ingest worker at 79 % of a core and 40 % of
    // 1 M records/s counted with two shards). Columns of 4, 8 or 16 bytes a record are words.
    const views = <T>(As: ViewOf<T>) => [view(from, As), to.map((c) => c && view(c, As))] as const;
    if (w % 4 === 0) copyWords(...views(Uint32Array), w / 4, n, local, localAt, remote, remoteAt);
    else if (w === 2) copy16(...views(Uint16Array), n, local, localAt, remote, remoteAt);
    else copy8(...views(Uint8Array), n, local, localAt, remote, remoteAt);
  }
  return parts;
}

type ViewOf<T> = { new (buf: ArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number };

function view<T>(c: Column, As: ViewOf<T>): T {
  return new As(c.buffer as ArrayBuffer, c.byteOffset, c.byteLength / As.BYTES_PER_ELEMENT);
}

/** `per` words a record (addresses 4, f64 columns 2, u32 columns 1). */
function copyWords(
  from: Uint32Array,
  to: (Uint32Array | undefined)[],
  per: number,
  n: number,
  local: Int32Array,
  localAt: Int32Array,
  remote: Int32Array,
  remoteAt: Int32Array,
): void {
  for (let i = 0; i < n; i++) {
    const l = local[i];
    if (l < 0) continue;
    const f = i * per;
    let a = to[l]!;
    let j = localAt[i] * per;
    for (let w = 0; w < per; w++) a[j + w] = from[f + w];
    const k = remoteAt[i];
    if (k < 0) continue;
    a = to[remote[i]]!;
    j = k * per;
    for (let w = 0; w < per; w++) a[j + w] = from[f + w];
  }
}

type Copy<A> = (
  from: A,
  to: (A | undefined)[],
  n: number,
  local: Int32Array,
  localAt: Int32Array,
  remote: Int32Array,
  remoteAt: Int32Array,
) => void;

// The same loop twice on purpose, not one generic function: each must see one array type.
const copy16: Copy<Uint16Array> = (from, to, n, local, localAt, remote, remoteAt) => {
  for (let i = 0; i < n; i++) {
    const l = local[i];
    if (l < 0) continue;
    to[l]![localAt[i]] = from[i];
    const k = remoteAt[i];
    if (k >= 0) to[remote[i]]![k] = from[i];
  }
};
const copy8: Copy<Uint8Array> = (from, to, n, local, localAt, remote, remoteAt) => {
  for (let i = 0; i < n; i++) {
    const l = local[i];
    if (l < 0) continue;
    to[l]![localAt[i]] = from[i];
    const k = remoteAt[i];
    if (k >= 0) to[remote[i]]![k] = from[i];
  }
};

/**
 * N detector sets behind one DetectorSet, in this thread: what the shard workers do, for
 * tests and in-process runs. Events come out in shard order.
 */
export function createShardedDetectors(config: Config, enricher: Enricher, shards: number) {
  const sets: Detectors[] = Array.from({ length: shards }, () => createDetectors(config, enricher));
  return {
    shards: sets,
    process(batch: EnrichedBatch): void {
      partitionBatch(batch, shards).forEach((p, s) => p && sets[s].process(p));
    },
    tick(nowMs: number): DetectionEvent[] {
      return sets.flatMap((d) => d.tick(nowMs));
    },
  };
}
