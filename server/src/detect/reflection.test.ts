import { describe, expect, it } from 'vitest';
import { REFLECTION_VECTORS, demoNetworkConfig } from '../sim/scenarios/index.js';
import { IPFIX_100, SFLOW_32, V9_1, coverage, expectAttack, modeName } from './shape-harness.js';

/**
 * Reflection by shape, through the real UDP path (SimFlows → NetFlow v9 / IPFIX / sFlow
 * datagrams → collector → enrich → detectors → incidents): many sources answering from one
 * service port — listed or not, UDP, IP fragments, or TCP SYN-ACK/RST — with what the target
 * never asked for. The benign services of the same shape (a resolver, NTP, VPN on 4500) are in
 * look-alikes.test.ts.
 */

describe.each([V9_1, SFLOW_32])('reflection on any UDP port over $protocol 1:$samplingRate', (mode) => {
  it.each(REFLECTION_VECTORS.map((v) => [v.name, v.port] as const))(
    `reflection-%s (UDP %i): amplification, the port named, reflectors listed (${modeName(mode)})`,
    async (name, port) => {
      const { inc, label } = await expectAttack(`reflection-${name}`, mode);
      expect(inc.evidence.reflection).toBe('udp');
      expect(inc.evidence.reflectionPort).toBe(port);
      expect(inc.evidence.reason).toContain(`from UDP ${port}`);
      expect(inc.evidence.reason).toContain('no requests from the target');
      expect(inc.evidence.reflectors as number).toBeGreaterThanOrEqual(20);
      expect(coverage(label, [inc])).toBeGreaterThanOrEqual(mode.samplingRate === 1 ? 0.95 : 0.5);
    },
  );
});

describe.each([V9_1, SFLOW_32, IPFIX_100])(
  'reflection without ports or over TCP, $protocol 1:$samplingRate',
  (mode) => {
    it('fragmented DNS answers (UDP 0 → 0, 1444-byte fragments) are reflection from IP fragments', async () => {
      const { inc } = await expectAttack('reflection-dns-fragments', mode);
      expect(inc.evidence.reflection).toBe('fragments');
      expect(inc.evidence.reason).toMatch(/from IP fragments.*1[34]\d\d-byte packets/);
    });

    it.each([
      ['synack-reflection', 80],
      ['rst-flood', 443],
      ['synack-reflection-ftp', 21],
    ] as const)('%s: SYN-ACKs/resets from TCP %i are TCP reflection, not clients', async (name, port) => {
      const { inc } = await expectAttack(name, mode);
      expect(inc.evidence.reflection).toBe('tcp');
      expect(inc.evidence.tcpReflection).toBe(true);
      expect(inc.evidence.reflectionPort).toBe(port);
      expect(inc.evidence.reason).toContain(`TCP ${port} (SYN-ACK/RST: TCP reflection)`);
    });
  },
);

describe('reflection on UDP ports, IPFIX 1:100 (flow sampling)', () => {
  it.each(['reflection-ike-4500', 'reflection-snmp', 'reflection-unlisted-33848'])('%s', async (name) => {
    const { inc } = await expectAttack(name, IPFIX_100);
    expect(inc.evidence.reflection).toBe('udp');
  });
});

describe.each([V9_1, SFLOW_32, IPFIX_100])('low-volume reflection over $protocol 1:$samplingRate', (mode) => {
  it.each([
    ['reflection-low-ntp', 123, 468],
    ['reflection-low-dns', 53, 1400],
  ] as const)('%s: a few thousand reflectors at a few hundred pps open at LOW severity', async (name, port, size) => {
    const { inc } = await expectAttack(name, mode, {}, 0.7);
    expect(inc.severity).toBe('low');
    expect(inc.peak.pps).toBeLessThan(1000);
    expect(inc.peak.bps).toBeLessThan(10e6);
    expect(inc.evidence.reason).toMatch(new RegExp(`^[\\d,]+ reflectors from UDP ${port}, ${size}-byte packets`));
    expect(inc.evidence.reflectors as number).toBeGreaterThanOrEqual(mode.samplingRate === 1 ? 1000 : 200);
  });
});

