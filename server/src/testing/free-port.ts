import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 now, for a server a test starts (nats-server, PostgreSQL,
 * redis-server, Prometheus…). Another process could take it before the server binds; on
 * loopback in a test run that has not been seen, and the server's start fails loudly if it is.
 */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
