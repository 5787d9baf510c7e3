import { readFileSync } from 'node:fs';
import { Worker, type TransferListItem } from 'node:worker_threads';

/**
 * Start one of this folder's worker entries by name. Compiled (dist/): the .js file. From source
 * (tsx, vitest): a worker cannot load .ts by itself, so it registers tsx's loader first.
 */
export function spawnWorker(
  name: 'receiver' | 'ingest' | 'detect',
  workerData: unknown,
  transferList: TransferListItem[] = [],
): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const entry = new URL(`./${name}.ts`, import.meta.url).href;
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(boot, { eval: true, workerData, transferList, name });
  }
  return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData, transferList, name });
}

/** The calling thread's kernel thread id (Linux), so its CPU can be read from /proc. */
export function ownThreadId(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ', 1)[0]);
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a thread of this process has used; undefined when unknown. */
export function threadCpuSeconds(tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks (USER_HZ, 100 on Linux)
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}
