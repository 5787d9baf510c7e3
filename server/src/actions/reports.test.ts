import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ActionsConfig } from './config.js';
import { outboundIncident, sampleIncident } from '../testing/recording-context.js';
import { buildArf, buildXarf, recipientsFor, type ReportContext } from './reports.js';

/*
 * The X-ARF v3 report structure, transcribed from the XARF project's JSON schema
 * (github.com/xarf/xarf-spec, schemas/v3/xarf-v3-legacy.json): required Version,
 * ReporterInfo{ReporterOrg ≤200, ReporterOrgEmail (email)}, Report{ReportClass "Activity",
 * ReportType (enum), Date (date-time)}; additionalProperties false at every level.
 */
const XarfV3 = z.strictObject({
  Version: z.enum(['3', '3.0']),
  ReporterInfo: z.strictObject({
    ReporterOrg: z.string().max(200),
    ReporterOrgEmail: z.email(),
    ReporterOrgDomain: z.string().optional(),
  }),
  Report: z.strictObject({
    ReportClass: z.literal('Activity'),
    ReportType: z.enum(['Spam', 'Login-Attack', 'Port-Scan', 'DDoS', 'Phishing', 'Malware', 'Botnet', 'Copyright']),
    Date: z.iso.datetime({ offset: true }),
    SourceIp: z.string().optional(),
    SourcePort: z.number().int().min(1).max(65535).optional(),
    DestinationIp: z.string().optional(),
    DestinationPort: z.number().int().min(1).max(65535).optional(),
    Protocol: z.enum(['tcp', 'udp', 'icmp', 'smtp']).optional(),
    SmtpMailFromAddress: z.email().optional(),
    SmtpRcptToAddress: z.email().optional(),
    SmtpMessageSubject: z.string().max(500).optional(),
    Url: z.url().optional(),
    UserAgent: z.string().max(200).optional(),
    AttackDescription: z.string().max(1000).optional(),
    AttackCount: z.number().int().min(1).optional(),
    Samples: z
      .array(
        z.strictObject({ ContentType: z.string(), Payload: z.base64(), Description: z.string().max(200).optional() }),
      )
      .max(10)
      .optional(),
  }),
});

const rc: ReportContext = {
  reports: ActionsConfig.parse({
    reports: {
      org: 'Example ISP NOC',
      email: 'abuse@isp.example',
      domain: 'isp.example',
      asn_contacts: { '65001': 'abuse@transit1.example' },
      link_contacts: { 'Transit A': 'noc@transit-a.example' },
    },
  }).reports,
  ownAsn: 64500,
  version: '1.2.3',
};

describe('report recipients', () => {
  it('lists each source ASN by share, then the upstreams, with configured contacts or null', () => {
    expect(recipientsFor(sampleIncident(), rc)).toEqual([
      { id: 'asn:65001', kind: 'asn', name: 'TRANSIT-1', asn: 65001, email: 'abuse@transit1.example', share: 0.9 },
      { id: 'asn:65002', kind: 'asn', name: 'Ünïcode AS, "quoted"', asn: 65002, email: null, share: 0.1 },
      { id: 'upstream:Transit A', kind: 'upstream', name: 'Transit A', email: 'noc@transit-a.example', share: 1 },
    ]);
  });

  it('sends reports about our own customers to our own abuse desk', () => {
    expect(recipientsFor(outboundIncident(), rc)[0]).toMatchObject({ id: 'asn:64500', email: 'abuse@isp.example' });
  });
});

