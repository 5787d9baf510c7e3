import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { startCollectors } from '../ingest/index.js';
import { runScenario } from './run-scenario.js';
import { SCENARIOS } from './scenarios/index.js';

describe('runScenario', () => {
  it('plays a scenario into a collector over UDP, one simulated second per tick, and stops', async () => {
    const config = parseConfig({ collectors: { ipfix: { host: '127.0.0.1', port: 0 } } });
    let records = 0;
    const collectors = await startCollectors({
      collectors: config.collectors,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      onBatch: (b) => (records += b.length),
    });
    const seconds: number[] = [];
    const sim = runScenario({
      scenario: { ...SCENARIOS['ddos-participation'](1), durationSeconds: 4 },
      netflowPort: collectors.ports.ipfix!,
      protocol: 'ipfix',
      speed: 10,
      onSecond: (s) => seconds.push(s),
    });
    await sim.done;
    await sim.stop();
    await new Promise((r) => setTimeout(r, 150));
    collectors.flush();
    await collectors.stop();
    expect(seconds).toEqual([0, 1, 2, 3]);
    const h = collectors.health();
    expect(h.map((x) => x.protocol)).toEqual(['ipfix']);
    expect(h[0].decodeErrors).toBe(0);
    expect(records).toBeGreaterThan(1000);
  });
});
