import { describe, expect, it } from 'vitest';
import { partitionBatch } from '../detect/shard.js';
import { createEnrichedBatch, ip, setRecord } from '../detect/synthetic.js';
import { FlowDirection } from '../enrich/enriched-batch.js';
import { BUS_COLUMNS, BusFrameError, decodeBatch, encodeBatch } from './codec.js';

function sample(n: number) {
  const b = createEnrichedBatch(n + 5); // capacity beyond length: only `length` records travel
  b.exporters = ['192.0.2.1', '2001:db8::1'];
  for (let i = 0; i < n; i++) {
    setRecord(b, i, {
      src: ip('203.0.113.1') + i,
      dst: ip('198.51.100.7') + (i % 3),
      srcPort: 1000 + i,
      dstPort: 53,
      proto: 17,
      packets: 10 + i,
      bytes: 640 + i,
      samplingRate: 100,
      direction: i % 2 ? FlowDirection.inbound : FlowDirection.outbound,
      srcAsn: 64500 + i,
      dstCustomer: i % 4,
      inLink: 2,
    });
    b.start[i] = 1.7e12 + i;
    b.exporter[i] = i % 2;
  }
  b.length = n;
  return b;
}

const cols = (b: object) => b as unknown as Record<string, ArrayLike<number> | undefined>;

describe('flow bus codec', () => {
  it('round-trips every column of an enriched batch, only its records', () => {
    const b = sample(37);
    const back = decodeBatch(encodeBatch(b));
    expect(back.length).toBe(37);
    expect(back.exporters).toEqual(b.exporters);
    for (const name of BUS_COLUMNS) {
      const a = cols(b)[name];
      if (!a) {
        expect(cols(back)[name]).toBeUndefined();
        continue;
      }
      const per = name === 'src' || name === 'dst' ? 4 : 1;
      expect(Array.from(cols(back)[name]!), name).toEqual(Array.from(a).slice(0, 37 * per));
      expect(cols(back)[name]!.constructor, name).toBe(a.constructor);
    }
  });

  it('carries a shard share with its shardRoles, and a record range', () => {
    const parts = partitionBatch(sample(50), 4);
    const part = parts.find((p) => p !== undefined)!;
    const back = decodeBatch(encodeBatch(part));
    expect(Array.from(back.shardRoles!)).toEqual(Array.from(part.shardRoles!));
    const slice = decodeBatch(encodeBatch(part, 1, 3));
    expect(slice.length).toBe(2);
    expect(Array.from(slice.srcPort)).toEqual(Array.from(part.srcPort.subarray(1, 3)));
    expect(Array.from(slice.src)).toEqual(Array.from(part.src.subarray(4, 12)));
  });

  it('decodes from an unaligned view (what a NATS message payload can be)', () => {
    const frame = encodeBatch(sample(9));
    const carrier = new Uint8Array(frame.length + 3);
    carrier.set(frame, 3);
    expect(Array.from(decodeBatch(carrier.subarray(3)).packets)).toEqual(Array.from(sample(9).packets.subarray(0, 9)));
  });

  it('rejects bad frames with a message naming what is wrong', () => {
    expect(() => decodeBatch(new Uint8Array(4))).toThrow(BusFrameError);
    const frame = encodeBatch(sample(3));
    const wrongMagic = frame.slice();
    wrongMagic[0] = 0;
    expect(() => decodeBatch(wrongMagic)).toThrow(/bad magic/);
    expect(() => decodeBatch(frame.subarray(0, frame.length - 16))).toThrow(/truncated/);
    const lying = frame.slice();
    new DataView(lying.buffer).setUint32(4, 4, true); // claims 4 records, columns hold 3
    expect(() => decodeBatch(lying)).toThrow(/bytes for 4 records/);
  });
});
