import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ActionsConfig } from '../actions/config.js';
import { DetectConfig } from '../detect/config.js';
import { FeedsConfig } from '../feeds/config.js';
import { SubscribersConfig } from '../subscribers/config.js';
import { Cidr, IpAddress, Port } from './net.js';

/**
 * A quarter of the cores decode and enrich (one of them also receives), half run detector
 * shards; the rest is left to the main thread (HTTP, socket.io) and the kernel's UDP path.
 * On 2 cores: one of each.
 */
export function defaultDecodeWorkers(): number {
  return Math.max(1, Math.floor(availableParallelism() / 4));
}
export function defaultDetectShards(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

const Collector = z.strictObject({ port: Port, host: z.string().default('0.0.0.0') });

const Customer = z.strictObject({
  name: z.string().min(1),
  prefixes: z.array(Cidr).min(1),
  /** What the customer's access link carries (bits/s): inbound severity grows as an attack fills it. */
  capacity_bps: z.number().positive().optional(),
  /**
   * The downstream network this customer network belongs to (a reseller, a business customer
   * with several sites): trends and the report card add its customer networks up under it.
   */
  downstream: z.string().min(1).max(200).optional(),
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
  /** feed: may only post to /api/feeds/* (detectors); viewer < operator < admin are people. */
  role: z.enum(['feed', 'viewer', 'operator', 'admin']),
  token: z.string().min(16, 'tokens must be at least 16 characters'),
});

/** The whole YAML config (README "Configuration"). Strict everywhere: an unknown key is an error. */
export const Config = z.strictObject({
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: Port.default(8080),
      /** Browser origins (scheme://host:port) other than the server's own that may call the API (CORS). */
      cors_origins: z.array(z.url({ protocol: /^https?$/ }).transform((u) => new URL(u).origin)).default([]),
      /** Largest request body outside /api/feeds/* (feeds.max_body_bytes there); larger is 413 before it is read. */
      max_body_bytes: z
        .number()
        .int()
        .min(1024)
        .max(16 * 1024 * 1024)
        .default(64 * 1024),
      /** A client must send its request headers within this (slow-header clients are cut off). */
      headers_timeout_ms: z.number().int().min(100).max(300_000).default(10_000),
      /** …and its whole request within this. */
      request_timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
    })
    .refine((h) => h.request_timeout_ms >= h.headers_timeout_ms, {
      message: 'request_timeout_ms must be at least headers_timeout_ms',
      path: ['request_timeout_ms'],
    })
    .prefault({}),
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
    .strictObject({
      path: z.string().default('./data'),
      retention_days: z.number().int().positive().default(90),
      /**
       * postgres://user:pass@host:port/db — incidents, audit trail and rollups in PostgreSQL,
       * shared by every process of a cluster (store/pg-store.ts); absent: embedded SQLite.
       */
      postgres: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
        .optional(),
    })
    .prefault({}),
  detect: DetectConfig,
  feeds: FeedsConfig,
  actions: ActionsConfig,
  subscribers: SubscribersConfig,
  realtime: z
    .strictObject({
      /** redis://host:port — share socket.io rooms across server processes. */
      redis: z.string().url().optional(),
    })
    .prefault({}),
  /**
   * Worker threads of the compiled server (source runs under tsx/vitest stay in one thread):
   * flow decoding + enrichment, and detector shards. Defaults from the core count.
   */
  pipeline: z
    .strictObject({
      decodeWorkers: z.number().int().min(1).max(64).default(defaultDecodeWorkers),
      detectShards: z.number().int().min(1).max(256).default(defaultDetectShards),
      /**
       * Nice value asked for the receive thread (Linux, per thread; lowering it needs root or
       * CAP_SYS_NICE, otherwise it stays as it is and the log says so). 0 leaves it alone.
       */
      receiverNice: z.number().int().min(-20).max(19).default(-10),
    })
    .prefault({}),
  /**
   * The flow bus between `serve --role inlet` and `--role detect` processes (NATS JetStream).
   * Absent: one process (`--role all`) needs none.
   */
  bus: z
    .strictObject({
      /** One server, or several separated by commas (a NATS cluster). */
      nats: z
        .string()
        .regex(
          /^(nats|tls):\/\/[^\s/,]+(,(nats|tls):\/\/[^\s/,]+)*$/,
          'expected a NATS URL such as nats://127.0.0.1:4222',
        ),
      /** Fixed number of key-hash partitions (subjects); every process of a cluster must agree. */
      partitions: z.number().int().min(1).max(1024).default(16),
      stream: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
        .default('DOWNSTREAM_FLOWS'),
      subject: z
        .string()
        .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated tokens, no wildcards')
        .default('downstream.flows'),
      /** How long an unrenewed partition lease lives: a dead detect process's keys move after this. */
      lease_ms: z.number().int().min(500).max(60_000).default(3000),
      /** Flow batches an inlet holds while NATS is unreachable; beyond this the oldest are dropped and counted. */
      buffer_bytes: z
        .number()
        .int()
        .min(1 << 20)
        .default(64 << 20),
      /**
       * Where the stream keeps batches: `file` survives a NATS restart; `memory` does not (what
       * was unconsumed at the restart is lost) but costs no disk writes.
       */
      storage: z.enum(['file', 'memory']).default('file'),
      /** Unconsumed flow batches older than this are discarded by the stream. */
      max_age_seconds: z.number().int().min(5).max(86_400).default(120),
    })
    .optional(),
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
