import { hasNatsServer, startNatsServer } from '../../server/src/testing/nats-server.js';
import { postgresBinDir, startPostgres as startPgServer } from '../../server/src/testing/postgres.js';
import { hasRedisServer, startRedisServer } from '../../server/src/testing/redis-server.js';

/**
 * The engines a cluster runs on, from Debian, each started once for the cluster test on a free
 * loopback port in a temp dir and stopped (its dir removed) at the end: redis-server (socket.io
 * adapter), nats-server with JetStream (flow bus), PostgreSQL (shared store). The servers are
 * the unit tests' own (server/src/testing/); this file only gives them one shape.
 */
export interface Engine {
  url: string;
  stop(): Promise<void>;
}

/** Which engines are missing (Debian packages), for the skip message. */
export function missingEngines(): string[] {
  const missing: string[] = [];
  if (!hasRedisServer) missing.push('redis-server');
  if (!hasNatsServer) missing.push('nats-server');
  if (!postgresBinDir()) missing.push('postgresql');
  return missing;
}

export async function startRedis(): Promise<Engine> {
  return startRedisServer();
}

export async function startNats(): Promise<Engine> {
  const nats = await startNatsServer();
  return { url: nats.url, stop: () => nats.dispose() };
}

export async function startPostgres(): Promise<Engine> {
  const pg = await startPgServer({ fsync: false });
  return { url: await pg.createDatabase('cluster'), stop: () => pg.destroy() };
}
