import { KIND_POLICY, type Incident, type ReportRecipient, type SourceEndpoint } from '@downstream/shared';
import type { ActionsConfig } from './config.js';

/**
 * Abuse reports for an incident, one per recipient: the abuse contact of each source ASN (largest
 * share first) and the NOC of each upstream link that carried it. Formats: X-ARF v3 JSON and ARF
 * (RFC 5965). Contacts come from the config; an unknown one is null so the operator looks it up
 * (RDAP/WHOIS) instead of the report going nowhere.
 */
export interface ReportContext {
  reports: ActionsConfig['reports'];
  /** Our own ASN (network.asn): reports about our customers go to our own abuse desk. */
  ownAsn?: number;
  version: string;
}

export function recipientsFor(incident: Incident, rc: ReportContext): ReportRecipient[] {
  const out: ReportRecipient[] = [];
  for (const a of incident.sources.asns.slice(0, rc.reports.max_asn_recipients)) {
    const configured = rc.reports.asn_contacts[String(a.asn)];
    const email = configured ?? (rc.ownAsn !== undefined && a.asn === rc.ownAsn ? rc.reports.email : null);
    out.push({ id: `asn:${a.asn}`, kind: 'asn', name: a.name || `AS${a.asn}`, asn: a.asn, email, share: a.share });
  }
  for (const u of incident.upstreams) {
    out.push({
      id: `upstream:${u.name}`,
      kind: 'upstream',
      name: u.name,
      email: rc.reports.link_contacts[u.name] ?? null,
      share: u.share,
    });
  }
  if (out.length === 0 && incident.target?.asn !== undefined) {
    // A feed-only incident may know only its target: report to the target's network.
    const asn = incident.target.asn;
    out.push({
      id: `asn:${asn}`,
      kind: 'target-asn',
      name: incident.target.asName ?? `AS${asn}`,
      asn,
      email: rc.reports.asn_contacts[String(asn)] ?? null,
      share: 1,
    });
  }
  return out;
}

/** The sources a recipient is responsible for: its ASN's, or all of them for an upstream. */
export function sourcesFor(incident: Incident, r: ReportRecipient): SourceEndpoint[] {
  return r.kind === 'asn' ? incident.sources.top.filter((s) => s.asn === r.asn) : incident.sources.top;
}

function protocolName(incident: Incident): 'tcp' | 'udp' | 'icmp' | 'smtp' | undefined {
  if (incident.kind === 'spam-bot') return 'smtp';
  const p = incident.evidence.protocols?.slice().sort((a, b) => b.share - a.share)[0]?.proto;
  return p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 1 ? 'icmp' : undefined;
}

function topPort(incident: Incident): number | undefined {
  const p = incident.evidence.ports?.slice().sort((a, b) => b.share - a.share)[0]?.port;
  return p !== undefined && p >= 1 ? p : undefined;
}

