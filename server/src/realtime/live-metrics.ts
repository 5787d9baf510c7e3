import { Counter, Gauge, type Registry } from 'prom-client';

/** The /live metrics of one attachRealtime(); `remove()` unregisters them on close. */
export function createLiveMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    clients: new Gauge({ name: 'downstream_live_clients', help: 'Connected /live sockets (this process)', registers }),
    lagging: new Gauge({
      name: 'downstream_live_lagging_clients',
      help: 'Sockets currently skipped for being slow',
      registers,
    }),
    messages: new Counter({
      name: 'downstream_live_broadcasts_total',
      help: 'Messages broadcast on /live by event',
      labelNames: ['event'],
      registers,
    }),
    coalesced: new Counter({
      name: 'downstream_live_coalesced_total',
      help: 'Incident updates folded into a later upsert',
      registers,
    }),
    slowDisconnects: new Counter({
      name: 'downstream_live_slow_disconnects_total',
      help: 'Sockets disconnected for not reading',
      registers,
    }),
  };
  return {
    ...metrics,
    remove(): void {
      for (const m of Object.values(metrics)) registry.removeSingleMetric((m as unknown as { name: string }).name);
    },
  };
}
