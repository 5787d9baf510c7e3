import type { DetectionEvent } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { FlowDirection } from '../enrich/enriched-batch.js';
import { addrFromString } from '@downstream/shared';
import { mulberry32 } from '../sim/scenarios/rng.js';
import { createDetectors } from './index.js';
import { createEnrichedBatch, ip, setRecord, stubEnricher } from './synthetic.js';

const T0 = Date.UTC(2026, 0, 1);

function config(detect: Record<string, unknown> = {}) {
  return parseConfig({
    network: {
      customers: [
        { name: 'A', prefixes: ['198.51.100.0/24'] },
        { name: 'B', prefixes: ['203.0.113.0/24'] },
      ],
    },
    detect,
  });
}

/** `n` UDP sources each sending `pps` small packets to `target` for one second. */
function fanInSecond(
  n: number,
  target: string,
  pps: number,
  opts: { size?: number; flags?: number; proto?: number; firstSrc?: number; dstCustomer?: number } = {},
) {
  const b = createEnrichedBatch(n);
  b.length = n;
  const first = opts.firstSrc ?? ip('100.64.0.1');
  for (let i = 0; i < n; i++) {
    setRecord(b, i, {
      src: first + i,
      dst: ip(target),
      // Ephemeral source ports, one per source (port 0 → 0 would be IP fragments).
      srcPort: 1024 + (i % 60_000),
      dstPort: 80,
      packets: pps,
      bytes: pps * (opts.size ?? 64),
      proto: opts.proto ?? 17,
      tcpFlags: opts.flags ?? 0,
      dstCustomer: opts.dstCustomer ?? 0,
      srcAsn: 64496,
    });
  }
  return b;
}

