import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { Subscribers } from './index.js';

const logger = pino({ level: 'silent' });
const T = Date.parse('2026-12-02T10:00:00Z');
const MIN = 60_000;
const fixture = (n: string) => new URL(`./fixtures/${n}`, import.meta.url);

describe('Subscribers: files read from the start, then followed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ds-subs-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports detail, Kea and dhcpd files, follows appends, reports bad lines in its status', async () => {
    const detail = join(dir, 'detail');
    const kea = join(dir, 'kea-leases4.csv');
    const dhcpd = join(dir, 'dhcpd.leases');
    copyFileSync(fixture('detail-20261202'), detail);
    copyFileSync(fixture('kea-leases4.csv'), kea);
    copyFileSync(fixture('dhcpd.leases'), dhcpd);
    const cfg = parseConfig({
      storage: { path: dir },
      subscribers: {
        poll_ms: 60_000,
        files: [
          { path: detail, format: 'radius-detail' },
          { path: kea, format: 'kea' },
          { path: dhcpd, format: 'dhcpd' },
        ],
      },
    });
    const s = new Subscribers({
      config: cfg.subscribers,
      db: new Database(':memory:'),
      retentionDays: 100_000,
      logger,
    });
    await s.start();
    await s.pollFiles();
    expect((await s.holder('198.51.100.7', T + 20 * MIN, T + 20 * MIN))?.subscriber).toBe('alice@isp.example');
    expect((await s.holder('198.51.100.20', T + 10 * MIN, T + 10 * MIN))?.subscriber).toBe('01:08:00:27:25:d3:f4');
    expect((await s.holder('198.51.100.40', T + 10 * MIN, T + 10 * MIN))?.subscriber).toBe('08:00:27:aa:00:40');

    // bob's session ends later in the same detail file
    appendFileSync(
      detail,
      'Wed Dec  2 11:00:00 2026\n\tAcct-Session-Id = "0A0B0C02"\n\tAcct-Status-Type = Stop\n\tUser-Name = "bob@isp.example"\n\tNAS-IP-Address = 192.0.2.10\n\tFramed-IP-Address = 198.51.100.7\n\tAcct-Session-Time = 1200\n\tTimestamp = 1796209200\n\n',
    );
    await s.pollFiles();
    expect((await s.holder('198.51.100.7', T + 50 * MIN, T + 50 * MIN))?.subscriber).toBe('bob@isp.example');
    expect(await s.holder('198.51.100.7', T + 61 * MIN, T + 61 * MIN)).toBeUndefined();

    const st = s.status();
    const byFormat = Object.fromEntries(st.files.map((f) => [f.format, f]));
    expect(byFormat['radius-detail'].records).toBe(6);
    expect(byFormat['radius-detail'].lastErrors[0]).toBe(
      `${detail}:28: attribute line outside a record (no header line before it)`,
    );
    expect(byFormat.kea.errors).toBe(2);
    expect(byFormat.dhcpd.lastErrors).toContain(`${dhcpd}:39: lease 198.51.100.42: no readable starts`);
    expect(st.bindings).toBeGreaterThan(5);
    await s.stop();
  });
});
