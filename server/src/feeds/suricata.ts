import { KIND_POLICY, kindsFacing, type DetectionEvent, type IncidentKind } from '@downstream/shared';
import { z } from 'zod';
import { contentKey } from './feed-hub.js';
import { buildSources, targetOf, type Lookup } from './sources.js';

const Ip = z.union([z.ipv4(), z.ipv6()]);
const Port = z.number().int().min(0).max(65535);
// Suricata writes "2026-11-24T21:33:21.123456+0000"; zod's datetime wants a colon in the offset.
const EveTime = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:?\d\d|Z)$/, 'not an EVE timestamp');

/** The fields of an EVE `alert` event Downstream uses; the rest of Suricata's record passes through. */
export const EveAlert = z.looseObject({
  timestamp: EveTime,
  event_type: z.literal('alert'),
  flow_id: z.number().int().optional(),
  src_ip: Ip,
  src_port: Port.optional(),
  dest_ip: Ip,
  dest_port: Port.optional(),
  proto: z.string().optional(),
  alert: z.looseObject({
    action: z.string().optional(),
    gid: z.number().int().optional(),
    signature_id: z.number().int(),
    rev: z.number().int().optional(),
    signature: z.string(),
    category: z.string().optional(),
    severity: z.number().int().optional(),
  }),
});
export type EveAlert = z.infer<typeof EveAlert>;

export const EveFlow = z.looseObject({
  timestamp: EveTime,
  event_type: z.literal('flow'),
  flow_id: z.number().int(),
  src_ip: Ip,
  dest_ip: Ip,
  proto: z.string().optional(),
  flow: z.looseObject({
    pkts_toserver: z.number().nonnegative().default(0),
    pkts_toclient: z.number().nonnegative().default(0),
    bytes_toserver: z.number().nonnegative().default(0),
    bytes_toclient: z.number().nonnegative().default(0),
    start: EveTime.optional(),
    end: EveTime.optional(),
    alerted: z.boolean().optional(),
  }),
});
export type EveFlow = z.infer<typeof EveFlow>;

/** Any EVE record: only `event_type` is required; types other than alert/flow are ignored. */
export const EveRecord = z.looseObject({ event_type: z.string().min(1) });

/** Built-in signature/category → kind rules (ET Open naming); config rules are tried first. */
const BUILT_IN_RULES: { re: RegExp; kind: IncidentKind }[] = [
  { re: /amplif|reflect|\bDNS\b.*\bANY\b|mon_?list|memcache|\bSSDP\b|\bCLDAP\b|chargen/i, kind: 'amplification' },
  { re: /\bSCAN\b|Network Scan|port ?scan|nmap|masscan|zmap/i, kind: 'scanner' },
  { re: /\bspam|\bSMTP\b.*(bulk|spam|blacklist|blocklist)|Spamhaus|\bDROP\b.*\bSMTP\b/i, kind: 'spam-bot' },
  { re: /\bDOS\b|\bDDOS\b|Denial of Service|flood/i, kind: 'volumetric' },
];

const OUTBOUND_KINDS = new Set<IncidentKind>(kindsFacing('outbound'));

export interface SuricataOptions {
  lookup: Lookup;
  /** True when the address is ours (a customer prefix). */
  isOurs: (ip: string) => boolean;
  rules?: { match: string; kind: IncidentKind }[];
}

export interface Mapped {
  event: DetectionEvent;
  dedupKey: string;
}

const evTime = (t: string): string => {
  const fixed = t.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  const d = new Date(fixed);
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
};

/**
 * Map Suricata EVE records to detections. Alerts map by signature to a kind where one fits, else
 * `external`; direction and key follow which side is ours, so keys line up with the built-in
 * detectors (inbound: the target; scanner/spam-bot: the customer endpoint; participation: the
 * outside victim). A later `flow` record for an alerted flow updates that detection's volumes.
 */
export class SuricataMapper {
  private readonly rules: { re: RegExp; kind: IncidentKind }[];
  // flow_id → the detection its alert produced; bounded, oldest dropped first.
  private readonly alerted = new Map<number, DetectionEvent>();

  constructor(private readonly opts: SuricataOptions) {
    this.rules = [
      ...(opts.rules ?? []).map((r) => ({ re: new RegExp(r.match, 'i'), kind: r.kind })),
      ...BUILT_IN_RULES,
    ];
  }

  kindOf(signature: string, category = ''): IncidentKind {
    for (const r of this.rules) if (r.re.test(signature) || (category && r.re.test(category))) return r.kind;
    return 'external';
  }

