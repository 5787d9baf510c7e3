import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DetectionEvent, Incident } from '@downstream/shared';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { startServer, type RunningServer } from '../main/server.js';
import { openStore } from '../store/index.js';
import { bgpLabAvailable, startBgpLab, type BgpLab } from './bgp-peer-harness.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const available = bgpLabAvailable();

let lab: BgpLab;
let dir: string;
// file-level hooks do not run when every test is skipped: no lab starts without exabgp/bird2
beforeAll(async () => {
  lab = await startBgpLab();
  dir = mkdtempSync(join(tmpdir(), 'ds-bgp-server-'));
});
afterAll(async () => {
  await lab?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const start = (): Promise<RunningServer> =>
  startServer({
    config: parseConfig({
      http: { host: '127.0.0.1', port: 0 },
      storage: { path: dir },
      actions: { mitigation: { enabled: true, pipe: lab.pipe } },
    }),
    logger,
    version: 'test',
    tickMs: 100,
  });

function attack(ip: string, kind: DetectionEvent['kind'], evidence: DetectionEvent['evidence']): DetectionEvent {
  return {
    detector: 'fan-in',
    kind,
    direction: 'inbound',
    at: new Date().toISOString(),
    key: ip,
    target: { ip },
    sources: {
      distinct: 500,
      top: [{ ip: '203.0.113.9', asn: 64496, asName: 'TEST', country: 'NL', packets: 9000, bytes: 4_000_000 }],
      asns: [{ asn: 64496, name: 'TEST', share: 1 }],
    },
    upstreams: [],
    rate: { pps: 90_000, bps: 400_000_000 },
    evidence,
  };
}

async function call(s: RunningServer, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${s.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function incidentFor(s: RunningServer, ip: string): Incident {
  const inc = s.ctx.incidents.active().find((i) => i.target?.ip === ip);
  if (!inc) throw new Error(`no incident for ${ip}`);
  return inc;
}

/** BIRD's route entry text for one prefix (its line and the attribute lines under it). */
function entry(table: string, head: RegExp): string | undefined {
  const lines = table.split('\n');
  const i = lines.findIndex((l) => head.test(l));
  if (i < 0) return undefined;
  const out = [lines[i]];
  for (const l of lines.slice(i + 1)) {
    if (!/^\s/.test(l) || l.trim() === '') break;
    out.push(l);
  }
  return out.join('\n');
}

const skipped = available ? '' : ' (skipped: exabgp/bird2 not installed — Debian exabgp, bird2)';
describe.skipIf(!available)(`RTBH and FlowSpec through ExaBGP to a BIRD peer${skipped}`, () => {
  it('the shipped deploy/exabgp/exabgp.conf is one ExaBGP accepts', async () => {
    const conf = resolve(dirname(fileURLToPath(import.meta.url)), '../../../deploy/exabgp/exabgp.conf');
    const env = {
      ...process.env,
      exabgp_daemon_user: process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'nobody'),
      exabgp_api_cli: 'false',
    };
    const r = await promisify(execFile)('exabgp', ['--validate', conf], { env });
    expect(r.stdout + r.stderr).toMatch(/loaded new configuration successfully/);
    expect(r.stdout + r.stderr).toMatch(/processes \[ downstream \]/);
  });

  it('announces /32 and /128 blackholes and IPv4/IPv6 FlowSpec; resolve and a restart withdraw them', async () => {
    let s = await start();
    try {
      s.ctx.incidents.ingest(
        attack('198.51.100.7', 'amplification', {
          protocols: [{ proto: 17, share: 0.99 }],
          ports: [
            { port: 123, share: 0.7 },
            { port: 53, share: 0.29 },
          ],
        }),
      );
      s.ctx.incidents.ingest(
        attack('2001:db8::7', 'volumetric', {
          protocols: [{ proto: 6, share: 1 }],
          ports: [{ port: 443, share: 0.97 }],
        }),
      );
      const v4 = incidentFor(s, '198.51.100.7');
      const v6 = incidentFor(s, '2001:db8::7');
      for (const inc of [v4, v6]) {
        for (const type of ['rtbh', 'flowspec']) {
          const res = await call(s, 'POST', `/api/incidents/${encodeURIComponent(inc.id)}/mitigation`, { type });
          expect(res.status, await res.clone().text()).toBe(201);
        }
      }

      const m4 = await lab.waitRoutes('master4', (t) => t.includes('198.51.100.7/32'));
      const r4 = entry(m4, /^198\.51\.100\.7\/32/)!;
      expect(r4).toMatch(/BGP\.next_hop: 192\.0\.2\.1\b/);
      expect(r4).toMatch(/BGP\.community: \(65535,666\)/);
      const m6 = await lab.waitRoutes('master6', (t) => t.includes('2001:db8::7/128'));
      const r6 = entry(m6, /^2001:db8::7\/128/)!;
      expect(r6).toMatch(/BGP\.next_hop: 100::1\b/);
      expect(r6).toMatch(/BGP\.community: \(65535,666\)/);

      // The attack's protocol and ports, as the peer decoded them from the NLRI.
      const f4 = await lab.waitRoutes('flow4', (t) => t.includes('198.51.100.7/32'));
      expect(f4).toMatch(/flow4 \{ dst 198\.51\.100\.7\/32; proto 17; sport 53,123; \}/);
      // Traffic action "discard" is rate-limit 0 (RFC 8955 7.1).
      expect(entry(f4, /^flow4/)).toMatch(/BGP\.ext_community: \(generic, 0x80060000, 0x0\)/);
      const f6 = await lab.waitRoutes('flow6', (t) => t.includes('2001:db8::7/128'));
      expect(f6).toMatch(/flow6 \{ dst 2001:db8::7\/128; next header 6; dport 443; \}/);

      // Rate-limit instead of discard: traffic-rate 125,000 bytes/s as the IEEE float RFC 8955 wants.
      s.ctx.incidents.ingest(
        attack('198.51.100.9', 'volumetric', { protocols: [{ proto: 17, share: 1 }], ports: [{ port: 53, share: 1 }] }),
      );
      const rl = incidentFor(s, '198.51.100.9');
      const rlRes = await call(s, 'POST', `/api/incidents/${encodeURIComponent(rl.id)}/mitigation`, {
        type: 'flowspec',
        action: 'rate-limit',
        rateLimit: 125000,
      });
      expect(rlRes.status, await rlRes.clone().text()).toBe(201);
      const f4rl = await lab.waitRoutes('flow4', (t) => t.includes('198.51.100.9/32'));
      expect(entry(f4rl, /^flow4 \{ dst 198\.51\.100\.9\/32; proto 17; dport 53; \}/)).toMatch(
        /BGP\.ext_community: \(generic, 0x80060000, 0x47f42400\)/,
      );
      expect((await call(s, 'DELETE', `/api/incidents/${encodeURIComponent(rl.id)}/mitigation`)).status).toBe(200);
      await lab.waitRoutes('flow4', (t) => !t.includes('198.51.100.9/32'));

      // Resolve: both routes of the IPv4 target leave the peer, the IPv6 ones stay.
      const res = await call(s, 'POST', `/api/incidents/${encodeURIComponent(v4.id)}/resolve`, {});
      expect(res.status).toBe(200);
      await lab.waitRoutes('master4', (t) => !t.includes('198.51.100.7/32'));
      await lab.waitRoutes('flow4', (t) => !t.includes('198.51.100.7/32'));
      expect(await lab.routes('master6')).toContain('2001:db8::7/128');
      expect(await lab.routes('flow6')).toContain('2001:db8::7/128');
      const audit = await (await call(s, 'GET', `/api/incidents/${encodeURIComponent(v4.id)}/audit`)).json();
      expect((audit as { entries: { action: string }[] }).entries.map((e) => e.action)).toEqual(
        expect.arrayContaining(['mitigation.withdraw.rtbh', 'mitigation.withdraw.flowspec']),
      );

      // Downstream goes down with the IPv6 blackhole announced (ExaBGP keeps it), and the incident
      // is resolved meanwhile (another instance, an operator in the database…).
      await s.close();
      expect(await lab.routes('master6')).toContain('2001:db8::7/128');
      const store = openStore({ path: dir, retentionDays: 90, logger, timers: false });
      await store.upsertIncident({ ...(await store.getIncident(v6.id))!, status: 'resolved' });
      await store.flush();
      await store.close();

      // The withdraw at start-up takes both IPv6 routes away.
      s = await start();
      await lab.waitRoutes('master6', (t) => !t.includes('2001:db8::7/128'));
      await lab.waitRoutes('flow6', (t) => !t.includes('2001:db8::7/128'));
      const mits = (await (await call(s, 'GET', '/api/mitigations?active=true')).json()) as { mitigations: unknown[] };
      expect(mits.mitigations).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
