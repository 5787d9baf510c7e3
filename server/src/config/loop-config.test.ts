import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigYaml } from './config.js';

/** Config keys that close the remediation loop (README, Configuration): downstreams, the watch, complaints. */
function issuesOf(yaml: string): { path: string; message: string }[] {
  try {
    parseConfigYaml(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('config was accepted');
}

describe('remediation loop config', () => {
  it('defaults: a 14-day watch, complaints on with a 60-minute window, no maildir, no downstream', () => {
    const c = parseConfigYaml(`network: { customers: [ { name: A, prefixes: ["198.51.100.0/24"] } ] }`);
    expect(c.actions.remediation.watch_days).toBe(14);
    expect(c.feeds.complaints).toEqual({ enabled: true, match_window_minutes: 60 });
    expect(c.network.customers[0]!.downstream).toBeUndefined();
  });

  it('accepts downstreams, the watch and a maildir', () => {
    const c = parseConfigYaml(`
network:
  customers:
    - { name: "Pool A", prefixes: ["198.51.100.0/25"], downstream: "Reseller X" }
actions: { remediation: { watch_days: 30 } }
feeds: { complaints: { match_window_minutes: 120, maildir: { path: /var/mail/abuse } } }
`);
    expect(c.network.customers[0]!.downstream).toBe('Reseller X');
    expect(c.actions.remediation.watch_days).toBe(30);
    expect(c.feeds.complaints.maildir).toEqual({ path: '/var/mail/abuse', poll_ms: 5000 });
  });

  it('rejects unknown keys and bad values, naming the key path', () => {
    expect(
      issuesOf(`
network: { customers: [ { name: A, prefixes: ["198.51.100.0/24"], downstream: "" } ] }
actions: { remediation: { watch_days: 0 } }
feeds: { complaints: { maildir: { path: /m, folder: x }, window: 5 } }
`).map((i) => i.path),
    ).toEqual([
      'network.customers[0].downstream',
      'feeds.complaints.maildir.folder',
      'feeds.complaints.window',
      'actions.remediation.watch_days',
    ]);
  });
});
