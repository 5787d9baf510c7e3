import type { IncidentDetail } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { runThroughPipeline } from '../../detect/pipeline-harness.js';
import { ALL_RANGES_V6, rangeOf } from './address-space.js';
import { SCENARIOS } from './library.js';
import { CUSTOMERS } from './network.js';
import type { ScenarioLabel } from './scenario.js';

/**
 * The IPv6 scenarios through the production path: SimFlows encoded with the IPv6 data templates
 * of NetFlow v9 (fields 27/28) and IPFIX, and as sFlow raw IPv6 headers → UDP collector → enrich
 * (real IPv6 ASN data) → detectors → incident manager, unsampled and 1:100 packet-sampled
 * (announced in options records, or per sFlow sample).
 */
const MODES = [
  { protocol: 'netflow-v9', samplingRate: 1 },
  { protocol: 'ipfix', samplingRate: 100 },
  { protocol: 'ipfix', samplingRate: 1 },
  { protocol: 'netflow-v9', samplingRate: 100 },
  { protocol: 'sflow-v5', samplingRate: 100 },
] as const;

/**
 * Share of the label's offending sources the incidents list with the right attribution: outside
 * sources under the AS of the real IPv6 range they were drawn from, customer endpoints under our
 * AS and their customer.
 */
function attributed(label: ScenarioLabel, incidents: IncidentDetail[]): number {
  const listed = new Map(incidents.flatMap((i) => i.sources.top.map((s) => [s.ip, s] as const)));
  let ok = 0;
  for (const ip of label.sources) {
    const s = listed.get(ip);
    if (!s) continue;
    if (label.direction === 'outbound') {
      if (s.asn === 64500 && s.customer === CUSTOMERS.residential) ok++;
    } else if (s.asn === rangeOf(ip, ALL_RANGES_V6)?.asn && s.asName === rangeOf(ip, ALL_RANGES_V6)?.name) ok++;
  }
  return ok / label.sources.length;
}

describe.each(MODES)('IPv6 scenarios over $protocol at 1:$samplingRate', ({ protocol, samplingRate }) => {
  it.each(['fan-in-ipv6', 'spam-bot-ipv6', 'amplification-ipv6', 'ddos-participation-ipv6'])(
    '%s: right kind, direction, target, and ≥ 95 % of the offending IPv6 sources with their ASN',
    async (name) => {
      const scenario = SCENARIOS[name](11);
      const label = scenario.labels.find((l) => l.kind !== null)!;
      expect(label.sources.every((ip) => ip.includes(':'))).toBe(true);
      const r = await runThroughPipeline({ scenario, protocol, samplingRate });
      expect(r.records).toBeGreaterThan(0);
      // one incident, of the labelled kind, and nothing else (the dual-stack background stays quiet)
      expect(r.details.map((i) => i.kind)).toEqual([label.kind]);
      const inc = r.details[0];
      expect(inc.direction).toBe(label.direction);
      if (label.target) expect(inc.target?.ip).toBe(label.target);
      if (label.direction === 'inbound')
        expect(inc.target).toMatchObject({ asn: 64500, customer: CUSTOMERS.residential });
      else if (inc.target) expect(inc.target.asn).toBe(rangeOf(inc.target.ip, ALL_RANGES_V6)?.asn);
      expect(inc.evidence.samplingRate).toBe(samplingRate);
      if (samplingRate === 1) expect(inc.evidence.confidence).toBe(1);
      else expect(inc.evidence.confidence as number).toBeLessThan(1);
      expect(inc.sources.top.every((s) => s.ip.includes(':'))).toBe(true);
      expect(attributed(label, [inc])).toBeGreaterThanOrEqual(0.95);
      const links = inc.upstreams.map((u) => u.name).sort();
      if (label.direction === 'inbound') {
        // the attack's AS shares name the real IPv6 networks it came from
        const asns = new Set(ALL_RANGES_V6.map((x) => x.asn));
        expect(inc.sources.asns.length).toBeGreaterThan(3);
        for (const a of inc.sources.asns) expect(asns.has(a.asn), `AS${a.asn}`).toBe(true);
        expect(links).toEqual(['IX peering', 'Transit A (Cogent)', 'Transit B (Lumen)']);
      } else {
        expect(links.length).toBeGreaterThan(0);
        for (const l of links) expect(['IX peering', 'Transit A (Cogent)', 'Transit B (Lumen)']).toContain(l);
      }
    },
    60_000,
  );
});
