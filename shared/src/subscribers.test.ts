import { describe, expect, it } from 'vitest';
import { AuditAction, auditActionLabel } from './audit.js';
import { SourceEndpoint } from './incident.js';
import { WalledGardenRequest } from './subscribers.js';

describe('subscriber audit actions', () => {
  it('accepts notices and walled-garden steps with their outcome, and reads them as words', () => {
    for (const a of [
      'subscriber.notice',
      'walled-garden.hold',
      'walled-garden.release-nak',
      'walled-garden.hold-timeout',
    ])
      expect(AuditAction.parse(a)).toBe(a);
    for (const a of ['subscriber.mail', 'walled-garden.hold-ack', 'walled-garden.quarantine'])
      expect(AuditAction.safeParse(a).success, a).toBe(false);
    expect(auditActionLabel('walled-garden.hold')).toBe('held the subscriber in the walled garden');
    expect(auditActionLabel('walled-garden.release-nak')).toBe(
      'tried to release the subscriber from the walled garden (nak)',
    );
    expect(auditActionLabel('subscriber.notice')).toBe('sent an abuse notice');
    expect(auditActionLabel('walled-garden.release')).toBe('released the subscriber from the walled garden');
  });

  it('a source endpoint may carry who held it; a walled-garden request is hold or release only', () => {
    const s = SourceEndpoint.parse({
      ip: '198.51.100.7',
      asn: 64500,
      asName: 'Us',
      country: 'NL',
      packets: 1,
      bytes: 64,
      subscriber: {
        prefix: '198.51.100.7/32',
        subscriber: 'alice',
        session: 'A-1',
        nas: '192.0.2.10',
        source: 'radius',
        from: '2026-12-02T10:00:00.000Z',
        to: null,
      },
    });
    expect(s.subscriber?.subscriber).toBe('alice');
    expect(WalledGardenRequest.safeParse({ action: 'hold', extra: 1 }).success).toBe(false);
  });
});
