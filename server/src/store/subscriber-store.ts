import type { BindingSource, SubscriberBinding } from '@downstream/shared';
import type Database from 'better-sqlite3';
import ipaddr from 'ipaddr.js';
import { migrate } from './migrations.js';

/**
 * Address → subscriber over time: one row per RADIUS session or DHCP lease and address/prefix
 * held, as an interval [from, to) (to NULL while open). Residential addresses are re-assigned, so
 * "who had 198.51.100.7" only has an answer with a time attached.
 *
 * Lives in the store's SQLite file (downstream.sqlite) under its own migration component.
 */
const MIGRATIONS = [
  `CREATE TABLE subscriber_bindings (
     id INTEGER PRIMARY KEY,
     family INTEGER NOT NULL,
     net TEXT NOT NULL,
     plen INTEGER NOT NULL,
     subscriber TEXT NOT NULL,
     session TEXT,
     nas TEXT,
     source TEXT NOT NULL,
     from_ms INTEGER NOT NULL,
     to_ms INTEGER,
     updated_ms INTEGER NOT NULL
   );
   CREATE INDEX subscriber_bindings_net ON subscriber_bindings (net, plen, from_ms);
   CREATE INDEX subscriber_bindings_session ON subscriber_bindings (session, nas) WHERE session IS NOT NULL;
   CREATE INDEX subscriber_bindings_to ON subscriber_bindings (to_ms);`,
];

/** One binding as the sources report it; `prefix` is an address (a host route) or a CIDR prefix. */
export interface BindingInput {
  prefix: string;
  subscriber: string;
  session: string | null;
  nas: string | null;
  source: BindingSource;
  from: number;
  /** null: still open (RADIUS Start / Interim-Update). */
  to: number | null;
}

export interface BindingRow {
  id: number;
  family: number;
  net: string;
  plen: number;
  subscriber: string;
  session: string | null;
  nas: string | null;
  source: BindingSource;
  from_ms: number;
  to_ms: number | null;
  updated_ms: number;
}

export class BindingError extends Error {}

export const FOREVER = Number.MAX_SAFE_INTEGER;

export function parseAddr(s: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const a = ipaddr.parse(s);
  // An IPv4-mapped IPv6 address is the IPv4 host the flows name.
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a;
}

