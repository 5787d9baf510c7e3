import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfigFile, type Config } from '../config/config.js';
import { replayPcap } from '../ingest/replay.js';
import { createLogger } from '../logger.js';
import { importActions, importedLine } from './import-actions.js';
import { ROLES, RoleConfigError, startRole, type Role } from './roles.js';
import { startServer } from './server.js';
import { demoConfig } from '../sim/demo.js';
import { runScenario } from '../sim/run-scenario.js';
import { demoScenario } from '../sim/scenarios/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const serverRoot = join(here, '..', '..');
const version = (JSON.parse(readFileSync(join(serverRoot, 'package.json'), 'utf8')) as { version: string }).version;
const defaultWebRoot = join(serverRoot, '..', 'web', 'dist');

function portArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

function positiveArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

function hostPortArg(v: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:2055');
  return { host: m[1].replace(/^\[|\]$/g, ''), port: portArg(m[2]) };
}

/** Start the server, print where it listens (tests parse this line), stop cleanly on signals. */
async function run(
  config: Config,
  opts: { webRoot: string; withSimulator?: { seed: number; speed: number }; historyDays?: number },
) {
  const logger = createLogger(config.log.level);
  const server = await startServer({
    config,
    logger,
    version,
    webRoot: opts.webRoot,
    ...(opts.historyDays && opts.withSimulator
      ? { simulatedHistory: { days: opts.historyDays, seed: opts.withSimulator.seed } }
      : {}),
  });
  let sim: { stop(): Promise<void> } | undefined;
  if (opts.withSimulator) {
    const ports = server.ctx.collectors.ports;
    if (ports.netflow === undefined) throw new Error('the demo needs the NetFlow collector');
    sim = runScenario({
      scenario: demoScenario(opts.withSimulator.seed),
      netflowPort: ports.netflow,
      host: '127.0.0.1',
      speed: opts.withSimulator.speed,
    });
  }
  process.stdout.write(`Downstream ${version} listening on ${server.url}\n`);
  const ports = server.ctx.collectors.ports;
  process.stdout.write(`collectors: ${JSON.stringify(ports)}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await sim?.stop();
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function roleArg(v: string): Role {
  if (!(ROLES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${ROLES.join(', ')}`);
  return v as Role;
}

/** One role of a cluster: print where it listens (tests parse it), stop cleanly on signals. */
async function runRole(role: Exclude<Role, 'all'>, config: Config, memberId: string | undefined, webRoot: string) {
  const logger = createLogger(config.log.level).child({ role });
  const r = await startRole(role, { config, logger, version, memberId, webRoot });
  process.stdout.write(`Downstream ${version} ${role} listening on ${r.url}\n`);
  for (const line of r.lines) process.stdout.write(`${line}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await r.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

const program = new Command()
  .name('downstream')
  .description('Network-abuse detection and attribution from flow telemetry')
  .version(version);

program
  .command('demo')
  .description('run the server with the simulator feeding its collectors (embedded defaults)')
  .option('--host <host>', 'HTTP bind address', '127.0.0.1')
  .option('--port <port>', 'HTTP port (0 = a free one)', portArg, 8080)
  .option('--netflow-port <port>', 'NetFlow collector port (0 = a free one)', portArg, 0)
  .option('--ipfix-port <port>', 'IPFIX collector port (0 = a free one)', portArg, 0)
  .option('--sflow-port <port>', 'sFlow collector port (0 = a free one)', portArg, 0)
  .option('--data <dir>', 'data directory', './data')
  .option('--seed <n>', 'simulator seed (same seed, same traffic)', positiveArg, 1)
  .option('--speed <x>', 'simulated seconds per real second', positiveArg, 1)
  .option('--web-root <dir>', 'built SPA to serve', defaultWebRoot)
  .option('--no-history', 'do not backfill 30 days of simulated history into a fresh data dir')
  .action(async (o) => {
    const config = demoConfig({
      host: o.host,
      port: o.port,
      netflowPort: o.netflowPort,
      ipfixPort: o.ipfixPort,
      sflowPort: o.sflowPort,
      dataDir: resolve(o.data),
    });
    await run(config, {
      webRoot: resolve(o.webRoot),
      withSimulator: { seed: o.seed, speed: o.speed },
      historyDays: o.history === false ? 0 : 30,
    });
  });

program
  .command('serve')
  .description('production mode: no simulator, config from a YAML file')
  .requiredOption('--config <file>', 'YAML config file')
  .option('--web-root <dir>', 'built SPA to serve', defaultWebRoot)
  .option(
    '--role <role>',
    `${ROLES.join('|')}: the whole server, or one part of a cluster (README "Running a cluster")`,
    roleArg,
    'all',
  )
  .option(
    '--member-id <id>',
    "inlet/detect: this process's name on the bus (default random; a stable one lets a restarted detect process take its partitions back at once)",
  )
  .action(async (o) => {
    const config = loadConfigFile(o.config);
    if (o.role === 'all') await run(config, { webRoot: resolve(o.webRoot) });
    else await runRole(o.role as Exclude<Role, 'all'>, config, o.memberId as string | undefined, resolve(o.webRoot));
  });

program
  .command('check-config')
  .description('validate a YAML config file and exit (0 = valid)')
  .argument('<file>')
  .action((file: string) => {
    loadConfigFile(file);
    process.stdout.write(`${file}: valid\n`);
  });

program
  .command('import-actions')
  .description(
    'copy the actions database of a box moving onto storage.postgres (remediation list and history, mitigations, complaints, notices, RDAP cache) from its SQLite file into that PostgreSQL database, once, into empty tables',
  )
  .requiredOption('--config <file>', 'YAML config file (the one with storage.postgres)')
  .option(
    '--from <path>',
    'SQLite actions file (default: actions.remediation.path, else <storage.path>/actions.sqlite)',
  )
  .action(async (o) => {
    const config = loadConfigFile(o.config);
    const tables = await importActions({
      config,
      from: o.from as string | undefined,
      logger: createLogger(config.log.level),
    });
    for (const t of tables) process.stdout.write(`${importedLine(t)}\n`);
  });

program
  .command('replay')
  .description('send the flow datagrams of a pcap to a collector on loopback')
  .argument('<pcap>')
  .requiredOption('--to <host:port>', 'collector address, e.g. 127.0.0.1:2055', hostPortArg)
  .option('--speed <x>', '1 = original pace, N = N times faster, 0 = as fast as possible', positiveArg, 1)
  .action(async (file: string, o) => {
    const logger = createLogger();
    const r = await replayPcap({ file, host: o.to.host, port: o.to.port, speed: o.speed, logger });
    process.stdout.write(`sent ${r.datagrams} datagrams to ${o.to.host}:${o.to.port}\n`);
  });

program.parseAsync().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof RoleConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`downstream: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
