import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { outboundIncident, sampleIncident } from '../testing/recording-context.js';
import { RemediationList, RemediationTransitionError, openActionsDb } from './remediation.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open() {
  const dir = mkdtempSync(join(tmpdir(), 'remediation-'));
  dirs.push(dir);
  const path = join(dir, 'sub', 'actions.sqlite');
  return { path, db: openActionsDb(path) };
}

describe('RemediationList', () => {
  it('records outbound customer endpoints only, with evidence and first/last seen', async () => {
    const { db } = open();
    const list = new RemediationList(db);
    expect(list.recordIncident(sampleIncident())).toBe(0); // inbound: nothing to remediate
    expect(list.recordIncident(outboundIncident())).toBe(2);
    const entries = list.list();
    expect(entries.map((e) => [e.customer, e.ip, e.status])).toEqual([
      ['=cmd|evil', '198.51.100.24', 'open'],
      ['Residential pool A', '198.51.100.23', 'open'],
    ]);
    expect(entries[1]).toMatchObject({
      kinds: ['spam-bot'],
      incidents: ['inc-spam-1'],
      evidence: 'SMTP to 812 hosts',
      packets: 900,
      firstSeen: '2026-11-24T21:00:00.000Z',
      lastSeen: '2026-11-24T21:05:00.000Z',
      recurred: false,
    });
    expect(list.list({ customer: 'Residential pool A' })).toHaveLength(1);
    db.close();
  });

  it('moves open → notified → remediated, persists, and reopens as recurred when seen again', async () => {
    const { db, path } = open();
    const list = new RemediationList(db);
    list.recordIncident(outboundIncident());
    const id = list.list({ customer: 'Residential pool A' })[0].id;
    const t0 = Date.parse('2026-11-24T21:10:00Z');
    expect(list.setStatus(id, 'notified', 'alice', 'called the customer', t0)).toMatchObject({
      status: 'notified',
      statusBy: 'alice',
      note: 'called the customer',
    });
    list.setStatus(id, 'remediated', 'alice', undefined, t0 + 1000);
    db.close();

    const db2 = openActionsDb(path);
    const list2 = new RemediationList(db2);
    expect(list2.get(id)).toMatchObject({ status: 'remediated', note: 'called the customer' });
    // Same incident updated without newer traffic: stays remediated.
    list2.recordIncident(outboundIncident());
    expect(list2.get(id)!.status).toBe('remediated');
    // A new incident with traffic after the remediation: back to open, flagged.
    list2.recordIncident(
      outboundIncident({
        id: 'inc-spam-2',
        kind: 'scanner',
        firstSeen: '2026-11-25T08:00:00.000Z',
        lastSeen: '2026-11-25T08:01:00.000Z',
      }),
    );
    expect(list2.get(id)).toMatchObject({
      status: 'open',
      recurred: true,
      kinds: ['spam-bot', 'scanner'],
      incidents: ['inc-spam-1', 'inc-spam-2'],
      packets: 1800,
      lastSeen: '2026-11-25T08:01:00.000Z',
      firstSeen: '2026-11-24T21:00:00.000Z',
    });
    expect(list2.list({ status: 'open' })).toHaveLength(2);
    db2.close();
  });

  it('answers undefined for an unknown id, accepts re-setting the same status, refuses remediated → notified', async () => {
    const { db } = open();
    const list = new RemediationList(db);
    list.recordIncident(outboundIncident());
    expect(list.setStatus(9999, 'notified', 'x')).toBeUndefined();
    const id = list.list()[0].id;
    expect(list.setStatus(id, 'open', 'x')).toMatchObject({ status: 'open', statusBy: 'x' });
    list.setStatus(id, 'remediated', 'x');
    expect(() => list.setStatus(id, 'notified', 'x')).toThrow(RemediationTransitionError);
    expect(list.get(id)!.status).toBe('remediated');
    db.close();
  });

  it('exports CSV with quoting and spreadsheet-formula neutralised', async () => {
    const { db } = open();
    const list = new RemediationList(db);
    list.recordIncident(outboundIncident({ evidence: { summary: 'SMTP, "bulk"\nto 812 hosts' } }));
    const csv = list.csv();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,customer,ip,kinds,incidents,evidence,packets,bytes,first_seen,last_seen,status,status_at,status_by,recurred,note',
    );
    expect(csv).toContain(`'=cmd|evil,198.51.100.24`);
    expect(csv).toContain('"SMTP, ""bulk""\nto 812 hosts"');
    expect(list.csv({ customer: 'Residential pool A' }).trimEnd().split('\r\n')).toHaveLength(2);
    db.close();
  });
});
