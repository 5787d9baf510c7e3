/**
 * The flow bus with real processes and the real nats-server: one inlet and two detect
 * processes (`serve --role …`, under tsx) sharing a SQLite store, a fan-in DDoS played into the
 * inlet over NetFlow v9; the detect process owning the target's partition is killed with -9.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { v4FromString } from '@downstream/shared';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { shardOf } from '../detect/shard.js';
import { assignPartitions } from './leases.js';
import { runScenario } from '../sim/run-scenario.js';
import { demoNetworkConfig } from '../sim/scenarios/index.js';
import { fanIn } from '../sim/scenarios/library.js';
import { compose } from '../sim/scenarios/scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'cli.ts');
const natsUrl = inject('natsUrl');

interface Proc {
  child: ChildProcess;
  url: string;
  lines: string[];
  log: string[];
}

function startRole(role: string, configFile: string, ...extra: string[]): Promise<Proc> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'serve', '--config', configFile, '--role', role, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => log.push(l));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${role} did not start: ${log.slice(-20).join('\n')}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${role} exited ${code}: ${log.slice(-20).join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(l);
      const m = /listening on (\S+)/.exec(l);
      if (m) {
        clearTimeout(t);
        // the inlet prints its collector ports on the next line
        setTimeout(() => resolve({ child, url: m[1]!, lines, log }), 200);
      }
    });
  });
}

async function json<T>(url: string): Promise<T> {
  const r = await fetch(url);
  return (await r.json()) as T;
}

const until = async (cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<number> => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
};

describe.skipIf(!natsUrl)('cluster roles over NATS JetStream (real nats-server, real processes)', () => {
  const procs: Proc[] = [];
  const dirs: string[] = [];
  afterAll(() => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('kill -9 of the detect process owning an attack: another owns its keys within 10 s, still one incident', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ds-cluster-'));
    dirs.push(dir);
    const partitions = 8;
    const base = {
      http: { host: '127.0.0.1', port: 0 },
      network: demoNetworkConfig,
      storage: { path: join(dir, 'data') },
      bus: {
        nats: natsUrl,
        partitions,
        stream: `CLUSTER_${Date.now()}`,
        subject: `cluster${Date.now()}.flows`,
        lease_ms: 2000,
      },
      // short, so the join below can show that the process handing a partition over does not resolve its incident
      detect: { incidents: { quietSeconds: 5 } },
      log: { level: 'info' },
    };
    const write = (name: string, extra: object): string => {
      const f = join(dir, `${name}.yaml`);
      writeFileSync(f, stringify({ ...base, ...extra }));
      return f;
    };
    const detectCfg = write('detect', {});
    const inletCfg = write('inlet', { collectors: { netflow: { host: '127.0.0.1', port: 0 } } });
    const [d1, d2, inlet] = await Promise.all([
      startRole('detect', detectCfg),
      startRole('detect', detectCfg),
      startRole('inlet', inletCfg),
    ]);
    procs.push(d1!, d2!, inlet!);
    const ports = JSON.parse(inlet!.lines.find((l) => l.startsWith('collectors: '))!.slice(12)) as { netflow: number };

    type BusState = { member: string; owned: number[]; records: number };
    const state = (p: Proc) => json<BusState>(`${p.url}/api/bus`);
    await until(
      async () => {
        const [a, b] = await Promise.all([state(d1!), state(d2!)]);
        return a.owned.length + b.owned.length === partitions && a.owned.length > 0 && b.owned.length > 0;
      },
      20_000,
      'the two detect processes to split the partitions',
    );

    const target = '198.51.100.77';
    const scenario = compose('bus-failover', 'one long fan-in', 120, [fanIn(7, 0, 120, { target, sources: 2000 })]);
    const sim = runScenario({ scenario, netflowPort: ports.netflow, host: '127.0.0.1' });
    try {
      const db = new Database(join(dir, 'data', 'downstream.sqlite'), { readonly: true, fileMustExist: false });
      const incidents = () =>
        db
          .prepare(
            `SELECT id, status, last_seen AS lastSeen FROM incidents WHERE kind = 'ddos-fan-in' AND target_ip = ?`,
          )
          .all(target) as { id: string; status: string; lastSeen: number }[];
      await until(() => incidents().length > 0, 30_000, 'the fan-in incident');
      const [first] = incidents();

      // Which partition holds the target's keys (inbound: the local key is the destination).
      const words = new Uint32Array(4);
      words.set([0, 0, 0xffff, v4FromString(target)]);
      const partition = shardOf(words, 0, partitions);
      const [a, b] = await Promise.all([state(d1!), state(d2!)]);
      const [victim, survivor] = a.owned.includes(partition) ? [d1!, d2!] : [d2!, d1!];
      expect((victim === d1 ? a : b).owned).toContain(partition);

      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      const tookMs = await until(
        async () => (await state(survivor)).owned.includes(partition),
        10_000,
        `the survivor to own partition ${partition}`,
      );
      expect(tookMs).toBeLessThan(10_000);
      // …and the rest of the dead process's partitions, taken in the same lease round
      await until(async () => (await state(survivor)).owned.length === partitions, 5000, 'the survivor to own all');

      // The survivor re-detects the running attack: the incident moves on, and there is still one.
      await until(
        () => incidents().some((i) => i.lastSeen > killedAt + 2000),
        30_000,
        'the survivor to update the incident',
      );
      const rows = incidents();
      expect(rows.map((r) => r.id)).toEqual([first!.id]);
      expect(rows[0]!.status).toBe('open');
      expect(survivor.log.some((l) => l.includes('incident adopted'))).toBe(true);
      console.log(`bus failover: partition ${partition} owned by the survivor ${tookMs} ms after kill -9`);

      // A third process joins with a name that rendezvous hashing gives the attack's partition:
      // the survivor hands it over (its incident saved, not resolved), the joiner re-detects and
      // adopts it. Watched for longer than the detector window plus the quiet period: one incident, never resolved.
      const survivorId = (await state(survivor)).member;
      const joinerId = Array.from({ length: 64 }, (_, i) => `joiner-${i}`).find(
        (j) => assignPartitions(partitions, [survivorId, j].sort()).get(partition) === j,
      )!;
      const joiner = await startRole('detect', detectCfg, '--member-id', joinerId);
      procs.push(joiner);
      await until(
        async () => (await state(joiner)).owned.includes(partition),
        15_000,
        'the joiner to take the partition',
      );
      const statuses = new Set<string>();
      const ids = new Set<string>();
      const watchEnd = Date.now() + 20_000;
      while (Date.now() < watchEnd) {
        for (const r of incidents()) {
          ids.add(r.id);
          statuses.add(r.status);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      expect([...ids]).toEqual([first!.id]);
      expect([...statuses]).toEqual(['open']);
      expect(joiner.log.some((l) => l.includes('incident adopted'))).toBe(true);
      expect(survivor.log.some((l) => /"msg":"partition released"/.test(l) && l.includes('"incidents":1'))).toBe(true);
      db.close();
    } finally {
      await sim.stop();
    }
  }, 150_000);
});