describe('fan-in detector', () => {
  it('fires on many small-packet sources toward one target, with sources, rates and evidence', () => {
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    let events = d.tick(T0);
    expect(events).toEqual([]);
    const all: DetectionEvent[][] = [];
    for (let s = 1; s <= 6; s++) {
      d.process(fanInSecond(2000, '198.51.100.7', 10));
      events = d.tick(T0 + s * 1000);
      all.push(events);
    }
    // Fires on the first second, already naming the sources seen since listing began (once a
    // quarter of the threshold had arrived); then the heaviest 100, and every 5 s all of them.
    const listed = all.map((ev) => ev.map((x) => x.sources.top.length));
    expect(listed[0][0]).toBeGreaterThan(1800);
    expect(listed.slice(1)).toEqual([[100], [100], [100], [100], [2000]]);
    const e = all[5].find((x) => x.kind === 'ddos-fan-in');
    expect(e).toBeDefined();
    expect(e!.direction).toBe('inbound');
    expect(e!.key).toBe('198.51.100.7');
    expect(e!.target).toMatchObject({ ip: '198.51.100.7', customer: 'A' });
    expect(Math.abs(e!.sources.distinct - 2000) / 2000).toBeLessThan(0.1);
    // Watched from the first second (the target was "near" at once), so every source is listed.
    expect(e!.sources.top.length).toBe(2000);
    expect(e!.rate.pps).toBeCloseTo(20_000, -2);
    expect(events[0].rate.pps).toBeCloseTo(20_000, -2);
    expect(all[0][0].rate.pps).toBeCloseTo(20_000, -2);
    expect(e!.evidence.meanPacketSize).toBe(64);
    expect(e!.upstreams).toEqual([{ name: 'link 0', share: 1 }]);
    expect(events.filter((x) => x.key === '198.51.100.7')).toHaveLength(1);
  });

  it('handles IPv6 targets and sources (all four address words are the key)', () => {
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    const n = 1500;
    const b = createEnrichedBatch(n);
    b.length = n;
    const target = addrFromString('2001:db8:100::10');
    for (let i = 0; i < n; i++) {
      setRecord(b, i, { src: 0, dst: 0, packets: 20, bytes: 20 * 80, dstCustomer: 0 });
      b.src.set([0x2a000000 + i, 0x1, 0x2, 0x3 + i], i * 4);
      b.dst.set(target, i * 4);
    }
    d.process(b);
    const [e] = d.tick(T0);
    expect(e).toMatchObject({ kind: 'ddos-fan-in', key: '2001:db8:100::10' });
    expect(Math.abs(e.sources.distinct - n) / n).toBeLessThan(0.1);
    expect(e.sources.top.length).toBeGreaterThan(n * 0.8);
    expect(e.sources.top[0].ip).toMatch(/^2a00:[0-9a-f]+:0:1:0:2:0:[0-9a-f]+$/);
  });

  it('does not fire below the source threshold, for large packets, or for completed handshakes', () => {
    const cases = [
      fanInSecond(300, '198.51.100.8', 100), // 300 sources < 500
      fanInSecond(2000, '198.51.100.9', 5, { size: 1200 }), // big packets (and below the volumetric floors: 10 kpps)
      fanInSecond(2000, '198.51.100.10', 10, { proto: 6, flags: 0x1b }), // SYN|ACK|PSH|FIN: a flash crowd
    ];
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    const kinds: string[] = [];
    for (let s = 1; s <= 3; s++) {
      for (const b of cases) d.process(b);
      kinds.push(...d.tick(T0 + s * 1000).map((e) => e.kind));
    }
    expect(kinds).toEqual([]);
  });

  it('applies per-customer overrides to that customer only', () => {
    const d = createDetectors(
      config({ overrides: [{ customer: 'B', fanIn: { minSources: 100, minPps: 500 } }] }),
      stubEnricher(['A', 'B']),
    );
    const keys: string[] = [];
    for (let s = 1; s <= 2; s++) {
      d.process(fanInSecond(200, '203.0.113.5', 10, { dstCustomer: 1 })); // B: 200 sources, 2 kpps
      d.process(fanInSecond(200, '198.51.100.5', 10, { dstCustomer: 0, firstSrc: ip('100.65.0.1') })); // A: defaults
      keys.push(...d.tick(T0 + s * 1000).map((e) => e.key));
    }
    expect(new Set(keys)).toEqual(new Set(['203.0.113.5']));
  });

  it('rejects an override for an unknown customer', () => {
    expect(() =>
      createDetectors(config({ overrides: [{ customer: 'Nope', fanIn: { minSources: 1 } }] }), stubEnricher()),
    ).toThrow(/unknown customer "Nope"/);
  });

  it('stops reporting a few seconds after the attack ends', () => {
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    for (let s = 1; s <= 3; s++) {
      d.process(fanInSecond(2000, '198.51.100.7', 10));
      d.tick(T0 + s * 1000);
    }
    let last = 0;
    for (let s = 4; s <= 30; s++) if (d.tick(T0 + s * 1000).length > 0) last = s;
    expect(last).toBeGreaterThan(3);
    expect(last).toBeLessThan(20);
  });
});

