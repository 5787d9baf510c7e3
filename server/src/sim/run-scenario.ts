import type { Scenario } from './scenarios/scenario.js';
import { UdpExporter, type ExportProtocol } from './udp-exporter.js';

export interface RunScenarioOptions {
  scenario: Scenario;
  /** UDP port of the collector for `protocol` (the name is historical: any flow protocol). */
  netflowPort: number;
  host?: string;
  /** Simulated seconds per real second (2 = twice as fast). */
  speed?: number;
  protocol?: Extract<ExportProtocol, 'netflow-v9' | 'ipfix' | 'sflow-v5'>;
  samplingRate?: number;
  /** Called after each simulated second is sent (tests, progress). */
  onSecond?: (second: number, flows: number, datagrams: number) => void;
  onError?: (err: unknown) => void;
}

/**
 * Plays a scenario into a collector like a router would: every (1 / speed) s, the next
 * simulated second's flows are encoded as real export datagrams and sent over UDP. Timestamps
 * are wall-clock, so the collector sees ordinary, current flows. Stops at the scenario's end
 * (never, for the looping demo) or on `stop()`.
 */
export function runScenario(opts: RunScenarioOptions): { stop(): Promise<void>; done: Promise<void> } {
  const speed = opts.speed && opts.speed > 0 ? opts.speed : 1;
  const exporter = new UdpExporter({
    host: opts.host ?? '127.0.0.1',
    port: opts.netflowPort,
    protocol: opts.protocol ?? 'netflow-v9',
    samplingRate: opts.samplingRate,
  });
  const stepMs = 1000 / speed;
  const t0 = Date.now();
  let second = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));

  const step = (): void => {
    if (stopped) return;
    if (second >= opts.scenario.durationSeconds) {
      finish();
      return;
    }
    const s = second++;
    const now = Date.now();
    const flows = opts.scenario.flows(s, now);
    inFlight = exporter
      .send(flows, now)
      .then((n) => opts.onSecond?.(s, flows.length, n))
      .catch((err: unknown) => opts.onError?.(err));
    // Anchor to the start time so sending time does not make the clock drift.
    const next = t0 + second * stepMs;
    timer = setTimeout(step, Math.max(0, next - Date.now()));
  };
  step();

  return {
    done,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
      await exporter.close();
      finish();
    },
  };
}
