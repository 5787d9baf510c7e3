import type { Mitigation, ReportRecipient } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { auditLabel, mitigationProblem, mitigationState, orderRecipients, reportPath } from './incident-ops-model.js';

const mit = (id: number, announcedAt: string, withdrawnAt: string | null): Mitigation => ({
  id,
  incidentId: 'i1',
  type: id % 2 ? 'rtbh' : 'flowspec',
  prefix: '198.51.100.7/32',
  announce: 'announce route 198.51.100.7/32 next-hop 192.0.2.1',
  withdraw: 'withdraw route 198.51.100.7/32 next-hop 192.0.2.1',
  announcedAt,
  announcedBy: 'ops',
  withdrawnAt,
  withdrawnBy: withdrawnAt ? 'ops' : null,
});

describe('mitigation panel model', () => {
  it('splits active from withdrawn, newest first', () => {
    const s = mitigationState([
      mit(1, '2026-11-24T10:00:00Z', '2026-11-24T10:05:00Z'),
      mit(2, '2026-11-24T10:06:00Z', null),
      mit(3, '2026-11-24T10:07:00Z', null),
    ]);
    expect(s.active.map((m) => m.id)).toEqual([3, 2]);
    expect(s.withdrawn.map((m) => m.id)).toEqual([1]);
  });

  it('tells a missing configuration apart from a refusal and from other errors', () => {
    const off = mitigationProblem(409, 'mitigation is not enabled (actions.mitigation.enabled with a pipe or command)');
    expect(off.kind).toBe('not-configured');
    expect(off.text).toMatch(/not configured.*actions\.mitigation\.enabled/);
    expect(mitigationProblem(409, 'no ExaBGP pipe or command configured to withdraw through').kind).toBe(
      'not-configured',
    );
    const refused = mitigationProblem(409, 'incident is resolved');
    expect(refused).toEqual({ kind: 'refused', text: expect.stringContaining('incident is resolved') });
    expect(mitigationProblem(403, 'an operator token is needed')).toEqual({
      kind: 'error',
      text: 'an operator token is needed',
    });
  });
});

describe('abuse report links', () => {
  const r = (id: string, share: number, email: string | null): ReportRecipient => ({
    id,
    kind: 'asn',
    name: id,
    email,
    share,
  });

  it('puts recipients with a contact first, then by share', () => {
    const order = orderRecipients([r('asn:1', 0.5, null), r('asn:2', 0.1, 'abuse@two'), r('asn:3', 0.3, null)]);
    expect(order.map((x) => x.id)).toEqual(['asn:2', 'asn:1', 'asn:3']);
  });

  it('builds the report URL with the format and an encoded recipient', () => {
    expect(reportPath('a/b', 'arf', 'upstream:Transit A')).toBe(
      '/api/incidents/a%2Fb/report?format=arf&to=upstream%3ATransit+A',
    );
    expect(reportPath('x', 'xarf')).toBe('/api/incidents/x/report?format=xarf');
  });
});

describe('audit labels', () => {
  it('reads mitigation and status actions as verbs, passes unknown ones through', () => {
    expect(auditLabel('mitigation.announce.rtbh')).toBe('announced RTBH');
    expect(auditLabel('mitigation.withdraw.flowspec')).toBe('withdrew FlowSpec');
    expect(auditLabel('ack')).toBe('acknowledged');
    expect(auditLabel('resolve')).toBe('resolved');
    expect(auditLabel('mitigate')).toBe('marked mitigating');
    expect(auditLabel('note')).toBe('noted');
    expect(auditLabel('reopen')).toBe('reopened');
    expect(auditLabel('remediation.notified')).toBe('marked an endpoint notified');
    expect(auditLabel('something-new')).toBe('something-new');
  });
});
