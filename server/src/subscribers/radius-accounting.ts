import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { SubscriberStore } from '../store/subscriber-store.js';
import { applyAccounting, type AccountingOutcome, type AccountingRecord } from './accounting.js';
import {
  ATTR,
  attrDate,
  attrNumber,
  attrString,
  BadPacket,
  checkFraming,
  decodeIpv6Address,
  decodeIpv6Prefix,
  decodeVerified,
  radius,
  rawValues,
  type BadReason,
} from './radius-packet.js';

export interface AccountingListenerOptions {
  host: string;
  port: number;
  /** Shared secret for every client not listed in `clients`. */
  secret?: string;
  /** Per-client (packet source address) secrets; with `secret` unset only these are accepted. */
  clients: Record<string, string>;
  store: SubscriberStore;
  logger: Logger;
  registry?: Registry;
  now?: () => number;
}

export interface AccountingStats {
  received: number;
  accepted: number;
  bad: Partial<Record<BadReason, number>>;
  ignored: number;
  lastBad?: { at: string; from: string; reason: BadReason; message: string };
}

export interface HandledDatagram {
  /** Accounting-Response to send back; none for a bad packet (the NAS retries or gives up). */
  response?: Buffer;
  outcome?: AccountingOutcome;
  bad?: BadPacket;
}

/** The record a verified Accounting-Request carries. */
export function recordFromPacket(p: radius.RadiusPacket, from: string, receivedAt: number): AccountingRecord {
  const addresses: string[] = [];
  const v4 = attrString(p, 'Framed-IP-Address');
  if (v4) addresses.push(v4);
  for (const v of rawValues(p, ATTR.framedIpv6Address)) {
    const a = decodeIpv6Address(v);
    if (a) addresses.push(a);
  }
  for (const t of [ATTR.framedIpv6Prefix, ATTR.delegatedIpv6Prefix]) {
    for (const v of rawValues(p, t)) {
      const a = decodeIpv6Prefix(v);
      if (a) addresses.push(a);
    }
  }
  const nas6 = rawValues(p, ATTR.nasIpv6Address).map(decodeIpv6Address).find(Boolean);
  const event = attrDate(p, 'Event-Timestamp');
  const delay = attrNumber(p, 'Acct-Delay-Time') ?? 0;
  return {
    status: attrString(p, 'Acct-Status-Type') ?? '',
    userName: attrString(p, 'User-Name'),
    sessionId: attrString(p, 'Acct-Session-Id'),
    nas: attrString(p, 'NAS-IP-Address') ?? nas6 ?? from,
    addresses,
    at: event ?? receivedAt - delay * 1000,
    sessionTime: attrNumber(p, 'Acct-Session-Time'),
  };
}

/**
 * RFC 2866 accounting server: verifies each Accounting-Request's Request Authenticator with the
 * client's shared secret, turns it into address → subscriber intervals and answers with an
 * Accounting-Response once recorded. Bad datagrams are counted by reason and logged (at most once
 * per reason every 10 s), never answered.
 */
export class RadiusAccountingListener {
  private socket?: Socket;
  readonly stats: AccountingStats = { received: 0, accepted: 0, bad: {}, ignored: 0 };
  private readonly lastLogged = new Map<BadReason, number>();
  private readonly mPackets?: Counter;
  private readonly mBad?: Counter;

  constructor(private readonly opts: AccountingListenerOptions) {
    if (opts.registry) {
      this.mPackets = new Counter({
        name: 'downstream_radius_accounting_packets_total',
        help: 'RADIUS Accounting-Requests accepted, by Acct-Status-Type outcome',
        labelNames: ['result'],
        registers: [opts.registry],
      });
      this.mBad = new Counter({
        name: 'downstream_radius_bad_packets_total',
        help: 'RADIUS datagrams dropped, by reason',
        labelNames: ['reason'],
        registers: [opts.registry],
      });
    }
  }

  private secretFor(address: string): string | undefined {
    return this.opts.clients[address] ?? this.opts.secret;
  }

  /** Everything but the socket: what a datagram from `rinfo` makes the listener do. */
  handle(msg: Buffer, rinfo: Pick<RemoteInfo, 'address' | 'port'>): HandledDatagram {
    const now = (this.opts.now ?? Date.now)();
    this.stats.received++;
    try {
      const buf = checkFraming(msg);
      const from = rinfo.address.startsWith('::ffff:') ? rinfo.address.slice(7) : rinfo.address;
      const secret = this.secretFor(from);
      if (secret === undefined) throw new BadPacket('unknown-client', `no shared secret configured for ${from}`);
      const code = buf[0];
      if (code !== 4)
        throw new BadPacket('not-accounting', `RADIUS code ${code}, this port takes Accounting-Request (4)`);
      const p = decodeVerified(buf, secret);
      const rec = recordFromPacket(p, from, now);
      if (!rec.status) throw new BadPacket('no-status-type', 'Accounting-Request without Acct-Status-Type');
      const outcome = applyAccounting(this.opts.store, rec, 'radius');
      this.stats.accepted++;
      if (outcome.result === 'ignored') {
        this.stats.ignored++;
        this.opts.logger.debug({ from, why: outcome.why }, 'RADIUS accounting record without an address binding');
      }
      this.mPackets?.inc({ result: outcome.result });
      return { outcome, response: radius.encode_response({ packet: p, code: 'Accounting-Response', secret }) };
    } catch (e) {
      if (!(e instanceof BadPacket)) throw e;
      this.stats.bad[e.reason] = (this.stats.bad[e.reason] ?? 0) + 1;
      this.stats.lastBad = {
        at: new Date(now).toISOString(),
        from: rinfo.address,
        reason: e.reason,
        message: e.message,
      };
      this.mBad?.inc({ reason: e.reason });
      const last = this.lastLogged.get(e.reason) ?? 0;
      if (now - last >= 10_000) {
        this.lastLogged.set(e.reason, now);
        this.opts.logger.warn(
          { from: `${rinfo.address}:${rinfo.port}`, reason: e.reason, total: this.stats.bad[e.reason] },
          `bad RADIUS accounting packet: ${e.message}`,
        );
      }
      return { bad: e };
    }
  }

  async start(): Promise<number> {
    const family = this.opts.host.includes(':') ? 'udp6' : 'udp4';
    const s = createSocket({ type: family, reuseAddr: false });
    this.socket = s;
    s.on('message', (msg, rinfo) => {
      let r: HandledDatagram;
      try {
        r = this.handle(msg, rinfo);
      } catch (err) {
        // A store failure: no Accounting-Response, so the NAS sends it again.
        this.opts.logger.error({ err }, 'RADIUS accounting record could not be stored');
        return;
      }
      if (r.response) s.send(r.response, rinfo.port, rinfo.address);
    });
    s.on('error', (err) => this.opts.logger.error({ err }, 'RADIUS accounting socket error'));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.opts.port, this.opts.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    const port = (s.address() as AddressInfo).port;
    this.opts.logger.info({ host: this.opts.host, port }, 'RADIUS accounting listening');
    return port;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
