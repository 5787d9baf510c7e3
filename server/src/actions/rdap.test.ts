import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ActionsConfig } from './config.js';
import { abuseEmailOf, RdapContacts } from './rdap.js';
import { ACTIONS_ENGINES } from '../testing/actions-db.js';

// Shaped like ARIN's autnum answer: the abuse entity nested inside the registrant.
const arinLike = {
  objectClassName: 'autnum',
  handle: 'AS65001',
  entities: [
    {
      objectClassName: 'entity',
      roles: ['registrant'],
      vcardArray: [
        'vcard',
        [
          ['version', {}, 'text', '4.0'],
          ['fn', {}, 'text', 'Transit One'],
        ],
      ],
      entities: [
        { roles: ['technical'], vcardArray: ['vcard', [['email', {}, 'text', 'noc@transit1.example']]] },
        {
          roles: ['abuse'],
          vcardArray: [
            'vcard',
            [
              ['version', {}, 'text', '4.0'],
              ['email', {}, 'text', 'abuse@transit1.example'],
            ],
          ],
        },
      ],
    },
  ],
};

const hits: string[] = [];
let failing = false;
const server = createServer((req, res) => {
  hits.push(req.url ?? '');
  if (failing) return void res.writeHead(503).end();
  if (req.url === '/autnum/65001')
    return void res.writeHead(200, { 'content-type': 'application/rdap+json' }).end(JSON.stringify(arinLike));
  if (req.url === '/autnum/65003') return void res.writeHead(200).end('{"entities": "not a list"}');
  res.writeHead(404).end('{}');
});
const port = new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const cfg = async (enabled = true) =>
  ActionsConfig.parse({ reports: { rdap: { enabled, base_url: `http://127.0.0.1:${await port}/` } } }).reports.rdap;

describe('RDAP abuse contacts', () => {
  it('finds the nested abuse entity’s email and ignores other roles', () => {
    expect(abuseEmailOf(arinLike)).toBe('abuse@transit1.example');
    expect(
      abuseEmailOf({
        entities: [{ roles: ['abuse'], vcardArray: ['vcard', [['email', {}, 'text', 'not-an-email']]] }],
      }),
    ).toBeUndefined();
    expect(abuseEmailOf('garbage')).toBeUndefined();
  });
});

for (const engine of ACTIONS_ENGINES) {
  describe(`RDAP contact cache (${engine.name})`, () => {
    it('looks up, caches, answers null for unknown or malformed, and keeps old answers when the registry fails', async () => {
      const { db } = await engine.fresh();
      const rdap = new RdapContacts(db, await cfg());
      hits.length = 0;
      const t0 = Date.parse('2026-11-24T00:00:00Z');
      expect(await rdap.lookup(65001, t0)).toBe('abuse@transit1.example');
      expect(await rdap.lookup(65001, t0 + 1000)).toBe('abuse@transit1.example'); // cached
      expect(await rdap.lookup(65002, t0)).toBeNull(); // 404
      expect(await rdap.lookup(65003, t0)).toBeNull(); // invalid body
      expect(hits).toEqual(['/autnum/65001', '/autnum/65002', '/autnum/65003']);
      failing = true;
      expect(await rdap.lookup(65001, t0 + 8 * 86_400_000)).toBe('abuse@transit1.example'); // stale but kept
      failing = false;
      await db.close();
    });

    it('does nothing when disabled', async () => {
      const { db } = await engine.fresh();
      hits.length = 0;
      expect(await new RdapContacts(db, await cfg(false)).lookup(65001)).toBeNull();
      expect(hits).toHaveLength(0);
      await db.close();
    });

    it('keeps its cache across a restart', async () => {
      const { db, reopen } = await engine.fresh();
      const t0 = Date.parse('2026-11-24T00:00:00Z');
      hits.length = 0;
      expect(await new RdapContacts(db, await cfg()).lookup(65001, t0)).toBe('abuse@transit1.example');
      expect(await new RdapContacts(db, await cfg()).lookup(65002, t0)).toBeNull();
      await db.close();
      const again = await reopen();
      const rdap = new RdapContacts(again, await cfg());
      expect(await rdap.lookup(65001, t0 + 1000)).toBe('abuse@transit1.example');
      expect(await rdap.lookup(65002, t0 + 1000)).toBeNull(); // negative answer cached too
      expect(hits).toEqual(['/autnum/65001', '/autnum/65002']);
      // Negative answers expire after a day, positive ones after cache_days.
      expect(await rdap.lookup(65002, t0 + 86_400_000)).toBeNull();
      expect(await rdap.lookup(65001, t0 + 86_400_000)).toBe('abuse@transit1.example');
      expect(hits).toEqual(['/autnum/65001', '/autnum/65002', '/autnum/65002']);
      await again.close();
    });
  });
}
