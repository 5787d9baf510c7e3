import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { createDetectors, registerDetectorMetrics } from './index.js';
import { createEnrichedBatch, ip, setRecord, stubEnricher } from './synthetic.js';

describe('detector metrics', () => {
  it('exposes state size, tracked keys and evictions', async () => {
    const d = createDetectors(parseConfig({ detect: { limits: { maxTargets: 16 } } }), stubEnricher());
    const registry = new Registry();
    registerDetectorMetrics(registry, d);
    const b = createEnrichedBatch(40);
    b.length = 40;
    for (let i = 0; i < 40; i++) setRecord(b, i, { src: ip('100.64.0.1'), dst: ip('198.51.100.0') + i });
    d.process(b);
    const text = await registry.metrics();
    expect(text).toContain('downstream_detect_tracked_keys{table="inbound"} 16');
    expect(text).toContain('downstream_detect_evictions{table="inbound"} 24');
    expect(text).toMatch(new RegExp(`downstream_detect_state_bytes ${d.memoryBytes()}`));
  });
});
