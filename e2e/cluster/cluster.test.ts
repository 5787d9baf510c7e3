import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Health, IncidentList, RemediationEntry, RemediationList, Summary } from '@downstream/shared';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../server/src/sim/run-scenario.js';
import { compose, demoNetworkConfig, fanIn, HOSTS, spamBots } from '../../server/src/sim/scenarios/index.js';
import { repoRoot } from '../harness/demo.js';
import { missingEngines, startNats, startPostgres, startRedis, type Engine } from './engines.js';

/**
 * Issue 13's cluster on one machine: nats-server, postgresql and redis-server from Debian, 2
 * inlets, 3 detect shards and 2 API processes of the built CLI (`serve --role …`), a scenario
 * replayed into the inlets, and every API process must return every attack exactly once.
 *
 * It skips, saying why, only where the Debian engines are missing or the CLI is not built.
 */
const cli = join(repoRoot, 'server', 'dist', 'cli.js');
const work = mkdtempSync(join(tmpdir(), 'ds-cluster-'));

function writeConfig(name: string, config: Record<string, unknown>): string {
  const file = join(work, `${name}.yaml`);
  // JSON is YAML: what an operator's file would say.
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** Why the cluster cannot run here, or undefined when it can. */
function notReady(): string | undefined {
  const missing = missingEngines();
  if (missing.length > 0) return `Debian packages missing: ${missing.join(', ')}`;
  const help = spawnSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf8' });
  if (help.status !== 0) return `the built CLI does not run (pnpm build): ${help.stderr}`;
  for (const role of ['inlet', 'detect', 'api'])
    if (!help.stdout.includes(role)) return `serve --role ${role} not in this build`;
  const probe = writeConfig('probe', {
    bus: { nats: 'nats://127.0.0.1:4222' },
    storage: { postgres: 'postgres://127.0.0.1:5432/downstream' },
  });
  const check = spawnSync(process.execPath, [cli, 'check-config', probe], { encoding: 'utf8' });
  if (check.status !== 0) return `cluster config keys not in this build: ${check.stderr.trim()}`;
  return undefined;
}

const why = notReady();
if (why) console.warn(`e2e/cluster skipped: ${why}`);

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Role {
  name: string;
  role: string;
  proc: ChildProcess;
  url?: string;
  output(): string;
}

/** One process of the built CLI in a role; resolves on its ready line. */
async function startRole(name: string, role: string, config: Record<string, unknown>): Promise<Role> {
  const file = writeConfig(name, config);
  const proc = spawn(process.execPath, [cli, 'serve', '--config', file, '--role', role], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string | undefined>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start:\n${out.slice(-2000)}`)), 60_000);
    const check = (): void => {
      // Every role prints where it listens (inlet and detect: their /metrics).
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${out.slice(-2000)}`)));
  });
  return { name, role, proc, url, output: () => out };
}

