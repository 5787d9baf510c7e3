import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditList, IncidentDetail, IncidentList } from '@downstream/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep, startServe, type HostileServer } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ds-hostile-crash-'));
const servers: HostileServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 while notes are posted', () => {
  it('keeps every note that got a 2xx (50 notes/s, killed mid-stream)', async () => {
    const config = {};
    const first = await startServe(dir, config);
    servers.push(first);
    const feed = await fetch(`${first.url}/api/feeds/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        detector: 'honeypot',
        id: 'crash-1',
        kind: 'volumetric',
        direction: 'inbound',
        target: '198.51.100.80',
        sources: [{ ip: '203.0.113.5', packets: 1000 }],
        pps: 50000,
      }),
    });
    expect(feed.status).toBe(200);
    const list = (await (await fetch(`${first.url}/api/incidents`)).json()) as IncidentList;
    const id = list.incidents.find((i) => i.target?.ip === '198.51.100.80')!.id;

    const acked: string[] = [];
    let failed = 0;
    let i = 0;
    const inflight: Promise<void>[] = [];
    // 50/s, each independent (as operators and scripts are); the kill lands once 60 notes are
    // acknowledged (~1.2 s, later on a loaded box), while the next ones are in flight, and the
    // posting goes on until the dead server has refused more than ten.
    const timer = setInterval(() => {
      const text = `note ${i++} ${'x'.repeat(200)}`;
      inflight.push(
        fetch(`${first.url}/api/incidents/${encodeURIComponent(id)}/notes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
        })
          .then((r) => {
            if (r.ok) acked.push(text);
            else failed++;
          })
          .catch(() => {
            failed++;
          }),
      );
    }, 20);
    const deadline = Date.now() + 20_000;
    while (acked.length < 60 && Date.now() < deadline) await sleep(5);
    const pendingAtKill = i - acked.length - failed;
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    // keep posting until the dead server has refused some (or 10 s pass)
    const refusedBy = Date.now() + 10_000;
    while (failed <= 10 && Date.now() < refusedBy) await sleep(20);
    clearInterval(timer);
    await Promise.all(inflight);
    expect(acked.length).toBeGreaterThanOrEqual(60);
    expect(failed).toBeGreaterThan(10); // the ones after the kill

    const second = await startServe(dir, config);
    servers.push(second);
    const detail = (await (
      await fetch(`${second.url}/api/incidents/${encodeURIComponent(id)}`)
    ).json()) as IncidentDetail;
    const audit = (await (
      await fetch(`${second.url}/api/incidents/${encodeURIComponent(id)}/audit`)
    ).json()) as AuditList;
    const inIncident = new Set(detail.notes.map((n) => n.text));
    const inAudit = new Set(audit.entries.filter((e) => e.action === 'note').map((e) => e.detail));
    console.log(
      `hostile/crash: ${acked.length} notes acknowledged before kill -9 (${pendingAtKill} in flight at the kill), ${failed} failed; after restart ${inIncident.size} on the incident, ${inAudit.size} in the audit`,
    );
    expect(acked.filter((t) => !inIncident.has(t))).toEqual([]);
    expect(acked.filter((t) => !inAudit.has(t))).toEqual([]);
  });
});
