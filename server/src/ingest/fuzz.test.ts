/**
 * Malformed input, property-based: whatever arrives, decode() never throws, every problem is
 * counted under a reason, and state stays within its limits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpfixEncoder } from '../sim/encoders/ipfix.js';
import { NetflowV5Encoder } from '../sim/encoders/netflow-v5.js';
import { NetflowV9Encoder } from '../sim/encoders/netflow-v9.js';
import { SflowV5Encoder } from '../sim/encoders/sflow-v5.js';
import type { SimFlow } from '../sim/sim-flow.js';
import { FlowDecoder } from './decoder.js';
import { codegen } from './decode/template.js';

const now = Date.UTC(2026, 0, 1);
const flows: SimFlow[] = Array.from({ length: 40 }, (_, i) => ({
  src: i % 2 ? `10.0.0.${i}` : `2001:db8::${i + 1}`,
  dst: '192.0.2.1',
  srcPort: i,
  dstPort: 80,
  proto: 6,
  tcpFlags: 2,
  packets: 2,
  bytes: 120,
  startMs: now - 1000,
  endMs: now,
  inIf: 1,
  outIf: 2,
}));
const valid: Uint8Array[] = [
  ...new NetflowV9Encoder({ samplingRate: 10 }).encode(flows, now),
  ...new IpfixEncoder({ samplingRate: 10 }).encode(flows, now),
  ...new NetflowV5Encoder().encode(flows, now),
  ...new SflowV5Encoder({ agentAddress: '192.0.2.7' }).encode(flows, now),
];

function errorSum(dec: FlowDecoder): { total: number; byReason: number } {
  // decode() catches its own bugs (counted as internal-error): the property is that there are none
  expect(dec.lastInternalError).toBeUndefined();
  let total = 0;
  let byReason = 0;
  for (const h of dec.health()) {
    total += h.decodeErrors;
    for (const n of Object.values(h.errorsByReason ?? {})) byReason += n;
  }
  return { total, byReason };
}

/** A datagram whose first bytes look like one of the protocols, so fuzzing reaches past the version check. */
const versioned = fc
  .tuple(fc.constantFrom([0, 5], [0, 9], [0, 10], [0, 0, 0, 5]), fc.uint8Array({ maxLength: 1500 }))
  .map(([h, rest]) => {
    const out = new Uint8Array(h.length + rest.length);
    out.set(h);
    out.set(rest, h.length);
    return out;
  });

describe('malformed input (fast-check)', () => {
  it('random datagrams: never throws, errors add up by reason, records bounded by size', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 1500 }), versioned), { maxLength: 30 }), (dgrams) => {
        const dec = new FlowDecoder({ pendingMs: 1000 });
        let records = 0;
        for (const d of dgrams) {
          const n = dec.decode(d, '192.0.2.1', now);
          expect(n).toBeLessThanOrEqual(d.byteLength);
          records += n;
        }
        expect(dec.batch.length).toBe(records);
        const e = errorSum(dec);
        expect(e.total).toBe(e.byReason);
      }),
      { numRuns: 300 },
    );
  });

  it('truncated valid datagrams: never throws; IPFIX and v5 truncation is always counted', () => {
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.double({ min: 0, max: 1, noNaN: true }), (d, frac) => {
        const cut = Math.floor(d.byteLength * frac);
        if (cut === d.byteLength) return;
        const dec = new FlowDecoder();
        const t = d.subarray(0, cut);
        dec.decode(t, '192.0.2.1', now);
        const ver = d[1];
        if (ver === 10 || ver === 5 || cut < 4) expect(errorSum(dec).total).toBeGreaterThan(0);
        const e = errorSum(dec);
        expect(e.total).toBe(e.byReason);
      }),
      { numRuns: 400 },
    );
  });

  it('bit-flipped valid datagrams: never throws, records bounded, valid traffic still decodes after', () => {
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (d, flips) => {
        const dec = new FlowDecoder();
        // learn templates first, then feed the corrupted copy
        for (const v of valid) dec.decode(v, '192.0.2.1', now);
        const before = dec.batch.length;
        const c = d.slice();
        for (const f of flips) c[(f >>> 3) % c.length] ^= 1 << (f & 7);
        const n = dec.decode(c, '192.0.2.1', now);
        expect(n).toBeLessThanOrEqual(c.byteLength);
        const e = errorSum(dec);
        expect(e.total).toBe(e.byReason);
        // the collector keeps serving: a clean datagram still decodes
        const clean = new NetflowV5Encoder().encode(flows.slice(1, 4), now)[0];
        const m = dec.decode(clean, '192.0.2.99', now);
        expect(m).toBe(2); // v5 is IPv4-only: 2 of the 3
        expect(dec.batch.length).toBe(before + n + m);
      }),
      { numRuns: 300 },
    );
  });

  it('template floods: template and pending tables stay within their limits', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 256, max: 65535 }),
            fc.integer({ min: 0, max: 3 }),
            fc.integer({ min: 1, max: 60 }),
          ),
          { minLength: 1, maxLength: 400 },
        ),
        (defs) => {
          const dec = new FlowDecoder({
            maxTemplatesPerExporter: 64,
            maxTemplatesTotal: 150,
            maxPendingSets: 16,
            pendingMs: 60_000,
          });
          let seq = 0;
          for (const [tid, exp, fields] of defs) {
            // IPFIX template set with one template of `fields` 4-byte fields, then data for an unknown id
            const body: number[] = [tid >> 8, tid & 255, 0, fields];
            for (let k = 0; k < fields; k++) body.push(0, 8, 0, 4);
            const set = [0, 2, (body.length + 4) >> 8, (body.length + 4) & 255, ...body];
            const data = [((tid ^ 0x5555) | 0x100) >> 8, ((tid ^ 0x5555) | 0x100) & 255, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8];
            const all = [...set, ...data];
            const msg = [
              0,
              10,
              (16 + all.length) >> 8,
              (16 + all.length) & 255,
              0,
              0,
              0,
              0,
              0,
              0,
              0,
              seq++ & 255,
              0,
              0,
              0,
              exp,
              ...all,
            ];
            dec.decode(Uint8Array.from(msg), `192.0.2.${exp}`, now);
          }
          // health reports per (exporter, protocol); all these are IPFIX, one entry per exporter
          for (const h of dec.health()) expect(h.templates).toBeLessThanOrEqual(64);
          expect(dec.health().reduce((a, h) => a + (h.templates ?? 0), 0)).toBeLessThanOrEqual(150);
          expect(dec.pendingSets).toBeLessThanOrEqual(16);
          const e = errorSum(dec);
          expect(e.total).toBe(e.byReason);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an exporter flood (spoofed sources) is capped', () => {
    const dec = new FlowDecoder({ maxExporters: 100 });
    const d = valid[0];
    for (let k = 0; k < 1000; k++) dec.decode(d, `10.${k >> 8}.${k & 255}.1`, now);
    expect(dec.health().length).toBe(100);
    expect(dec.droppedExporterLimit).toBe(900);
  });
});

