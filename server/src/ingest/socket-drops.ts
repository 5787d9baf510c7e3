import { readFileSync } from 'node:fs';

/**
 * Datagrams the kernel dropped on our UDP sockets because their receive buffer was full (the
 * `drops` column of /proc/net/udp and udp6, matched by local port). These never reach the
 * decoder, so only the kernel can count them. Undefined where /proc is not Linux's.
 */
export function udpSocketDrops(ports: Iterable<number>, procRoot = '/proc'): number | undefined {
  const want = new Set([...ports].filter((p) => p > 0));
  if (want.size === 0) return 0;
  let total = 0;
  let read = false;
  for (const f of ['net/udp', 'net/udp6']) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/${f}`, 'utf8');
    } catch {
      continue;
    }
    read = true;
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 13) continue;
      const port = parseInt(cols[1].split(':')[1] ?? '', 16);
      if (want.has(port)) total += Number(cols[cols.length - 1]) || 0;
    }
  }
  return read ? total : undefined;
}