export function network(addr: ipaddr.IPv4 | ipaddr.IPv6, plen: number): string {
  const bytes = addr.toByteArray();
  for (let bit = plen; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Canonical (family, network, prefix length) of an address or prefix; throws BindingError. */
export function canonicalPrefix(s: string): { family: 4 | 6; net: string; plen: number } {
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  if (!ipaddr.isValid(addrText)) throw new BindingError(`not an IP address: ${JSON.stringify(s)}`);
  const addr = parseAddr(addrText);
  const family = addr.kind() === 'ipv4' ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let plen = max;
  if (slash >= 0) {
    const t = s.slice(slash + 1);
    plen = /^\d{1,3}$/.test(t) ? Number(t) : NaN;
    // A mapped address carried its /len in IPv6 bits.
    if (family === 4 && addrText.includes(':')) plen -= 96;
    if (!(plen >= 0 && plen <= max)) throw new BindingError(`bad prefix length in ${JSON.stringify(s)}`);
  }
  return { family, net: network(addr, plen), plen };
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function toBinding(r: BindingRow): SubscriberBinding {
  return {
    prefix: `${r.net}/${r.plen}`,
    subscriber: r.subscriber,
    session: r.session,
    nas: r.nas,
    source: r.source,
    from: iso(r.from_ms),
    to: r.to_ms === null ? null : iso(r.to_ms),
  };
}

export class SubscriberStore {
  private readonly st;
  /** Prefix lengths present per family: a lookup tries each (longest first) as an exact key. */
  private plens = new Map<4 | 6, number[]>();

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    migrate(db, 'subscribers', MIGRATIONS);
    this.st = {
      overlapping: db.prepare<[string, number, number, number], BindingRow>(
        `SELECT * FROM subscriber_bindings WHERE net = ? AND plen = ? AND from_ms <= ? AND COALESCE(to_ms, ${FOREVER}) >= ?
         ORDER BY from_ms`,
      ),
      insert: db.prepare(
        `INSERT INTO subscriber_bindings (family, net, plen, subscriber, session, nas, source, from_ms, to_ms, updated_ms)
         VALUES (@family, @net, @plen, @subscriber, @session, @nas, @source, @from, @to, @now)`,
      ),
      update: db.prepare('UPDATE subscriber_bindings SET from_ms = ?, to_ms = ?, updated_ms = ? WHERE id = ?'),
      at: db.prepare<[string, number, number, number], BindingRow>(
        `SELECT * FROM subscriber_bindings WHERE net = ? AND plen = ? AND from_ms <= ? AND (to_ms IS NULL OR to_ms > ?)
         ORDER BY from_ms DESC LIMIT 1`,
      ),
      during: db.prepare<[string, number, number, number], BindingRow>(
        `SELECT * FROM subscriber_bindings WHERE net = ? AND plen = ? AND from_ms < ? AND COALESCE(to_ms, ${FOREVER}) > ?
         ORDER BY from_ms DESC LIMIT 100`,
      ),
      stopSession: db.prepare(
        `UPDATE subscriber_bindings SET to_ms = MAX(from_ms, @at), updated_ms = @now
         WHERE source = @source AND session = @session AND nas IS @nas AND to_ms IS NULL AND from_ms <= @at`,
      ),
      stopNas: db.prepare(
        `UPDATE subscriber_bindings SET to_ms = MAX(from_ms, @at), updated_ms = @now
         WHERE source = @source AND nas = @nas AND to_ms IS NULL AND from_ms <= @at`,
      ),
      end: db.prepare(
        `UPDATE subscriber_bindings SET to_ms = @at, updated_ms = @now WHERE net = @net AND plen = @plen
         AND subscriber = @subscriber AND source = @source AND from_ms <= @at AND COALESCE(to_ms, ${FOREVER}) > @at`,
      ),
      openSessions: db.prepare<[string], BindingRow>(
        `SELECT * FROM subscriber_bindings WHERE subscriber = ? AND to_ms IS NULL AND session IS NOT NULL
         ORDER BY from_ms DESC LIMIT 20`,
      ),
      prune: db.prepare('DELETE FROM subscriber_bindings WHERE to_ms IS NOT NULL AND to_ms < ?'),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM subscriber_bindings'),
    };
    this.loadPlens();
  }

  private loadPlens(): void {
    const rows = this.db
      .prepare<[], { family: 4 | 6; plen: number }>('SELECT DISTINCT family, plen FROM subscriber_bindings')
      .all();
    this.plens = new Map();
    for (const r of rows) this.addPlen(r.family, r.plen);
  }

  private addPlen(family: 4 | 6, plen: number): void {
    const l = this.plens.get(family) ?? [];
    if (!l.includes(plen)) {
      l.push(plen);
      l.sort((a, b) => b - a);
      this.plens.set(family, l);
    }
  }

  /**
   * Record one session or lease. The same session/lease seen again (Interim-Update, Stop, a DHCP
   * renewal) extends its interval; a different subscriber overlapping it means the address was
   * re-assigned, so the earlier holder's interval ends where the later one's starts. Data may
   * arrive out of order (a detail file read after live accounting): the later start always wins.
   */
  record(b: BindingInput): void {
    const p = canonicalPrefix(b.prefix);
    if (!b.subscriber) throw new BindingError('empty subscriber');
    if (!Number.isFinite(b.from) || (b.to !== null && !Number.isFinite(b.to))) throw new BindingError('invalid time');
    if (b.to !== null && b.to < b.from) throw new BindingError('interval ends before it starts');
    const now = this.now();
    this.db.transaction(() => {
      const from = b.from;
      let to = b.to;
      let merged = false;
      for (const r of this.st.overlapping.all(p.net, p.plen, to ?? FOREVER, from)) {
        const same = r.subscriber === b.subscriber && r.session === b.session && r.nas === b.nas;
        if (same && !merged) {
          merged = true;
          // A Stop closes an open session; an Interim-Update after a Stop leaves it closed.
          const newTo = to === null ? r.to_ms : r.to_ms === null ? to : Math.max(r.to_ms, to);
          this.st.update.run(Math.min(r.from_ms, from), newTo, now, r.id);
          continue;
        }
        if (same) continue;
        const rTo = r.to_ms ?? FOREVER;
        if (rTo <= from || r.from_ms >= (to ?? FOREVER)) continue; // only touching
        if (r.from_ms < from) {
          // Re-assigned: the earlier holder's interval ends when ours starts.
          this.st.update.run(r.from_ms, from, now, r.id);
        } else {
          // A later holder is already known: ours ends where theirs starts.
          to = r.from_ms;
        }
      }
      if (!merged && (to === null || to > from)) {
        this.st.insert.run({
          family: p.family,
          net: p.net,
          plen: p.plen,
          subscriber: b.subscriber,
          session: b.session,
          nas: b.nas,
          source: b.source,
          from,
          to,
          now,
        });
        this.addPlen(p.family, p.plen);
      }
    })();
  }

  /** End every still-open binding of one session (RADIUS Stop without addresses in it). */
  stopSession(source: BindingSource, nas: string | null, session: string, at: number): number {
    return this.st.stopSession.run({ source, nas, session, at, now: this.now() }).changes;
  }

  /** A DHCP release: whatever `subscriber` held of `prefix` at `at` ends there. */
  end(prefix: string, subscriber: string, source: BindingSource, at: number): number {
    const p = canonicalPrefix(prefix);
    return this.st.end.run({ net: p.net, plen: p.plen, subscriber, source, at, now: this.now() }).changes;
  }

  /** End every open session of a NAS (Accounting-On / -Off: the BNG restarted, its sessions are gone). */
  stopNas(source: BindingSource, nas: string, at: number): number {
    return this.st.stopNas.run({ source, nas, at, now: this.now() }).changes;
  }

  /** Who held `ip` at `atMs` (longest matching prefix wins), if anyone is known to. */
  lookup(ip: string, atMs: number): SubscriberBinding | undefined {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = parseAddr(ip);
    } catch {
      return undefined;
    }
    const family = addr.kind() === 'ipv4' ? 4 : 6;
    for (const plen of this.plens.get(family) ?? []) {
      const r = this.st.at.get(network(addr, plen), plen, atMs, atMs);
      if (r) return toBinding(r);
    }
    return undefined;
  }

  /**
   * The holder for an abuse interval: whoever held the address at its end, else the last one
   * holding it during it (the session may have ended just before the abuse was last seen).
   */
  holderDuring(ip: string, fromMs: number, toMs: number): SubscriberBinding | undefined {
    return this.lookup(ip, toMs) ?? this.during(ip, fromMs, toMs + 1)[0];
  }

  /** Everyone who held `ip` during [fromMs, toMs), newest first (at most 100 per prefix length). */
  during(ip: string, fromMs: number, toMs: number): SubscriberBinding[] {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = parseAddr(ip);
    } catch {
      return [];
    }
    const family = addr.kind() === 'ipv4' ? 4 : 6;
    const out: BindingRow[] = [];
    for (const plen of this.plens.get(family) ?? [])
      out.push(...this.st.during.all(network(addr, plen), plen, toMs, fromMs));
    return out.sort((a, b) => b.from_ms - a.from_ms || b.plen - a.plen).map(toBinding);
  }

  /** The subscriber's RADIUS sessions still open, newest first: what a CoA must address now. */
  openSessions(subscriber: string): SubscriberBinding[] {
    return this.st.openSessions.all(subscriber).map(toBinding);
  }

  /** Drop bindings that ended before `beforeMs` (the store's retention). */
  prune(beforeMs: number): number {
    const n = this.st.prune.run(beforeMs).changes;
    if (n > 0) this.loadPlens();
    return n;
  }

  count(): number {
    return this.st.count.get()!.n;
  }
}
