import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';

describe('subscribers: config', () => {
  it('defaults to nothing enabled', () => {
    const c = parseConfig({}).subscribers;
    expect(c.radius).toBeUndefined();
    expect(c.notify.enabled).toBe(false);
    expect(c.notify.auto.enabled).toBe(false);
    expect(c.walled_garden.enabled).toBe(false);
    expect(c.walled_garden.auto.enabled).toBe(false);
    expect(c.walled_garden.hold).toEqual({ request: 'coa', attributes: { 'Filter-Id': 'walled-garden' } });
  });

  it('rejects unknown keys and bad values with their paths', () => {
    expect(() =>
      parseConfig({
        subscribers: {
          radius: { port: 1813, secrett: 'testing123' },
          files: [{ path: '/var/lib/kea/kea-leases4.csv', format: 'csv' }],
          contacts: { lookup_url: 'ftp://crm' },
          walled_garden: { enabled: true, nas: { 'not-an-ip': {} } },
        },
      }),
    ).toThrow(
      /subscribers\.radius\.secrett: unknown key[\s\S]*subscribers\.files\[0\]\.format[\s\S]*subscribers\.contacts\.lookup_url[\s\S]*subscribers\.walled_garden\.nas\.not-an-ip/,
    );
    expect(() => parseConfig({ subscribers: { radius: { port: 1813 } } })).toThrow(
      /subscribers\.radius: radius needs a secret or clients/,
    );
    expect(() => parseConfig({ subscribers: { walled_garden: { enabled: true } } })).toThrow(
      /subscribers\.walled_garden: walled_garden\.enabled needs a secret/,
    );
    expect(() => parseConfig({ subscribers: { radius: { secret: 'short' } } })).toThrow(/at least 6 characters/);
  });
});
