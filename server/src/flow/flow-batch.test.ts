import { describe, expect, it } from 'vitest';
import { FLOW_COLUMN_NAMES, FLOW_COLUMNS, createFlowBatch, ensureCapacity, flowBatchBuffers } from './flow-batch.js';

describe('FlowBatch from one column list', () => {
  it('allocates every column at the capacity, four words a record for addresses', () => {
    const b = createFlowBatch(8);
    expect(Object.keys(b)).toEqual(['length', ...FLOW_COLUMN_NAMES, 'exporters']);
    for (const name of FLOW_COLUMN_NAMES) expect(b[name].length, name).toBe(8 * FLOW_COLUMNS[name].per);
    expect(b.src).toBeInstanceOf(Uint32Array);
    expect(b.src.length).toBe(32);
    expect(b.start).toBeInstanceOf(Float64Array);
    expect(b.proto).toBeInstanceOf(Uint8Array);
  });

  it('grows every column by doubling and keeps the first `length` records', () => {
    const b = createFlowBatch(2);
    b.length = 2;
    b.start.set([10, 20]);
    b.dst.set([1, 2, 3, 4, 5, 6, 7, 8]);
    b.samplingRate.set([100, 200]);
    ensureCapacity(b, 3);
    expect(b.start.length).toBe(16);
    expect([...b.start.subarray(0, 3)]).toEqual([10, 20, 0]);
    expect([...b.dst.subarray(0, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(b.dst.length).toBe(64);
    expect([...b.samplingRate.subarray(0, 2)]).toEqual([100, 200]);
    ensureCapacity(b, 10);
    expect(b.exporter.length).toBe(16);
  });

  it('lists one transferable buffer per column', () => {
    const b = createFlowBatch(4);
    const buffers = flowBatchBuffers(b);
    expect(buffers).toHaveLength(FLOW_COLUMN_NAMES.length);
    expect(new Set(buffers).size).toBe(FLOW_COLUMN_NAMES.length);
    expect(buffers[FLOW_COLUMN_NAMES.indexOf('bytes')]).toBe(b.bytes.buffer);
  });
});
