import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IncidentList, UpstreamTrends } from '@downstream/shared';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../sim/demo.js';
import { startServer } from './server.js';

const logger = pino({ level: 'silent' });

/** The demo's first-run history through the real server: once on a fresh dir, never again. */
describe('simulated history backfill', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ds-history-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = demoConfig({ host: '127.0.0.1', port: 0, netflowPort: 0, ipfixPort: 0, sflowPort: 0, dataDir: dir });
  const start = (history: boolean) =>
    startServer({
      config,
      logger,
      version: 'test',
      ...(history ? { simulatedHistory: { days: 30, seed: 1 } } : {}),
    });
  const resolvedSimulated = async (url: string) =>
    IncidentList.parse(await (await fetch(`${url}/api/incidents?status=resolved&limit=1000`)).json()).incidents.filter(
      (i) => i.simulated,
    ).length;

  it('backfills a fresh data dir, marks it, and does not repeat it on a restart', async () => {
    const a = await start(true);
    const n = await resolvedSimulated(a.url);
    expect(n).toBeGreaterThan(50);
    const t = UpstreamTrends.parse(
      await (await fetch(`${a.url}/api/upstreams/trends?step=1d&from=${Date.now() - 30 * 86_400_000}`)).json(),
    );
    expect(t.simulated).not.toBeNull();
    expect(t.upstreams.reduce((s, u) => s + u.total.bytes, 0)).toBeGreaterThan(0);
    await a.close();

    const b = await start(true);
    expect(await resolvedSimulated(b.url)).toBe(n);
    await b.close();
  });

  it('leaves a fresh data dir empty without the option (demo --no-history)', async () => {
    const other = mkdtempSync(join(tmpdir(), 'ds-history-'));
    try {
      const s = await startServer({
        config: { ...config, storage: { ...config.storage, path: other } },
        logger,
        version: 'test',
      });
      expect(await resolvedSimulated(s.url)).toBe(0);
      const t = UpstreamTrends.parse(await (await fetch(`${s.url}/api/upstreams/trends`)).json());
      expect(t.simulated ?? null).toBeNull();
      await s.close();
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
