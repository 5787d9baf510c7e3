import { Incident } from '@downstream/shared';
import type { Logger } from 'pino';
import { z } from 'zod';

/**
 * Server-to-server messages, JSON on a Redis pub/sub channel (live.ts). They never reach
 * browsers, so they live here rather than in shared/. Every message names its sender; Redis
 * delivers one publisher's messages in order, which is what makes "state then deltas" and
 * "heartbeat lists what was published before it" sound. Pub/sub may lose messages (a peer not
 * yet subscribed, a reconnect): heartbeats repair that.
 */

const Node = z.string().min(1).max(100);
const Traffic = z.object({
  flowsPerSecond: z.number().nonnegative(),
  packetsPerSecond: z.number().nonnegative(),
  bitsPerSecond: z.number().nonnegative(),
});
export type PeerTraffic = z.infer<typeof Traffic>;

export const ClusterMessage = z.discriminatedUnion('type', [
  /** A local incident as sent to this process's clients (already coalesced and trimmed). */
  z.object({ v: z.literal(1), type: z.literal('upsert'), from: Node, incident: Incident }),
  z.object({ v: z.literal(1), type: z.literal('resolved'), from: Node, id: z.string().min(1) }),
  /** Every heartbeat: the ids published so far and not resolved, and this process's own traffic. */
  z.object({
    v: z.literal(1),
    type: z.literal('heartbeat'),
    from: Node,
    ids: z.array(z.string()),
    traffic: Traffic,
    exporters: z.array(z.string()).max(100_000),
  }),
  /** "Send me your state": to everyone on start, or to one peer after a gap. */
  z.object({ v: z.literal(1), type: z.literal('hello'), from: Node, to: Node.optional() }),
  z.object({ v: z.literal(1), type: z.literal('state'), from: Node, to: Node, incidents: z.array(Incident) }),
  /** Clean shutdown: drop my incidents now rather than after the expiry. */
  z.object({ v: z.literal(1), type: z.literal('bye'), from: Node }),
  /** A client here subscribed to a mirrored incident: its owner sends series and graph to the room. */
  z.object({ v: z.literal(1), type: z.literal('room'), from: Node, id: z.string().min(1) }),
]);
export type ClusterMessage = z.infer<typeof ClusterMessage>;
/** What a sender fills in; `v` and `from` are added by the mirror. */
type Outgoing = ClusterMessage extends infer M ? (M extends ClusterMessage ? Omit<M, 'v' | 'from'> : never) : never;

export interface ClusterMirrorOptions {
  /** This process's id on the bus (random per start). */
  node: string;
  /** Publishes a message to every other process. */
  send: (msg: ClusterMessage) => void;
  /** What this process has published and not resolved: state replies. */
  published: () => Incident[];
  /** Heartbeat payload: ids as published, and this process's own (not summed) traffic. */
  heartbeat: () => { ids: string[]; traffic: PeerTraffic; exporters: string[] };
  /** A mirrored incident appeared or changed: tell this process's clients. */
  onUpsert: (inc: Incident) => void;
  /** A mirrored incident went away (resolved, missing from its owner's heartbeat, owner gone). */
  onRemoved: (id: string) => void;
  /** A peer has a subscriber to this incident's room (we may not own it: ignore then). */
  onRoomWanted?: (id: string) => void;
  /** A peer is dropped after this long without a word from it. */
  expiryMs: number;
  /** Most incidents held for all peers together; more are ignored (and counted). */
  maxIncidents: number;
  /** Least time between two state requests to one peer. */
  resyncMs: number;
  logger: Logger;
  now?: () => number;
  /** Counters for /metrics: messages by type, rejected messages, incidents ignored for the cap. */
  count?: (what: ClusterMessage['type'] | 'rejected' | 'over-cap' | 'expired') => void;
}

interface Peer {
  lastHeard: number;
  incidents: Map<string, Incident>;
  traffic?: PeerTraffic;
  exporters: string[];
  stateRequestedAt: number;
}

/**
 * The part of the other processes' live state a socket.io server needs for snapshots and the
 * summary: their active incidents and their traffic figures. Fed only by their messages; a
 * peer that stops talking (killed, partitioned from Redis) is dropped after `expiryMs`, its
 * incidents removed, since nobody would update or resolve them any more.
 */
export class ClusterMirror {
  private readonly peers = new Map<string, Peer>();
  private total = 0;
  private readonly now: () => number;
  private lastRejectLog = 0;

  constructor(private readonly o: ClusterMirrorOptions) {
    this.now = o.now ?? Date.now;
  }

  private send(msg: Outgoing): void {
    this.o.send({ v: 1, from: this.o.node, ...msg } as ClusterMessage);
  }

  /** On start: ask every peer for its state (the answers come as `state` addressed to us). */
  start(): void {
    this.send({ type: 'hello' });
    this.beat();
  }

  /** Clean shutdown. */
  stop(): void {
    this.o.logger.info('leaving the realtime bus');
    this.send({ type: 'bye' });
  }