describe('bounded memory', () => {
  it('keeps fan-in state under a fixed budget with 10 million distinct sources', () => {
    // Budget with default limits (4096 inbound targets, 8192 endpoints, 4096 outside targets,
    // 32 watches × 10,000 listed sources per detector): 64 MiB for all detectors together.
    const BUDGET = 64 * 1024 * 1024;
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    const N = 100_000;
    const b = createEnrichedBatch(N);
    b.length = N;
    const targets = 64;
    let src = ip('11.0.0.0');
    const dst0 = ip('198.51.100.0');
    for (let i = 0; i < N; i++) setRecord(b, i, { src, dst: dst0, packets: 1, bytes: 60, dstCustomer: 0 });
    let sizeAt1M = 0;
    const growths: number[] = [];
    for (let k = 0; k < 100; k++) {
      // Plain typed-array writes: the loop must not allocate either, or the heap check means nothing.
      for (let i = 0; i < N; i++) {
        b.src[i * 4 + 3] = src++;
        b.dst[i * 4 + 3] = dst0 + (i % targets);
      }
      const heap0 = process.memoryUsage().heapUsed;
      d.process(b);
      // Growth over one 100,000-record batch (no tick in it): per-record allocation would show here (measured once the JIT has settled).
      if (k >= 50 && k % 10 !== 0) growths.push(process.memoryUsage().heapUsed - heap0);
      if (k % 10 === 9) d.tick(T0 + k * 100);
      if (k === 9) sizeAt1M = d.memoryBytes();
    }
    const events = d.tick(T0 + 100_000);
    const size = d.memoryBytes();
    expect(src - ip('11.0.0.0')).toBe(10_000_000);
    expect(size).toBeLessThan(BUDGET);
    // Nothing grows with the number of addresses once the watches exist.
    expect(size).toBe(sizeAt1M);
    expect(d.inbound.table.keys.size).toBe(targets);
    // Every target still fires, and the listed sources stay capped.
    const fanIn = events.filter((e) => e.kind === 'ddos-fan-in');
    expect(fanIn).toHaveLength(targets);
    for (const e of fanIn) expect(e.sources.top.length).toBeLessThanOrEqual(10_000);
    // Per-record allocation would show in every batch (100,000 records × ≥ 16 B); the median
    // ignores the odd batch during which the test worker itself allocated (IPC, timers).
    growths.sort((x, y) => x - y);
    expect(growths[growths.length >> 1]).toBeLessThan(1024 * 1024);
  });

  it('tracks no more targets than configured however many arrive', () => {
    const d = createDetectors(config({ limits: { maxTargets: 1024 } }), stubEnricher(['A', 'B']));
    const N = 50_000;
    const b = createEnrichedBatch(N);
    b.length = N;
    let dst = ip('198.51.100.0');
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < N; i++)
        setRecord(b, i, {
          src: ip('100.64.0.1'),
          dst: dst++,
          packets: 1,
          dstCustomer: 0,
          direction: FlowDirection.inbound,
        });
      d.process(b);
    }
    expect(d.inbound.table.keys.size).toBe(1024);
    expect(d.inbound.table.keys.evictions).toBe(200_000 - 1024);
  });
});

describe('onset (when the abuse began)', () => {
  it('fan-in: the first second of the run at the sustain level, before the detector could fire', () => {
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    const at = (s: number) => T0 + s * 1000;
    const fired: DetectionEvent[] = [];
    // Seconds 1–2: a trickle; 3: a ramp (4 kpps, 400 sources: not enough to fire); 4–6: the flood.
    for (let s = 1; s <= 6; s++) {
      const b = s <= 2 ? fanInSecond(10, '198.51.100.7', 1) : fanInSecond(s === 3 ? 400 : 2000, '198.51.100.7', 10);
      d.process(b);
      fired.push(...d.tick(at(s)).filter((e) => e.kind === 'ddos-fan-in'));
    }
    expect(fired[0].at).toBe(new Date(at(4)).toISOString());
    // Tick s closes the second (at(s − 1), at(s)]: the ramp's second began at at(2).
    expect(fired.map((e) => e.evidence.onset)).toEqual(fired.map(() => new Date(at(2)).toISOString()));
  });

  it('spam-bot: the first second with SMTP records, the same while it keeps firing', () => {
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    const onsets: unknown[] = [];
    let firstAt = '';
    // 30 new SMTP servers a second: the 50-server threshold is crossed in the second second.
    for (let s = 1; s <= 5; s++) {
      const b = createEnrichedBatch(30);
      b.length = 30;
      for (let i = 0; i < 30; i++)
        setRecord(b, i, {
          src: ip('198.51.100.50'),
          dst: ip('10.0.0.0') + s * 100 + i,
          dstPort: 25,
          proto: 6,
          tcpFlags: 0x1b,
          packets: 20,
          direction: FlowDirection.outbound,
          srcCustomer: 0,
        });
      d.process(b);
      for (const e of d.tick(T0 + s * 1000))
        if (e.kind === 'spam-bot') {
          firstAt ||= e.at;
          onsets.push(e.evidence.onset);
        }
    }
    expect(firstAt).toBe(new Date(T0 + 2000).toISOString());
    expect(onsets).toEqual(onsets.map(() => new Date(T0).toISOString()));
  });
});

