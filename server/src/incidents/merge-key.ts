import {
  mergesByCustomer,
  mergesByTarget,
  type DetectionEvent,
  type Direction,
  type Incident,
  type IncidentKind,
} from '@downstream/shared';

/**
 * Which incident a detection belongs to, as a value rather than a spliced string. `text` is
 * the form maps are keyed by and incidents store as `evidence.incidentKey` (unchanged from the
 * strings earlier versions wrote, so stored incidents still find theirs).
 */
export type MergeKey =
  | { readonly rule: 'target'; readonly target: string; readonly text: string }
  | {
      readonly rule: 'customer-campaign';
      readonly kind: IncidentKind;
      readonly customer: string;
      readonly text: string;
    }
  | {
      readonly rule: 'kind-key';
      readonly kind: IncidentKind;
      readonly direction: Direction;
      readonly key: string;
      readonly text: string;
    };

export function targetKey(target: string): MergeKey {
  return { rule: 'target', target, text: `inbound|${target}` };
}

export function campaignKey(kind: IncidentKind, customer: string): MergeKey {
  return { rule: 'customer-campaign', kind, customer, text: `${kind}|customer:${customer}` };
}

export function kindKey(kind: IncidentKind, direction: Direction, key: string): MergeKey {
  return { rule: 'kind-key', kind, direction, key, text: `${kind}|${direction}|${key}` };
}

/**
 * Which incident a detection belongs to — the one place the merge rule lives (the per-kind
 * rule is shared/src/kinds.ts):
 * - inbound attacks on a target (amplification, ddos-fan-in, volumetric, external), from any
 *   detector or feed: one incident per target address, whatever each one calls it;
 * - spam-bot and scanner: one campaign per kind and customer, so twelve spamming PCs of one
 *   customer are one incident whose sources are the call list;
 * - anything else (ddos-participation by outside victim, outbound external): kind + key.
 */
export function mergeKeyOf(e: Pick<DetectionEvent, 'kind' | 'direction' | 'key' | 'sources' | 'target'>): MergeKey {
  if (mergesByTarget(e.kind, e.direction)) return targetKey(e.key);
  if (mergesByCustomer(e.kind, e.direction)) {
    const customer = e.sources.top[0]?.customer ?? e.target?.customer;
    if (customer) return campaignKey(e.kind, customer);
  }
  return kindKey(e.kind, e.direction, e.key);
}

/** A stored `evidence.incidentKey` read back; `fallback` kind and direction when it names neither. */
export function parseMergeKey(text: string, fallback: { kind: IncidentKind; direction: Direction }): MergeKey {
  if (text.startsWith('inbound|')) return targetKey(text.slice('inbound|'.length));
  const bar = text.indexOf('|');
  const kind = (bar >= 0 ? text.slice(0, bar) : fallback.kind) as IncidentKind;
  const rest = bar >= 0 ? text.slice(bar + 1) : text;
  if (rest.startsWith('customer:')) return campaignKey(kind, rest.slice('customer:'.length));
  const bar2 = rest.indexOf('|');
  if (bar2 >= 0 && (rest.startsWith('inbound|') || rest.startsWith('outbound|')))
    return kindKey(kind, rest.slice(0, bar2) as Direction, rest.slice(bar2 + 1));
  // Not a form this server writes: keep the text as it was, so the incident still finds itself.
  return { rule: 'kind-key', kind: fallback.kind, direction: fallback.direction, key: text, text };
}

/** The merge key of a stored incident (also those stored before the per-target inbound rule). */
export function mergeKeyOfIncident(inc: Incident): MergeKey {
  if (mergesByTarget(inc.kind, inc.direction) && inc.target) return targetKey(inc.target.ip);
  return typeof inc.evidence.incidentKey === 'string'
    ? parseMergeKey(inc.evidence.incidentKey, inc)
    : kindKey(inc.kind, inc.direction, inc.target?.ip ?? inc.id);
}
