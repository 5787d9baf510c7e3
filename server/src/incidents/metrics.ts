import type { Incident, Severity } from '@downstream/shared';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { IncidentManager } from './types.js';

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/**
 * Incident counters for alerting ("a critical incident opened") and dashboards, driven by the
 * manager's upsert/resolved events. An incident counts as opened the first time it is seen
 * (re-opened after resolving counts again, as it pages again), with the severity it opened at;
 * a rise in severity is an escalation. Returns a function that unsubscribes and unregisters.
 */
export function registerIncidentMetrics(registry: Registry, incidents: IncidentManager): () => void {
  const labelNames = ['severity', 'kind', 'direction'] as const;
  const opened = new Counter({
    name: 'downstream_incidents_opened_total',
    help: 'Incidents opened (or re-opened), by the severity they opened at, kind and direction',
    labelNames,
    registers: [registry],
  });
  const escalated = new Counter({
    name: 'downstream_incidents_escalated_total',
    help: 'Severity rises of open incidents, by the new severity, kind and direction',
    labelNames,
    registers: [registry],
  });
  const resolved = new Counter({
    name: 'downstream_incidents_resolved_total',
    help: 'Incidents resolved (quiet period or operator), by final severity, kind and direction',
    labelNames,
    registers: [registry],
  });
  new Gauge({
    name: 'downstream_incidents_active',
    help: 'Incidents not resolved, by severity, kind and direction',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const i of incidents.active()) this.inc(labels(i));
    },
  });
  const labels = (i: Incident) => ({ severity: i.severity, kind: i.kind, direction: i.direction });
  // Open incidents only, so the map is bounded by what is active; loaded ones are not new.
  const seen = new Map<string, Severity>(incidents.active().map((i) => [i.id, i.severity]));
  const onUpsert = (i: Incident): void => {
    if (i.status === 'resolved') return;
    const was = seen.get(i.id);
    if (was === undefined) opened.inc(labels(i));
    else if (RANK[i.severity] > RANK[was]) escalated.inc(labels(i));
    seen.set(i.id, was === undefined || RANK[i.severity] > RANK[was] ? i.severity : was);
  };
  const onResolved = (i: Incident): void => {
    seen.delete(i.id);
    resolved.inc(labels(i));
  };
  incidents.on('upsert', onUpsert);
  incidents.on('resolved', onResolved);
  return () => {
    incidents.off('upsert', onUpsert);
    incidents.off('resolved', onResolved);
    for (const n of [
      'downstream_incidents_opened_total',
      'downstream_incidents_escalated_total',
      'downstream_incidents_resolved_total',
      'downstream_incidents_active',
    ])
      registry.removeSingleMetric(n);
  };
}
