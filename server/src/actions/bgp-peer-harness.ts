import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Whether the Debian exabgp and bird2 binaries the real-chain test drives are installed. */
export function bgpLabAvailable(): boolean {
  return ['exabgp', 'bird', 'birdc'].every((b) => {
    try {
      execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface BgpLab {
  /** The FIFO ExaBGP's process reads API lines from: what Downstream's `mitigation.pipe` names. */
  pipe: string;
  /** `birdc show route all` of one table (master4, master6, flow4, flow6). */
  routes(table: 'master4' | 'master6' | 'flow4' | 'flow6'): Promise<string>;
  /** Waits until `cond(routes)` holds for the table. */
  waitRoutes(
    table: 'master4' | 'master6' | 'flow4' | 'flow6',
    cond: (text: string) => boolean,
    ms?: number,
  ): Promise<string>;
  exabgpLog(): string;
  stop(): Promise<void>;
}

/**
 * A real BGP chain on loopback: ExaBGP 4.2 (its `process` reads the FIFO Downstream writes
 * and hands the lines to ExaBGP's API) peering with BIRD 2 on 127.0.0.2 at a free high port,
 * BIRD importing IPv4/IPv6 unicast and FlowSpec into its own tables, with its own config and
 * control socket in a temp dir (never the system daemon).
 */
export async function startBgpLab(): Promise<BgpLab> {
  const dir = mkdtempSync(join(tmpdir(), 'ds-bgp-'));
  const pipe = join(dir, 'exabgp.cmd');
  const sock = join(dir, 'bird.ctl');
  execFileSync('mkfifo', [pipe]);
  const birdAddr = '127.0.0.2';
  const port = await freePort(birdAddr);
  writeFileSync(
    join(dir, 'bird.conf'),
    `log "${join(dir, 'bird.log')}" all;
router id 127.0.0.2;
flow4 table flowtab4;
flow6 table flowtab6;
protocol device {}
# The discard next hops resolve (BGP next hops must), to nowhere.
protocol static nh4 { ipv4; route 192.0.2.0/24 blackhole; }
protocol static nh6 { ipv6; route 100::/64 blackhole; }
protocol bgp downstream {
  local ${birdAddr} port ${port} as 65001;
  neighbor 127.0.0.1 as 65000;
  passive on;
  multihop;
  ipv4 { import all; export none; gateway recursive; igp table master4; };
  ipv6 { import all; export none; gateway recursive; igp table master6; };
  flow4 { table flowtab4; import all; export none; };
  flow6 { table flowtab6; import all; export none; };
}
`,
  );
  writeFileSync(
    join(dir, 'exabgp.conf'),
    `process downstream {
  # Read-write open: the FIFO always has a reader, and cat never sees end-of-file between writers.
  run /bin/sh -c "exec cat 0<>${pipe}";
  encoder text;
}
neighbor ${birdAddr} {
  router-id 127.0.0.1;
  local-address 127.0.0.1;
  local-as 65000;
  peer-as 65001;
  connect ${port};
  family { ipv4 unicast; ipv6 unicast; ipv4 flow; ipv6 flow; }
  api { processes [ downstream ]; }
}
`,
  );
  execFileSync('bird', ['-c', join(dir, 'bird.conf'), '-s', sock, '-P', join(dir, 'bird.pid')]);
  const birdPid = Number(readFileSync(join(dir, 'bird.pid'), 'utf8').trim());
  let exaLog = '';
  const exa: ChildProcess = spawn('exabgp', [join(dir, 'exabgp.conf')], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      exabgp_daemon_user: process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'nobody'),
      exabgp_daemon_drop: 'false',
      exabgp_api_cli: 'false',
      exabgp_log_destination: 'stdout',
      exabgp_tcp_delay: '0',
    },
  });
  const onOut = (c: Buffer): void => {
    exaLog = (exaLog + c.toString()).slice(-20_000);
  };
  exa.stdout!.on('data', onOut);
  exa.stderr!.on('data', onOut);

  const tables: Record<string, string> = {
    master4: 'master4',
    master6: 'master6',
    flow4: 'flowtab4',
    flow6: 'flowtab6',
  };
  const routes = async (table: string): Promise<string> =>
    (await run('birdc', ['-s', sock, 'show', 'route', 'all', 'table', tables[table]])).stdout;

  const lab: BgpLab = {
    pipe,
    routes,
    async waitRoutes(table, cond, ms = 10_000) {
      const end = Date.now() + ms;
      let text = '';
      while (Date.now() < end) {
        text = await routes(table);
        if (cond(text)) return text;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`BIRD table ${table} never matched; last:\n${text}\nExaBGP:\n${exaLog.slice(-3000)}`);
    },
    exabgpLog: () => exaLog,
    async stop() {
      if (exa.pid && exa.exitCode === null) {
        try {
          process.kill(-exa.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        await new Promise((r) => setTimeout(r, 200));
        try {
          process.kill(-exa.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      const alive = (pid: number): boolean => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      if (alive(birdPid)) process.kill(birdPid, 'SIGTERM');
      // Both write into the temp dir (log, socket) until they are gone.
      for (let i = 0; i < 50 && (alive(birdPid) || (exa.pid !== undefined && exa.exitCode === null)); i++)
        await new Promise((r) => setTimeout(r, 50));
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };

  // Established within seconds (ExaBGP connects at once, BIRD is passive).
  const end = Date.now() + 20_000;
  for (;;) {
    const { stdout } = await run('birdc', ['-s', sock, 'show', 'protocols', 'downstream']);
    if (/Established/.test(stdout)) break;
    if (Date.now() > end || exa.exitCode !== null) {
      await lab.stop();
      throw new Error(`BGP session never came up:\n${stdout}\nExaBGP:\n${exaLog.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return lab;
}
