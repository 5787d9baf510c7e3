import { createHash } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { radius } from '../subscribers/radius-packet.js';
import { sendDynamicAuth } from './coa.js';

const SECRET = 'coa-secret-22';

/** A BNG's Dynamic Authorization port; `reply` decides what (if anything) goes back. */
describe('RFC 5176 client', () => {
  const sock = createSocket('udp4');
  let port = 0;
  let reply: (msg: Buffer, r: RemoteInfo) => Buffer[] = () => [];
  const seen: Buffer[] = [];
  beforeAll(async () => {
    sock.on('message', (msg, r) => {
      seen.push(msg);
      for (const b of reply(msg, r)) sock.send(b, r.port, r.address);
    });
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', res));
    port = (sock.address() as AddressInfo).port;
  });
  afterAll(() => sock.close());
  const target = () => ({ host: '127.0.0.1', port, secret: SECRET });
  const answer = (msg: Buffer, code: string, secret = SECRET, attributes: unknown[] = []) =>
    radius.encode_response({
      packet: radius.decode({ packet: Buffer.from(msg), secret: SECRET }),
      code,
      secret,
      attributes,
    });

  it('sends a Disconnect-Request with a Request Authenticator over a zero authenticator, and reads the ACK', async () => {
    reply = (m) => [answer(m, 'Disconnect-ACK')];
    const r = await sendDynamicAuth(
      target(),
      'Disconnect-Request',
      [
        ['NAS-IP-Address', '192.0.2.10'],
        ['User-Name', 'alice'],
        ['Acct-Session-Id', 'A-1'],
      ],
      { timeoutMs: 500, retries: 0 },
    );
    expect(r).toEqual({ result: 'ack', detail: null, identifier: seen[0][1] });
    const m = seen[0];
    expect(m[0]).toBe(40);
    const zeroed = Buffer.from(m);
    zeroed.fill(0, 4, 20);
    expect(createHash('md5').update(zeroed).update(SECRET).digest().equals(m.subarray(4, 20))).toBe(true);
    expect(radius.decode({ packet: Buffer.from(m), secret: SECRET }).attributes).toMatchObject({
      'User-Name': 'alice',
      'Acct-Session-Id': 'A-1',
      'NAS-IP-Address': '192.0.2.10',
    });
  });

  it('ignores a spoofed answer (wrong secret) and a stray identifier, then takes the real NAK', async () => {
    reply = (m) => {
      const stray = Buffer.from(answer(m, 'CoA-ACK'));
      stray[1] = (stray[1] + 1) & 0xff;
      return [
        answer(m, 'CoA-ACK', 'not-the-secret'),
        stray,
        answer(m, 'CoA-NAK', SECRET, [['Error-Cause', 'Unsupported-Attribute']]),
      ];
    };
    const r = await sendDynamicAuth(
      target(),
      'CoA-Request',
      [
        ['User-Name', 'alice'],
        ['Filter-Id', 'walled-garden'],
      ],
      {
        timeoutMs: 500,
        retries: 0,
      },
    );
    expect(r.result).toBe('nak');
    expect(r.detail).toBe('Error-Cause Unsupported-Attribute');
  });

  it('reports an attribute the dictionary does not know without sending anything', async () => {
    const before = seen.length;
    const r = await sendDynamicAuth(target(), 'CoA-Request', [['No-Such-Attribute', 'x']], {
      timeoutMs: 100,
      retries: 0,
    });
    expect(r.result).toBe('error');
    expect(r.detail).toMatch(/cannot encode CoA-Request/);
    expect(seen.length).toBe(before);
  });
});
