import type { IncidentKind } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { renderNotice, type NoticeInput } from './notice-templates.js';

const base: NoticeInput = {
  org: 'Example ISP',
  reference: 'REM-7',
  subscriber: 'alice@isp.example',
  ip: '198.51.100.7',
  kinds: ['spam-bot'],
  firstSeen: '2026-12-02T10:00:00.000Z',
  lastSeen: '2026-12-02T10:05:00.000Z',
  evidence: 'SMTP to 812 distinct hosts',
  packets: 4200,
  bytes: 2_100_000,
  help: { url: 'https://help.isp.example/abuse', phone: '+31 20 555 0000' },
};

describe('abuse notice templates', () => {
  it.each<[IncidentKind, RegExp, RegExp]>([
    ['spam-bot', /sent spam e-mail/, /spam bot/],
    ['scanner', /scanned other networks/, /looking for machines to break into/],
    ['ddos-participation', /took part in a denial-of-service attack/, /botnet/],
    ['external', /was reported for abuse/, /Another network reported/],
  ])('%s: subject, evidence, meaning, what to do, help', (kind, subject, meaning) => {
    const n = renderNotice({ ...base, kinds: [kind] });
    expect(n.subject).toMatch(subject);
    expect(n.subject).toContain('198.51.100.7');
    expect(n.subject).toContain('REM-7');
    expect(n.text).toMatch(meaning);
    expect(n.text).toContain('When:      2026-12-02T10:00:00.000Z to 2026-12-02T10:05:00.000Z (UTC)');
    expect(n.text).toContain('Evidence:  SMTP to 812 distinct hosts');
    expect(n.text).toMatch(/WHAT TO DO\n {2}1\. /);
    expect(n.text).toContain('Phone: +31 20 555 0000');
    expect(n.text).toContain('Dear customer,');
  });

  it('adds the meaning and steps of every kind seen, without repeating steps', () => {
    const n = renderNotice({ ...base, kinds: ['scanner', 'ddos-participation'], subscriberName: 'Alice' });
    expect(n.subject).toMatch(/scanned other networks/);
    expect(n.text).toMatch(/break into[\s\S]*botnet/);
    const steps = n.text.split('\n').filter((l) => /^ {2}\d+\. /.test(l));
    expect(new Set(steps.map((s) => s.replace(/^ {2}\d+\. /, ''))).size).toBe(steps.length);
    expect(n.text).toContain('Dear Alice,');
  });

  it('falls back to "reply to this message" when no help channel is configured', () => {
    expect(renderNotice({ ...base, help: {} }).text).toContain('  Reply to this message.');
  });
});
