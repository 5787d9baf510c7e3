/**
 * pnpm bench:detect --matrix — detection quality: every labelled scenario of the library
 * (attacks and benign look-alikes) and every real capture × protocol (NetFlow v9, IPFIX,
 * sFlow v5) × 1-in-N sampling: found / missed / false positive and time to detect, through
 * Downstream; and the same traffic through FastNetMon (Debian package) in real time, with the
 * package's default thresholds and with lowered ones.
 *
 * Synthetic scenarios go through the pipeline harness (real datagrams over loopback, simulated
 * time). Real captures are retimed (server/src/sim/real-captures), metered by softflowd (v9,
 * IPFIX; `-s N`) and pmacctd sfprobe (sFlow, `sampling_rate: N`), and replayed into startServer.
 *
 * Options (--x=value or BENCH_X): scenarios=a,b (ids; default all), protocols=netflow-v9,ipfix,sflow-v5,
 * rates=1,10,100,1000, real=1 (0: no real captures), realSeconds=15, fastnetmon=1, fnmSeconds=25.
 * sFlow at 1:1 (every packet a sample) is not run unless `--sflow1=1`: the library's floods are
 * hundreds of thousands of packets/s.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncidentDetail } from '@downstream/shared';
import { runThroughPipeline, type HarnessProtocol } from '../src/detect/pipeline-harness.js';
import { findFastNetMon, freeUdpPort, startFastNetMon } from '../src/feeds/fastnetmon-runner.js';
import { detectWindowSeconds, detectability, type Detectability } from '../src/sim/detectability.js';
import {
  RAW_CAPTURES_DIR,
  REAL_CAPTURES,
  captureDetectability,
  type CaptureSpec,
} from '../src/sim/real-captures/catalogue.js';
import { pmacctdPath, softflowdPath, softflowdSeconds, startPmacctProbe } from '../src/sim/real-captures/exporters.js';
import { replayIntoServer } from '../src/sim/real-captures/replay-into-server.js';
import { retimeCapture, type RetimedCapture } from '../src/sim/real-captures/retime.js';
import { SCENARIOS, demoNetworkConfig } from '../src/sim/scenarios/index.js';
import { mulberry32 } from '../src/sim/scenarios/rng.js';
import type { Scenario, ScenarioLabel } from '../src/sim/scenarios/scenario.js';
import { UdpExporter } from '../src/sim/udp-exporter.js';
import { opt } from './bench-options.js';

const PROTOCOLS: HarnessProtocol[] = ['netflow-v9', 'ipfix', 'sflow-v5'];
const SHORT: Record<HarnessProtocol, string> = { 'netflow-v9': 'v9', ipfix: 'IPFIX', 'sflow-v5': 'sFlow' };
const list = (name: string, def: string[]): string[] => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const v = arg ? arg.split('=')[1] : process.env[`BENCH_${name.toUpperCase()}`];
  return v ? v.split(',').filter(Boolean) : def;
};

/** One row of the matrix: a synthetic scenario (its first attack label, or its look-alike) or a real capture. */
interface Row {
  id: string;
  what: string;
  kind: string | null;
  cells: Map<string, string>;
  fnm: Map<string, string>;
  /** Why a cell is n/d (not detectable at its sampling). */
  nd: Map<string, string>;
}

const cellKey = (p: HarnessProtocol, rate: number) => `${SHORT[p]} 1:${rate}`;

function concerns(label: ScenarioLabel, d: IncidentDetail): boolean {
  const hosts = new Set([
    ...(label.target ? [label.target] : []),
    ...(label.direction === 'outbound' ? label.sources : []),
    ...(label.involved ?? []),
  ]);
  return hosts.has(d.target?.ip ?? '') || d.sources.top.some((s) => hosts.has(s.ip) && label.direction === 'outbound');
}

/**
 * found (time to detect) / missed, plus false positives; for look-alikes: ok / FP. An attack
 * that sampling leaves too little of (sim/detectability.ts) and that nothing found is `n/d`
 * (not detectable at this sampling), not a miss; its numbers go to the notes under the table.
 */
