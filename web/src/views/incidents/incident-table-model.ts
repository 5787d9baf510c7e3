import type { Direction, Incident, IncidentKind, IncidentStatus } from '@downstream/shared';
import {
  Direction as DirectionSchema,
  IncidentKind as KindSchema,
  IncidentStatus as StatusSchema,
} from '@downstream/shared';

/** Columns the incidents table can sort by. */
export const SORT_KEYS = [
  'kind',
  'direction',
  'target',
  'sources',
  'peak',
  'upstream',
  'status',
  'age',
  'severity',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** Everything that defines what the table shows; lives in the URL so every view is a deep link. */
export interface TableQuery {
  kind?: IncidentKind;
  direction?: Direction;
  /** `active` = anything not resolved (the default an operator wants). */
  status: IncidentStatus | 'active' | 'all';
  /** Free text: matched against target IP, customer, ASN names, upstream, id. */
  q: string;
  sort: SortKey;
  desc: boolean;
}

export const DEFAULT_QUERY: TableQuery = { status: 'active', q: '', sort: 'severity', desc: true };

export function parseQuery(params: URLSearchParams): TableQuery {
  const kind = KindSchema.safeParse(params.get('kind'));
  const direction = DirectionSchema.safeParse(params.get('direction'));
  const rawStatus = params.get('status');
  const status =
    rawStatus === 'all' || rawStatus === 'active'
      ? rawStatus
      : StatusSchema.safeParse(rawStatus).success
        ? (rawStatus as IncidentStatus)
        : DEFAULT_QUERY.status;
  const rawSort = params.get('sort');
  const sort = (SORT_KEYS as readonly string[]).includes(rawSort ?? '') ? (rawSort as SortKey) : DEFAULT_QUERY.sort;
  const dir = params.get('dir');
  return {
    kind: kind.success ? kind.data : undefined,
    direction: direction.success ? direction.data : undefined,
    status,
    q: params.get('q') ?? '',
    sort,
    desc: dir === null ? DEFAULT_QUERY.desc : dir !== 'asc',
  };
}

export function queryToParams(q: TableQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (q.kind) p.set('kind', q.kind);
  if (q.direction) p.set('direction', q.direction);
  if (q.status !== DEFAULT_QUERY.status) p.set('status', q.status);
  if (q.q) p.set('q', q.q);
  if (q.sort !== DEFAULT_QUERY.sort) p.set('sort', q.sort);
  if (q.desc !== DEFAULT_QUERY.desc || q.sort !== DEFAULT_QUERY.sort) p.set('dir', q.desc ? 'desc' : 'asc');
  return p;
}

const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;
const STATUS_RANK = { open: 0, mitigating: 1, acknowledged: 2, resolved: 3 } as const;

export function topUpstream(i: Incident): string {
  let best: { name: string; share: number } | undefined;
  for (const u of i.upstreams) if (!best || u.share > best.share) best = u;
  return best?.name ?? '';
}

export function targetLabel(i: Incident): string {
  return i.target?.ip ?? i.sources.top[0]?.ip ?? '';
}

export function matches(i: Incident, q: TableQuery): boolean {
  if (q.kind && i.kind !== q.kind) return false;
  if (q.direction && i.direction !== q.direction) return false;
  if (q.status === 'active' && i.status === 'resolved') return false;
  if (q.status !== 'active' && q.status !== 'all' && i.status !== q.status) return false;
  if (q.q) {
    const needle = q.q.toLowerCase();
    const hay = [
      i.id,
      i.kind,
      i.target?.ip,
      i.target?.customer,
      i.target?.asName,
      ...i.upstreams.map((u) => u.name),
      ...i.sources.asns.map((a) => `AS${a.asn} ${a.name}`),
      ...i.sources.top.slice(0, 20).flatMap((s) => [s.ip, s.customer]),
    ]
      .filter(Boolean)
      .join(' ')
      .toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

function sortValue(i: Incident, key: SortKey): number | string {
  switch (key) {
    case 'kind':
      return i.kind;
    case 'direction':
      return i.direction;
    case 'target':
      return targetLabel(i);
    case 'sources':
      return i.sources.distinct;
    case 'peak':
      return i.peak.pps;
    case 'upstream':
      return topUpstream(i);
    case 'status':
      return STATUS_RANK[i.status];
    case 'age':
      // Older first when descending: age grows as firstSeen shrinks.
      return -Date.parse(i.firstSeen);
    case 'severity':
      return SEVERITY_RANK[i.severity] * 1e15 + i.peak.pps;
  }
}

/** Stable sort: ties keep first-seen order so rows with equal keys never swap on updates. */
export function sortIncidents(list: Incident[], q: TableQuery): Incident[] {
  const dir = q.desc ? -1 : 1;
  return list
    .map((i) => ({ i, v: sortValue(i, q.sort) }))
    .sort((a, b) => {
      if (a.v < b.v) return -dir;
      if (a.v > b.v) return dir;
      return a.i.firstSeen.localeCompare(b.i.firstSeen) || a.i.id.localeCompare(b.i.id);
    })
    .map((x) => x.i);
}
