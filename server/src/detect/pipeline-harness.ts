import type { DetectionEvent, Incident, IncidentDetail } from '@downstream/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseConfig, type Config } from '../config/config.js';
import { createEnricher } from '../enrich/index.js';
import { createIncidentManager } from '../incidents/index.js';
import { MemoryStore } from '../incidents/memory-store.js';
import { startPipeline } from '../main/pipeline.js';
import { mulberry32 } from '../sim/scenarios/rng.js';
import { demoNetworkConfig } from '../sim/scenarios/network.js';
import type { Scenario } from '../sim/scenarios/scenario.js';
import { UdpExporter } from '../sim/udp-exporter.js';

export type HarnessProtocol = 'netflow-v9' | 'ipfix' | 'sflow-v5';

export interface HarnessOptions {
  scenario: Scenario;
  protocol?: HarnessProtocol;
  samplingRate?: number;
  /** Simulated seconds to play (default: the scenario's duration). */
  seconds?: number;
  /** Extra config (e.g. `detect:` overrides), merged over the demo network. */
  config?: Record<string, unknown>;
  seed?: number;
  /**
   * Run the stages in worker threads (main/threaded-pipeline.ts, loaded through tsx) with this
   * many ingest workers and detector shards; default: in-process, one detector set.
   */
  threads?: { decodeWorkers: number; detectShards: number };
  /** Routers to spread the chunks over, sending from 127.0.2.1, .2, … (default: one, from 127.0.0.1). */
  exporters?: number;
}

export interface HarnessResult {
  config: Config;
  incidents: Incident[];
  details: IncidentDetail[];
  events: DetectionEvent[];
  datagrams: number;
  records: number;
  store: MemoryStore;
  /** Simulated time of second 0: second `k` is the one ending at startMs + k s. */
  startMs: number;
}

const CHUNK = 400;
/** Datagrams sent before waiting for the collector to have them all (a loopback buffer's worth). */
const BURST = 512;

/**
 * Plays a scenario through the production path in lock-step with simulated time: SimFlows →
 * UdpExporter (real NetFlow v9 / IPFIX / sFlow datagrams over loopback UDP) → startCollectors →
 * main/pipeline.ts (enrich → detect → incidents), as the server runs it. Each simulated second is sent in
 * chunks, waiting until the collector has received every datagram, so the result does not
 * depend on machine speed; then detectors and incidents tick once.
 */
export async function runThroughPipeline(o: HarnessOptions): Promise<HarnessResult> {
  const protocol = o.protocol ?? 'netflow-v9';
  const key = protocol === 'sflow-v5' ? 'sflow' : protocol === 'ipfix' ? 'ipfix' : 'netflow';
  const config = parseConfig(
    {
      network: demoNetworkConfig,
      ...o.config,
      collectors: { [key]: { host: '127.0.0.1', port: 0 } },
      ...(o.threads ? { pipeline: o.threads } : {}),
    },
    'harness config',
  );
  const logger = pino({ level: 'silent' });
  const enricher = createEnricher(config.network);
  const store = new MemoryStore();
  let simNow = Math.floor(Date.now() / 1000) * 1000;
  const startMs = simNow;
  const incidents = createIncidentManager({ store, logger, config, now: () => simNow });
  const pipeline = await startPipeline({
    config,
    logger,
    registry: new Registry(),
    enricher,
    incidents,
    threaded: o.threads !== undefined,
  });
  const collectors = pipeline.collectors;
  const port = collectors.ports[key];
  if (port === undefined) throw new Error(`no ${key} collector port`);
  const exporters = Array.from(
    { length: o.exporters ?? 1 },
    (_, e) =>
      new UdpExporter({
        host: '127.0.0.1',
        port,
        protocol,
        bindAddress: o.exporters === undefined ? undefined : `127.0.2.${e + 1}`,
        samplingRate: o.samplingRate ?? 1,
        random: mulberry32((o.seed ?? 7) + e),
      }),
  );
  const events: DetectionEvent[] = [];
  let sent = 0;
  let records = 0;
  const received = () => collectors.health().reduce((a, h) => a + h.datagrams, 0);
  try {
    const seconds = o.seconds ?? o.scenario.durationSeconds;
    for (let sec = 0; sec < seconds; sec++) {
      const flows = o.scenario.flows(sec, simNow);
      const arrived = async (n: number): Promise<void> => {
        const deadline = Date.now() + 5000;
        while (received() < n) {
          if (Date.now() > deadline) throw new Error(`collector received ${received()} of ${n} datagrams`);
          // threaded: a flush brings fresh exporter stats from the ingest workers
          if (pipeline.threaded) await collectors.flush();
          else await new Promise((r) => setTimeout(r, 1));
        }
      };
      for (let i = 0; i < flows.length; i += CHUNK) {
        const base = sent;
        sent += await exporters[(i / CHUNK) % exporters.length].send(flows.slice(i, i + CHUNK), simNow, {
          every: BURST,
          wait: (k) => arrived(base + k),
        });
        await arrived(sent);
      }
      await collectors.flush();
      events.push(...(await pipeline.tick(simNow)));
      simNow += 1000;
    }
  } finally {
    await Promise.all(exporters.map((e) => e.close()));
    records = collectors.health().reduce((a, h) => a + h.records, 0);
    await pipeline.stop();
  }
  const list = await incidents.list({ limit: 1000 });
  const details = await Promise.all(list.map((i) => incidents.get(i.id)));
  return {
    config,
    incidents: list,
    details: details.filter((d): d is IncidentDetail => d !== undefined),
    events,
    datagrams: sent,
    records,
    store,
    startMs,
  };
}
