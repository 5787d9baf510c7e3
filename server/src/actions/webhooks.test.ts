import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleIncident } from '../testing/recording-context.js';
import { ActionsConfig } from './config.js';
import { WebhookNotifier, slackMessage } from './webhooks.js';

/** A local receiver that fails the first `failures` attempts with `failStatus`. */
const got: { body: Record<string, unknown> }[] = [];
let failures = 0;
let failStatus = 503;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    got.push({ body: JSON.parse(body) as Record<string, unknown> });
    if (failures > 0) {
      failures--;
      res.writeHead(failStatus).end('nope');
    } else res.writeHead(200).end('ok');
  });
});
const port = new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  got.length = 0;
  failures = 0;
  failStatus = 503;
});

const hooks = async (extra: Record<string, unknown> = {}) =>
  ActionsConfig.parse({
    webhooks: [{ name: 'slack', url: `http://127.0.0.1:${await port}/hook`, backoff_ms: 40, retries: 3, ...extra }],
  }).webhooks;

describe('WebhookNotifier', () => {
  it('retries with growing backoff until the receiver accepts', async () => {
    // the waits go through an injected sleep: asserted exactly, none of them slept for real
    const waits: number[] = [];
    const n = new WebhookNotifier({ hooks: await hooks(), sleep: async (ms) => void waits.push(ms) });
    failures = 2;
    const r = await n.deliver((await hooks())[0], { text: 'hi' });
    expect(r).toEqual({ ok: true, attempts: 3, status: 200 });
    expect(got).toHaveLength(3);
    expect(waits).toHaveLength(2);
    // backoff_ms 40, doubling, jittered ±20 %
    expect(waits[0]).toBeGreaterThanOrEqual(32);
    expect(waits[0]).toBeLessThanOrEqual(48);
    expect(waits[1]).toBeGreaterThanOrEqual(64);
    expect(waits[1]).toBeLessThanOrEqual(96);
  });

  it('gives up after the configured retries, and does not retry a 4xx', async () => {
    const n = new WebhookNotifier({ hooks: await hooks({ retries: 2 }), sleep: async () => {} });
    failures = 10;
    expect(await n.deliver((await hooks({ retries: 2 }))[0], {})).toMatchObject({
      ok: false,
      attempts: 3,
      status: 503,
    });
    got.length = 0;
    failStatus = 400;
    expect(await n.deliver((await hooks({ retries: 2 }))[0], {})).toMatchObject({
      ok: false,
      attempts: 1,
      status: 400,
    });
    expect(got).toHaveLength(1);
  });

  it('notifies new and escalated incidents for the configured severities only', async () => {
    const n = new WebhookNotifier({
      hooks: await hooks({ severities: ['high', 'critical'] }),
      baseUrl: 'https://noc.example/',
    });
    expect(n.onUpsert(sampleIncident({ id: 'a', severity: 'medium' }))).toBe('new'); // event, but not for this hook
    expect(n.onUpsert(sampleIncident({ id: 'a', severity: 'medium' }))).toBeUndefined();
    expect(n.onUpsert(sampleIncident({ id: 'a', severity: 'critical' }))).toBe('escalated');
    expect(n.onUpsert(sampleIncident({ id: 'a', severity: 'high' }))).toBeUndefined(); // de-escalation is quiet
    expect(n.onUpsert(sampleIncident({ id: 'b', severity: 'high' }))).toBe('new');
    await n.drain();
    expect(got.map((g) => g.body.text)).toEqual([
      'Escalated CRITICAL incident: ddos-fan-in on 198.51.100.7 (Residential pool A)',
      'New HIGH incident: ddos-fan-in on 198.51.100.7 (Residential pool A)',
    ]);
    const blocks = got[0].body.blocks as { type: string; text?: { text: string }; elements?: { text: string }[] }[];
    expect(blocks[0].text!.text).toContain('*Detectors:* fan-in, fastnetmon');
    expect(blocks[1].elements![0].text).toBe('<https://noc.example/incidents/a|a>');
  });

  it('does not re-announce incidents that were open before a restart', () => {
    const n = new WebhookNotifier({ hooks: [] });
    n.seed([sampleIncident({ id: 'old', severity: 'high' })]);
    expect(n.onUpsert(sampleIncident({ id: 'old', severity: 'high' }))).toBeUndefined();
  });

  it('builds Slack-compatible JSON', () => {
    const m = slackMessage(sampleIncident(), 'new');
    expect(Object.keys(m).sort()).toEqual(['attachments', 'blocks', 'text']);
    expect(m.text).toMatch(/^New HIGH incident/);
  });
});