describe('request/response evidence', () => {
  /** `n` sources each sending `pps` packets of `size` B with `flags` to `target`, and the target's answers to each. */
  function exchange(
    n: number,
    target: string,
    o: {
      pps: number;
      size: number;
      proto: number;
      flags?: number;
      srcPort?: number;
      answers?: number;
      answerSize?: number;
    },
  ) {
    const b = createEnrichedBatch(2 * n);
    b.length = 2 * n;
    const t = ip(target);
    for (let i = 0; i < n; i++) {
      const src = ip('100.64.0.1') + i;
      const sp = o.srcPort ?? 1024 + i;
      setRecord(b, 2 * i, {
        src,
        dst: t,
        srcPort: sp,
        dstPort: 443,
        proto: o.proto,
        tcpFlags: o.flags ?? 0,
        packets: o.pps,
        bytes: o.pps * o.size,
        dstCustomer: 0,
      });
      const a = o.answers ?? 0;
      setRecord(b, 2 * i + 1, {
        src: t,
        dst: src,
        srcPort: 443,
        dstPort: sp,
        proto: o.proto,
        tcpFlags: o.proto === 6 ? 0x18 : 0,
        packets: Math.max(1, a),
        bytes: Math.max(1, a) * (o.answerSize ?? 1300),
        direction: a > 0 ? FlowDirection.outbound : FlowDirection.unknown,
        srcCustomer: 0,
      });
    }
    return b;
  }

  function run(batch: () => ReturnType<typeof exchange>, seconds = 3): string[] {
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    const kinds: string[] = [];
    for (let s = 1; s <= seconds; s++) {
      d.process(batch());
      kinds.push(...d.tick(T0 + s * 1000).map((e) => e.kind));
    }
    return [...new Set(kinds)];
  }

  it('clients sending SYNs and bare ACKs that the target answers with data are a crowd, not a fan-in', () => {
    expect(
      run(() => exchange(2000, '198.51.100.30', { pps: 10, size: 60, proto: 6, flags: 0x10, answers: 14 })),
    ).toEqual([]);
  });

  it('a flood on a busy server is still a flood: it answers its clients, not the flood', () => {
    const flood = () => exchange(2000, '198.51.100.31', { pps: 10, size: 60, proto: 6, flags: 0x02 });
    const clients = () => exchange(200, '198.51.100.31', { pps: 10, size: 400, proto: 6, flags: 0x18, answers: 30 });
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    const kinds: string[] = [];
    for (let s = 1; s <= 3; s++) {
      d.process(clients());
      d.process(flood());
      kinds.push(...d.tick(T0 + s * 1000).map((e) => e.kind));
    }
    expect(new Set(kinds)).toEqual(new Set(['ddos-fan-in']));
  });

  it('SYN-ACKs from one port to a host that sent no SYNs are TCP reflection; to one that did, answers', () => {
    const synAcks = () => exchange(500, '198.51.100.32', { pps: 10, size: 58, proto: 6, flags: 0x12, srcPort: 80 });
    expect(run(synAcks)).toEqual(['amplification']);
    // The same SYN-ACKs after the host opened connections to port 80 of those servers.
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    const kinds: string[] = [];
    for (let s = 1; s <= 3; s++) {
      const b = synAcks();
      const req = createEnrichedBatch(500);
      req.length = 500;
      for (let i = 0; i < 500; i++)
        setRecord(req, i, {
          src: ip('198.51.100.32'),
          dst: ip('100.64.0.1') + i,
          srcPort: 1024 + i,
          dstPort: 80,
          proto: 6,
          tcpFlags: 0x02,
          packets: 10,
          bytes: 600,
          direction: FlowDirection.outbound,
          srcCustomer: 0,
        });
      d.process(req);
      d.process(b);
      kinds.push(...d.tick(T0 + s * 1000).map((e) => e.kind));
    }
    expect(kinds).toEqual([]);
  });
});

