/**
 * vitest globalSetup: one nats-server for the whole test run (when the Debian package is
 * installed), its URL provided as `natsUrl` ('' when there is none: those tests skip).
 */
import type { TestProject } from 'vitest/node';
import { hasNatsServer, startNatsServer, type NatsServer } from './nats-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    natsUrl: string;
  }
}

let server: NatsServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (hasNatsServer) server = await startNatsServer();
  project.provide('natsUrl', server?.url ?? '');
}

export async function teardown(): Promise<void> {
  await server?.dispose();
}
