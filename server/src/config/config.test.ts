import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfigYaml } from './config.js';

const GOOD = `
http: { host: 127.0.0.1, port: 8080 }
collectors:
  netflow: { port: 2055 }
  ipfix:   { port: 4739 }
  sflow:   { port: 6343 }
  sampling: { default: 1, exporters: { "192.0.2.1": 1000 } }
network:
  asn: 64500
  customers:
    - { name: "Residential pool A", prefixes: ["198.51.100.0/24", "2001:db8:100::/48"] }
  allowed_smtp: ["198.51.100.25"]
  links:
    - { exporter: "192.0.2.1", ifindex: 10, name: "Transit A", role: upstream, asn: 174 }
auth:
  tokens: [ { name: wall, role: viewer, token: "wall-token-0123456789" }, { name: ops, role: operator, token: "ops-token-0123456789" } ]
storage: { path: ./data, retention_days: 90 }
`;

/** The error a bad config raises, so tests can assert on message and issue paths. */
function errorOf(yaml: string): ConfigError {
  try {
    parseConfigYaml(yaml);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('config was accepted but should have been rejected');
}

describe('config', () => {
  it('accepts the full example config and fills defaults', () => {
    const c = parseConfigYaml(GOOD);
    expect(c.http).toEqual({
      host: '127.0.0.1',
      port: 8080,
      cors_origins: [],
      max_body_bytes: 65536,
      headers_timeout_ms: 10_000,
      request_timeout_ms: 30_000,
    });
    expect(c.collectors.netflow?.port).toBe(2055);
    expect(c.collectors.sampling.exporters['192.0.2.1']).toBe(1000);
    expect(c.network.customers[0].prefixes).toContain('2001:db8:100::/48');
    expect(c.network.links[0]).toMatchObject({ role: 'upstream', asn: 174 });
    expect(c.auth.tokens.map((t) => t.role)).toEqual(['viewer', 'operator']);
    expect(c.storage.retention_days).toBe(90);
    expect(c.detect.fanIn.minSources).toBeGreaterThan(0);
  });

  it('accepts an empty file: every section has defaults', () => {
    const c = parseConfigYaml('');
    expect(c.http.port).toBe(8080);
    expect(c.collectors.netflow).toBeUndefined();
    expect(c.storage.path).toBe('./data');
  });

  it('pipeline: worker counts default from the core count, are validated, and reject unknown keys', () => {
    const d = parseConfigYaml('').pipeline;
    const cores = availableParallelism();
    expect(d).toEqual({
      decodeWorkers: Math.max(1, Math.floor(cores / 4)),
      detectShards: Math.max(1, Math.floor(cores / 2)),
      receiverNice: -10,
    });
    expect(parseConfigYaml('pipeline: { decodeWorkers: 3, detectShards: 5, receiverNice: 0 }').pipeline).toEqual({
      decodeWorkers: 3,
      detectShards: 5,
      receiverNice: 0,
    });
    expect(errorOf('pipeline: { receiverNice: -21 }').issues.map((i) => i.path)).toEqual(['pipeline.receiverNice']);
    expect(errorOf('pipeline: { detectShards: 0 }').issues.map((i) => i.path)).toEqual(['pipeline.detectShards']);
    expect(errorOf('pipeline: { decodeWorkers: 1.5 }').issues.map((i) => i.path)).toEqual(['pipeline.decodeWorkers']);
    expect(errorOf('pipeline: { shards: 2 }').message).toContain('pipeline.shards: unknown key');
  });

  it('rejects an unknown key and names its full path', () => {
    const e = errorOf(GOOD.replace('asn: 64500', 'asn: 64500\n  custmers: []'));
    expect(e.issues).toContainEqual({ path: 'network.custmers', message: 'unknown key' });
    expect(e.message).toContain('network.custmers: unknown key');
  });

  it('rejects an unknown key inside a list item with its index', () => {
    const e = errorOf(GOOD.replace('role: upstream, asn: 174', 'role: upstream, asn: 174, colour: red'));
    expect(e.message).toContain('network.links[0].colour: unknown key');
  });

  it('rejects a bad CIDR and names the prefix path', () => {
    const e = errorOf(GOOD.replace('198.51.100.0/24', '198.51.100.0/33'));
    expect(e.issues[0].path).toBe('network.customers[0].prefixes[0]');
    expect(e.issues[0].message).toMatch(/CIDR/);
    expect(errorOf(GOOD.replace('198.51.100.0/24', '198.51.300.0/24')).issues[0].path).toBe(
      'network.customers[0].prefixes[0]',
    );
    expect(errorOf(GOOD.replace('198.51.100.0/24', 'not-a-prefix')).message).toContain(
      'network.customers[0].prefixes[0]',
    );
  });

  it('rejects a port out of range or of the wrong type', () => {
    expect(errorOf(GOOD.replace('port: 2055', 'port: 70000')).message).toContain(
      'collectors.netflow.port: port must be 0..65535',
    );
    expect(errorOf(GOOD.replace('port: 8080', 'port: "eighty"')).message).toContain('http.port');
    expect(errorOf(GOOD.replace('port: 4739', 'port: -1')).issues[0].path).toBe('collectors.ipfix.port');
  });

  it('rejects a wrong type and a bad enum value', () => {
    expect(errorOf(GOOD.replace('retention_days: 90', 'retention_days: soon')).message).toContain(
      'storage.retention_days',
    );
    expect(errorOf(GOOD.replace('role: upstream', 'role: sideways')).message).toContain('network.links[0].role');
  });

  it('takes storage.postgres as a postgres:// URL and names the key when it is not one', () => {
    const pg = GOOD.replace(
      'retention_days: 90',
      'retention_days: 90, postgres: "postgres://ds@db.example.net:5432/ds"',
    );
    expect(parseConfigYaml(pg).storage.postgres).toBe('postgres://ds@db.example.net:5432/ds');
    expect(parseConfigYaml(GOOD).storage.postgres).toBeUndefined();
    expect(
      errorOf(GOOD.replace('retention_days: 90', 'retention_days: 90, postgres: "mysql://db/ds"')).message,
    ).toContain('storage.postgres: expected a postgres:// or postgresql:// URL');
  });

  it('rejects a bad address in allowed_smtp and sampling exporters', () => {
    expect(errorOf(GOOD.replace('"198.51.100.25"', '"198.51.100.256"')).message).toContain('network.allowed_smtp[0]');
    expect(errorOf(GOOD.replace('"192.0.2.1": 1000', '"router-a": 1000')).message).toContain(
      'collectors.sampling.exporters',
    );
  });

  it('reports YAML syntax errors and duplicate keys', () => {
    expect(errorOf('http: { host: [').message).toMatch(/YAML syntax/);
    expect(errorOf('http: { port: 1 }\nhttp: { port: 2 }').message).toMatch(/YAML syntax/);
  });

  it('loads a file and names it in the error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ds-config-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(good, GOOD);
    expect(loadConfigFile(good).network.asn).toBe(64500);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'htp: {}');
    expect(() => loadConfigFile(bad)).toThrow(`invalid ${bad}:\n  htp: unknown key`);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot read config file/);
  });

  it('http: CORS origins normalised, limits and timeouts checked, the feed role accepted', () => {
    const c = parseConfigYaml(
      "http: { cors_origins: ['https://noc.example.net/', 'http://127.0.0.1:5173'], max_body_bytes: 131072 }\n" +
        "auth: { tokens: [{ name: fnm, role: feed, token: 'feed-token-0123456789' }] }",
    );
    expect(c.http.cors_origins).toEqual(['https://noc.example.net', 'http://127.0.0.1:5173']);
    expect(c.http.max_body_bytes).toBe(131072);
    expect(c.auth.tokens[0].role).toBe('feed');
    expect(errorOf("http: { cors_origins: ['noc.example.net'] }").message).toMatch(/http\.cors_origins\[0\]/);
    expect(errorOf('http: { headers_timeout_ms: 20000, request_timeout_ms: 10000 }').message).toMatch(
      /http\.request_timeout_ms: request_timeout_ms must be at least headers_timeout_ms/,
    );
    expect(errorOf('auth: { tokens: [{ name: x, role: root, token: "0123456789abcdefg" }] }').message).toMatch(
      /auth\.tokens\[0\]\.role/,
    );
  });
});
