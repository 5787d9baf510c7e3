import type { DetectionEvent } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { campaignKey, kindKey, mergeKeyOf, parseMergeKey, targetKey } from './merge-key.js';

const ev = (
  over: Partial<DetectionEvent>,
): Pick<DetectionEvent, 'kind' | 'direction' | 'key' | 'sources' | 'target'> => ({
  kind: 'volumetric',
  direction: 'inbound',
  key: '192.0.2.1',
  sources: { distinct: 0, top: [], asns: [] },
  ...over,
});

describe('merge keys', () => {
  it('keys inbound attacks by target, spam/scans by customer, the rest by kind + key', () => {
    expect(mergeKeyOf(ev({ kind: 'amplification' }))).toEqual(targetKey('192.0.2.1'));
    expect(mergeKeyOf(ev({ kind: 'amplification' })).text).toBe('inbound|192.0.2.1');
    const spam = mergeKeyOf(
      ev({
        kind: 'spam-bot',
        direction: 'outbound',
        key: '10.0.0.7',
        sources: {
          distinct: 1,
          top: [{ ip: '10.0.0.7', asn: 1, asName: 'x', country: 'DE', customer: 'acme', packets: 1, bytes: 1 }],
          asns: [],
        },
      }),
    );
    expect(spam).toEqual(campaignKey('spam-bot', 'acme'));
    expect(spam.text).toBe('spam-bot|customer:acme');
    expect(mergeKeyOf(ev({ kind: 'scanner', direction: 'outbound', key: '10.0.0.8' }))).toEqual(
      kindKey('scanner', 'outbound', '10.0.0.8'),
    );
    expect(mergeKeyOf(ev({ kind: 'ddos-participation', direction: 'outbound', key: '2001:db8::1' })).text).toBe(
      'ddos-participation|outbound|2001:db8::1',
    );
  });

  it('reads back every form it writes, and keeps an unknown stored key as it was', () => {
    const fallback = { kind: 'external', direction: 'outbound' } as const;
    for (const k of [
      targetKey('2001:db8::5'),
      campaignKey('scanner', 'a|b customer'),
      kindKey('ddos-participation', 'outbound', '198.51.100.9'),
      kindKey('external', 'inbound', 'x|y'),
    ])
      expect(parseMergeKey(k.text, fallback)).toEqual(k);
    expect(parseMergeKey('legacy-key', fallback)).toEqual({
      rule: 'kind-key',
      kind: 'external',
      direction: 'outbound',
      key: 'legacy-key',
      text: 'legacy-key',
    });
  });
});
