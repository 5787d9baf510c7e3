/**
 * Durability end to end: the real server (`server/dist/cli.js serve` when built, else its sources
 * through tsx, so that an unbuilt clone runs it too), an operator action and a note over REST,
 * rollups from a feed, SIGKILL, restart — and everything is still there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EndpointHistory, Incident } from '@downstream/shared';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_FILE, openStore } from '../src/store/index.js';
import { makeIncident } from '../src/testing/make-incident.js';

const serverRoot = fileURLToPath(new URL('..', import.meta.url));
const cli = join(serverRoot, 'dist', 'cli.js');
const built = existsSync(cli);
const serverArgs = built ? [cli] : ['--import', 'tsx', '--conditions=source', join(serverRoot, 'src', 'cli.ts')];
const which = built ? 'dist/cli.js' : 'src/cli.ts through tsx';
/** Compiling the sources on the fly makes a start slower. */
const startMs = built ? 30_000 : 60_000;

const OPS = 'operator-token-durability-0123';
const FEED = 'admin-token-durability-feed-0123';
const auth = { Authorization: `Bearer ${OPS}`, 'Content-Type': 'application/json' };
const dir = mkdtempSync(join(tmpdir(), 'ds-durability-'));
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const configFile = join(dir, 'config.yaml');
writeFileSync(
  configFile,
  `
http: { host: 127.0.0.1, port: 0 }
network:
  customers:
    - { name: "Residential A", prefixes: ["198.51.100.0/24"] }
auth:
  tokens:
    - { name: ops, role: operator, token: "${OPS}" }
    - { name: feeder, role: admin, token: "${FEED}" }
storage: { path: ${JSON.stringify(join(dir, 'data'))}, retention_days: 90 }
log: { level: warn }
`,
);

async function start(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [...serverArgs, 'serve', '--config', configFile], {
    cwd: serverRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${startMs} ms:\n${out}`)), startMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? sig}) before listening:\n${out}`));
    });
  });
  return { url, proc };
}

async function kill(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  await exited;
}

async function call(
  url: string,
  path: string,
  body?: unknown,
  token = OPS,
): Promise<{ status: number; json: unknown }> {
  const headers = { ...auth, Authorization: `Bearer ${token}` };
  const res = await fetch(url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe(`durability of the real server across SIGKILL (${which})`, () => {
  // two starts of up to startMs each, and the rest
  it('an acknowledgement, a note and rollups survive SIGKILL and a restart', async () => {
    // An incident to act on, put in the store before the server starts.
    const seed = openStore({
      path: join(dir, 'data'),
      retentionDays: 90,
      logger: pino({ level: 'silent' }),
      timers: false,
    });
    seed.upsertIncident(makeIncident('dur-1', { lastSeen: new Date().toISOString() }));
    seed.close();

    const first = await start();
    const ack = await call(first.url, '/api/incidents/dur-1/ack', { note: 'looking into it' });
    expect(ack.status).toBe(200);
    expect(Incident.parse(ack.json).status).toBe('acknowledged');
    const note = await call(first.url, '/api/incidents/dur-1/notes', { text: 'customer called back' });
    expect(note.status).toBe(200);

    // A feed detection two minutes old: its rollup minute is already closed, so the incident
    // manager hands it to the store on its next tick.
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000).toISOString();
    const feed = await call(
      first.url,
      '/api/feeds/generic',
      {
        detector: 'durability-test',
        kind: 'scanner',
        direction: 'outbound',
        at,
        sources: [{ ip: '198.51.100.23', packets: 1000, bytes: 64_000 }],
        pps: 1000,
        bps: 512_000,
      },
      FEED,
    );
    expect(feed.status, JSON.stringify(feed.json)).toBeLessThan(300);
    // Watch the database file itself (a second, read-only connection; WAL allows it) rather than
    // the REST API, so what is seen is what the store's own timer flushed.
    const reader = new Database(join(dir, 'data', DB_FILE), { readonly: true, fileMustExist: true });
    const onDisk = (): { t: number; kind: string; bytes: number }[] =>
      reader
        .prepare("SELECT t, kind, bytes FROM rollup_minute WHERE dim = 'endpoint' AND key = ? ORDER BY t")
        .all('198.51.100.23') as {
        t: number;
        kind: string;
        bytes: number;
      }[];
    let before = onDisk();
    for (let i = 0; i < 60 && before.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      before = onDisk();
    }
    reader.close();
    expect(before.length, 'the feed event never reached the stored rollups').toBeGreaterThan(0);
    expect(before[0].kind).toBe('scanner');

    await kill(first.proc, 'SIGKILL');

    const second = await start();
    const inc = Incident.parse((await call(second.url, '/api/incidents/dur-1')).json);
    expect(inc.status).toBe('acknowledged');
    expect(inc.notes.map((n) => [n.by, n.text])).toEqual([
      ['ops', 'looking into it'],
      ['ops', 'customer called back'],
    ]);
    const after = EndpointHistory.parse((await call(second.url, '/api/endpoints/198.51.100.23')).json);
    expect(after.rollups.map((r) => [Date.parse(r.t), r.kind, r.bytes])).toEqual(
      before.map((r) => [r.t, r.kind, r.bytes]).reverse(),
    );
    expect(after.incidents.length).toBeGreaterThan(0);
    await kill(second.proc, 'SIGTERM');

    // The audit trail says who did what.
    const store = openStore({
      path: join(dir, 'data'),
      retentionDays: 90,
      logger: pino({ level: 'silent' }),
      timers: false,
    });
    try {
      expect((await store.listAudit('dur-1')).map((e) => [e.by, e.action])).toEqual([
        ['ops', 'ack'],
        ['ops', 'note'],
      ]);
    } finally {
      await store.close();
    }
  }, 150_000);
});
