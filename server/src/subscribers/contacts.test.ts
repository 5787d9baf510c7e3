import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscribersConfig } from './config.js';
import { parseContactsCsv, SubscriberContacts } from './contacts.js';
import { describeLineError } from './parse-errors.js';

const logger = pino({ level: 'silent' });

describe('subscribers CSV', () => {
  it('reads contacts by subscriber; bad rows are named by file:line and the rest kept', () => {
    const { contacts, errors } = parseContactsCsv(
      [
        'subscriber,name,email,phone',
        'alice@isp.example,Alice Example,alice@example.org,+31 20 555 0101',
        'bob@isp.example,"Example, Bob",not-an-address,',
        ',Nobody,nobody@example.org,',
        '08:00:27:25:d3:f4,Anna (DHCP),anna@example.org,',
      ].join('\n'),
      'subscribers.csv',
    );
    expect([...contacts.keys()]).toEqual(['alice@isp.example', '08:00:27:25:d3:f4']);
    expect(contacts.get('alice@isp.example')).toEqual({
      subscriber: 'alice@isp.example',
      name: 'Alice Example',
      email: 'alice@example.org',
      phone: '+31 20 555 0101',
    });
    expect(errors.map(describeLineError)).toEqual([
      'subscribers.csv:3: email: Invalid email address',
      'subscribers.csv:4: subscriber: Invalid input: expected string, received undefined',
    ]);
  });

  it('needs a header naming subscriber and email', () => {
    expect(parseContactsCsv('id,mail\n1,a@b.c\n', 'x.csv').errors.map(describeLineError)).toEqual([
      'x.csv:1: header must name at least the columns subscriber and email',
    ]);
  });
});

describe('contacts: CSV first, then the HTTP lookup hook', () => {
  let http: Server;
  let base = '';
  const asked: string[] = [];
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ds-contacts-'));
    http = createServer((req, res) => {
      asked.push(`${req.url} ${req.headers.authorization ?? ''}`);
      const sub = new URL(req.url!, 'http://x').pathname.split('/').pop();
      if (sub === 'carol') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ email: 'carol@example.org', name: 'Carol' }));
      } else if (sub === 'broken') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ email: 'nope' }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    http.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers from the CSV, reloads it when it changes, asks the hook for the rest and caches', async () => {
    const csv = join(dir, 's.csv');
    writeFileSync(csv, 'subscriber,email\nalice,alice@example.org\n');
    const cfg = SubscribersConfig.parse({
      contacts: { csv, lookup_url: `${base}/contacts/{subscriber}`, headers: { authorization: 'Bearer crm-token' } },
    }).contacts;
    const c = new SubscriberContacts(cfg, logger);
    expect((await c.lookup('alice'))?.email).toBe('alice@example.org');
    expect(await c.lookup('carol')).toEqual({ subscriber: 'carol', email: 'carol@example.org', name: 'Carol' });
    expect(await c.lookup('carol')).not.toBeNull();
    expect(await c.lookup('dave')).toBeNull();
    expect(asked).toEqual(['/contacts/carol Bearer crm-token', '/contacts/dave Bearer crm-token']);
    await expect(c.lookup('broken')).rejects.toThrow(/lookup hook answer: email: Invalid email address/);

    writeFileSync(csv, 'subscriber,email\nalice,alice@new.example.org\n');
    utimesSync(csv, new Date(), new Date(Date.now() + 5000));
    expect((await c.lookup('alice'))?.email).toBe('alice@new.example.org');
  });
});
