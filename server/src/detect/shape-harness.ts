import type { IncidentDetail } from '@downstream/shared';
import { expect } from 'vitest';
import { SCENARIOS } from '../sim/scenarios/index.js';
import type { ScenarioLabel } from '../sim/scenarios/scenario.js';
import {
  runThroughPipeline,
  type HarnessOptions,
  type HarnessProtocol,
  type HarnessResult,
} from './pipeline-harness.js';

/** One feed: protocol and 1-in-N packet sampling. */
export interface Mode {
  protocol: HarnessProtocol;
  samplingRate: number;
}

export const V9_1: Mode = { protocol: 'netflow-v9', samplingRate: 1 };
export const SFLOW_32: Mode = { protocol: 'sflow-v5', samplingRate: 32 };
export const IPFIX_100: Mode = { protocol: 'ipfix', samplingRate: 100 };
export const SFLOW_1000: Mode = { protocol: 'sflow-v5', samplingRate: 1000 };

export function modeName(m: Mode): string {
  return `${m.protocol} 1:${m.samplingRate}`;
}

/** Shared share of the label's offending sources that the incidents list. */
export function coverage(label: ScenarioLabel, incidents: IncidentDetail[]): number {
  if (label.sources.length === 0) return 1;
  const listed = new Set(incidents.flatMap((i) => i.sources.top.map((s) => s.ip)));
  return label.sources.filter((s) => listed.has(s)).length / label.sources.length;
}

/**
 * Plays scenario `name` through the real UDP path and checks that it raised exactly one
 * incident of the label's kind, on the label's target, with a reason and a confidence that
 * follows the sampling: 1 unsampled, below 1 (and above `minConfidence`) when sampled.
 */
export async function expectAttack(
  name: string,
  mode: Mode,
  extra: Partial<HarnessOptions> = {},
  minConfidence = 0.5,
): Promise<{ inc: IncidentDetail; label: ScenarioLabel; r: HarnessResult }> {
  const scenario = SCENARIOS[name](11);
  const label = scenario.labels.find((l) => l.kind !== null)!;
  const r = await runThroughPipeline({ scenario, ...mode, ...extra });
  expect(r.details.map((i) => `${i.kind} ${i.target?.ip}`)).toEqual([`${label.kind} ${label.target}`]);
  const inc = r.details[0];
  expect(inc.direction).toBe(label.direction);
  expect(inc.evidence.samplingRate).toBe(mode.samplingRate);
  const conf = inc.evidence.confidence as number;
  if (mode.samplingRate === 1) expect(conf).toBe(1);
  else {
    expect(conf).toBeLessThan(1);
    expect(conf).toBeGreaterThan(minConfidence);
    expect(inc.evidence.reason).toMatch(new RegExp(`1:${mode.samplingRate} sampled, [\\d,]+ samples`));
  }
  expect(typeof inc.evidence.reason).toBe('string');
  expect(inc.evidence.reason).toMatch(/threshold/);
  return { inc, label, r };
}

/** Plays a benign scenario and checks that it raised nothing at all. */
export async function expectQuiet(name: string, mode: Mode): Promise<HarnessResult> {
  const r = await runThroughPipeline({ scenario: SCENARIOS[name](11), ...mode });
  expect(r.records).toBeGreaterThan(mode.samplingRate >= 1000 ? 100 : 1000);
  expect(r.details.map((i) => `${i.kind} ${i.target?.ip ?? i.sources.top[0]?.ip}: ${i.evidence.reason}`)).toEqual([]);
  return r;
}
