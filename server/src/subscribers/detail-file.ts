import type { AccountingRecord } from './accounting.js';
import type { LineError, ParseSink } from './parse-errors.js';

/**
 * FreeRADIUS `detail` module files (what `raddb/mods-available/detail` writes per accounting
 * packet): a header line with the date, then one tab-indented `Attribute = value` per line, then a
 * blank line. Hand-written: the format is a few lines of grammar and no npm package reads it.
 *
 * ```
 * Wed Dec  2 10:00:00 2026
 * 	Acct-Status-Type = Start
 * 	User-Name = "alice"
 * 	Framed-IP-Address = 198.51.100.7
 * 	Event-Timestamp = "Dec  2 2026 10:00:00 UTC"
 * 	Timestamp = 1796205600
 *
 * ```
 */
export class DetailParser {
  private attrs: Map<string, string[]> | undefined;
  private start = 0;
  private lineNo = 0;
  private bad = false;

  constructor(
    private readonly file: string,
    private readonly sink: ParseSink<AccountingRecord>,
  ) {}

  private err(line: number, message: string): void {
    this.sink.error({ file: this.file, line, message } satisfies LineError);
  }

  /** Feed the next line (without its newline). */
  line(text: string): void {
    const n = ++this.lineNo;
    const t = text.replace(/\r$/, '');
    if (t.trim() === '') {
      this.finish();
      return;
    }
    if (!/^\s/.test(t)) {
      // A header line starts the next record, even without a blank line before it.
      this.finish();
      if (!Number.isFinite(Date.parse(t.trim())))
        this.err(
          n,
          `expected a record header (a date such as "Wed Dec  2 10:00:00 2026"), got ${JSON.stringify(t.slice(0, 60))}`,
        );
      this.attrs = new Map();
      this.start = n;
      this.bad = false;
      return;
    }
    if (!this.attrs) {
      if (!this.bad) this.err(n, 'attribute line outside a record (no header line before it)');
      this.bad = true;
      return;
    }
    const m = /^\s+([A-Za-z0-9][A-Za-z0-9_.:-]*)\s*(=|\+=|:=|==)\s*(.*)$/.exec(t);
    if (!m) {
      this.err(n, `expected "Attribute = value", got ${JSON.stringify(t.trim().slice(0, 60))}`);
      return;
    }
    const value = unquote(m[3].trim());
    const list = this.attrs.get(m[1]);
    if (list) list.push(value);
    else this.attrs.set(m[1], [value]);
  }

  /** End of input: emit the last record. */
  end(): void {
    this.finish();
  }

  private finish(): void {
    const a = this.attrs;
    this.attrs = undefined;
    if (!a) return;
    const one = (k: string): string | undefined => a.get(k)?.[0];
    const status = one('Acct-Status-Type');
    if (!status) {
      this.err(this.start, 'record without Acct-Status-Type');
      return;
    }
    const num = (k: string): number | undefined => {
      const v = one(k);
      return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
    };
    let at: number | undefined;
    const ev = one('Event-Timestamp');
    if (ev !== undefined) {
      at = /^\d+$/.test(ev) ? Number(ev) * 1000 : Date.parse(ev);
      if (!Number.isFinite(at)) {
        this.err(this.start, `Event-Timestamp ${JSON.stringify(ev)} is not a date`);
        return;
      }
    } else {
      const ts = num('Timestamp');
      if (ts === undefined) {
        this.err(this.start, 'record has neither Event-Timestamp nor Timestamp');
        return;
      }
      at = (ts - (num('Acct-Delay-Time') ?? 0)) * 1000;
    }
    const addresses = [
      ...(a.get('Framed-IP-Address') ?? []),
      ...(a.get('Framed-IPv6-Address') ?? []),
      ...(a.get('Framed-IPv6-Prefix') ?? []),
      ...(a.get('Delegated-IPv6-Prefix') ?? []),
    ];
    this.sink.record(
      {
        status: STATUS_NUMBERS[status] ?? status,
        userName: one('User-Name'),
        sessionId: one('Acct-Session-Id'),
        nas: one('NAS-IP-Address') ?? one('NAS-IPv6-Address') ?? one('Packet-Src-IP-Address'),
        addresses,
        at,
        sessionTime: num('Acct-Session-Time'),
      },
      this.start,
    );
  }
}

/** Acct-Status-Type written as a number when the server had no dictionary VALUE for it. */
const STATUS_NUMBERS: Record<string, string> = {
  '1': 'Start',
  '2': 'Stop',
  '3': 'Interim-Update',
  '7': 'Accounting-On',
  '8': 'Accounting-Off',
};

function unquote(v: string): string {
  if (v.length < 2 || v[0] !== '"' || v[v.length - 1] !== '"') return v;
  return v.slice(1, -1).replace(/\\(["\\])/g, '$1');
}
