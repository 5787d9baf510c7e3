import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo, type DemoServer } from '../harness/demo.js';

export interface HostileServer extends DemoServer {
  /** UDP collector ports the server bound (config asked for 0). */
  collectors: { netflow?: number; ipfix?: number; sflow?: number };
  /** Resident set size of the server process now, bytes. */
  rss(): number;
  /** The largest RSS seen by `sampleRss` so far. */
  peakRss: number;
  /** Sample RSS every `ms` until the returned function is called. */
  sampleRss(ms?: number): () => void;
}

export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * The built CLI in `serve` mode with `config` (written as JSON, which strict YAML accepts) on
 * free loopback ports, as an operator runs it; data dir `dataDir`.
 */
export async function startServe(
  dataDir: string,
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<HostileServer> {
  const file = join(dataDir, 'config.yaml');
  writeFileSync(
    file,
    JSON.stringify({ http: { host: '127.0.0.1', port: 0 }, storage: { path: join(dataDir, 'data') }, ...config }),
  );
  const d = await startDemo({ configFile: file, dataDir, env: { LOG_LEVEL: 'info', ...env } });
  const m = /"ports":(\{[^}]*\})[^\n]*collectors listening/.exec(d.output());
  const collectors = m ? (JSON.parse(m[1]) as HostileServer['collectors']) : {};
  const s: HostileServer = {
    ...d,
    collectors,
    rss: () => rssOf(d.proc.pid!),
    peakRss: 0,
    sampleRss(ms = 100) {
      const t = setInterval(() => {
        try {
          s.peakRss = Math.max(s.peakRss, rssOf(d.proc.pid!));
        } catch {
          /* exited */
        }
      }, ms);
      return () => clearInterval(t);
    },
  };
  s.peakRss = s.rss();
  return s;
}

export const MB = 1024 * 1024;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Open file descriptors this process may hold (soft limit), from /proc/self/limits. */
export function fdLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}
