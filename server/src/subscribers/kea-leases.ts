import { parse } from 'csv-parse/sync';
import ipaddr from 'ipaddr.js';
import type { LineError, ParseSink } from './parse-errors.js';

/** A DHCP lease as the lease sources read it: who held `prefix` over [from, to]. */
export interface LeaseRecord {
  prefix: string;
  subscriber: string;
  from: number;
  to: number;
  /** A release/deletion: end whatever the client held at `to`. */
  released?: boolean;
}

/**
 * Kea memfile lease files (`kea-leases4.csv`, `kea-leases6.csv`): a header line naming the columns
 * (which differ between Kea versions, so columns are found by name), then one line per lease
 * change, appended. A lease's interval is [expire − valid_lifetime, expire]; a line with
 * valid_lifetime 0 is Kea's record of a released or deleted lease. Kea escapes commas inside
 * values as `&#x2c`, so its lines have no CSV quoting; each line is still read with csv-parse
 * (quotes off) so a stray quote cannot swallow the lines after it.
 */
export class KeaLeaseParser {
  private cols: Map<string, number> | undefined;
  private family: 4 | 6 | undefined;
  private lineNo = 0;

  constructor(
    private readonly file: string,
    private readonly sink: ParseSink<LeaseRecord>,
  ) {}

  private err(line: number, message: string): void {
    this.sink.error({ file: this.file, line, message } satisfies LineError);
  }

  line(text: string): void {
    const n = ++this.lineNo;
    const t = text.replace(/\r$/, '');
    if (t.trim() === '') return;
    let fields: string[];
    try {
      fields = (parse(t, { quote: false, relax_column_count: true }) as string[][])[0] ?? [];
    } catch (e) {
      this.err(n, `not a CSV line: ${(e as Error).message}`);
      return;
    }
    if (fields[0] === 'address') {
      // A header: the first line of the file, and again after Kea's lease file cleanup rotates it.
      this.cols = new Map(fields.map((f, i) => [f.trim(), i]));
      this.family = this.cols.has('duid') ? 6 : this.cols.has('hwaddr') ? 4 : undefined;
      if (!this.cols.has('expire') || !this.cols.has('valid_lifetime') || this.family === undefined) {
        this.err(n, 'header lacks address, expire, valid_lifetime and hwaddr (lease4) or duid (lease6)');
        this.cols = undefined;
      }
      return;
    }
    const cols = this.cols;
    if (!cols) {
      this.err(n, 'lease line before a Kea header line (address,hwaddr,… or address,duid,…)');
      return;
    }
    const get = (k: string): string => (fields[cols.get(k) ?? -1] ?? '').trim().replace(/&#x2c/g, ',');
    if (fields.length < cols.size - 1) {
      this.err(n, `${fields.length} fields, the header has ${cols.size}`);
      return;
    }
    const address = get('address');
    if (!ipaddr.isValid(address)) {
      this.err(n, `address ${JSON.stringify(address)} is not an IP address`);
      return;
    }
    const valid = Number(get('valid_lifetime'));
    const expire = Number(get('expire'));
    if (!/^\d+$/.test(get('valid_lifetime')) || !/^\d+$/.test(get('expire'))) {
      this.err(
        n,
        `valid_lifetime ${JSON.stringify(get('valid_lifetime'))} / expire ${JSON.stringify(get('expire'))} must be whole seconds`,
      );
      return;
    }
    const state = get('state');
    // 1 = declined: the address was found in use; nobody held it through this lease.
    if (state === '1') return;
    let prefix = address;
    let subscriber: string;
    if (this.family === 6) {
      subscriber = get('duid');
      const plen = get('prefix_len');
      if (get('lease_type') === '2' && /^\d+$/.test(plen)) prefix = `${address}/${plen}`;
    } else {
      subscriber = get('client_id') || get('hwaddr');
    }
    if (!subscriber) {
      this.err(n, this.family === 6 ? 'lease without a duid' : 'lease without client_id or hwaddr');
      return;
    }
    // Infinite lifetime (0xffffffff) is held until released: keep the interval open-ended-ish.
    const to = expire * 1000;
    this.sink.record(
      valid === 0
        ? { prefix, subscriber, from: to, to, released: true }
        : { prefix, subscriber, from: (expire - Math.min(valid, expire)) * 1000, to },
      n,
    );
  }

  end(): void {}
}
