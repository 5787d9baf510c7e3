/**
 * `serve --role detect`: consumes the partitions this process holds the lease of (leases.ts),
 * runs one detector set over them and an incident manager that writes to the shared store.
 *
 * Several detect processes share the store, so the manager here does not load every open
 * incident on start (they belong to other processes) and instead adopts, from a view of the
 * store refreshed every second, the open incident of a merge key it is about to open anew: a
 * process that dies leaves its incidents open; the survivor that takes its keys re-detects the
 * running attack a few seconds later and merges into the same incident, no duplicate.
 */
import { DetectionEvent, type Incident, type IncidentListQuery } from '@downstream/shared';
import { jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Enricher, IncidentManager } from '../context.js';
import { createDetectors, registerDetectorMetrics } from '../detect/index.js';
import { Incidents, type IncidentStore } from '../incidents/index.js';
import { mergeKeyOf, mergeKeyOfIncident, type MergeKey } from '../incidents/merge-key.js';
import { hashInt } from '../detect/hash.js';
import { shardOf } from '../detect/shard.js';
import { addrFromString } from '@downstream/shared';
import { decodeBatch } from './codec.js';
import { keepingOperatorState } from './operator-state.js';
import { startPartitionLeases, type PartitionLeases } from './leases.js';
import {
  campaignEventSubject,
  connectBus,
  durableName,
  ensureFlowStream,
  parseJsonMessage,
  type BusConfig,
} from './nats.js';

export interface DetectRoleOptions {
  config: Config & { bus: BusConfig };
  logger: Logger;
  registry: Registry;
  store: IncidentStore;
  enricher: Enricher;
  /** Member id in the lease bucket; default a random one per process. */
  id?: string;
  tickMs?: number;
  /**
   * The tick's second half, events → incident manager → lifecycles (main/pipeline-stages.ts
   * deliverTick: the same canonical order as the single process).
   */
  /** Records run through the detectors (the single process's downstream_pipeline_flows_total). */
  onRecords?: (n: number) => void;
  deliverTick: (incidents: IncidentManager, events: DetectionEvent[], nowMs: number) => void;
}

export interface DetectRole {
  id: string;
  leases: PartitionLeases;
  nc: NatsConnection;
  stats(): { records: number; frames: number; badFrames: number; redelivered: number; owned: number[] };
  stop(): Promise<void>;
}

/** How often the view of other processes' open incidents is re-read. */
const ADOPT_REFRESH_MS = 1000;
/** Forwarded campaign detections held for the next tick, at most (a flood of them is dropped). */
const MAX_FORWARDED = 100_000;

