import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { detectionEvent } from '../testing/fake-context.js';
import { registerIncidentMetrics } from './metrics.js';
import { incidentHarness } from '../testing/incident-harness.js';

async function sample(registry: Registry, name: string): Promise<Record<string, number>> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const out: Record<string, number> = {};
  for (const v of (m?.values ?? []) as { labels: Record<string, string>; value: number }[])
    out[`${v.labels.severity}/${v.labels.kind}/${v.labels.direction}`] = v.value;
  return out;
}

describe('incident metrics', () => {
  it('counts opened by the severity it opened at, escalations, resolves and active incidents', async () => {
    const h = incidentHarness();
    const registry = new Registry();
    const unregister = registerIncidentMetrics(registry, h.m);
    h.m.ingest(detectionEvent('198.51.100.1', 3, 1000)); // low
    h.m.ingest(detectionEvent('198.51.100.2', 3, 200_000)); // medium (pps ≥ 100k)
    h.m.ingest(detectionEvent('198.51.100.1', 3, 2_000_000)); // the first escalates to high
    h.clock.now += 5000;
    h.m.ingest(detectionEvent('198.51.100.1', 3, 2_000_000)); // no change
    expect(await sample(registry, 'downstream_incidents_opened_total')).toEqual({
      'low/ddos-fan-in/inbound': 1,
      'medium/ddos-fan-in/inbound': 1,
    });
    expect(await sample(registry, 'downstream_incidents_escalated_total')).toEqual({ 'high/ddos-fan-in/inbound': 1 });
    expect(await sample(registry, 'downstream_incidents_active')).toEqual({
      'high/ddos-fan-in/inbound': 1,
      'medium/ddos-fan-in/inbound': 1,
    });
    const id = h.m.active().find((i) => i.target?.ip === '198.51.100.2')!.id;
    await h.m.setStatus(id, 'resolved', 'alice');
    expect(await sample(registry, 'downstream_incidents_resolved_total')).toEqual({ 'medium/ddos-fan-in/inbound': 1 });
    expect(await sample(registry, 'downstream_incidents_active')).toEqual({ 'high/ddos-fan-in/inbound': 1 });
    unregister();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });

  it('does not count incidents loaded from the store at start-up as opened', async () => {
    const first = incidentHarness();
    first.m.ingest(detectionEvent('198.51.100.9'));
    await first.m.flush();
    const again = incidentHarness({ store: first.store });
    await again.m.ready;
    const registry = new Registry();
    registerIncidentMetrics(registry, again.m);
    again.m.ingest(detectionEvent('198.51.100.9'));
    expect(again.m.active()).toHaveLength(1);
    expect(await sample(registry, 'downstream_incidents_opened_total')).toEqual({});
  });
});
