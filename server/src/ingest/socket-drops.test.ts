import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { udpSocketDrops } from './socket-drops.js';

const linux = existsSync('/proc/net/udp');

describe.skipIf(!linux)('UDP socket drops from /proc/net/udp', () => {
  it('counts what the kernel dropped on a socket nobody reads, by its port only', async () => {
    // A receiver with a tiny buffer that never reads: the kernel must drop most of a burst.
    const py = spawn('python3', [
      '-c',
      [
        'import socket, sys, time',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        's.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)',
        "s.bind(('127.0.0.1', 0))",
        'print(s.getsockname()[1], flush=True)',
        'sys.stdin.read()',
      ].join('\n'),
    ]);
    const port = await new Promise<number>((resolve, reject) => {
      py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      py.once('error', reject);
    });
    try {
      expect(udpSocketDrops([port])).toBe(0);
      const tx = createSocket('udp4');
      const payload = Buffer.alloc(1200, 1);
      for (let i = 0; i < 500; i++)
        await new Promise<void>((r, j) => tx.send(payload, port, '127.0.0.1', (e) => (e ? j(e) : r())));
      tx.close();
      const drops = udpSocketDrops([port])!;
      expect(drops).toBeGreaterThan(400);
      expect(drops).toBeLessThanOrEqual(500);
      expect(udpSocketDrops([port === 65535 ? 65534 : port + 1])).toBe(0);
      expect(udpSocketDrops([])).toBe(0);
    } finally {
      py.stdin.end();
      py.kill();
    }
  });

  it('is undefined without a Linux /proc', () => {
    expect(udpSocketDrops([9999], '/nonexistent')).toBeUndefined();
  });
});