export async function startDetectRole(o: DetectRoleOptions): Promise<DetectRole> {
  const { config, registry, store } = o;
  const bus = config.bus;
  const id = o.id ?? `detect-${randomUUID().slice(0, 8)}`;
  const log = o.logger.child({ module: 'detect-role', member: id });
  const nc = await connectBus(bus, id);
  await ensureFlowStream(nc, bus);
  const js = jetstream(nc);

  // Open incidents in the store by merge key, for adopt (sync: the manager asks mid-ingest).
  let openInStore = new Map<string, Incident>();
  const refreshOpen = async (): Promise<void> => {
    const next = new Map<string, Incident>();
    for (const status of ['open', 'acknowledged', 'mitigating'] as const) {
      const rows = await store.listIncidents({ status, limit: 1000 } as IncidentListQuery);
      for (const inc of rows) next.set(mergeKeyOfIncident(inc).text, inc);
    }
    openInStore = next;
    await sweepOrphans(next);
  };

  // An incident whose process died as its attack ended is re-detected by no one: the holder of
  // its partition (its customer's, for a campaign) resolves it once it has been quiet for
  // the quiet period plus the time a hand-over and a persist can take.
  const orphanAfterMs = config.detect.incidents.quietSeconds * 1000 + 2 * bus.lease_ms + 10_000;
  let orphansResolved = 0;
  let stale = 0;
  new Counter({
    name: 'downstream_bus_stale_detections_total',
    help: 'Detections for keys of a partition this process has handed over (left to the new holder)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stale);
    },
  });
  const sweepOrphans = async (open: Map<string, Incident>): Promise<void> => {
    const owned = new Set(ownedNow());
    if (owned.size === 0) return;
    const mine = new Set(incidents.active().map((i) => i.id));
    const now = Date.now();
    for (const inc of open.values()) {
      if (mine.has(inc.id) || now - Date.parse(inc.lastSeen) < orphanAfterMs) continue;
      if (!owned.has(partitionOfMergeKey(mergeKeyOfIncident(inc), bus.partitions) ?? 0)) continue;
      await store.upsertIncident({ ...inc, status: 'resolved' });
      await store.appendAudit({
        at: new Date(now).toISOString(),
        by: 'system',
        action: 'resolve',
        incidentId: inc.id,
        detail: `quiet since ${inc.lastSeen}; the detect process that held it is gone (${id})`,
      });
      orphansResolved++;
      log.info({ id: inc.id, kind: inc.kind, lastSeen: inc.lastSeen }, 'resolved an orphaned incident');
    }
  };
  /** The partitions held; none until the leases have started. */
  let ownedNow: () => number[] = () => [];
  const incidents = new Incidents({
    // API processes write operator actions to the same rows: a save must not undo them.
    store: keepingOperatorState(store),
    logger: o.logger,
    config,
    loadOpen: false,
    adopt: (key) => openInStore.get(key.text),
  });
  const detectors = createDetectors(config, o.enricher);
  registerDetectorMetrics(registry, detectors);

  let records = 0;
  let frames = 0;
  let badFrames = 0;
  new Counter({
    name: 'downstream_bus_orphans_resolved_total',
    help: 'Open incidents of a detect process that is gone, quiet past the quiet period, resolved by the holder of their partition',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(orphansResolved);
    },
  });
  new Counter({
    name: 'downstream_bus_consumed_records_total',
    help: 'Flow records this detect process read from the bus and ran through its detectors',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(records);
    },
  });
  new Counter({
    name: 'downstream_bus_bad_frames_total',
    help: 'Flow bus messages that were not a valid flow batch frame (acknowledged and skipped)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(badFrames);
    },
  });
  const mOwned = new Gauge({
    name: 'downstream_bus_partitions_owned',
    help: 'Flow bus partitions this detect process holds the lease of',
    registers: [registry],
  });
  const mErrors = new Counter({
    name: 'downstream_bus_detect_errors_total',
    help: 'Exceptions in the detect role by stage (batch: a frame the detectors failed on; detect: a tick)',
    labelNames: ['stage'],
    registers: [registry],
  });
  for (const stage of ['batch', 'detect']) mErrors.inc({ stage }, 0);

  // Customer campaigns (spam-bot, scanner) gather endpoints that hash to every partition: each
  // campaign has one owner, the holder of its customer's partition, and the others forward it
  // their detections, so the campaign is one incident with the whole call list, as in one
  // process. Core NATS, not the stream: a detection repeats every tick while the abuse lasts,
  // so one lost in a reconnect is made good a second later.
  const forwarded: DetectionEvent[] = [];
  const mForward = new Counter({
    name: 'downstream_bus_campaign_events_total',
    help: 'Customer-campaign detections sent to the detect process owning the campaign, or received for one owned here',
    labelNames: ['way'],
    registers: [registry],
  });
  for (const way of ['sent', 'received', 'invalid', 'not_owned']) mForward.inc({ way }, 0);
  const campaignSub = nc.subscribe(campaignEventSubject(bus, '*'), {
    callback: (err, m) => {
      if (err) return;
      const p = Number(m.subject.slice(m.subject.lastIndexOf('.') + 1));
      const parsed = parseJsonMessage(m, DetectionEvent);
      if (!parsed.success) {
        mForward.inc({ way: 'invalid' });
        return;
      }
      // The lease may have moved since the sender looked: its next tick goes to the new owner.
      if (!ownedNow().includes(p)) {
        mForward.inc({ way: 'not_owned' });
        return;
      }
      mForward.inc({ way: 'received' });
      if (forwarded.length < MAX_FORWARDED) forwarded.push(parsed.data);
    },
  });

  const consumers = new Map<number, { msgs: ConsumerMessages; done: Promise<void> }>();
  /** Partition → stream sequence of the last batch run through the detectors. */
  const lastSeq = new Map<number, number>();
  let redelivered = 0;
  new Counter({
    name: 'downstream_bus_redelivered_skipped_total',
    help: 'Flow bus batches delivered again (their ack was lost) and skipped: already run through the detectors',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(redelivered);
    },
  });
  const consume = async (p: number): Promise<void> => {
    const c = await js.consumers.get(bus.stream, durableName(bus, p));
    const msgs = await c.consume({ max_messages: 256 });
    const done = (async () => {
      for await (const m of msgs) {
        // At-least-once: an ack lost in a NATS restart or a hand-over brings a batch back.
        // One consumer per partition delivers in stream order, so anything at or below the
        // last sequence this process ran is such a copy (a survivor taking over from a dead
        // process cannot know its last sequence and may run up to ack_wait of batches twice).
        if (m.seq <= (lastSeq.get(p) ?? 0)) {
          redelivered++;
          m.ack();
          continue;
        }
        lastSeq.set(p, m.seq);
        try {
          const b = decodeBatch(m.data);
          detectors.process(b);
          records += b.length;
          frames++;
          o.onRecords?.(b.length);
        } catch (err) {
          badFrames++;
          mErrors.inc({ stage: 'batch' });
          log.error({ err: (err as Error).message, partition: p }, 'flow bus message skipped');
        }
        m.ack();
      }
    })();
    consumers.set(p, { msgs, done });
  };

  await refreshOpen().catch((err: unknown) => log.error({ err }, 'could not read open incidents'));
  const held = await startPartitionLeases({
    nc,
    bus,
    id,
    logger: o.logger,
    events: {
      acquired: async (p) => {
        log.info({ partition: p }, 'partition acquired');
        await consume(p);
        mOwned.set(consumers.size);
        // Incidents the previous owner left open are adoptable from the next detection on.
        void refreshOpen().catch(() => undefined);
      },
      released: async (p) => {
        const c = consumers.get(p);
        consumers.delete(p);
        mOwned.set(consumers.size);
        if (!c) return;
        // Incidents keyed on this partition's addresses are the next holder's now: leave them
        // open in the store for it to adopt (resolving them here would flap their status).
        const handed = incidents.handOver((key) => partitionOfMergeKey(key, bus.partitions) === p);
        log.info({ partition: p, incidents: handed }, 'partition released');
        // Stop pulling; what it had delivered and not acked goes to the next holder.
        await c.msgs.close().catch(() => undefined);
        await c.done.catch(() => undefined);
      },
    },
  });
  ownedNow = () => held.owned();

  const tick = (): void => {
    const now = Date.now();
    let events: DetectionEvent[] = [];
    try {
      events = detectors.tick(now);
    } catch (err) {
      mErrors.inc({ stage: 'detect' });
      log.error({ err }, 'detector tick failed');
    }
    // Detector state outlives a partition hand-over: what it still fires for keys of a
    // partition this process no longer holds is the new holder's to report (else both would
    // keep the incident, and this one resolve it under the other's feet).
    const owned = new Set(held.owned());
    const mine = forwarded.splice(0);
    for (const e of events) {
      const key = mergeKeyOf(e);
      const p = partitionOfMergeKey(key, bus.partitions);
      if (p === undefined || owned.has(p)) mine.push(e);
      else if (key.rule === 'customer-campaign') {
        nc.publish(campaignEventSubject(bus, p), JSON.stringify(e));
        mForward.inc({ way: 'sent' });
      } else stale++;
    }
    o.deliverTick(incidents, mine, now);
  };
  const tickTimer = setInterval(tick, o.tickMs ?? 1000);
  const refreshTimer = setInterval(
    () => void refreshOpen().catch((err: unknown) => log.warn({ err }, 'could not read open incidents')),
    ADOPT_REFRESH_MS,
  );
  log.info({ partitions: held.owned(), members: held.members() }, 'detect role running');

  return {
    id,
    leases: held,
    nc,
    stats: () => ({ records, frames, badFrames, redelivered, owned: held.owned() }),
    async stop() {
      clearInterval(tickTimer);
      clearInterval(refreshTimer);
      campaignSub.unsubscribe();
      await held.stop();
      await incidents.flush();
      await nc.drain().catch(() => undefined);
    },
  };
}

/**
 * The partition whose holder owns an incident: that of its address key (inbound target,
 * participation's outside target, an endpoint), or for a customer campaign (spam-bot, scanner,
 * whose endpoints hash to every partition) that of its customer's name. Undefined only for a key
 * that is neither (a feed's free-text key): it stays where it is.
 */
export function partitionOfMergeKey(key: MergeKey, partitions: number): number | undefined {
  if (key.rule === 'customer-campaign') return (hashString(key.customer) >>> 0) % partitions;
  const ip = key.rule === 'target' ? key.target : key.key;
  if (!/^[0-9a-fA-F.:]+$/.test(ip)) return undefined;
  try {
    return shardOf(addrFromString(ip), 0, partitions);
  } catch {
    return undefined;
  }
}

/** Every detect process must map a customer to the same partition: no per-process seed. */
function hashString(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = hashInt(h ^ s.charCodeAt(i));
  return h;
}
