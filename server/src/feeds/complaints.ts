/**
 * Abuse reports other networks send us, parsed: ARF (RFC 5965 multipart/report with a
 * message/feedback-report part), X-ARF 0.2 (mail with `X-ARF: YES` and a YAML report part) and
 * X-ARF v3 JSON (posted as is, or attached to a mail). MIME is mailparser's job, YAML the yaml
 * package's; what this file adds is deciding which format it is and validating the fields we
 * need (who, what, which address, when), naming the one that is wrong.
 */
import { createHash } from 'node:crypto';
import type { ComplaintFormat } from '@downstream/shared';
import ipaddr from 'ipaddr.js';
import { simpleParser, type Attachment, type ParsedMail } from 'mailparser';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export interface ParsedComplaint {
  format: ComplaintFormat;
  reporter: string | null;
  /** The reporter's word for the abuse: spam, login-attack, DDoS, abuse… */
  type: string;
  /** The address complained about. */
  ip: string;
  /** When the abuse happened (ms since epoch). */
  reportedAt: number;
  subject: string | null;
  /** A line or two a person reads in the incident and remediation views. */
  summary: string;
  /** Message-ID / Report-ID, else a hash of the content: the same report twice is one complaint. */
  dedupKey: string;
}

export interface ComplaintIssue {
  path: string;
  message: string;
}

/** A report we cannot use; the HTTP layer answers 400 with the details. */
export class ComplaintParseError extends Error {
  constructor(
    message: string,
    readonly details: ComplaintIssue[],
  ) {
    super(message);
    this.name = 'ComplaintParseError';
  }
}

const Ip = z.string().refine((s) => ipaddr.isValid(s.trim()), 'not an IP address');
const When = z.union([z.string(), z.number(), z.date()]).transform((v, ctx) => {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `not a date: ${String(v).slice(0, 60)}` });
    return z.NEVER;
  }
  return ms;
});

function issues(error: z.core.$ZodError, prefix: string, input: unknown): ComplaintIssue[] {
  const at = (path: readonly PropertyKey[]): unknown =>
    path.reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
      input,
    );
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
    message: at(i.path) === undefined ? 'missing' : i.message,
  }));
}

function canonical(ip: string): string {
  const a = ipaddr.parse(ip.trim());
  if (a.kind() === 'ipv6') {
    const v6 = a as ipaddr.IPv6;
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toRFC5952String();
  }
  return a.toString();
}

const sha1 = (b: Buffer | string): string => createHash('sha1').update(b).digest('base64url');
const oneLine = (s: string, max: number): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** X-ARF v3 JSON, as buildXarf writes it (xarf-spec schemas/v3); other fields are allowed. */
const XarfV3 = z.object({
  Version: z.union([z.literal('3'), z.literal(3)]),
  ReporterInfo: z.object({
    ReporterOrg: z.string().min(1),
    ReporterOrgEmail: z.string().min(1),
    ReporterOrgDomain: z.string().optional(),
  }),
  Report: z.object({
    ReportClass: z.string().min(1),
    ReportType: z.string().min(1),
    Date: When,
    SourceIp: Ip,
    SourcePort: z.number().int().optional(),
    DestinationIp: z.string().optional(),
    DestinationPort: z.number().int().optional(),
    Protocol: z.string().optional(),
    AttackDescription: z.string().optional(),
  }),
});

function fromXarfV3(value: unknown, prefix: string, raw: Buffer | string): ParsedComplaint {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new ComplaintParseError('invalid X-ARF v3 report', [
      { path: prefix || '(root)', message: 'expected a JSON object' },
    ]);
  const r = XarfV3.safeParse(value);
  if (!r.success) throw new ComplaintParseError('invalid X-ARF v3 report', issues(r.error, prefix, value));
  const { ReporterInfo: who, Report: rep } = r.data;
  const dst = rep.DestinationIp
    ? ` against ${rep.DestinationIp}${rep.DestinationPort ? `:${rep.DestinationPort}` : ''}`
    : '';
  return {
    format: 'xarf-3',
    reporter: who.ReporterOrgEmail,
    type: rep.ReportType,
    ip: canonical(rep.SourceIp),
    reportedAt: rep.Date,
    subject: null,
    summary: oneLine(
      `${rep.ReportClass} / ${rep.ReportType} from ${rep.SourceIp}${dst}, reported by ${who.ReporterOrg}` +
        (rep.AttackDescription ? `: ${rep.AttackDescription}` : ''),
      500,
    ),
    dedupKey: `xarf3:${sha1(typeof raw === 'string' ? raw : raw.toString('utf8'))}`,
  };
}