/** CSV of the offending sources, the evidence attached to both formats. */
export function evidenceCsv(incident: Incident, sources: SourceEndpoint[]): string {
  const esc = (v: string | number | undefined): string => {
    const s = v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows = ['source_ip,asn,as_name,country,packets,bytes,first_seen,last_seen,target'];
  for (const s of sources) {
    rows.push(
      [s.ip, s.asn, s.asName, s.country, s.packets, s.bytes, incident.firstSeen, incident.lastSeen, incident.target?.ip]
        .map(esc)
        .join(','),
    );
  }
  return `${rows.join('\r\n')}\r\n`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function describeIncident(incident: Incident, r: ReportRecipient, sources: SourceEndpoint[]): string {
  const who =
    r.kind === 'upstream' ? `traffic your network (${r.name}) carried to us` : `hosts in ${r.name} (AS${r.asn})`;
  const target = incident.target ? ` against ${incident.target.ip}` : '';
  return (
    `${KIND_POLICY[incident.kind].report.text}${target} from ${who}: ${sources.length} source address(es) listed of ` +
    `${fmt(incident.sources.distinct)} seen, peak ${fmt(incident.peak.pps)} packets/s, ${fmt(incident.peak.bps / 1e6)} Mbit/s, ` +
    `between ${incident.firstSeen} and ${incident.lastSeen}. Observed in flow data (no payload). ` +
    `Incident ${incident.id}.`
  );
}

/**
 * X-ARF v3 (JSON). Structure per the XARF project's v3 schema (xarf/xarf-spec,
 * schemas/v3/xarf-v3-legacy.json): Version, ReporterInfo{ReporterOrg, ReporterOrgEmail,
 * ReporterOrgDomain?}, Report{ReportClass "Activity", ReportType, Date, SourceIp, …, Samples[]};
 * no other properties allowed, AttackDescription ≤ 1000 chars, Sample Description ≤ 200, ≤ 10 samples.
 */
export function buildXarf(incident: Incident, r: ReportRecipient, rc: ReportContext): Record<string, unknown> {
  const sources = sourcesFor(incident, r);
  const src = sources[0]?.ip ?? incident.sources.top[0]?.ip;
  const proto = protocolName(incident);
  const port = topPort(incident);
  const description = describeIncident(incident, r, sources);
  const report: Record<string, unknown> = {
    ReportClass: 'Activity',
    ReportType: KIND_POLICY[incident.kind].report.xarfType,
    Date: incident.firstSeen,
    ...(src ? { SourceIp: src } : {}),
    ...(incident.target ? { DestinationIp: incident.target.ip } : {}),
    ...(port !== undefined && incident.direction === 'inbound' ? { DestinationPort: port } : {}),
    ...(proto ? { Protocol: proto } : {}),
    AttackDescription: description.length > 1000 ? `${description.slice(0, 997)}...` : description,
    ...(sources.length > 0 ? { AttackCount: sources.length } : {}),
    Samples: [
      {
        ContentType: 'text/csv',
        Payload: Buffer.from(evidenceCsv(incident, sources), 'utf8').toString('base64'),
        Description: `Source addresses with packet and byte counts (${sources.length} rows)`.slice(0, 200),
      },
    ],
  };
  return {
    Version: '3',
    ReporterInfo: {
      ReporterOrg: rc.reports.org.slice(0, 200),
      ReporterOrgEmail: rc.reports.email,
      ...(rc.reports.domain ? { ReporterOrgDomain: rc.reports.domain } : {}),
    },
    Report: report,
  };
}

const CRLF = '\r\n';

function rfc2822(iso: string): string {
  return new Date(iso).toUTCString().replace('GMT', '+0000');
}

/** Header value safe for a MIME header: printable ASCII, no line breaks, encoded words for the rest. */
function headerText(s: string): string {
  const flat = s.replace(/[\r\n]+/g, ' ');
  if (/^[\x20-\x7e]*$/.test(flat)) return flat;
  return `=?UTF-8?B?${Buffer.from(flat, 'utf8').toString('base64')}?=`;
}

function textPart(text: string): string {
  const ascii = !/[^\t\n\r\x20-\x7e]/.test(text);
  if (ascii)
    return `Content-Type: text/plain; charset=us-ascii${CRLF}Content-Transfer-Encoding: 7bit${CRLF}${CRLF}${text.replace(/\r?\n/g, CRLF)}`;
  const b64 = Buffer.from(text.replace(/\r?\n/g, CRLF), 'utf8').toString('base64').replace(/.{76}/g, `$&${CRLF}`);
  return `Content-Type: text/plain; charset=utf-8${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${b64}`;
}

/**
 * ARF (RFC 5965): multipart/report; report-type=feedback-report with (1) a human-readable
 * text/plain part, (2) a message/feedback-report part (Feedback-Type, User-Agent, Version
 * required; Source-IP, Arrival-Date), (3) the "original message" part. Flow-based abuse has no
 * original message, so part 3 is text/rfc822-headers describing the observed traffic, which RFC
 * 5965 allows in place of a full message.
 */
export function buildArf(incident: Incident, r: ReportRecipient, rc: ReportContext, now = new Date()): string {
  const sources = sourcesFor(incident, r);
  const src = sources[0]?.ip ?? incident.sources.top[0]?.ip;
  const domain = rc.reports.domain ?? rc.reports.email.split('@')[1] ?? 'localhost';
  const boundary = `=_downstream_${incident.id.replace(/[^A-Za-z0-9]/g, '')}_${now.getTime().toString(36)}`;
  const slug = r.id.replace(/[^A-Za-z0-9.-]/g, '-');
  const human = [
    `This is an abuse report from ${rc.reports.org} (${rc.reports.email}).`,
    '',
    describeIncident(incident, r, sources),
    '',
    'Please investigate the sources below and stop the abuse. A machine-readable X-ARF',
    `version of this report is available from the sender on request. Reference: ${incident.id}.`,
    '',
    'Evidence (CSV):',
    evidenceCsv(incident, sources.slice(0, 1000)).trimEnd(),
    ...(sources.length > 1000 ? [`... ${sources.length - 1000} more rows omitted`] : []),
  ].join('\n');
  const feedback = [
    `Feedback-Type: ${incident.kind === 'spam-bot' ? 'abuse' : 'other'}`,
    `User-Agent: Downstream/${rc.version}`,
    'Version: 1',
    `Arrival-Date: ${rfc2822(incident.firstSeen)}`,
    ...(src ? [`Source-IP: ${src}`] : []),
    `Incidents: ${Math.max(1, sources.length)}`,
    ...(rc.reports.domain ? [`Reporting-MTA: dns; ${rc.reports.domain}`] : []),
  ].join(CRLF);
  const original = [
    `Date: ${rfc2822(incident.firstSeen)}`,
    `Subject: ${headerText(`${incident.kind} traffic observed in flow data`)}`,
    `X-Downstream-Incident: ${incident.id}`,
    `X-Downstream-Kind: ${incident.kind}`,
    `X-Downstream-Direction: ${incident.direction}`,
    ...(incident.target ? [`X-Downstream-Target: ${incident.target.ip}`] : []),
    ...(src ? [`X-Downstream-Source: ${src}`] : []),
    `X-Downstream-First-Seen: ${incident.firstSeen}`,
    `X-Downstream-Last-Seen: ${incident.lastSeen}`,
    `X-Downstream-Peak: ${Math.round(incident.peak.pps)} pps; ${Math.round(incident.peak.bps)} bps`,
  ].join(CRLF);
  const headers = [
    `From: ${headerText(rc.reports.org)} <${rc.reports.email}>`,
    `To: ${r.email ? `${headerText(r.name)} <${r.email}>` : 'undisclosed-recipients:;'}`,
    `Subject: ${headerText(`Abuse report: ${KIND_POLICY[incident.kind].report.text}${incident.target ? ` against ${incident.target.ip}` : ''} [${incident.id}]`)}`,
    `Date: ${rfc2822(now.toISOString())}`,
    `Message-ID: <downstream.${incident.id.replace(/[^A-Za-z0-9.-]/g, '')}.${slug}.${now.getTime()}@${domain}>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
  ].join(CRLF);
  return [
    headers,
    '',
    'This is a multi-part message in MIME format.',
    `--${boundary}`,
    textPart(human),
    `--${boundary}`,
    'Content-Type: message/feedback-report',
    '',
    feedback,
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    original,
    `--${boundary}--`,
    '',
  ].join(CRLF);
}