describe('severity against the customer link (network.customers[].capacity_bps)', () => {
  const withCapacity = (bps: number) => ({
    network: {
      ...demoNetworkConfig,
      customers: demoNetworkConfig.customers.map((c, i) => (i === 0 ? { ...c, capacity_bps: bps } : c)),
    },
  });

  it('the same low-volume reflection is medium on a 10 Mbit/s link and high on a 5 Mbit/s one', async () => {
    const ten = await expectAttack('reflection-low-dns', V9_1, { config: withCapacity(10e6) });
    expect(ten.inc.evidence.capacityBps).toBe(10e6);
    expect(ten.inc.severity).toBe('medium');
    expect(ten.inc.evidence.reason).toMatch(/3\d % of the customer's 10\.0 Mbps link/);
    const five = await expectAttack('reflection-low-dns', V9_1, { config: withCapacity(5e6) });
    expect(five.inc.severity).toBe('high');
  });

  it('rejects a capacity that is not a positive number, naming the key', async () => {
    const { parseConfig } = await import('../config/config.js');
    expect(() => parseConfig(withCapacity(-1))).toThrow(/network\.customers\[0\]\.capacity_bps/);
    expect(() =>
      parseConfig({ network: { customers: [{ name: 'x', prefixes: ['10.0.0.0/8'], capacity: 1 }] } }),
    ).toThrow(/capacity/);
  });
});

describe.each([V9_1, SFLOW_32, IPFIX_100])('IPv6 reflection over $protocol 1:$samplingRate', (mode) => {
  it.each(REFLECTION_VECTORS.map((v) => [v.name, v.port] as const))(
    `reflection-%s-ipv6 (UDP %i): amplification on the IPv6 target, the port named (${modeName(mode)})`,
    async (name, port) => {
      const { inc, label } = await expectAttack(`reflection-${name}-ipv6`, mode);
      expect(inc.target?.ip).toMatch(/^2001:db8:100::/);
      expect(inc.evidence.reflection).toBe('udp');
      expect(inc.evidence.reflectionPort).toBe(port);
      expect(inc.evidence.reason).toContain(`from UDP ${port}`);
      expect(inc.sources.top.every((s) => s.ip.includes(':'))).toBe(true);
      // IPFIX 1:100 samples flows: a reflector sending a flow a second is listed with
      // probability 1 - 0.99^k after k seconds, so about a third of them by the end.
      const listed = mode.samplingRate === 1 ? 0.95 : mode.protocol === 'ipfix' ? 0.25 : 0.5;
      expect(coverage(label, [inc])).toBeGreaterThanOrEqual(listed);
    },
  );

  it('fragmented DNS answers over IPv6 (non-first fragments: UDP 0 → 0) are reflection from IP fragments', async () => {
    const { inc } = await expectAttack('reflection-dns-fragments-ipv6', mode);
    expect(inc.evidence.reflection).toBe('fragments');
    expect(inc.evidence.reason).toMatch(/from IP fragments.*1[34]\d\d-byte packets/);
  });

  it('low-volume NTP reflection over IPv6 opens at LOW severity', async () => {
    const { inc } = await expectAttack('reflection-low-ntp-ipv6', mode, {}, 0.7);
    expect(inc.severity).toBe('low');
    expect(inc.evidence.reason).toMatch(/^[\d,]+ reflectors from UDP 123, 468-byte packets/);
  });

  it.each([
    ['synack-reflection-ipv6', 80],
    ['rst-flood-ipv6', 443],
  ] as const)('%s: SYN-ACKs/resets from TCP %i over IPv6 are TCP reflection', async (name, port) => {
    const { inc } = await expectAttack(name, mode);
    expect(inc.evidence.reflection).toBe('tcp');
    expect(inc.evidence.reflectionPort).toBe(port);
  });
});