/** X-ARF 0.2 report part (YAML), e.g. `Reported-From`, `Category`, `Report-Type`, `Source`. */
const Xarf02 = z.object({
  'Reported-From': z.string().min(1),
  Category: z.string().min(1),
  'Report-Type': z.string().min(1),
  Version: z.union([z.string(), z.number()]).transform((v) => String(v)),
  'User-Agent': z.string().min(1),
  Date: When,
  'Source-Type': z.enum(['ipv4', 'ipv6', 'ip-address']),
  Source: Ip,
  Port: z.union([z.number().int(), z.string()]).optional(),
  Service: z.string().optional(),
  'Report-ID': z.union([z.string(), z.number()]).optional(),
  Occurrences: z.number().optional(),
});

/** The fields of a message/feedback-report part (RFC 5965 §3.1–3.2), header syntax. */
async function feedbackFields(part: Attachment): Promise<Map<string, string>> {
  // The part is a header block: mailparser parses it as one (folding, encoded words).
  const mail = await simpleParser(Buffer.concat([part.content, Buffer.from('\r\n\r\n')]));
  const out = new Map<string, string>();
  for (const l of mail.headerLines) {
    const i = l.line.indexOf(':');
    if (i > 0 && !out.has(l.key))
      out.set(
        l.key,
        l.line
          .slice(i + 1)
          .replace(/\r?\n[ \t]+/g, ' ')
          .trim(),
      );
  }
  return out;
}

const FEEDBACK_TYPES = ['abuse', 'fraud', 'virus', 'other', 'not-spam', 'auth-failure'];

async function fromArf(mail: ParsedMail, part: Attachment, raw: Buffer): Promise<ParsedComplaint> {
  const f = await feedbackFields(part);
  const where = 'message/feedback-report';
  const problems: ComplaintIssue[] = [];
  const type = f.get('feedback-type');
  if (!type) problems.push({ path: `${where}.Feedback-Type`, message: 'missing (RFC 5965 requires it)' });
  else if (!FEEDBACK_TYPES.includes(type.toLowerCase()))
    problems.push({
      path: `${where}.Feedback-Type`,
      message: `unknown type ${type}; one of ${FEEDBACK_TYPES.join(', ')}`,
    });
  if (!f.get('user-agent')) problems.push({ path: `${where}.User-Agent`, message: 'missing (RFC 5965 requires it)' });
  if (!f.get('version')) problems.push({ path: `${where}.Version`, message: 'missing (RFC 5965 requires it)' });
  const src = f.get('source-ip');
  if (!src) problems.push({ path: `${where}.Source-IP`, message: 'missing: needed to know which endpoint sent it' });
  else if (!ipaddr.isValid(src.trim()))
    problems.push({ path: `${where}.Source-IP`, message: `not an IP address: ${src}` });
  const arrival = f.get('arrival-date') ?? f.get('received-date');
  const at = arrival ? Date.parse(arrival) : (mail.date?.getTime() ?? NaN);
  if (arrival && !Number.isFinite(at))
    problems.push({ path: `${where}.Arrival-Date`, message: `not a date: ${arrival}` });
  else if (!Number.isFinite(at))
    problems.push({ path: `${where}.Arrival-Date`, message: 'missing, and the mail has no Date either' });
  if (problems.length) throw new ComplaintParseError('invalid ARF report', problems);
  const reporter = mail.from?.value[0]?.address ?? null;
  const human = mail.text ? oneLine(mail.text, 300) : '';
  return {
    format: 'arf',
    reporter,
    type: type!.toLowerCase(),
    ip: canonical(src!),
    reportedAt: at,
    subject: mail.subject ?? null,
    summary: oneLine(`${type} report${reporter ? ` from ${reporter}` : ''}${human ? `: ${human}` : ''}`, 500),
    dedupKey: mail.messageId ? `mid:${mail.messageId}` : `arf:${sha1(raw)}`,
  };
}

