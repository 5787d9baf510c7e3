import type { DetectionEvent, Incident, IncidentDetail } from '@downstream/shared';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseConfig, type Config } from '../config/config.js';
import { createEnricher } from '../enrich/index.js';
import { createIncidentManager } from '../incidents/index.js';
import { MemoryStore } from '../incidents/memory-store.js';
import { startCollectors } from '../ingest/index.js';
import { mulberry32 } from '../sim/scenarios/rng.js';
import { demoNetworkConfig } from '../sim/scenarios/network.js';
import type { Scenario } from '../sim/scenarios/scenario.js';
import { UdpExporter } from '../sim/udp-exporter.js';
import { createDetectors } from './index.js';

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

/**
 * Plays a scenario through the production path in lock-step with simulated time: SimFlows →
 * UdpExporter (real NetFlow v9 / IPFIX / sFlow datagrams over loopback UDP) → startCollectors →
 * createEnricher → createDetectors → createIncidentManager. Each simulated second is sent in
 * chunks, waiting until the collector has received every datagram, so the result does not
 * depend on machine speed; then detectors and incidents tick once.
 */
export async function runThroughPipeline(o: HarnessOptions): Promise<HarnessResult> {
  const protocol = o.protocol ?? 'netflow-v9';
  const key = protocol === 'sflow-v5' ? 'sflow' : protocol === 'ipfix' ? 'ipfix' : 'netflow';
  const config = parseConfig(
    { network: demoNetworkConfig, ...o.config, collectors: { [key]: { host: '127.0.0.1', port: 0 } } },
    'harness config',
  );
  const logger = pino({ level: 'silent' });
  const enricher = createEnricher(config.network);
  const detectors = createDetectors(config, enricher);
  const store = new MemoryStore();
  let simNow = Math.floor(Date.now() / 1000) * 1000;
  const startMs = simNow;
  const incidents = createIncidentManager({ store, logger, config, now: () => simNow });
  let records = 0;
  const collectors = await startCollectors({
    collectors: config.collectors,
    logger,
    registry: new Registry(),
    onBatch: (b) => {
      records += b.length;
      detectors.process(enricher.enrich(b));
    },
  });
  const port = collectors.ports[key];
  if (port === undefined) throw new Error(`no ${key} collector port`);
  const exporter = new UdpExporter({
    host: '127.0.0.1',
    port,
    protocol,
    samplingRate: o.samplingRate ?? 1,
    random: mulberry32(o.seed ?? 7),
  });
  const events: DetectionEvent[] = [];
  let sent = 0;
  const received = () => collectors.health().reduce((a, h) => a + h.datagrams, 0);
  try {
    const seconds = o.seconds ?? o.scenario.durationSeconds;
    for (let sec = 0; sec < seconds; sec++) {
      const flows = o.scenario.flows(sec, simNow);
      for (let i = 0; i < flows.length; i += CHUNK) {
        sent += await exporter.send(flows.slice(i, i + CHUNK), simNow);
        const deadline = Date.now() + 5000;
        while (received() < sent) {
          if (Date.now() > deadline) throw new Error(`collector received ${received()} of ${sent} datagrams`);
          await new Promise((r) => setTimeout(r, 1));
        }
      }
      collectors.flush();
      const ev = detectors.tick(simNow);
      for (const e of ev) incidents.ingest(e);
      events.push(...ev);
      incidents.tick(simNow);
      simNow += 1000;
    }
  } finally {
    await exporter.close();
    await collectors.stop();
  }
  const list = incidents.list({ limit: 1000 });
  return {
    config,
    incidents: list,
    details: list.map((i) => incidents.get(i.id)).filter((d): d is IncidentDetail => d !== undefined),
    events,
    datagrams: sent,
    records,
    store,
    startMs,
  };
}
