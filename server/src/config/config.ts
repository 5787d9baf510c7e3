import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ActionsConfig } from '../actions/config.js';
import { DetectConfig } from '../detect/config.js';
import { FeedsConfig } from '../feeds/config.js';
import { Cidr, IpAddress, Port } from './net.js';

const Collector = z.strictObject({ port: Port, host: z.string().default('0.0.0.0') });

const Customer = z.strictObject({
  name: z.string().min(1),
  prefixes: z.array(Cidr).min(1),
});

const Link = z.strictObject({
  exporter: IpAddress,
  ifindex: z.number().int().nonnegative(),
  name: z.string().min(1),
  role: z.enum(['upstream', 'peer', 'customer']),
  asn: z.number().int().nonnegative().optional(),
});

const Token = z.strictObject({
  name: z.string().min(1),
  role: z.enum(['viewer', 'operator', 'admin']),
  token: z.string().min(16, 'tokens must be at least 16 characters'),
});

/** The whole YAML config (DESIGN.md "Config"). Strict everywhere: an unknown key is an error. */
export const Config = z.strictObject({
  http: z.strictObject({ host: z.string().default('127.0.0.1'), port: Port.default(8080) }).prefault({}),
  collectors: z
    .strictObject({
      netflow: Collector.optional(),
      ipfix: Collector.optional(),
      sflow: Collector.optional(),
      sampling: z
        .strictObject({
          default: z.number().int().positive().default(1),
          exporters: z.record(IpAddress, z.number().int().positive()).default({}),
        })
        .prefault({}),
    })
    .prefault({}),
  network: z
    .strictObject({
      asn: z.number().int().nonnegative().optional(),
      customers: z.array(Customer).default([]),
      allowed_smtp: z.array(IpAddress).default([]),
      links: z.array(Link).default([]),
    })
    .prefault({}),
  auth: z.strictObject({ tokens: z.array(Token).default([]) }).prefault({}),
  storage: z
    .strictObject({ path: z.string().default('./data'), retention_days: z.number().int().positive().default(90) })
    .prefault({}),
  detect: DetectConfig,
  feeds: FeedsConfig,
  actions: ActionsConfig,
  realtime: z
    .strictObject({
      /** redis://host:port — share socket.io rooms across server processes. */
      redis: z.string().url().optional(),
    })
    .prefault({}),
  log: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
    .prefault({}),
});
export type Config = z.infer<typeof Config>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

function pathToString(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(root)';
}

/** Validate an already-parsed object; throws ConfigError naming every bad key path. */
export function parseConfig(raw: unknown, source = 'config'): Config {
  const r = Config.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issues: { path: string; message: string }[] = [];
  for (const i of r.error.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) issues.push({ path: pathToString([...i.path, k]), message: 'unknown key' });
    } else {
      issues.push({ path: pathToString(i.path), message: i.message });
    }
  }
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  throw new ConfigError(`invalid ${source}:\n${lines}`, issues);
}

/** Parse YAML text into a validated Config. */
export function parseConfigYaml(text: string, source = 'config'): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`invalid ${source}: YAML syntax: ${doc.errors.map((e) => e.message).join('; ')}`);
  }
  return parseConfig(doc.toJS(), source);
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  return parseConfigYaml(text, path);
}