function judge(
  expected: string | null,
  mine: IncidentDetail[],
  others: IncidentDetail[],
  ttd: (d: IncidentDetail) => number,
  seen: Detectability = { detectable: true, why: '' },
): string {
  const fp = [...new Set([...others, ...mine.filter((d) => d.kind !== expected)].map((d) => d.kind))];
  const fpText = fp.length ? ` FP: ${fp.join('+')}` : '';
  if (expected === null) return fp.length ? `**FP** ${fp.join('+')}` : 'ok';
  const hit = mine.filter((d) => d.kind === expected);
  if (hit.length === 0) return seen.detectable ? `**missed**${fpText}` : `n/d${fpText}`;
  const t = Math.min(...hit.map(ttd));
  return `found ${t.toFixed(0)} s${fpText}`;
}

/**
 * What a synthetic attack puts on the wire in its first detection window: its packets (flows
 * from its sources, or toward its target) and its signature units, for detectability().
 */
function syntheticWire(scenario: Scenario, label: ScenarioLabel): { packets: number; windowSeconds: number } {
  const windowSeconds = Math.min(detectWindowSeconds(label.kind), label.endSecond - label.startSecond);
  const sources = new Set(label.sources);
  let packets = 0;
  const now = Date.now();
  for (let sec = label.startSecond; sec < label.startSecond + windowSeconds; sec++)
    for (const f of scenario.flows(sec, now))
      if (label.direction === 'outbound' ? sources.has(f.src) : f.dst === label.target) packets += f.packets;
  return { packets, windowSeconds };
}

const wireCache = new Map<string, { packets: number; windowSeconds: number }>();

async function syntheticCell(
  name: string,
  protocol: HarnessProtocol,
  rate: number,
): Promise<{ cell: string; seen: Detectability }> {
  const scenario = SCENARIOS[name](11);
  const label = scenario.labels.find((l) => l.kind !== null) ?? scenario.labels[0];
  let wire = wireCache.get(name);
  if (!wire) wireCache.set(name, (wire = syntheticWire(scenario, label)));
  const seen = detectability({
    ...wire,
    rate,
    ...(label.signature && {
      signature: { ...label.signature, units: label.signature.perSecond * wire.windowSeconds },
    }),
  });
  const r = await runThroughPipeline({ scenario, protocol, samplingRate: rate });
  const mine = r.details.filter((d) => concerns(label, d));
  const others = r.details.filter((d) => !concerns(label, d));
  const began = r.startMs + (label.startSecond - 1) * 1000;
  return { cell: judge(label.kind, mine, others, (d) => (Date.parse(d.firstSeen) - began) / 1000, seen), seen };
}

function realConcerns(spec: CaptureSpec, d: IncidentDetail): boolean {
  return spec.direction === 'inbound'
    ? d.target?.ip === spec.customerHost
    : d.sources.top.some((s) => s.ip === spec.customerHost);
}

const RAW = join(process.cwd(), RAW_CAPTURES_DIR);

