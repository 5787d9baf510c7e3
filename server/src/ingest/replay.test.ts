import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { IpfixEncoder } from '../sim/encoders/ipfix.js';
import { NetflowV9Encoder } from '../sim/encoders/netflow-v9.js';
import type { FlowBatch } from '../flow/flow-batch.js';
import { type Collectors, startCollectors } from './index.js';
import { buildPcap, parsePcap, PcapError, readPcapFile } from './pcap.js';
import { replayPcap } from './replay.js';

const testdata = fileURLToPath(new URL('./testdata', import.meta.url));
let running: Collectors | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** A NetFlow collector on a free loopback port. */
function startNetflow(onBatch: (b: FlowBatch) => void): Promise<Collectors> {
  return startCollectors({
    collectors: { netflow: { port: 0, host: '127.0.0.1' }, sampling: { default: 1, exporters: {} } },
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    onBatch,
  });
}

/** Waits (up to 5 s) until `batches` hold at least `n` records; returns how many they hold. */
async function recordsReceived(batches: FlowBatch[], n: number): Promise<number> {
  const count = (): number => batches.reduce((a, b) => a + b.length, 0);
  const t0 = Date.now();
  while (count() < n && Date.now() - t0 < 5000) await new Promise((res) => setTimeout(res, 20));
  return count();
}

describe('pcap reader', () => {
  it('reads the UDP payloads of a capture with their times', () => {
    const pkts = readPcapFile(`${testdata}/softflowd-v9.pcap`);
    expect(pkts).toHaveLength(3);
    expect(pkts[0].dstPort).toBe(39055);
    expect(pkts[0].payload[1]).toBe(9);
    expect(pkts[1].timeMs).toBeGreaterThanOrEqual(pkts[0].timeMs);
  });

  it('rejects a file that is not a capture, naming the problem', () => {
    expect(() => parsePcap(Uint8Array.from([1, 2, 3, 4, 5, 6]), 'x.pcap')).toThrow(PcapError);
    expect(() => parsePcap(Uint8Array.from([1, 2, 3, 4, 5, 6]), 'x.pcap')).toThrow(/x.pcap: not a pcap or pcapng file/);
  });
});

describe('replayPcap', () => {
  it('sends every datagram of a capture to a collector, which decodes them all', async () => {
    const batches: FlowBatch[] = [];
    running = await startNetflow((b) => batches.push(b));
    const r = await replayPcap({
      file: `${testdata}/pmacct-nfprobe-v9.pcap`,
      host: '127.0.0.1',
      port: running.ports.netflow!,
      speed: 0,
    });
    expect(r.datagrams).toBe(11);
    expect(await recordsReceived(batches, 70)).toBe(70);
    expect(running.health()[0]).toMatchObject({
      address: '127.0.0.1',
      protocol: 'netflow-v9',
      datagrams: 11,
      records: 70,
      decodeErrors: 0,
    });
  });

  it('paces at the capture speed divided by `speed`', async () => {
    running = await startNetflow(() => {});
    // three datagrams one second apart in capture time, replayed 10× faster: ≈ 200 ms
    const payload = readPcapFile(`${testdata}/softflowd-v5.pcap`)[0].payload;
    const file = join(mkdtempSync(join(tmpdir(), 'replay-')), 'paced.pcap');
    writeFileSync(
      file,
      buildPcap(
        [0, 1000, 2000].map((t) => ({
          timeMs: 1.7e12 + t,
          src: '192.0.2.1',
          dst: '192.0.2.2',
          srcPort: 1,
          dstPort: 2055,
          payload,
        })),
      ),
    );
    const t0 = performance.now();
    const r = await replayPcap({ file, host: '127.0.0.1', port: running.ports.netflow!, speed: 10 });
    const took = performance.now() - t0;
    expect(r.datagrams).toBe(3);
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000); // original pace would take 2 s
    rmSync(file);
  });

  it('rejects bad options with a clear message', async () => {
    await expect(replayPcap({ file: 'x.pcap', host: '127.0.0.1', port: 0, speed: 1 })).rejects.toThrow(/port/);
    await expect(replayPcap({ file: '/nonexistent.pcap', host: '127.0.0.1', port: 9, speed: -1 })).rejects.toThrow(
      /speed/,
    );
  });
});

describe('replayPcap with several exporters', () => {
  it('keeps the exporters of a capture apart (their template ids collide)', async () => {
    const batches: FlowBatch[] = [];
    running = await startNetflow((b) => batches.push(b));
    // two routers in one capture
    const v9 = new NetflowV9Encoder({ templateEvery: 1 });
    const a = v9.encode(
      [
        {
          src: '10.0.0.1',
          dst: '10.0.0.2',
          srcPort: 1,
          dstPort: 2,
          proto: 6,
          tcpFlags: 2,
          packets: 1,
          bytes: 40,
          startMs: 1.7e12,
          endMs: 1.7e12,
          inIf: 1,
          outIf: 2,
        },
      ],
      1.7e12,
    )[0];
    const b = new IpfixEncoder().encode(
      [
        {
          src: '10.0.0.3',
          dst: '10.0.0.4',
          srcPort: 3,
          dstPort: 4,
          proto: 17,
          tcpFlags: 0,
          packets: 2,
          bytes: 80,
          startMs: 1.7e12,
          endMs: 1.7e12,
          inIf: 1,
          outIf: 2,
        },
      ],
      1.7e12,
    )[0];
    const file = join(mkdtempSync(join(tmpdir(), 'replay-')), 'two.pcap');
    writeFileSync(
      file,
      buildPcap([
        { timeMs: 1.7e12, src: '192.0.2.1', dst: '192.0.2.9', srcPort: 1000, dstPort: 2055, payload: a },
        { timeMs: 1.7e12 + 1, src: '192.0.2.2', dst: '192.0.2.9', srcPort: 1000, dstPort: 2055, payload: b },
      ]),
    );
    const r = await replayPcap({ file, host: '127.0.0.1', port: running.ports.netflow!, speed: 0 });
    rmSync(file);
    expect(r.exporters).toEqual({ '192.0.2.1': '127.0.1.1', '192.0.2.2': '127.0.1.2' });
    await recordsReceived(batches, 2);
    expect(new Set(running.health().map((h) => h.address))).toEqual(new Set(['127.0.1.1', '127.0.1.2']));
  });
});
