import type { Incident } from '@downstream/shared';

/** A schema-valid incident for store and history tests; override what the test is about. */
export function makeIncident(id: string, over: Partial<Incident> = {}): Incident {
  const at = over.lastSeen ?? new Date().toISOString();
  return {
    id,
    kind: 'ddos-participation',
    direction: 'outbound',
    severity: 'high',
    status: 'open',
    firstSeen: over.firstSeen ?? at,
    lastSeen: at,
    target: { ip: '203.0.113.9', asn: 64496, asName: 'Example target' },
    sources: {
      distinct: 2,
      top: [
        {
          ip: '198.51.100.10',
          asn: 64500,
          asName: 'Us',
          country: 'NL',
          customer: 'Residential A',
          packets: 100,
          bytes: 6400,
        },
        {
          ip: '198.51.100.11',
          asn: 64500,
          asName: 'Us',
          country: 'NL',
          customer: 'Residential A',
          packets: 50,
          bytes: 3200,
        },
      ],
      asns: [{ asn: 64500, name: 'Us', share: 1 }],
    },
    upstreams: [{ name: 'Transit A', share: 1 }],
    peak: { pps: 150, bps: 9600 },
    evidence: { summary: 'test' },
    detectors: ['botnet'],
    notes: [],
    ...over,
  };
}
