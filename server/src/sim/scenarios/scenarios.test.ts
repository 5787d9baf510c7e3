import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/config.js';
import { createEnricher } from '../../enrich/index.js';
import { SCENARIOS, demoNetworkConfig, demoScenario } from './index.js';

describe('scenario library', () => {
  it('is deterministic: same seed, same flows; another seed, other flows', () => {
    for (const name of Object.keys(SCENARIOS)) {
      if (name === 'mixed') continue;
      const a = SCENARIOS[name](42).flows(10, 1_000_000);
      const b = SCENARIOS[name](42).flows(10, 1_000_000);
      const c = SCENARIOS[name](43).flows(10, 1_000_000);
      expect(a, name).toEqual(b);
      expect(a, name).not.toEqual(c);
    }
  });

  it('labels every attack kind and the benign look-alikes', () => {
    const labels = Object.values(SCENARIOS).flatMap((f) => f(1).labels);
    const kinds = new Set(labels.map((l) => l.kind));
    for (const k of ['ddos-fan-in', 'volumetric', 'amplification', 'spam-bot', 'scanner', 'ddos-participation'])
      expect(kinds.has(k as never), k).toBe(true);
    expect(new Set(labels.filter((l) => l.kind === null).map((l) => l.name))).toEqual(
      new Set([
        'flash crowd',
        'allowed mail server',
        'backup job',
        'CDN fill',
        'QUIC streaming',
        'customer resolver',
        'customer NTP server',
        'game server',
        'VPN concentrator',
        'flash crowd (packet view)',
        'CGNAT address',
      ]),
    );
  });

  it('every scenario has one label with the kind it must raise, or only benign labels', () => {
    for (const [name, f] of Object.entries(SCENARIOS)) {
      if (name === 'mixed') continue;
      const labels = f(1).labels;
      expect(labels.length, name).toBeGreaterThanOrEqual(1);
      expect(labels.filter((l) => l.kind !== null).length, name).toBeLessThanOrEqual(1);
      for (const l of labels) if (l.kind !== null) expect(l.direction, name).toBeDefined();
    }
  });

  it('keeps every customer-side address inside the demo customers and every outside one outside', () => {
    const config = parseConfig({ network: demoNetworkConfig });
    const enricher = createEnricher(config.network);
    const flows = SCENARIOS.mixed(1).flows(250, 1_000_000).concat(SCENARIOS.mixed(1).flows(20, 1_000_000));
    expect(flows.length).toBeGreaterThan(1000);
    for (const f of flows.slice(0, 2000)) {
      const inbound = f.inIf < 100;
      const inside = inbound ? f.dst : f.src;
      const outside = inbound ? f.src : f.dst;
      expect(enricher.lookup(inside).customer, inside).toBeDefined();
      expect(enricher.lookup(outside).customer, outside).toBeUndefined();
      expect(enricher.lookup(outside).asn, outside).toBeGreaterThan(0);
    }
  });

  it('demo: a fan-in DDoS about 5 s in, other kinds later, looping forever', () => {
    const d = demoScenario(1);
    expect(d.durationSeconds).toBe(Infinity);
    const fan = d.labels.find((l) => l.kind === 'ddos-fan-in')!;
    expect(fan.startSecond).toBe(5);
    expect(d.flows(4, 0).some((f) => f.dst === fan.target)).toBe(false);
    expect(d.flows(5, 0).filter((f) => f.dst === fan.target).length).toBeGreaterThan(1000);
    expect(d.labels.filter((l) => l.kind !== null && l.kind !== 'ddos-fan-in').every((l) => l.startSecond > 5)).toBe(
      true,
    );
    // Loops: second 540 + 5 is the same traffic as second 5.
    expect(d.flows(545, 0)).toEqual(d.flows(5, 0));
  });

  it('demoNetworkConfig is a valid network config with transit, peering and customer links', () => {
    const config = parseConfig({ network: demoNetworkConfig });
    expect(config.network.links.filter((l) => l.role === 'upstream')).toHaveLength(2);
    expect(config.network.links.filter((l) => l.role === 'peer')).toHaveLength(1);
    expect(config.network.customers.flatMap((c) => c.prefixes)).toContain('2001:db8:100::/48');
  });
});