describe('X-ARF v3', () => {
  it('validates against the X-ARF v3 structure and carries the ASN’s sources as CSV evidence', () => {
    const inc = sampleIncident();
    const [asn1] = recipientsFor(inc, rc);
    const doc = XarfV3.parse(buildXarf(inc, asn1, rc));
    expect(doc.Report).toMatchObject({
      ReportType: 'DDoS',
      SourceIp: '203.0.113.10',
      DestinationIp: '198.51.100.7',
      DestinationPort: 80,
      Protocol: 'tcp',
      AttackCount: 2,
      Date: inc.firstSeen,
    });
    const csv = Buffer.from(doc.Report.Samples![0].Payload, 'base64').toString('utf8').trim().split('\r\n');
    expect(csv[0]).toBe('source_ip,asn,as_name,country,packets,bytes,first_seen,last_seen,target');
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(['203.0.113.10', '203.0.113.11']);
  });

  it('maps every kind to an X-ARF report type and stays within the length limits', () => {
    for (const kind of [
      'ddos-fan-in',
      'volumetric',
      'amplification',
      'ddos-participation',
      'scanner',
      'spam-bot',
      'external',
    ] as const) {
      const inc = sampleIncident({
        kind,
        evidence: { summary: 'x'.repeat(5000) },
        sources: { ...sampleIncident().sources, distinct: 1e9 },
      });
      const r = recipientsFor(inc, { ...rc, reports: { ...rc.reports, org: 'O'.repeat(500) } })[2];
      expect(() =>
        XarfV3.parse(buildXarf(inc, r, { ...rc, reports: { ...rc.reports, org: 'O'.repeat(500) } })),
      ).not.toThrow();
    }
    expect(
      XarfV3.parse(buildXarf(outboundIncident(), recipientsFor(outboundIncident(), rc)[0], rc)).Report,
    ).toMatchObject({ ReportType: 'Spam', Protocol: 'smtp' });
  });
});

describe('ARF (RFC 5965)', () => {
  it('is a multipart/report with text/plain, message/feedback-report and text/rfc822-headers parts, in that order', async () => {
    const inc = sampleIncident();
    const rcpts = recipientsFor(inc, rc);
    const raw = buildArf(inc, rcpts[1], rc, new Date('2026-11-24T22:00:00Z'));
    expect(raw).not.toMatch(/[^\r]\n/); // CRLF line endings only
    const mail = await simpleParser(raw);
    const ct = mail.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(ct.value).toBe('multipart/report');
    expect(ct.params['report-type']).toBe('feedback-report');
    expect(mail.headers.get('mime-version')).toBe('1.0');
    expect(mail.subject).toContain('198.51.100.7');
    expect(mail.from?.value[0].address).toBe('abuse@isp.example');
    expect(mail.text).toContain('192.0.2.77');
    expect(mail.text).toContain('Ünïcode'); // non-ASCII survives via base64 text part

    // Part order and types, straight from the MIME structure.
    const boundary = ct.params.boundary;
    const parts = raw.split(`--${boundary}`).slice(1, -1);
    expect(parts).toHaveLength(3);
    const typeOf = (p: string) => /Content-Type:\s*([^;\r\n]+)/i.exec(p)![1].trim();
    expect(parts.map(typeOf)).toEqual(['text/plain', 'message/feedback-report', 'text/rfc822-headers']);
    expect(raw.trimEnd().endsWith(`--${boundary}--`)).toBe(true);

    // Machine-readable part: RFC 5965 §3.1 required fields, and Source-IP.
    const fields = Object.fromEntries(
      parts[1]
        .split('\r\n\r\n')[1]
        .trim()
        .split('\r\n')
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
    );
    expect(fields['Feedback-Type']).toBe('other');
    expect(fields['User-Agent']).toBe('Downstream/1.2.3');
    expect(fields['Version']).toBe('1');
    expect(fields['Source-IP']).toBe('192.0.2.77');
    expect(new Date(fields['Arrival-Date']).toISOString()).toBe(inc.firstSeen);
    const fb = mail.attachments.find((a) => a.contentType === 'message/feedback-report');
    expect(fb?.content.toString()).toContain('Feedback-Type: other');
    expect(mail.attachments.find((a) => a.contentType === 'text/rfc822-headers')?.content.toString()).toContain(
      'X-Downstream-Incident: inc-fanin-1',
    );
  });

  it('uses Feedback-Type abuse for spam and addresses a known contact', async () => {
    const inc = outboundIncident();
    const raw = buildArf(inc, recipientsFor(inc, rc)[0], rc);
    const mail = await simpleParser(raw);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0].address : undefined).toBe('abuse@isp.example');
    expect(raw).toContain('Feedback-Type: abuse');
  });
});
