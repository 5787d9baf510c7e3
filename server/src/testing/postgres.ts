import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { freeTcpPort } from './free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import pg from 'pg';

const run = promisify(execFile);

/**
 * Real PostgreSQL servers for tests, from Debian's `postgresql` package (initdb, pg_ctl): in a
 * temp dir, on 127.0.0.1 and a free port, the unix socket in the temp dir, trust auth for the
 * `postgres` role. As root (CI) every binary runs as the `postgres` user, which owns the dir.
 */

/** The newest /usr/lib/postgresql/N/bin with initdb and pg_ctl, or undefined: tests then skip. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

export const POSTGRES_MISSING =
  'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql): PostgreSQL store tests skipped';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as the postgres user when we are root (initdb refuses root). */
async function pgExec(bin: string, tool: string, args: string[]): Promise<string> {
  const cmd = join(bin, tool);
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  try {
    const r = await run(file, argv, { timeout: 120_000 });
    return r.stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}${err.stdout ?? ''}`);
  }
}

export interface PgServer {
  readonly port: number;
  readonly dir: string;
  /** URL of a database on this server (default `postgres`). */
  url(database?: string): string;
  /** A new, empty database; its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Stop (default `fast`; `immediate` is a crash: no checkpoint, recovery from WAL on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stop then start on the same port and data. */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stop and remove the data dir. */
  destroy(): Promise<void>;
}

function handle(bin: string, dir: string, port: number, fsync: boolean): PgServer {
  const data = join(dir, 'data');
  const opts = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=200',
    '-c shared_buffers=32MB',
    `-c fsync=${fsync ? 'on' : 'off'}`,
    // Tests that restart the server want it back fast.
    '-c checkpoint_timeout=30s',
  ].join(' ');
  const url = (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const server: PgServer = {
    port,
    dir,
    url,
    async createDatabase(prefix = 't') {
      const name = `${prefix}_${randomBytes(6).toString('hex')}`;
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    async start() {
      await pgExec(bin, 'pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', '-t', '60', 'start']);
    },
    async stop(mode = 'fast') {
      await pgExec(bin, 'pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    },
    async restart(mode = 'fast') {
      await server.stop(mode);
      await server.start();
    },
    async destroy() {
      await server.stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

async function init(bin: string, dir: string): Promise<void> {
  if (asRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  await pgExec(bin, 'initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
}

function idOf(file: string, name: string): number {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no ${name} in ${file}`);
  return Number(line.split(':')[2]);
}
const uidOf = (name: string) => idOf('/etc/passwd', name);
const gidOf = (name: string) => idOf('/etc/group', name);

/** A server of its own (a test that restarts or kills it); `destroy()` it at the end. */
export async function startPostgres(opts: { fsync?: boolean } = {}): Promise<PgServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(POSTGRES_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'ds-pg-'));
  await init(bin, dir);
  const server = handle(bin, dir, await freeTcpPort(), opts.fsync ?? true);
  await server.start();
  return server;
}

/**
 * The one server of this test run, started by the first test file that asks and shared by every
 * other (each takes its own databases with createDatabase). Files run in separate workers, so
 * they meet through a directory named after the vitest process; a watchdog stops the server and
 * removes the directory once that process is gone.
 */
export async function sharedPostgres(): Promise<PgServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(POSTGRES_MISSING);
  // Workers are forks of the vitest process (or threads inside it).
  const owner = !isMainThread || !process.send ? process.pid : process.ppid;
  const dir = join(tmpdir(), `ds-pg-shared-${owner}`);
  const ready = join(dir, 'ready.json');
  const failed = join(dir, 'failed');
  let mine = false;
  try {
    mkdirSync(dir);
    mine = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (mine) {
    try {
      await init(bin, dir);
      const port = await freeTcpPort();
      const server = handle(bin, dir, port, false);
      await server.start();
      const stop = `${asRoot ? 'runuser -u postgres -- ' : ''}${join(bin, 'pg_ctl')} -D ${join(dir, 'data')} -m immediate stop`;
      spawn(
        'sh',
        ['-c', `while kill -0 ${owner} 2>/dev/null; do sleep 1; done; ${stop} >/dev/null 2>&1; rm -rf ${dir}`],
        {
          detached: true,
          stdio: 'ignore',
        },
      ).unref();
      // Renamed into place: a reader never sees half a file.
      writeFileSync(`${ready}.tmp`, JSON.stringify({ port }));
      renameSync(`${ready}.tmp`, ready);
      return server;
    } catch (e) {
      writeFileSync(failed, String(e));
      throw e;
    }
  }
  const deadline = Date.now() + 120_000;
  while (!existsSync(ready)) {
    if (existsSync(failed)) throw new Error(`shared PostgreSQL failed to start: ${readFileSync(failed, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`shared PostgreSQL in ${dir} not ready after 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { port } = JSON.parse(readFileSync(ready, 'utf8')) as { port: number };
  return handle(bin, dir, port, false);
}