export async function matrix(): Promise<void> {
  const names = list(
    'scenarios',
    Object.keys(SCENARIOS).filter((n) => n !== 'mixed'),
  );
  const protocols = list('protocols', PROTOCOLS) as HarnessProtocol[];
  const rates = list('rates', ['1', '10', '100', '1000']).map(Number);
  const sflow1 = opt('sflow1', 0) > 0;
  const combos = protocols.flatMap((p) =>
    rates.filter((r) => p !== 'sflow-v5' || r > 1 || sflow1).map((r) => [p, r] as const),
  );
  const t0 = performance.now();
  const ids = list(
    'captures',
    REAL_CAPTURES.map((x) => x.id),
  );
  const realOn = opt('real', 1) > 0 && existsSync(RAW) && !!softflowdPath() && !!pmacctdPath();
  const specs = realOn ? REAL_CAPTURES.filter((c) => ids.includes(c.id)) : [];
  const realSeconds = opt('realSeconds', 15);
  const bin = opt('fastnetmon', 1) > 0 ? findFastNetMon() : undefined;
  const rows: Row[] = [
    ...names.map((name) => {
      const s = SCENARIOS[name](11);
      const label = s.labels.find((l) => l.kind !== null) ?? s.labels[0];
      return {
        id: name,
        what: s.description,
        kind: label.kind,
        cells: new Map(),
        fnm: new Map(),
        nd: new Map(),
      } as Row;
    }),
    ...specs.map((spec): Row => ({
      id: `real: ${spec.id}`,
      what: `${spec.description} (${spec.pps.toLocaleString('en-US')} pps, real packets)`,
      kind: spec.kind,
      cells: new Map(),
      fnm: new Map(),
      nd: new Map(),
    })),
  ];
  console.log(
    `\n# detection matrix: ${rows.length} rows × ${combos.map(([p, r]) => cellKey(p, r)).join(', ')}` +
      (realOn ? '' : ' (real captures not run: ../shared, softflowd or pmacctd missing)'),
  );
  // Real captures are retimed once; their exports are kept per feed for FastNetMon.
  const caps = new Map<string, RetimedCapture>();
  const startMs = Math.floor(Date.now() / 1000) * 1000;
  for (const spec of specs)
    caps.set(spec.id, retimeCapture(spec, { rawDir: RAW, seconds: realSeconds, leadSeconds: 3, startMs }));
  const dir = mkdtempSync(join(tmpdir(), 'ds-matrix-'));
  let fnmSeconds = 0;
  const done: number[] = [];
  try {
    // Rate by rate, each with its FastNetMon round, so a partial run still prints whole columns.
    for (const rate of rates) {
      const here = combos.filter(([, r]) => r === rate);
      if (here.length === 0) continue;
      const exported = new Map<string, Map<string, Buffer[][]>>();
      for (const row of rows.slice(0, names.length))
        for (const [p, r] of here) {
          const { cell, seen } = await syntheticCell(row.id, p, r);
          row.cells.set(cellKey(p, r), cell);
          if (cell.startsWith('n/d')) row.nd.set(cellKey(p, r), seen.why);
          process.stdout.write('.');
        }
      const probe =
        here.some(([p]) => p === 'sflow-v5') && specs.length > 0
          ? await startPmacctProbe({ plugin: 'sfprobe', samplingRate: rate, dir: mkdtempSync(join(dir, 'pm-')) })
          : undefined;
      try {
        for (const spec of specs) {
          const cap = caps.get(spec.id)!;
          const row = rows.find((x) => x.id === `real: ${spec.id}`)!;
          const per = new Map<string, Buffer[][]>();
          for (const [p, r] of here) {
            const secs =
              p === 'sflow-v5'
                ? await probe!.meter(cap.seconds)
                : await softflowdSeconds(cap.seconds, { protocol: p, samplingRate: r, dir });
            per.set(cellKey(p, r), secs);
            const run = await replayIntoServer(secs, { protocol: p, startMs });
            const mine = run.details.filter((d) => realConcerns(spec, d));
            // The background is the library's: anything on other hosts is a false positive.
            const others = run.details.filter((d) => !realConcerns(spec, d));
            const seen = captureDetectability(spec, { seconds: realSeconds, copies: cap.copies, rate: r });
            const cell = judge(spec.kind, mine, others, (d) => run.firstSecond.get(d.id)! + 1 - 3, seen);
            row.cells.set(cellKey(p, r), cell);
            if (cell.startsWith('n/d')) row.nd.set(cellKey(p, r), seen.why);
            process.stdout.write('.');
          }
          exported.set(spec.id, per);
        }
      } finally {
        await probe?.stop();
      }
      if (bin) {
        const t1 = performance.now();
        await fastNetMonRound(bin, rows, names, here, exported, opt('fnmSeconds', 25));
        fnmSeconds += (performance.now() - t1) / 1000;
      }
      process.stdout.write('\n');
      done.push(rate);
      printMatrix(
        rows,
        combos.filter(([, r]) => done.includes(r)).map(([p, r]) => cellKey(p, r)),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const fnmNote = bin
    ? `FastNetMon ${fnmVersion(bin)}: ${fnmSeconds.toFixed(0)} s real time`
    : 'FastNetMon not run (--fastnetmon=0 or Debian package fastnetmon not installed)';
  console.log(
    `\n${((performance.now() - t0) / 1000).toFixed(0)} s in all; ${fnmNote}. ` +
      'FastNetMon cells: default thresholds (20 kpps / 1000 Mbit/s per host) / lowered (5 kpps / 50 Mbit/s); "ban" = it banned the right host, **ban** a benign one.',
  );
  const gaps = rows.flatMap((row) =>
    [...row.cells].flatMap(([k, v]) =>
      row.kind && v.startsWith('**missed') && (row.fnm.get(k) ?? '').includes('ban')
        ? [`${row.id} @ ${k}: FastNetMon ${row.fnm.get(k)}`]
        : [],
    ),
  );
  console.log(`\n# FastNetMon finds, Downstream misses (${gaps.length})`);
  for (const g of gaps) console.log(`- ${g}`);
}

function fnmVersion(bin: string): string {
  const q = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'fastnetmon']);
  return q.status === 0 ? q.stdout.toString() : bin;
}

function printMatrix(rows: Row[], keys: string[]): void {
  const head = ['scenario', 'expected', ...keys];
  console.log(`\n| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const cells = keys.map((k) => {
      const f = r.fnm.get(k);
      return `${r.cells.get(k) ?? ''}${f !== undefined ? ` · FNM ${f}` : ''}`;
    });
    console.log(`| ${r.id} | ${r.kind ?? 'benign'} | ${cells.join(' | ')} |`);
  }
  const nd = rows.flatMap((r) => keys.filter((k) => r.nd.has(k)).map((k) => `- ${r.id} @ ${k}: ${r.nd.get(k)}`));
  if (nd.length > 0) {
    console.log('\nn/d = not detectable at this sampling (sim/detectability.ts), not counted as a miss:');
    for (const line of nd) console.log(line);
  }
}

/**
 * One real-time FastNetMon round for one sampling rate: for each protocol, two FastNetMon
 * instances (default and lowered thresholds) on their own ports. Every synthetic scenario plays
 * its attack window at once, each on its own hosts as the library places them — the scenarios
 * that share a host are run in turns — and the real captures' exporter datagrams are replayed at
 * their seconds from 127.0.0.2 (their own exporter, so templates do not mix).
 */
async function fastNetMonRound(
  bin: string,
  rows: Row[],
  names: string[],
  combos: (readonly [HarnessProtocol, number])[],
  exported: Map<string, Map<string, Buffer[][]>>,
  seconds: number,
): Promise<void> {
  // Group scenarios so that no two in a group share a labelled host.
  const groups: { name: string; s: Scenario; label: ScenarioLabel; hosts: Set<string> }[][] = [];
  for (const name of names) {
    const s = SCENARIOS[name](11);
    const label = s.labels.find((l) => l.kind !== null) ?? s.labels[0];
    const hosts = new Set(
      [label.target, ...(label.direction === 'outbound' ? label.sources : []), ...(label.involved ?? [])].filter(
        (h): h is string => !!h,
      ),
    );
    let g = groups.find((gr) => gr.every((x) => [...hosts].every((h) => !x.hosts.has(h))));
    if (!g) groups.push((g = []));
    g.push({ name, s, label, hosts });
  }
  const networks = demoNetworkConfig.customers.flatMap((c) => c.prefixes).filter((p) => !p.includes(':'));
  for (const [gi, group] of groups.entries()) {
    const withReal = gi === 0;
    const dir = mkdtempSync(join(tmpdir(), 'ds-fnm-m-'));
    const inst: {
      p: HarnessProtocol;
      r: number;
      which: 'default' | 'lowered';
      bans: string;
      stop: () => Promise<void>;
      port: number;
    }[] = [];
    try {
      for (const [p, r] of combos)
        for (const which of ['default', 'lowered'] as const) {
          const sub = mkdtempSync(join(dir, 'i-'));
          const bans = join(sub, 'bans.txt');
          const notify = join(sub, 'notify.sh');
          writeFileSync(notify, `#!/bin/sh\necho "$1 $2 $3 $4" >> ${bans}\ncat > /dev/null\n`);
          chmodSync(notify, 0o755);
          const port = await freeUdpPort();
          const nfPort = p === 'sflow-v5' ? await freeUdpPort() : port;
          const fnm = startFastNetMon({
            bin,
            dir: sub,
            networks,
            netflowPort: nfPort,
            ...(p === 'sflow-v5' ? { sflowPort: port } : { netflowSamplingRatio: r }),
            notifyScript: notify,
            thresholds:
              which === 'default' ? { pps: 20_000, mbps: 1000, flows: 3500 } : { pps: 5_000, mbps: 50, flows: 3500 },
            banForBandwidth: true,
            banTimeSeconds: 600,
          });
          inst.push({ p, r, which, bans, port, stop: () => fnm.stop() });
        }
      await new Promise((res) => setTimeout(res, 2000)); // FastNetMon start-up
      // One simulated router per instance: each has its own sampling draws and sequence numbers.
      const exporters = inst.map(
        (x) =>
          new UdpExporter({ host: '127.0.0.1', port: x.port, protocol: x.p, samplingRate: x.r, random: mulberry32(3) }),
      );
      const real = dgram.createSocket('udp4');
      await new Promise<void>((res) => real.bind(0, '127.0.0.2', () => res()));
      // Each scenario from a few seconds before its attack (look-alikes: their window).
      const offsets = group.map((g) => Math.max(0, g.label.startSecond - 3));
      for (let t = 0; t < seconds; t++) {
        const wall = Date.now();
        for (const [p, r] of combos) {
          const flows = group.flatMap((g, i) =>
            offsets[i] + t < g.s.durationSeconds ? g.s.flows(offsets[i] + t, wall) : [],
          );
          const targets = inst.filter((x) => x.p === p && x.r === r);
          await Promise.all(targets.map((x) => exporters[inst.indexOf(x)].send(flows, wall)));
          if (withReal)
            for (const per of exported.values()) {
              const secs = per.get(cellKey(p, r));
              for (const d of secs?.[t] ?? []) for (const x of targets) real.send(d, x.port, '127.0.0.1');
            }
        }
        await new Promise((res) => setTimeout(res, Math.max(0, 1000 - (Date.now() - wall))));
      }
      await new Promise((res) => setTimeout(res, 3000));
      for (const e of exporters) await e.close();
      real.close();
    } finally {
      for (const x of inst) await x.stop();
    }
    for (const [p, r] of combos) {
      const banned = (which: string): Set<string> => {
        const x = inst.find((i) => i.p === p && i.r === r && i.which === which)!;
        return new Set(
          existsSync(x.bans)
            ? readFileSync(x.bans, 'utf8')
                .split('\n')
                .map((l) => l.split(' '))
                .filter((b) => b[3] === 'ban')
                .map((b) => b[0])
            : [],
        );
      };
      const def = banned('default');
      const low = banned('lowered');
      const mark = (hosts: string[], attack: boolean): string => {
        const f = (set: Set<string>) => (hosts.some((h) => set.has(h)) ? (attack ? 'ban' : '**ban**') : '—');
        return `${f(def)}/${f(low)}`;
      };
      for (const g of group) {
        const row = rows.find((x) => x.id === g.name)!;
        row.fnm.set(cellKey(p, r), mark([...g.hosts], g.label.kind !== null));
      }
      if (withReal)
        for (const spec of REAL_CAPTURES) {
          const row = rows.find((x) => x.id === `real: ${spec.id}`);
          if (row) row.fnm.set(cellKey(p, r), mark([spec.customerHost], true));
        }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
