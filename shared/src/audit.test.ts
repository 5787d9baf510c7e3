import { describe, expect, it } from 'vitest';
import { AuditAction, STATUS_AUDIT_ACTION } from './audit.js';

describe('AuditAction', () => {
  it('accepts what the manager, mitigation and remediation write and nothing else', () => {
    for (const a of ['ack', 'resolve', 'mitigate', 'reopen', 'note', 'mitigation.announce.rtbh'])
      expect(AuditAction.parse(a)).toBe(a);
    expect(AuditAction.parse('mitigation.withdraw.flowspec')).toBe('mitigation.withdraw.flowspec');
    expect(AuditAction.parse('remediation.notified')).toBe('remediation.notified');
    for (const a of ['acknowledged', 'resolved', 'mitigation.announce.bgp', 'remediation.gone', 'mitigation.rtbh'])
      expect(AuditAction.safeParse(a).success, a).toBe(false);
  });

  it('records every status change as an incident action', () => {
    expect(Object.values(STATUS_AUDIT_ACTION).map((a) => AuditAction.parse(a))).toEqual([
      'ack',
      'mitigate',
      'resolve',
      'reopen',
    ]);
  });
});
