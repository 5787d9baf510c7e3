import { RemediationStatus, type RemediationEntry } from '@downstream/shared';

/** What the URL says the list shows: `?customer=…&status=open|notified|remediated`. */
export interface RemediationFilter {
  customer?: string;
  status?: RemediationStatus;
}

export function parseFilter(params: URLSearchParams): RemediationFilter {
  const customer = params.get('customer')?.trim() || undefined;
  const s = RemediationStatus.safeParse(params.get('status'));
  return { ...(customer ? { customer } : {}), ...(s.success ? { status: s.data } : {}) };
}

/** The query both the JSON list and the CSV export take, so the CSV is what is on screen. */
export function filterQuery(f: RemediationFilter): string {
  const q = new URLSearchParams();
  if (f.customer) q.set('customer', f.customer);
  if (f.status) q.set('status', f.status);
  return q.toString();
}

export interface RemediationMove {
  to: RemediationStatus;
  label: string;
}

/**
 * The buttons a row offers. Mirrors the server's allowed moves (server/src/actions/remediation.ts):
 * open → notified | remediated, notified → remediated | open, remediated → open.
 */
export function movesFrom(status: RemediationStatus): RemediationMove[] {
  switch (status) {
    case 'open':
      return [
        { to: 'notified', label: 'Notified' },
        { to: 'remediated', label: 'Remediated' },
      ];
    case 'notified':
      return [
        { to: 'remediated', label: 'Remediated' },
        { to: 'open', label: 'Reopen' },
      ];
    case 'remediated':
      return [{ to: 'open', label: 'Reopen' }];
  }
}

export interface CustomerGroup {
  customer: string;
  entries: RemediationEntry[];
  open: number;
}

/**
 * Entries per customer: customers with the most open endpoints first, then by name; inside a
 * customer, endpoints still to act on (open, then notified) first, most recently seen first.
 */
export function groupByCustomer(entries: readonly RemediationEntry[]): CustomerGroup[] {
  const rank: Record<RemediationStatus, number> = { open: 0, notified: 1, remediated: 2 };
  const groups = new Map<string, RemediationEntry[]>();
  for (const e of entries) {
    let g = groups.get(e.customer);
    if (!g) groups.set(e.customer, (g = []));
    g.push(e);
  }
  return [...groups.entries()]
    .map(([customer, list]) => ({
      customer,
      entries: list.sort((a, b) => rank[a.status] - rank[b.status] || b.lastSeen.localeCompare(a.lastSeen)),
      open: list.filter((e) => e.status === 'open').length,
    }))
    .sort((a, b) => b.open - a.open || a.customer.localeCompare(b.customer));
}
