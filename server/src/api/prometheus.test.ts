import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { detectionEvent } from '../testing/fake-context.js';
import { parseConfig } from '../config/config.js';
import { startServer, type RunningServer } from '../main/server.js';
import { UdpExporter } from '../sim/udp-exporter.js';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const RULES = join(repo, 'deploy/prometheus/downstream-rules.yml');
const RULES_TEST = join(repo, 'deploy/prometheus/downstream-rules.test.yml');
const DASHBOARD = join(repo, 'deploy/grafana/downstream.json');
const VIEWER = 'prometheus-viewer-0123456789';
const FEED = 'feed-token-0123456789abcdef';

function has(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const available = has('prometheus') && has('promtool');
if (!available) console.warn('prometheus.test: Debian prometheus (prometheus, promtool) not installed; skipping');

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * Metric names a PromQL expression selects. Strings, label matchers, ranges, grouping clauses
 * and Grafana variables are removed first; what remains that is not a function call, a keyword
 * or a number is a metric name.
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\boffset\s+\d+\w*/g, ' ');
  const out = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\(?))/g)) {
    const followedByParen = s
      .slice(m.index + m[0].length)
      .trimStart()
      .startsWith('(');
    if (followedByParen || PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    // exponent of a number like 1e-9
    if (/\d$/.test(s.slice(0, m.index)) && /^e/i.test(m[0])) continue;
    out.add(m[0]);
  }
  return [...out];
}

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}
const rules = (parseDocument(readFileSync(RULES, 'utf8')).toJS() as RuleFile).groups.flatMap((g) => g.rules);
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));

interface Panel {
  title: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  panels: Panel[];
  templating: { list: { query?: unknown; definition?: string }[] };
  annotations: { list: { expr?: string }[] };
};
const dashboardExprs: { where: string; expr: string }[] = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ...dashboard.annotations.list.flatMap((a) => (a.expr ? [{ where: 'annotation', expr: a.expr }] : [])),
  ...dashboard.templating.list.flatMap((v) =>
    v.definition ? [{ where: 'variable', expr: v.definition.replace(/^label_values\(([^,)]+).*$/, '$1').trim() }] : [],
  ),
];

describe('PromQL metric-name extraction', () => {
  it('finds selectors, not functions, labels, keywords or variables', () => {
    expect(
      metricNames(
        'sum by (a, b) (rate(x_total{job="d",reason=~"a|b"}[$__rate_interval])) / clamp_min(y:rec{i=~"$instance"}, 1e-9) > 0 and on (a) z',
      ).sort(),
    ).toEqual(['x_total', 'y:rec', 'z']);
    expect(metricNames('time() - max by (e) (last_seen_seconds)')).toEqual(['last_seen_seconds']);
  });
});