describe('generated record loops (template-codegen)', () => {
  // information elements the decoder reads, with the lengths exporters use for them
  const IES: [number, number[]][] = [
    [8, [4]],
    [12, [4]],
    [27, [16]],
    [28, [16]],
    [7, [2]],
    [11, [2]],
    [4, [1]],
    [6, [1, 2]],
    [1, [4, 8, 2]],
    [2, [4, 8]],
    [10, [2, 4]],
    [14, [2, 4]],
    [22, [4]],
    [21, [4]],
    [150, [4]],
    [151, [4]],
    [152, [8]],
    [153, [8]],
    [154, [8]],
    [155, [8]],
    [34, [4, 2]],
    [48, [1, 2]],
    [50, [4]],
    [302, [4]],
    [32, [2]],
    [139, [2]],
    [85, [8]],
    [86, [8]],
    [252, [4]],
    [253, [4]],
    [160, [8]],
    [99, [3, 5, 0]],
  ];
  const field = fc
    .constantFrom(...IES)
    .chain(([ie, lens]) => fc.constantFrom(...lens).map((l) => [ie, l] as [number, number]));

  it('decode exactly what the generic loop decodes, for random templates and data', () => {
    fc.assert(
      fc.property(
        fc.array(field, { minLength: 1, maxLength: 16 }),
        fc.uint8Array({ minLength: 0, maxLength: 600 }),
        fc.boolean(),
        (fields, data, ipfix) => {
          const tpl: number[] = [1, 0, 0, fields.length];
          for (const [ie, l] of fields) tpl.push(ie >> 8, ie & 255, l >> 8, l & 255);
          const set = (id: number, body: number[]): number[] => [
            id >> 8,
            id & 255,
            (body.length + 4) >> 8,
            (body.length + 4) & 255,
            ...body,
          ];
          const sets = [...set(ipfix ? 2 : 0, tpl), ...set(256, [...data])];
          const msg = ipfix
            ? [0, 10, (16 + sets.length) >> 8, (16 + sets.length) & 255, 0x65, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, ...sets]
            : [0, 9, 0, 2, 0, 1, 0, 0, 0x65, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, ...sets];
          const run = (gen: boolean) => {
            codegen.enabled = gen;
            try {
              const dec = new FlowDecoder({ sampling: { default: 3, exporters: {} } });
              dec.decode(Uint8Array.from(msg), '192.0.2.1', now);
              return dec.batch;
            } finally {
              codegen.enabled = true;
            }
          };
          const a = run(true);
          const g = run(false);
          expect(a.length).toBe(g.length);
          const cols = [
            'start',
            'end',
            'srcPort',
            'dstPort',
            'proto',
            'tcpFlags',
            'packets',
            'bytes',
            'inIf',
            'outIf',
            'exporter',
            'samplingRate',
          ] as const;
          for (const c of cols)
            expect(Array.from(a[c].subarray(0, a.length)), c).toEqual(Array.from(g[c].subarray(0, g.length)));
          expect(Array.from(a.src.subarray(0, a.length * 4))).toEqual(Array.from(g.src.subarray(0, g.length * 4)));
          expect(Array.from(a.dst.subarray(0, a.length * 4))).toEqual(Array.from(g.dst.subarray(0, g.length * 4)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