function fromXarf02(mail: ParsedMail, raw: Buffer): ParsedComplaint {
  // The report is the YAML part (text/plain, `name="report.txt"`). Sent as an attachment it is
  // one of mailparser's attachments; sent inline (as fail2ban does) mailparser joins the inline
  // text parts into `text`, where it is the block from `Reported-From:` to the next blank line.
  const candidates: string[] = mail.attachments
    .filter((a) => /^(text\/|application\/(x-)?yaml)/i.test(a.contentType))
    .map((a) => a.content.toString('utf8'));
  const inline = /^Reported-From:[^\n]*\n(?:[^\n]*\S[^\n]*\n?)*/im.exec((mail.text ?? '').replace(/\r\n/g, '\n'));
  if (inline) candidates.push(inline[0]);
  let yaml: Record<string, unknown> | undefined;
  for (const c of candidates) {
    try {
      const v = parseYaml(c) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v) && 'Reported-From' in v) {
        yaml = v as Record<string, unknown>;
        break;
      }
    } catch {
      // Not YAML: a human-readable or evidence part.
    }
  }
  const name = 'report';
  if (!yaml)
    throw new ComplaintParseError('invalid X-ARF 0.2 report', [
      {
        path: 'report',
        message: 'no YAML report part with Reported-From (X-ARF 0.2 sends it as the second part, report.txt)',
      },
    ]);
  const r = Xarf02.safeParse(yaml);
  if (!r.success) throw new ComplaintParseError('invalid X-ARF 0.2 report', issues(r.error, name, yaml));
  const y = r.data;
  if (!y.Version.startsWith('0.'))
    throw new ComplaintParseError('invalid X-ARF 0.2 report', [
      { path: `${name}.Version`, message: `version ${y.Version}; expected 0.1 or 0.2` },
    ]);
  const port = y.Port !== undefined ? `:${y.Port}` : '';
  return {
    format: 'xarf-0.2',
    reporter: y['Reported-From'],
    type: y['Report-Type'],
    ip: canonical(y.Source),
    reportedAt: y.Date,
    subject: mail.subject ?? null,
    summary: oneLine(
      `${y.Category} / ${y['Report-Type']} from ${y.Source}${port}${y.Service ? ` (${y.Service})` : ''}` +
        `${y.Occurrences !== undefined ? `, ${y.Occurrences} occurrences` : ''}, reported by ${y['Reported-From']} (${y['User-Agent']})`,
      500,
    ),
    dedupKey:
      y['Report-ID'] !== undefined
        ? `xarf02:${y['Reported-From']}:${y['Report-ID']}`
        : mail.messageId
          ? `mid:${mail.messageId}`
          : `xarf02:${sha1(raw)}`,
  };
}

/**
 * One complaint from a request body or a maildir file. `contentType` picks JSON (X-ARF v3);
 * anything else is read as a mail (message/rfc822).
 */
export async function parseComplaint(body: Buffer, contentType = ''): Promise<ParsedComplaint> {
  if (body.length === 0 || body.toString('utf8').trim() === '')
    throw new ComplaintParseError('empty report', [{ path: 'body', message: 'no content' }]);
  const text = body.toString('utf8');
  if (/\bjson\b/i.test(contentType) || /^\s*\{/.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ComplaintParseError('X-ARF v3 report is not valid JSON', [
        { path: 'body', message: (err as Error).message },
      ]);
    }
    return fromXarfV3(value, '', text);
  }
  const mail = await simpleParser(body);
  if (!mail.headerLines.some((l) => /^[A-Za-z0-9-]+:/.test(l.line)))
    throw new ComplaintParseError('not a mail message', [
      { path: 'body', message: 'no mail headers: expected an ARF or X-ARF message (message/rfc822) or X-ARF v3 JSON' },
    ]);
  const ct = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const feedback = mail.attachments.find((a) => a.contentType.toLowerCase() === 'message/feedback-report');
  if (feedback) return fromArf(mail, feedback, body);
  if (
    ct?.value?.toLowerCase() === 'multipart/report' &&
    ct.params?.['report-type']?.toLowerCase() === 'feedback-report'
  )
    throw new ComplaintParseError('invalid ARF report', [
      { path: 'message/feedback-report', message: 'missing: multipart/report needs a message/feedback-report part' },
    ]);
  const xarfHeader = String(mail.headers.get('x-arf') ?? '').toLowerCase();
  const json = mail.attachments.find((a) => /json/i.test(a.contentType));
  if (json && xarfHeader !== 'yes') {
    let value: unknown;
    try {
      value = JSON.parse(json.content.toString('utf8'));
    } catch (err) {
      throw new ComplaintParseError('X-ARF v3 attachment is not valid JSON', [
        { path: json.filename ?? 'attachment', message: (err as Error).message },
      ]);
    }
    return fromXarfV3(value, json.filename ?? 'attachment', json.content);
  }
  if (xarfHeader === 'yes') return fromXarf02(mail, body);
  throw new ComplaintParseError('not an abuse report', [
    {
      path: 'body',
      message:
        'expected ARF (multipart/report; report-type=feedback-report), X-ARF 0.2 (header X-ARF: YES with a YAML report part) or X-ARF v3 JSON',
    },
  ]);
}
