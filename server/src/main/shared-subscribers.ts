import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { openPgDb } from '../store/sql-db.js';
import { SubscriberContacts } from '../subscribers/contacts.js';
import { BindingMirror, SharedSubscriberDirectory } from '../subscribers/shared-bindings.js';

const DAY = 86_400_000;

/**
 * With storage.postgres, the process that collects subscriber bindings copies them to the shared
 * store, so every API process of the cluster can say who held an address (and notify them).
 * Its name there: this host and storage path, the same across restarts.
 */
export function startBindingMirror(
  config: Config,
  local: Database.Database,
  logger: Logger,
): { mirror: BindingMirror; stop(): Promise<void> } | undefined {
  if (!config.storage.postgres) return undefined;
  const log = logger.child({ module: 'subscriber-mirror' });
  const shared = openPgDb({ url: config.storage.postgres, logger: log, maxConnections: 2 });
  const mirror = new BindingMirror({
    local,
    shared,
    origin: `${hostname()}:${resolve(config.storage.path)}`,
    retentionMs: (config.subscribers.retention_days ?? config.storage.retention_days) * DAY,
    logger: log,
  });
  mirror.start();
  return {
    mirror,
    async stop() {
      await mirror.stop();
      await shared.close();
    },
  };
}

/** An API process's subscriber directory: the shared bindings, the contacts of its own config. */
export function openSharedSubscribers(
  config: Config,
  logger: Logger,
): { directory: SharedSubscriberDirectory; close(): Promise<void> } | undefined {
  if (!config.storage.postgres) return undefined;
  const log = logger.child({ module: 'subscribers' });
  const db = openPgDb({ url: config.storage.postgres, logger: log, maxConnections: 2 });
  const directory = new SharedSubscriberDirectory({
    db,
    contacts: new SubscriberContacts(config.subscribers.contacts, log),
  });
  return { directory, close: () => db.close() };
}
