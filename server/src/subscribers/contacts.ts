import { readFile, stat } from 'node:fs/promises';
import { SubscriberContact } from '@downstream/shared';
import { parse } from 'csv-parse/sync';
import type { Logger } from 'pino';
import type { SubscribersConfig } from './config.js';
import type { LineError } from './parse-errors.js';

type ContactsConfig = SubscribersConfig['contacts'];

/**
 * Subscriber → contact, from the operator's subscribers CSV (header `subscriber,name,email,phone`,
 * re-read when its mtime changes) and, for subscribers it does not list, an HTTP lookup hook into
 * the CRM (answers cached). Bad CSV rows are reported by file:line; the others are kept.
 */
export class SubscriberContacts {
  private byId = new Map<string, SubscriberContact>();
  private mtime = -1;
  readonly errors: LineError[] = [];
  private readonly cache = new Map<string, { at: number; contact: SubscriberContact | null }>();

  constructor(
    private readonly cfg: ContactsConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get configured(): boolean {
    return this.cfg.csv !== undefined || this.cfg.lookup_url !== undefined;
  }

  /** Load (or reload, when changed) the CSV. */
  async refresh(): Promise<void> {
    const path = this.cfg.csv;
    if (!path) return;
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      this.logger.warn({ path, err: (err as Error).message }, 'subscribers CSV not readable');
      return;
    }
    if (st.mtimeMs === this.mtime) return;
    this.mtime = st.mtimeMs;
    const { contacts, errors } = parseContactsCsv(await readFile(path, 'utf8'), path);
    this.byId = contacts;
    this.errors.splice(0, this.errors.length, ...errors);
    for (const e of errors.slice(0, 20)) this.logger.warn(`${e.file}:${e.line}: ${e.message}`);
    this.logger.info({ path, contacts: contacts.size, errors: errors.length }, 'subscribers CSV loaded');
  }

  async lookup(subscriber: string): Promise<SubscriberContact | null> {
    await this.refresh();
    const hit = this.byId.get(subscriber);
    if (hit) return hit;
    const url = this.cfg.lookup_url;
    if (!url) return null;
    const cached = this.cache.get(subscriber);
    if (cached && this.now() - cached.at < this.cfg.cache_s * 1000) return cached.contact;
    const target = url.includes('{subscriber}')
      ? url.replaceAll('{subscriber}', encodeURIComponent(subscriber))
      : `${url}${url.includes('?') ? '&' : '?'}subscriber=${encodeURIComponent(subscriber)}`;
    const res = await fetch(target, {
      headers: { accept: 'application/json', ...this.cfg.headers },
      signal: AbortSignal.timeout(this.cfg.timeout_ms),
    });
    let contact: SubscriberContact | null = null;
    if (res.status === 404) {
      await res.body?.cancel();
    } else if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`subscriber lookup hook answered HTTP ${res.status}`);
    } else {
      const r = SubscriberContact.omit({ subscriber: true }).safeParse(await res.json());
      if (!r.success)
        throw new Error(
          `subscriber lookup hook answer: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
        );
      contact = { subscriber, ...r.data };
    }
    this.cache.set(subscriber, { at: this.now(), contact });
    return contact;
  }
}

export function parseContactsCsv(
  text: string,
  file: string,
): { contacts: Map<string, SubscriberContact>; errors: LineError[] } {
  const contacts = new Map<string, SubscriberContact>();
  const errors: LineError[] = [];
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
    }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (e) {
    const err = e as Error & { lines?: number };
    errors.push({ file, line: err.lines ?? 1, message: `not CSV: ${err.message}` });
    return { contacts, errors };
  }
  const head = rows.shift();
  const cols = head?.record.map((c) => c.toLowerCase()) ?? [];
  const at = (k: string): number => cols.indexOf(k);
  if (at('subscriber') < 0 || at('email') < 0) {
    errors.push({ file, line: 1, message: 'header must name at least the columns subscriber and email' });
    return { contacts, errors };
  }
  for (const { record, info } of rows) {
    const v = (k: string): string | undefined => (at(k) >= 0 ? record[at(k)] || undefined : undefined);
    const r = SubscriberContact.safeParse({
      subscriber: v('subscriber'),
      name: v('name'),
      email: v('email'),
      phone: v('phone'),
    });
    if (!r.success) {
      errors.push({
        file,
        line: info.lines,
        message: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
      continue;
    }
    contacts.set(r.data.subscriber, r.data);
  }
  return { contacts, errors };
}
