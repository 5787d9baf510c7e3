/**
 * What the API processes of a cluster know of the traffic: every inlet sends, once a second
 * on core NATS (outside the flow stream: a lost report costs one second of a rate, nothing
 * else), what it received since its last report and the health of its exporters. An API
 * process adds the totals to its own traffic meter (so `summary` shows the cluster's flows/s,
 * pps and bps) and serves the union of the exporters in `/api/health`.
 */
import { ExporterHealth } from '@downstream/shared';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { batchTotals, type FlowBatch } from '../flow/flow-batch.js';
import type { CollectorSet } from '../ingest/types.js';
import type { TrafficMeter } from '../traffic/types.js';
import { parseJsonMessage, type BusConfig } from './nats.js';

export const inletStatusSubject = (bus: BusConfig): string => `${bus.subject}-inlets`;

/** An inlet's report; validated where it is received, like every datagram. */
export const InletStatus = z.strictObject({
  inlet: z.string().min(1).max(200),
  /** ms since epoch, when the inlet sent it. */
  at: z.number().int().nonnegative(),
  /** Received since the inlet's previous report. */
  flows: z.number().nonnegative(),
  packets: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  exporters: z.array(ExporterHealth).max(100_000),
});
export type InletStatus = z.infer<typeof InletStatus>;

export interface InletReporter {
  /** Counts a batch the inlet received (before it is enriched and published). */
  count(batch: FlowBatch): void;
  stop(): void;
}

/** The inlet side: counts what arrives and reports it every `intervalMs`. */
export function startInletReporter(o: {
  nc: NatsConnection;
  bus: BusConfig;
  inlet: string;
  exporters: () => ExporterHealth[];
  intervalMs?: number;
  now?: () => number;
}): InletReporter {
  const now = o.now ?? Date.now;
  let flows = 0;
  let packets = 0;
  let bytes = 0;
  const subject = inletStatusSubject(o.bus);
  const report = (): void => {
    const s: InletStatus = { inlet: o.inlet, at: now(), flows, packets, bytes, exporters: o.exporters() };
    flows = packets = bytes = 0;
    // A closed or reconnecting connection buffers or throws; the next report carries on.
    try {
      o.nc.publish(subject, JSON.stringify(s));
    } catch {
      /* counted as traffic lost for this second only */
    }
  };
  const timer = setInterval(report, o.intervalMs ?? 1000);
  timer.unref();
  return {
    count(batch) {
      const t = batchTotals(batch);
      flows += batch.length;
      packets += t.packets;
      bytes += t.bytes;
    },
    stop() {
      clearInterval(timer);
      report();
    },
  };
}

export interface InletBoard {
  /** The exporters of every inlet heard from within `staleMs`, as the api role's collectors. */
  collectors: CollectorSet;
  /** Inlets heard from within `staleMs`, with when. */
  inlets(): { inlet: string; at: string; exporters: number }[];
  stop(): void;
}

/** The API side: listens to every inlet's reports. */
export function startInletBoard(o: {
  nc: NatsConnection;
  bus: BusConfig;
  traffic: TrafficMeter;
  logger: Logger;
  registry: Registry;
  /** An inlet not heard from for this long is left out (default 10 s). */
  staleMs?: number;
  now?: () => number;
}): InletBoard {
  const now = o.now ?? Date.now;
  const staleMs = o.staleMs ?? 10_000;
  const last = new Map<string, { heard: number; exporters: ExporterHealth[] }>();
  const reports = new Counter({
    name: 'downstream_bus_inlet_reports_total',
    help: 'Inlet traffic reports an API process received (invalid: not a valid report, dropped)',
    labelNames: ['outcome'],
    registers: [o.registry],
  });
  reports.inc({ outcome: 'ok' }, 0);
  reports.inc({ outcome: 'invalid' }, 0);
  let warned = false;
  const sub: Subscription = o.nc.subscribe(inletStatusSubject(o.bus), {
    callback: (err, m) => {
      if (err) return;
      const parsed = parseJsonMessage(m, InletStatus);
      if (!parsed.success) {
        reports.inc({ outcome: 'invalid' });
        if (!warned) {
          warned = true;
          o.logger.warn(
            { subject: m.subject, issue: parsed.error.issues[0] },
            'invalid inlet report dropped (further ones only counted)',
          );
        }
        return;
      }
      const s = parsed.data;
      reports.inc({ outcome: 'ok' });
      last.set(s.inlet, { heard: now(), exporters: s.exporters });
      o.traffic.addTotals(s.flows, s.packets, s.bytes);
    },
  });
  const fresh = () => {
    const t = now();
    for (const [k, v] of last) if (t - v.heard > staleMs) last.delete(k);
    return last;
  };
  return {
    collectors: {
      ports: {},
      health: () => [...fresh().values()].flatMap((v) => v.exporters),
      stop: async () => {},
    },
    inlets: () =>
      [...fresh()].map(([inlet, v]) => ({
        inlet,
        at: new Date(v.heard).toISOString(),
        exporters: v.exporters.length,
      })),
    stop: () => sub.unsubscribe(),
  };
}
