import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildArf, buildXarf } from '../actions/reports.js';
import { ComplaintParseError, parseComplaint } from './complaints.js';
import { outboundIncident } from '../testing/recording-context.js';

const dir = join(import.meta.dirname, 'fixtures', 'complaints');
const fixture = (name: string) => readFileSync(join(dir, name));

async function parseError(body: string | Buffer, type = ''): Promise<ComplaintParseError> {
  try {
    await parseComplaint(Buffer.isBuffer(body) ? body : Buffer.from(body), type);
  } catch (err) {
    if (err instanceof ComplaintParseError) return err;
    throw err;
  }
  throw new Error('parsed, but it should not have');
}

describe('parseComplaint', () => {
  it('reads an ARF spam complaint (RFC 5965 feedback loop)', async () => {
    const c = await parseComplaint(fixture('arf-spam.eml'), 'message/rfc822');
    expect(c).toMatchObject({
      format: 'arf',
      reporter: 'fbl-noreply@fbl.mailbox.example',
      type: 'abuse',
      ip: '198.51.100.23',
      reportedAt: Date.parse('2026-11-24T21:02:11Z'),
      subject: 'FW: Limited time: your parcel is waiting',
      dedupKey: 'mid:<fbl.20261124213105.7c1e@fbl.mailbox.example>',
    });
    expect(c.summary).toMatch(/^abuse report from fbl-noreply@fbl\.mailbox\.example: This is an email abuse report/);
  });

  it('reads an X-ARF 0.2 login-attack report (YAML part)', async () => {
    const c = await parseComplaint(fixture('xarf02-login-attack.eml'));
    expect(c).toMatchObject({
      format: 'xarf-0.2',
      reporter: 'abuse-robot@hoster.example',
      type: 'login-attack',
      ip: '198.51.100.77',
      reportedAt: Date.parse('2026-11-25T08:12:44Z'),
      dedupKey: 'xarf02:abuse-robot@hoster.example:8841@hoster.example',
    });
    expect(c.summary).toBe(
      'abuse / login-attack from 198.51.100.77:22 (ssh), 17 occurrences, reported by abuse-robot@hoster.example (fail2ban-xarf 0.9)',
    );
  });

  it('reads an X-ARF v3 JSON DDoS report, posted as JSON or attached to a mail', async () => {
    const json = fixture('xarf3-ddos.json');
    const c = await parseComplaint(json, 'application/json');
    expect(c).toMatchObject({
      format: 'xarf-3',
      reporter: 'noc@gamehost.example',
      type: 'DDoS',
      ip: '198.51.100.99',
      reportedAt: Date.parse('2026-11-26T19:40:00Z'),
    });
    expect(c.summary).toContain('Activity / DDoS from 198.51.100.99 against 203.0.113.250:27015');
    const mail = [
      'From: noc@gamehost.example',
      'To: abuse@isp.example',
      'Subject: DDoS report',
      'Message-ID: <v3@gamehost.example>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'See the attached X-ARF report.',
      '--b',
      'Content-Type: application/json; name="report.json"',
      'Content-Transfer-Encoding: base64',
      '',
      json.toString('base64'),
      '--b--',
      '',
    ].join('\r\n');
    expect(await parseComplaint(Buffer.from(mail))).toMatchObject({ format: 'xarf-3', ip: '198.51.100.99' });
  });

  it('reads the reports Downstream itself writes (ARF and X-ARF v3 round trip)', async () => {
    const inc = outboundIncident();
    const rc = {
      reports: {
        org: 'Other NOC',
        email: 'abuse@other.example',
        asn_contacts: {},
        link_contacts: {},
        max_asn_recipients: 10,
        rdap: { enabled: false, base_url: 'https://rdap.org', timeout_ms: 5000, cache_days: 7 },
      },
      version: 't',
    };
    const r = { id: 'asn:64500', kind: 'asn' as const, name: 'EXAMPLE-ISP', asn: 64500, email: null, share: 1 };
    expect(await parseComplaint(Buffer.from(buildArf(inc, r, rc)))).toMatchObject({
      format: 'arf',
      ip: '198.51.100.23',
      type: 'abuse',
    });
    expect(await parseComplaint(Buffer.from(JSON.stringify(buildXarf(inc, r, rc))), 'application/json')).toMatchObject({
      format: 'xarf-3',
      type: 'Spam',
      ip: '198.51.100.23',
      reportedAt: Date.parse(inc.firstSeen),
    });
  });

  it('names what is wrong in a bad report', async () => {
    const arf = fixture('arf-spam.eml').toString('utf8');
    let e = await parseError(arf.replace('Source-IP: 198.51.100.23\r\n', ''));
    expect(e.message).toBe('invalid ARF report');
    expect(e.details).toEqual([
      { path: 'message/feedback-report.Source-IP', message: 'missing: needed to know which endpoint sent it' },
    ]);
    e = await parseError(
      arf
        .replace('Feedback-Type: abuse', 'Feedback-Type: complaint')
        .replace('Source-IP: 198.51.100.23', 'Source-IP: 198.51.100.999'),
    );
    expect(e.details.map((d) => d.path)).toEqual([
      'message/feedback-report.Feedback-Type',
      'message/feedback-report.Source-IP',
    ]);
    expect(e.details[1]!.message).toBe('not an IP address: 198.51.100.999');

    const xarf = fixture('xarf02-login-attack.eml').toString('utf8');
    e = await parseError(
      xarf
        .replace('Source: 198.51.100.77', 'Source: pc-77.pool-a')
        .replace('Date: Wed, 25 Nov 2026 08:12:44 +0000\r\nSource', 'Date: yesterday\r\nSource'),
    );
    expect(e.message).toBe('invalid X-ARF 0.2 report');
    expect(e.details).toEqual([
      { path: 'report.Date', message: 'not a date: yesterday' },
      { path: 'report.Source', message: 'not an IP address' },
    ]);

    e = await parseError(
      '{"Version":"3","ReporterInfo":{"ReporterOrg":"x","ReporterOrgEmail":"a@b"},"Report":{"ReportClass":"Activity","ReportType":"DDoS"}}',
      'application/json',
    );
    expect(e.details).toEqual([
      { path: 'Report.Date', message: 'missing' },
      { path: 'Report.SourceIp', message: 'missing' },
    ]);
    expect((await parseError('{"Version": 3,', 'application/json')).message).toBe('X-ARF v3 report is not valid JSON');
    expect((await parseError('')).details).toEqual([{ path: 'body', message: 'no content' }]);
    expect((await parseError('hello, your customer is spamming us')).message).toBe('not a mail message');
    e = await parseError('From: a@b.example\r\nSubject: spam!\r\n\r\nyour customer 198.51.100.23 spams us\r\n');
    expect(e.message).toBe('not an abuse report');
    expect(e.details[0]!.message).toMatch(/expected ARF .*X-ARF 0\.2 .*X-ARF v3 JSON/);
  });
});