  /** Every heartbeat period: announce ourselves, drop peers that went quiet. */
  tick(): void {
    this.beat();
    const now = this.now();
    for (const [node, peer] of this.peers) {
      if (now - peer.lastHeard > this.o.expiryMs) {
        this.o.logger.warn(
          { peer: node, incidents: peer.incidents.size, silentMs: now - peer.lastHeard },
          'peer silent past the expiry; dropping its incidents',
        );
        this.o.count?.('expired');
        this.dropPeer(node);
      }
    }
  }

  private beat(): void {
    this.send({ type: 'heartbeat', ...this.o.heartbeat() });
  }

  handle(raw: unknown): void {
    const r = ClusterMessage.safeParse(raw);
    if (!r.success) {
      this.o.count?.('rejected');
      const now = this.now();
      if (now - this.lastRejectLog > 10_000) {
        this.lastRejectLog = now;
        this.o.logger.warn({ issues: r.error.issues.slice(0, 3) }, 'ignoring a malformed cluster message');
      }
      return;
    }
    const m = r.data;
    if (m.from === this.o.node) return;
    this.o.count?.(m.type);
    this.o.logger.trace({ type: m.type, from: m.from }, 'cluster message');
    if (m.type === 'bye') {
      this.o.logger.info({ peer: m.from, incidents: this.peers.get(m.from)?.incidents.size ?? 0 }, 'peer left');
      this.dropPeer(m.from);
      return;
    }
    const peer = this.touch(m.from);
    switch (m.type) {
      case 'hello':
        this.o.logger.debug({ peer: m.from, to: m.to }, 'state requested');
        if (m.to === undefined || m.to === this.o.node)
          this.send({ type: 'state', to: m.from, incidents: this.o.published() });
        break;
      case 'state': {
        if (m.to !== this.o.node) break;
        this.o.logger.debug({ peer: m.from, incidents: m.incidents.length }, 'peer state');
        const seen = new Set<string>();
        for (const inc of m.incidents) {
          seen.add(inc.id);
          this.put(peer, inc);
        }
        for (const id of [...peer.incidents.keys()]) if (!seen.has(id)) this.remove(peer, id);
        break;
      }
      case 'upsert':
        this.put(peer, m.incident);
        break;
      case 'resolved':
        this.remove(peer, m.id);
        break;
      case 'room':
        this.o.onRoomWanted?.(m.id);
        break;
      case 'heartbeat': {
        peer.traffic = m.traffic;
        peer.exporters = m.exporters;
        const ids = new Set(m.ids);
        // In stream order, so an id we hold that is not listed was resolved (a missed message).
        for (const id of [...peer.incidents.keys()]) if (!ids.has(id)) this.remove(peer, id);
        // Listed but unknown: we missed its upsert (we just started, or Redis dropped it).
        const gap = m.ids.some((id) => !peer.incidents.has(id));
        const now = this.now();
        if (gap && this.total < this.o.maxIncidents && now - peer.stateRequestedAt >= this.o.resyncMs) {
          peer.stateRequestedAt = now;
          this.o.logger.debug({ peer: m.from }, 'missed incidents of a peer; asking for its state');
          this.send({ type: 'hello', to: m.from });
        }
        break;
      }
    }
  }

  private touch(node: string): Peer {
    let peer = this.peers.get(node);
    if (!peer) {
      peer = { lastHeard: 0, incidents: new Map(), exporters: [], stateRequestedAt: -Infinity };
      this.peers.set(node, peer);
      this.o.logger.info({ peer: node }, 'new peer on the realtime bus');
    }
    peer.lastHeard = this.now();
    return peer;
  }

  private put(peer: Peer, inc: Incident): void {
    if (inc.status === 'resolved') return this.remove(peer, inc.id);
    if (!peer.incidents.has(inc.id)) {
      if (this.total >= this.o.maxIncidents) {
        this.o.count?.('over-cap');
        return;
      }
      this.total++;
    }
    peer.incidents.set(inc.id, inc);
    this.o.onUpsert(inc);
  }

  private remove(peer: Peer, id: string): void {
    if (!peer.incidents.delete(id)) return;
    this.o.logger.debug({ id }, 'mirrored incident removed');
    this.total--;
    this.o.onRemoved(id);
  }

  private dropPeer(node: string): void {
    const peer = this.peers.get(node);
    if (!peer) return;
    for (const id of [...peer.incidents.keys()]) this.remove(peer, id);
    this.peers.delete(node);
  }

  /** Every mirrored incident (other processes' active ones). */
  incidents(): Incident[] {
    const out: Incident[] = [];
    for (const peer of this.peers.values()) for (const inc of peer.incidents.values()) out.push(inc);
    return out;
  }

  /** Asks the owner of a mirrored incident to send its series and graph to the room. */
  wantRoom(id: string): void {
    this.send({ type: 'room', id });
  }

  has(id: string): boolean {
    for (const peer of this.peers.values()) if (peer.incidents.has(id)) return true;
    return false;
  }

  get size(): number {
    return this.total;
  }

  /** Live peers' own traffic figures and exporter addresses (from their last heartbeat). */
  peerFigures(): { node: string; traffic?: PeerTraffic; exporters: string[] }[] {
    return [...this.peers].map(([node, p]) => ({ node, traffic: p.traffic, exporters: p.exporters }));
  }
}