describe('scanner', () => {
  /**
   * One second of SYN probes from customer host 203.0.113.90: `hosts` outside hosts × ports
   * `p0 .. p0+ports-1`, one probe each; under 1:`rate` sampling, every rate-th probe (scaled).
   */
  function probes(hosts: number, ports: number, p0: number, rate = 1) {
    const all: [number, number][] = [];
    for (let h = 0; h < hosts; h++) for (let p = 0; p < ports; p++) all.push([h, p0 + p]);
    // Random 1-in-rate packet sampling (a fixed stride would alias with the port order).
    const r = mulberry32(p0);
    const kept = rate === 1 ? all : all.filter(() => r() < 1 / rate);
    const b = createEnrichedBatch(kept.length);
    b.length = kept.length;
    kept.forEach(([h, port], i) =>
      setRecord(b, i, {
        src: ip('203.0.113.90'),
        dst: ip('100.64.0.1') + h * 7,
        srcPort: 40000,
        dstPort: port,
        proto: 6,
        tcpFlags: 0x02,
        packets: rate,
        bytes: 60 * rate,
        samplingRate: rate,
        direction: FlowDirection.outbound,
        srcCustomer: 1,
      }),
    );
    return b;
  }

  function scan(hosts: number, portsPerSecond: number, seconds: number, rate = 1): DetectionEvent[] {
    const d = createDetectors(config(), stubEnricher(['A', 'B']));
    const out: DetectionEvent[] = [];
    for (let s = 0; s < seconds; s++) {
      d.process(probes(hosts, portsPerSecond, 1 + s * portsPerSecond, rate));
      out.push(...d.tick(T0 + (s + 1) * 1000).filter((e) => e.kind === 'scanner'));
    }
    return out;
  }

  it('a scan of many ports on a few hosts is a scanner: distinct (host, port) probes, not hosts or ports per packet', () => {
    // 40 hosts × 100 ports a second for 5 s (masscan's shape): 40 hosts and 500 ports, 20,000 probes.
    const ev = scan(40, 100, 5);
    expect(ev.length).toBeGreaterThan(0);
    const e = ev.at(-1)!;
    expect(e.key).toBe('203.0.113.90');
    expect(e.evidence.distinctTargets).toBeGreaterThan(35);
    expect(e.evidence.distinctTargets).toBeLessThan(45);
    expect(e.evidence.distinctProbes).toBeGreaterThan(15_000);
    expect(e.evidence.reason).toMatch(/distinct \(host, port\) probes/);
  });

  it('few ports on few hosts, each probed once, is no scan: below every distinct threshold', () => {
    // 10 hosts × 30 ports: 300 probes, 10 hosts, 30 ports.
    expect(scan(10, 30, 1)).toEqual([]);
  });

  it('sampled 1:100: distinct hosts are estimated from repeats, not multiplied by the rate', () => {
    const ev = scan(40, 200, 5, 100);
    expect(ev.length).toBeGreaterThan(0);
    const e = ev.at(-1)!;
    expect(e.evidence.samplingRate).toBe(100);
    // 40 hosts, each seen in many samples: the estimate stays near 40 (was observed × 100 = 4,000).
    expect(e.evidence.distinctTargets).toBeGreaterThanOrEqual(35);
    expect(e.evidence.distinctTargets).toBeLessThan(60);
    expect(e.evidence.distinctPorts).toBeGreaterThan(200);
  });
});
