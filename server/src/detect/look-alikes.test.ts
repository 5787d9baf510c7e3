import { describe, expect, it } from 'vitest';
import { IPFIX_100, SFLOW_1000, SFLOW_32, V9_1, coverage, expectAttack, expectQuiet } from './shape-harness.js';

/**
 * Floods that fit no kind, spoofed SYN floods, slow coordinated outbound floods — and the benign
 * services that look like attacks by volume or shape but are asked for or answered: through the
 * real UDP path, unsampled and at packet sampling 1:32 to 1:1000.
 */

describe.each([V9_1, SFLOW_32, IPFIX_100])('floods over $protocol 1:$samplingRate', (mode) => {
  it('a flood of no particular shape at a target with no baseline is volumetric (absolute floor)', async () => {
    const { inc } = await expectAttack('volumetric-no-baseline', mode);
    expect(inc.evidence.reason).toContain('over the absolute floor');
    expect(inc.evidence.reason).toContain('no baseline needed');
    expect(inc.sources.distinct).toBeGreaterThanOrEqual(1000);
  });

  it('SYN flood from 25 customer hosts toward one outside target is ddos-participation', async () => {
    const { inc, label } = await expectAttack('participation-syn', mode);
    expect(coverage(label, [inc])).toBeGreaterThanOrEqual(0.8);
    expect(inc.evidence.reason).toMatch(/customer endpoints sending .* outside completed handshakes \(TCP\)/);
  });

  it('forty customer hosts at 40 pps each toward one outside target is ddos-participation', async () => {
    const { inc, label } = await expectAttack('participation-slow', mode);
    expect(coverage(label, [inc])).toBeGreaterThanOrEqual(0.8);
    expect(inc.evidence.ppsPerEndpoint as number).toBeLessThan(100);
  });
});

describe.each([V9_1, SFLOW_32, IPFIX_100, SFLOW_1000])('spoofed SYN floods over $protocol 1:$samplingRate', (mode) => {
  it.each(['syn-flood-spoofed', 'syn-flood-ecn'])('%s: ddos-fan-in', async (name) => {
    const { inc } = await expectAttack(name, mode);
    expect(inc.sources.distinct).toBeGreaterThanOrEqual(1000);
    expect(inc.evidence.reason).toMatch(/100 % outside completed handshakes, target answers 0 data packets/);
  });
});

describe.each([V9_1, SFLOW_32, IPFIX_100, SFLOW_1000])('benign look-alikes over $protocol 1:$samplingRate', (mode) => {
  it.each(['customer-resolver', 'ntp-server', 'game-server', 'vpn-concentrator', 'flash-crowd-packets', 'nat-gateway'])(
    '%s: no incident',
    async (name) => {
      await expectQuiet(name, mode);
    },
  );
});

describe('benign look-alikes of the library at sFlow 1:32 (1:1, 1:100 and 1:1000 are in scenarios.test.ts)', () => {
  it.each(['flash-crowd', 'cdn-fill', 'backup-job', 'allowed-mail'])('%s: no incident', async (name) => {
    await expectQuiet(name, SFLOW_32);
  });
});

describe('half-open SYN scan of hosts that answer (nmap -A) over netflow-v9 1:1', () => {
  it('scanner, told by its half-open probes though most sessions are answered', async () => {
    const { inc } = await expectAttack('scanner-half-open', V9_1);
    expect(inc.sources.top[0].ip).toBe('203.0.113.92');
    expect(inc.evidence.halfOpenTargets as number).toBeGreaterThanOrEqual(20);
    expect(inc.evidence.reason).toMatch(
      /^\d+ of \d+ hosts contacted in \d+ s got half-open probes: a SYN, then a reset without ACK .*\(thresholds: ≥ 20 hosts and ≥ 50 % of the hosts contacted\)$/,
    );
  });

  it('a NAT address whose clients leave tens of hosts half-open, among thousands contacted, stays quiet', async () => {
    // nat-gateway: ~40 half-open hosts a minute (over the 20-host threshold) out of ~1,000.
    const r = await expectQuiet('nat-gateway', V9_1);
    expect(r.records).toBeGreaterThan(1000);
  });
});
