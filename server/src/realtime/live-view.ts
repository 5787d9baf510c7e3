import {
  IncidentResolved,
  IncidentUpsert,
  LiveEvents,
  Snapshot,
  type Incident,
  type Summary,
} from '@downstream/shared';

/** The minimal event surface of a socket.io client socket. */
interface LiveSocketLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * What a /live client should hold: the reference client-side algorithm (tests and the
 * benchmark use it; the web store does the same). A snapshot replaces everything; a delta with
 * rev ≤ the view's rev is already contained and ignored.
 */
export class LiveView {
  rev = -1;
  incidents = new Map<string, Incident>();
  summary?: Summary;
  snapshots = 0;
  deltas = 0;
  ignored = 0;

  constructor(socket?: LiveSocketLike) {
    if (socket) this.attach(socket);
  }

  attach(socket: LiveSocketLike): void {
    socket.on(LiveEvents.snapshot, (s) => this.applySnapshot(Snapshot.parse(s)));
    socket.on(LiveEvents.upsert, (m) => this.applyUpsert(IncidentUpsert.parse(m)));
    socket.on(LiveEvents.resolved, (m) => this.applyResolved(IncidentResolved.parse(m)));
    socket.on(LiveEvents.summary, (s) => (this.summary = s as Summary));
  }

  applySnapshot(s: Snapshot): void {
    this.snapshots++;
    this.rev = s.rev;
    this.summary = s.summary;
    this.incidents = new Map(s.incidents.map((i) => [i.id, i]));
  }

  applyUpsert(m: IncidentUpsert): void {
    if (!this.accept(m.rev)) return;
    if (m.incident.status === 'resolved') this.incidents.delete(m.incident.id);
    else this.incidents.set(m.incident.id, m.incident);
  }

  applyResolved(m: IncidentResolved): void {
    if (!this.accept(m.rev)) return;
    this.incidents.delete(m.id);
  }

  /** A delta newer than the view is counted and moves its rev; an older one is counted as ignored. */
  private accept(rev: number): boolean {
    if (rev <= this.rev) {
      this.ignored++;
      return false;
    }
    this.deltas++;
    this.rev = rev;
    return true;
  }

  /** Sorted by id, for comparing with the server's active set. */
  list(): Incident[] {
    return [...this.incidents.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}
