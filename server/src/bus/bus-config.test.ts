import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfigYaml } from '../config/config.js';

function errorOf(yaml: string): string {
  try {
    parseConfigYaml(yaml, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('bus: config', () => {
  it('is optional, and fills defaults when given a URL', () => {
    expect(parseConfigYaml('{}').bus).toBeUndefined();
    expect(parseConfigYaml('bus: { nats: "nats://127.0.0.1:4222" }').bus).toEqual({
      nats: 'nats://127.0.0.1:4222',
      partitions: 16,
      stream: 'DOWNSTREAM_FLOWS',
      subject: 'downstream.flows',
      lease_ms: 3000,
      buffer_bytes: 64 << 20,
      max_age_seconds: 120,
      storage: 'file',
    });
    expect(parseConfigYaml('bus: { nats: "nats://a:4222,tls://b:4222" }').bus?.nats).toBe('nats://a:4222,tls://b:4222');
  });

  it('names the key that is wrong', () => {
    expect(errorOf('bus: {}')).toMatch(/bus\.nats/);
    expect(errorOf('bus: { nats: "http://127.0.0.1:4222" }')).toMatch(/bus\.nats: expected a NATS URL/);
    expect(errorOf('bus: { nats: "nats://x:1", partitions: 0 }')).toMatch(/bus\.partitions/);
    expect(errorOf('bus: { nats: "nats://x:1", stream: "a.b" }')).toMatch(/bus\.stream: letters, digits/);
    expect(errorOf('bus: { nats: "nats://x:1", subject: "flows.*" }')).toMatch(/bus\.subject: dot-separated/);
    expect(errorOf('bus: { nats: "nats://x:1", lease_ms: 100 }')).toMatch(/bus\.lease_ms/);
    expect(errorOf('bus: { nats: "nats://x:1", natz: 1 }')).toMatch(/bus\.natz: unknown key|bus: .*natz/);
  });
});

describe('serve --role', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const cli = join(here, '..', 'cli.ts');
  const dir = mkdtempSync(join(tmpdir(), 'ds-role-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const serve = (yaml: string, ...args: string[]) => {
    const f = join(dir, `c${Math.random()}.yaml`);
    writeFileSync(f, yaml);
    return spawnSync(process.execPath, ['--import', 'tsx', cli, 'serve', '--config', f, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  };

  it('rejects an unknown role, and inlet/detect without a bus, with a message saying what to add', () => {
    const bad = serve('{}', '--role', 'router');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/expected one of all, inlet, detect, api/);
    const noBus = serve('http: { port: 0 }', '--role', 'detect');
    expect(noBus.status).toBe(2);
    expect(noBus.stderr).toMatch(/--role detect needs a flow bus: add bus: \{ nats:/);
    // the api role needs no bus, but its store config is checked before anything starts
    const api = serve("http: { port: 0 }\nstorage: { postgres: 'mysql://db/x' }", '--role', 'api');
    expect(api.status).toBe(2);
    expect(api.stderr).toMatch(/storage\.postgres/);
  }, 90_000);
});