describe.skipIf(why !== undefined)(
  'a cluster: 2 inlets, 3 detect shards, 2 API processes on NATS, PostgreSQL, Redis',
  () => {
    const engines: Engine[] = [];
    const roles: Role[] = [];
    let nats: Engine, pg: Engine, redis: Engine;
    const inletPorts: number[] = [];

    beforeAll(async () => {
      [nats, pg, redis] = await Promise.all([startNats(), startPostgres(), startRedis()]);
      engines.push(nats, pg, redis);
      const common = {
        network: demoNetworkConfig,
        bus: { nats: nats.url },
        storage: { path: join(work, 'data'), postgres: pg.url },
        realtime: { redis: redis.url },
      };
      for (let i = 0; i < 2; i++) inletPorts.push(await freeUdpPort());
      // Detect shards first: the bus keeps what inlets publish before a consumer joins, but a
      // store schema must exist before API processes read it.
      roles.push(
        ...(await Promise.all(
          [0, 1, 2].map((i) => startRole(`detect-${i}`, 'detect', { ...common, http: { port: 0 } })),
        )),
      );
      roles.push(
        ...(await Promise.all(
          inletPorts.map((port, i) =>
            startRole(`inlet-${i}`, 'inlet', {
              ...common,
              http: { port: 0 },
              collectors: { netflow: { host: '127.0.0.1', port } },
            }),
          ),
        )),
      );
      roles.push(
        ...(await Promise.all(
          [0, 1].map((i) => startRole(`api-${i}`, 'api', { ...common, http: { host: '127.0.0.1', port: 0 } })),
        )),
      );
    });

    afterAll(async () => {
      await Promise.all(
        roles.map(async (r) => {
          if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
          const exited = new Promise<void>((res) => r.proc.once('exit', () => res()));
          r.proc.kill('SIGTERM');
          const t = setTimeout(() => r.proc.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }),
      );
      for (const e of engines) await e.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it('every API process returns every attack of the replay, each exactly once', async () => {
      // One attack per exporter, each exporter to its own inlet: detect shards see both whole.
      const attacks = [
        compose('fan-in', 'one inbound fan-in', 40, [fanIn(1, 2, 38)]),
        compose('spam', 'outbound spam bots', 40, [spamBots(2, 2, 38)]),
      ];
      const runs = attacks.map((scenario, i) =>
        runScenario({ scenario, netflowPort: inletPorts[i], host: '127.0.0.1', speed: 2 }),
      );
      const expected = attacks.flatMap((a) => a.labels).filter((l) => l.kind !== null);
      expect(expected.map((l) => l.kind)).toEqual(['ddos-fan-in', 'spam-bot']);
      // The bots hash to every detect shard; their campaign must still be one incident naming all.
      const bots = expected.find((l) => l.kind === 'spam-bot')!.sources;
      const apis = roles.filter((r) => r.role === 'api');
      expect(apis).toHaveLength(2);

      const found = async (url: string) =>
        IncidentList.parse(await (await fetch(`${url}/api/incidents?limit=1000`)).json()).incidents;
      const deadline = Date.now() + 60_000;
      let last: Awaited<ReturnType<typeof found>>[] = [];
      while (Date.now() < deadline) {
        last = await Promise.all(apis.map((a) => found(a.url!)));
        if (
          last.every(
            (incs) =>
              expected.every((l) => incs.some((i) => i.kind === l.kind)) &&
              incs.some((i) => i.kind === 'spam-bot' && i.sources.distinct >= bots.length),
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 500));
      }
      // While the replay runs: each API process shows the cluster's traffic (the inlets report
      // it over the bus) in its live summary, and both inlets' exporters in /api/health.
      for (const a of apis) {
        const health = Health.parse(await (await fetch(`${a.url}/api/health`)).json());
        expect(health.exporters.length, `${a.name} /api/health exporters`).toBeGreaterThanOrEqual(2);
        const socket = io(`${a.url}/live`, { transports: ['websocket'] });
        try {
          const summary = await new Promise<Summary>((res, rej) => {
            const t = setTimeout(() => rej(new Error(`${a.name}: no summary with traffic in 10 s`)), 10_000);
            socket.on('summary', (raw: unknown) => {
              const s = Summary.parse(raw);
              if (s.packetsPerSecond > 0) {
                clearTimeout(t);
                res(s);
              }
            });
          });
          expect(summary.flowsPerSecond).toBeGreaterThan(0);
          expect(summary.exporters).toBeGreaterThanOrEqual(1);
        } finally {
          socket.disconnect();
        }
      }
      await Promise.all(runs.map((r) => r.stop()));
      for (const incs of last) {
        // Exactly one per attack: three shards and two inlets must not split or double one.
        expect(incs.filter((i) => i.kind === 'ddos-fan-in' && i.target?.ip === HOSTS.fanInTarget)).toHaveLength(1);
        const spam = incs.filter((i) => i.kind === 'spam-bot');
        expect(spam).toHaveLength(1);
        expect(spam[0]!.sources.distinct).toBe(bots.length);
        expect(incs.filter((i) => !expected.some((l) => l.kind === i.kind))).toEqual([]);
      }
      // The same incidents, by id, from both API processes.
      expect(last[0].map((i) => i.id).sort()).toEqual(last[1].map((i) => i.id).sort());

      // One remediation list in the shared store: every bot named by the campaign once, the same
      // rows from both API processes, and an operator's change on one shown by the other.
      const named = new Set(
        last[0]
          .find((i) => i.kind === 'spam-bot')!
          .sources.top.filter((s) => s.customer)
          .map((s) => s.ip),
      );
      expect(named.size).toBeGreaterThan(0);
      const remediation = async (url: string) =>
        RemediationList.parse(await (await fetch(`${url}/api/remediation`)).json()).entries;
      let lists: RemediationEntry[][] = [];
      for (const end = Date.now() + 30_000; Date.now() < end;) {
        lists = await Promise.all(apis.map((a) => remediation(a.url!)));
        if (lists.every((l) => [...named].every((ip) => l.some((e) => e.ip === ip)))) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      for (const l of lists)
        expect(
          l
            .filter((e) => named.has(e.ip))
            .map((e) => e.ip)
            .sort(),
        ).toEqual([...named].sort());
      const rows = (l: RemediationEntry[]) => l.map((e) => `${e.id} ${e.customer} ${e.ip}`).sort();
      expect(rows(lists[0]!)).toEqual(rows(lists[1]!));
      const entry = lists[0]!.find((e) => named.has(e.ip))!;
      const moved = await fetch(`${apis[0]!.url}/api/remediation/${entry.id}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: apis[0]!.url! },
        body: JSON.stringify({ status: 'notified', note: 'called from the e2e cluster test' }),
      });
      expect(moved.status).toBe(200);
      expect((await remediation(apis[1]!.url!)).find((e) => e.id === entry.id)).toMatchObject({
        status: 'notified',
        note: 'called from the e2e cluster test',
      });
    });
  },
);
