import { readFile, stat } from 'node:fs/promises';
import type { BindingSource, SubscriberBinding, SubscriberContact } from '@downstream/shared';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SubscriberDirectory } from './types.js';
import { FileTailer } from '../feeds/file-tailer.js';
import { SubscriberStore } from '../store/subscriber-store.js';
import { applyAccounting, type AccountingRecord } from './accounting.js';
import type { SubscribersConfig } from './config.js';
import { SubscriberContacts } from './contacts.js';
import { parseDhcpdLeases } from './dhcpd-leases.js';
import { DetailParser } from './detail-file.js';
import { KeaLeaseParser, type LeaseRecord } from './kea-leases.js';
import { applyLease } from './leases.js';
import { describeLineError, type LineError, type ParseSink } from './parse-errors.js';
import { RadiusAccountingListener, type AccountingStats } from './radius-accounting.js';

const DAY = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Errors kept per file for the health view (the log has them all). */
const KEEP_ERRORS = 20;

export interface FileSourceStatus {
  path: string;
  format: SubscribersConfig['files'][number]['format'];
  records: number;
  errors: number;
  lastErrors: string[];
}

export interface SubscribersStatus {
  bindings: number;
  radius?: AccountingStats & { port: number };
  files: FileSourceStatus[];
  contacts: { csvErrors: string[] };
}

export interface SubscribersOptions {
  config: SubscribersConfig;
  /** The store's database: the intervals live beside the incidents. */
  db: Database.Database;
  retentionDays: number;
  logger: Logger;
  registry?: Registry;
  now?: () => number;
}

/**
 * Address → subscriber at a time, fed by RADIUS accounting (UDP), FreeRADIUS detail files and DHCP
 * lease files, plus how to reach the subscriber. What incidents, the remediation list and the
 * endpoint page ask "who held this address then?".
 */
export class Subscribers implements SubscriberDirectory {
  readonly store: SubscriberStore;
  readonly contacts: SubscriberContacts;
  private listener?: RadiusAccountingListener;
  private radiusPort = 0;
  private readonly tailers: FileTailer[] = [];
  private readonly wholeFilePolls: (() => Promise<void>)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly files: FileSourceStatus[] = [];
  private readonly log: Logger;

  constructor(private readonly opts: SubscribersOptions) {
    this.log = opts.logger.child({ module: 'subscribers' });
    this.store = new SubscriberStore(opts.db, opts.now);
    this.contacts = new SubscriberContacts(opts.config.contacts, this.log, opts.now);
  }

  get config(): SubscribersConfig {
    return this.opts.config;
  }

  async start(): Promise<void> {
    const c = this.opts.config;
    if (c.radius) {
      this.listener = new RadiusAccountingListener({
        ...c.radius,
        store: this.store,
        logger: this.log,
        registry: this.opts.registry,
        now: this.opts.now,
      });
      this.radiusPort = await this.listener.start();
    }
    for (const f of c.files) this.follow(f.path, f.format);
    await this.contacts.refresh();
    const prune = (): void => {
      const keep = (c.retention_days ?? this.opts.retentionDays) * DAY;
      try {
        const n = this.store.prune((this.opts.now ?? Date.now)() - keep);
        if (n > 0) this.log.info({ removed: n }, 'expired subscriber bindings removed');
      } catch (err) {
        this.log.error({ err }, 'subscriber binding retention failed');
      }
    };
    prune();
    const t = setInterval(prune, PRUNE_EVERY_MS);
    t.unref();
    this.timers.push(t);
  }

  /** The UDP port the accounting listener bound (config port 0 picks one). */
  get port(): number {
    return this.radiusPort;
  }

  private follow(path: string, format: FileSourceStatus['format']): void {
    const status: FileSourceStatus = { path, format, records: 0, errors: 0, lastErrors: [] };
    this.files.push(status);
    const source: BindingSource = format;
    const onError = (e: LineError): void => {
      status.errors++;
      const msg = describeLineError(e);
      status.lastErrors.push(msg);
      if (status.lastErrors.length > KEEP_ERRORS) status.lastErrors.shift();
      this.log.warn(msg);
    };
    const guard = (f: () => void, line: number): void => {
      try {
        f();
        status.records++;
      } catch (err) {
        onError({ file: path, line, message: (err as Error).message });
      }
    };
    if (format === 'dhcpd') {
      // Rewritten and appended by dhcpd: parse the whole file whenever it changes.
      let sig = '';
      const poll = async (): Promise<void> => {
        try {
          const st = await stat(path);
          const s = `${st.ino}:${st.size}:${st.mtimeMs}`;
          if (s === sig) return;
          sig = s;
          const sink: ParseSink<LeaseRecord> = {
            record: (l, line) => guard(() => applyLease(this.store, l, 'dhcpd'), line),
            error: onError,
          };
          const text = await readFile(path, 'utf8');
          this.opts.db.transaction(() => parseDhcpdLeases(text, path, sink))();
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.error({ err, path }, 'dhcpd lease file');
        }
      };
      let busy: Promise<void> = Promise.resolve();
      const serial = (): Promise<void> => (busy = busy.then(poll));
      this.wholeFilePolls.push(serial);
      void serial();
      const t = setInterval(() => void serial(), this.opts.config.poll_ms);
      t.unref();
      this.timers.push(t);
      return;
    }
    const parser =
      format === 'kea'
        ? new KeaLeaseParser(path, {
            record: (l: LeaseRecord, line) => guard(() => applyLease(this.store, l, 'kea'), line),
            error: onError,
          })
        : new DetailParser(path, {
            record: (r: AccountingRecord, line) => guard(() => applyAccounting(this.store, r, source), line),
            error: onError,
          });
    const t = new FileTailer(path, {
      pollMs: this.opts.config.poll_ms,
      fromStart: true,
      blankLines: true,
      logger: this.log,
      onLine: (l) => parser.line(l),
      onError: (message) => onError({ file: path, line: 0, message }),
    });
    t.start();
    this.tailers.push(t);
  }

  /** Run every file source's next read now (tests). */
  async pollFiles(): Promise<void> {
    await Promise.all([...this.tailers.map((t) => t.poll()), ...this.wholeFilePolls.map((p) => p())]);
  }

  /** Who held `ip` during the abuse interval [fromMs, toMs] (the holder at its end preferred). */
  async holder(ip: string, fromMs: number, toMs: number): Promise<SubscriberBinding | undefined> {
    return this.store.holderDuring(ip, fromMs, toMs);
  }

  async during(ip: string, fromMs: number, toMs: number): Promise<SubscriberBinding[]> {
    return this.store.during(ip, fromMs, toMs);
  }

  async openSessions(subscriber: string): Promise<SubscriberBinding[]> {
    return this.store.openSessions(subscriber);
  }

  async contact(subscriber: string): Promise<SubscriberContact | null> {
    return this.contacts.lookup(subscriber);
  }

  status(): SubscribersStatus {
    return {
      bindings: this.store.count(),
      ...(this.listener ? { radius: { ...this.listener.stats, port: this.radiusPort } } : {}),
      files: this.files.map((f) => ({ ...f, lastErrors: [...f.lastErrors] })),
      contacts: { csvErrors: this.contacts.errors.map(describeLineError) },
    };
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.tailers.map((t) => t.stop()));
    await this.listener?.stop();
  }
}

export async function startSubscribers(opts: SubscribersOptions): Promise<Subscribers> {
  const s = new Subscribers(opts);
  await s.start();
  return s;
}
