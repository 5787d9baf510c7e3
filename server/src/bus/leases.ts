/**
 * Which detect process consumes which partition, agreed through a JetStream KV bucket whose
 * entries expire `lease_ms` after their last write:
 *  - `m.<id>`: a member's heartbeat, rewritten every lease_ms/3;
 *  - `p.<n>`: the lease of partition n, created (atomically: create fails if it exists) by the
 *    member the assignment gives it to, renewed by revision (update fails if someone else's).
 * Every member computes the same assignment from the live member list (rendezvous hashing: a
 * member joining or leaving moves only the partitions it gains or loses), releases what is no
 * longer its own and takes what is, once the old owner has released it or its lease expired.
 * A process killed with -9 stops renewing: its heartbeat and leases expire within lease_ms and
 * the survivors take its partitions at their next round — well within 10 s at the default.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { hashWords } from '../detect/hash.js';
import type { BusConfig } from './nats.js';
import { leaseBucket } from './nats.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function hashString(s: string, seed: number): number {
  const bytes = utf8.encode(s);
  const words = new Uint32Array(Math.max(4, Math.ceil(bytes.length / 4) + 3) & ~3);
  new Uint8Array(words.buffer).set(bytes);
  let h = seed >>> 0;
  for (let i = 0; i < words.length; i += 4) h = hashWords(words, i, h);
  return h >>> 0;
}

/** Rendezvous (highest random weight) owner of each partition among `members`. */
export function assignPartitions(partitions: number, members: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  if (members.length === 0) return out;
  const seeds = members.map((m) => hashString(m, 0x9e3779b9));
  for (let p = 0; p < partitions; p++) {
    let best = -1;
    let owner = members[0]!;
    members.forEach((m, i) => {
      const w = hashString(String(p), seeds[i]!);
      if (w > best || (w === best && m < owner)) {
        best = w;
        owner = m;
      }
    });
    out.set(p, owner);
  }
  return out;
}

export interface LeaseEvents {
  /** This member now holds the partition's lease: start consuming it. */
  acquired(partition: number): Promise<void> | void;
  /** This member gave the partition up (or lost its lease): stop consuming it, before anyone else starts. */
  released(partition: number): Promise<void> | void;
}

export interface PartitionLeases {
  readonly id: string;
  owned(): number[];
  members(): string[];
  /** One round now (tests; the timer runs rounds every lease_ms/3). */
  round(): Promise<void>;
  stop(): Promise<void>;
}

export async function openLeaseBucket(nc: NatsConnection, bus: BusConfig): Promise<KV> {
  const kvm = new Kvm(nc);
  // The bucket's max age is the lease: an entry not rewritten within lease_ms is gone.
  return kvm.create(leaseBucket(bus), { ttl: bus.lease_ms, history: 1 });
}

export async function startPartitionLeases(o: {
  nc: NatsConnection;
  bus: BusConfig;
  id: string;
  logger: Logger;
  events: LeaseEvents;
}): Promise<PartitionLeases> {
  const { bus, id, events } = o;
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`--member-id ${id}: letters, digits, - and _ only`);
  const log = o.logger.child({ module: 'bus-leases', member: id });
  const kv = await openLeaseBucket(o.nc, bus);
  /** Partition → revision of our lease entry. */
  const held = new Map<number, number>();
  let members: string[] = [];
  let running: Promise<void> | undefined;
  let stopped = false;

  const release = async (p: number, deleteLease: boolean): Promise<void> => {
    const rev = held.get(p);
    held.delete(p);
    await events.released(p);
    if (deleteLease && rev !== undefined) {
      // Only if still ours (previousSeq): never delete a lease someone else has taken since.
      await kv.delete(`p.${p}`, { previousSeq: rev }).catch(() => undefined);
    }
  };

  const doRound = async (): Promise<void> => {
    await kv.put(`m.${id}`, utf8.encode(String(Date.now())));
    // A Set: the key listing can name a key twice when it is rewritten while being listed,
    // and a doubled member would change the assignment (and move partitions) for nothing.
    const seen = new Set<string>();
    for await (const k of await kv.keys('m.*')) seen.add(k.slice(2));
    const live = [...seen].sort();
    if (live.join() !== members.join()) log.info({ members: live }, 'detect members changed: rebalancing');
    members = live;
    const want = assignPartitions(bus.partitions, members);
    // Renew or give up what we hold.
    for (const [p, rev] of [...held]) {
      if (want.get(p) !== id) {
        log.info({ partition: p, to: want.get(p) }, 'handing partition over');
        await release(p, true);
        continue;
      }
      try {
        held.set(p, await kv.update(`p.${p}`, utf8.encode(id), rev));
      } catch (err) {
        log.warn({ partition: p, err: (err as Error).message }, 'lost partition lease');
        await release(p, false);
      }
    }
    // Take what is ours and free.
    for (const [p, owner] of want) {
      if (owner !== id || held.has(p)) continue;
      try {
        const rev = await kv.create(`p.${p}`, utf8.encode(id));
        held.set(p, rev);
        await events.acquired(p);
      } catch {
        // Still held by its previous owner until it hands over or its lease expires.
        const e = await kv.get(`p.${p}`).catch(() => null);
        if (e && e.operation === 'PUT' && fromUtf8.decode(e.value) === id) {
          // Our own lease from before a restart with the same id: take it back.
          held.set(p, e.revision);
          await events.acquired(p);
        }
      }
    }
  };
  const round = (): Promise<void> => {
    running ??= doRound()
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'lease round failed'))
      .finally(() => (running = undefined));
    return running;
  };
  await round();
  const timer = setInterval(() => void round(), Math.max(100, Math.floor(bus.lease_ms / 3)));
  return {
    id,
    owned: () => [...held.keys()].sort((a, b) => a - b),
    members: () => [...members],
    round,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      for (const p of [...held.keys()]) await release(p, true);
      await kv.delete(`m.${id}`).catch(() => undefined);
      void stopped;
    },
  };
}