describe.skipIf(!available)('Prometheus scraping a real server', () => {
  let server: RunningServer;
  let prom: ChildProcess;
  let promUrl: string;
  let promLog = '';
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ds-prom-'));
    server = await startServer({
      config: parseConfig({
        http: { host: '127.0.0.1', port: 0 },
        collectors: { netflow: { host: '127.0.0.1', port: 0 } },
        storage: { path: join(dir, 'data') },
        auth: {
          tokens: [
            { name: 'prometheus', role: 'viewer', token: VIEWER },
            { name: 'hook', role: 'feed', token: FEED },
          ],
        },
      }),
      logger,
      version: 'test',
      tickMs: 200,
    });
    // Traffic, one undecodable datagram, feed input good and bad, and an incident that escalates:
    // every labelled series the rules and dashboard use then has a sample.
    const nf = server.ctx.collectors.ports.netflow!;
    const exporter = new UdpExporter({ host: '127.0.0.1', port: nf, protocol: 'netflow-v9' });
    const now = Date.now();
    await exporter.send(
      Array.from({ length: 20 }, (_, i) => ({
        src: `198.51.100.${i + 1}`,
        dst: '203.0.113.10',
        srcPort: 40000 + i,
        dstPort: 443,
        proto: 6,
        tcpFlags: 0x18,
        packets: 10,
        bytes: 6000,
        startMs: now - 1000,
        endMs: now,
        inIf: 1,
        outIf: 2,
      })),
      now,
    );
    await exporter.close();
    const junk = createSocket('udp4');
    await new Promise<void>((ok) => junk.send(Buffer.from([0, 9, 0, 1, 2]), nf, '127.0.0.1', () => ok()));
    junk.close();
    const post = (body: string) =>
      fetch(`${server.url}/api/feeds/generic`, {
        method: 'POST',
        headers: { authorization: `Bearer ${FEED}`, 'content-type': 'application/json' },
        body,
      });
    expect(
      (
        await post(
          JSON.stringify({
            detector: 'honeypot',
            id: 'p-1',
            kind: 'scanner',
            direction: 'outbound',
            sources: [{ ip: '198.51.100.23', packets: 120 }],
            summary: 'SSH probes',
          }),
        )
      ).status,
    ).toBe(200);
    expect((await post('{"detector": 1}')).status).toBe(400);
    server.ctx.incidents.ingest(detectionEvent('203.0.113.50', 3, 1000));
    server.ctx.incidents.ingest(detectionEvent('203.0.113.50', 3, 2_000_000));
    await server.ctx.collectors.flush();

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ['${RULES}']
scrape_configs:
  - job_name: downstream
    authorization: { credentials: '${VIEWER}' }
    static_configs: [{ targets: ['${new URL(server.url).host}'] }]
`,
    );
    prom = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prom.stdout!.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-5000)));
    prom.stderr!.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-5000)));
  });

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await new Promise((r) => prom.once('exit', r));
    }
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(q: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    return (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  }

  async function until<T>(f: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      try {
        const v = await f();
        if (v !== undefined) return v;
      } catch {
        /* Prometheus not up yet */
      }
      if (Date.now() > end || prom.exitCode !== null)
        throw new Error(`${what} never happened; prometheus:\n${promLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('ingests /metrics with a viewer token; the dashboard and rules use only names it scraped', async () => {
    await until(async () => {
      const r = await query('up{job="downstream"} == 1');
      return r.data?.result.length ? true : undefined;
    }, 'a successful scrape');
    const names = await until(async () => {
      const r = (await (await fetch(`${promUrl}/api/v1/label/__name__/values`)).json()) as { data: string[] };
      return r.data.includes('downstream_incidents_escalated_total') ? new Set(r.data) : undefined;
    }, 'the escalation counter in the TSDB');

    for (const n of [
      'downstream_ingest_datagrams_total',
      'downstream_ingest_decode_errors_total',
      'downstream_ingest_exporter_last_seen_timestamp_seconds',
      'downstream_feed_events_total',
      'downstream_pipeline_dropped_total',
      'downstream_incidents_opened_total',
      'downstream_incidents_active',
      'process_resident_memory_bytes',
    ])
      expect(names, n).toContain(n);
    const opened = await query('downstream_incidents_opened_total{job="downstream"}');
    expect(opened.data!.result).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ metric: expect.objectContaining({ severity: 'low', kind: 'ddos-fan-in' }) }),
      ]),
    );
    const errors = await query('downstream_ingest_decode_errors_total');
    expect(errors.data!.result.length).toBeGreaterThan(0);
    const feedErrors = await query('downstream_feed_events_total{feed="generic",result="error"} > 0');
    expect(feedErrors.data!.result).toHaveLength(1);

    const unknown: string[] = [];
    for (const { where, expr } of [
      ...rules.map((r) => ({ where: `rule ${r.record ?? r.alert}`, expr: r.expr })),
      ...dashboardExprs,
    ]) {
      for (const n of metricNames(expr)) if (!names.has(n) && !recorded.has(n)) unknown.push(`${where}: ${n}`);
      // Grafana's variables as Prometheus would see them after substitution: the query must parse.
      const concrete = expr.replace(/\$__rate_interval/g, '1m').replace(/\$instance/g, '.*');
      const res = await query(concrete);
      expect(res.status, `${where}: ${concrete}: ${res.error}`).toBe('success');
    }
    expect(unknown).toEqual([]);
    // The rules loaded into this Prometheus evaluate without errors.
    const loaded = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const bad = loaded.data.groups.flatMap((g) => g.rules).filter((r) => r.health === 'err');
    expect(bad).toEqual([]);
    expect(loaded.data.groups.flatMap((g) => g.rules)).toHaveLength(rules.length);
  });

  it('the rules pass promtool check rules and their unit tests', async () => {
    const check = await run('promtool', ['check', 'rules', RULES]);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const t = await run('promtool', ['test', 'rules', RULES_TEST], { cwd: dirname(RULES_TEST) });
    expect(t.stdout).toMatch(/SUCCESS/);
  });
});