  /** A validated alert → detection. */
  alert(a: EveAlert): Mapped {
    const srcOurs = this.opts.isOurs(a.src_ip);
    const dstOurs = this.opts.isOurs(a.dest_ip);
    let kind = this.kindOf(a.alert.signature, a.alert.category);
    // Outbound only when the source is ours and the victim is not; otherwise it is aimed at us.
    const outbound = srcOurs && !dstOurs;
    if (outbound && kind === 'volumetric') kind = 'ddos-participation';
    if (!outbound && (OUTBOUND_KINDS.has(kind) || kind === 'ddos-participation')) kind = 'external';
    if (outbound && (kind === 'amplification' || kind === 'volumetric')) kind = 'external';
    const key = outbound && KIND_POLICY[kind].outboundKey === 'source' ? a.src_ip : a.dest_ip;
    const severityConfidence = a.alert.severity ? Math.max(0.3, 1 - (a.alert.severity - 1) * 0.25) : undefined;
    const proto = protoNumber(a.proto);
    const event: DetectionEvent = {
      detector: 'suricata',
      kind,
      direction: outbound ? 'outbound' : 'inbound',
      at: evTime(a.timestamp),
      key,
      ...(outbound && kind !== 'ddos-participation' ? {} : { target: targetOf(a.dest_ip, this.opts.lookup) }),
      sources: buildSources([{ ip: a.src_ip, packets: 0, bytes: 0 }], this.opts.lookup),
      upstreams: [],
      rate: { pps: 0, bps: 0 },
      evidence: {
        ...(a.dest_port !== undefined ? { ports: [{ port: a.dest_port, share: 1 }] } : {}),
        ...(proto !== undefined ? { protocols: [{ proto, share: 1 }] } : {}),
        ...(severityConfidence !== undefined ? { confidence: severityConfidence } : {}),
        summary: `Suricata ${a.alert.signature_id}: ${a.alert.signature}`,
        signature: a.alert.signature,
        signatureId: a.alert.signature_id,
        category: a.alert.category ?? null,
        feed: 'suricata',
      },
    };
    if (a.flow_id !== undefined) {
      this.alerted.delete(a.flow_id);
      this.alerted.set(a.flow_id, event);
      while (this.alerted.size > 50_000) this.alerted.delete(this.alerted.keys().next().value as number);
    }
    // One flow raising the same signature again is the same alert.
    const dedupKey = a.flow_id !== undefined ? `alert:${a.flow_id}:${a.alert.signature_id}` : `alert:${contentKey(a)}`;
    return { event, dedupKey };
  }

  /** A flow record: an update of an alerted flow's detection, or null (not a detection). */
  flow(f: EveFlow): Mapped | null {
    const base = this.alerted.get(f.flow_id);
    if (!base) return null;
    this.alerted.delete(f.flow_id);
    const packets = f.flow.pkts_toserver + f.flow.pkts_toclient;
    const bytes = f.flow.bytes_toserver + f.flow.bytes_toclient;
    const start = f.flow.start ? Date.parse(evTime(f.flow.start)) : NaN;
    const end = f.flow.end ? Date.parse(evTime(f.flow.end)) : NaN;
    const secs = Number.isFinite(start) && Number.isFinite(end) ? Math.max(1, (end - start) / 1000) : 1;
    const src = base.sources.top[0]?.ip ?? f.src_ip;
    const event: DetectionEvent = {
      ...base,
      at: evTime(f.timestamp),
      sources: buildSources(
        [{ ip: src, packets: f.flow.pkts_toserver, bytes: f.flow.bytes_toserver }],
        this.opts.lookup,
      ),
      rate: { pps: packets / secs, bps: (bytes * 8) / secs },
      evidence: {
        ...base.evidence,
        ...(f.flow.pkts_toserver > 0 ? { meanPacketSize: f.flow.bytes_toserver / f.flow.pkts_toserver } : {}),
        flowPackets: packets,
        flowBytes: bytes,
      },
    };
    return { event, dedupKey: `flow:${f.flow_id}` };
  }
}

function protoNumber(p: string | undefined): number | undefined {
  if (!p) return undefined;
  const up = p.toUpperCase();
  if (up === 'TCP') return 6;
  if (up === 'UDP') return 17;
  if (up === 'ICMP') return 1;
  if (up === 'IPV6-ICMP' || up === 'ICMPV6') return 58;
  const n = Number(p);
  return Number.isInteger(n) ? n : undefined;
}
