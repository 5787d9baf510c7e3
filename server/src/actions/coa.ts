import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { radius } from '../subscribers/radius-packet.js';

export type DynamicAuthRequest = 'CoA-Request' | 'Disconnect-Request';

export interface DynamicAuthResult {
  result: 'ack' | 'nak' | 'timeout' | 'error';
  /** Error-Cause of a NAK (RFC 5176 §3.5), or what went wrong. */
  detail: string | null;
  identifier: number;
}

export interface DynamicAuthTarget {
  host: string;
  port: number;
  secret: string;
}

const ACK: Record<DynamicAuthRequest, [string, string]> = {
  'CoA-Request': ['CoA-ACK', 'CoA-NAK'],
  'Disconnect-Request': ['Disconnect-ACK', 'Disconnect-NAK'],
};

let nextIdentifier = Math.floor(Math.random() * 256);

/**
 * One RFC 5176 exchange with a BNG: the request (Request Authenticator = MD5 over the packet with
 * a zero authenticator, plus the secret, as the `radius` package encodes it), resent unchanged on
 * timeout, answered by an ACK or a NAK whose Response Authenticator must check out with the
 * secret; anything else is ignored as spoofed or stray.
 */
export async function sendDynamicAuth(
  target: DynamicAuthTarget,
  request: DynamicAuthRequest,
  attributes: [string, string | number][],
  opts: { timeoutMs: number; retries: number },
): Promise<DynamicAuthResult> {
  const identifier = (nextIdentifier = (nextIdentifier + 1) & 0xff);
  let packet: Buffer;
  try {
    packet = radius.encode({ code: request, secret: target.secret, identifier, attributes });
  } catch (e) {
    return { result: 'error', detail: `cannot encode ${request}: ${(e as Error).message}`, identifier };
  }
  const sock = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
  try {
    return await new Promise<DynamicAuthResult>((resolve) => {
      let tries = 0;
      let timer: NodeJS.Timeout | undefined;
      const done = (r: DynamicAuthResult): void => {
        if (timer) clearTimeout(timer);
        resolve(r);
      };
      sock.on('error', (err) => done({ result: 'error', detail: err.message, identifier }));
      sock.on('message', (msg) => {
        if (msg.length < 20 || msg[1] !== identifier) return;
        let ok = false;
        try {
          ok = radius.verify_response({ request: packet, response: Buffer.from(msg), secret: target.secret });
        } catch {
          ok = false;
        }
        if (!ok) return;
        let p: ReturnType<typeof radius.decode_without_secret>;
        try {
          p = radius.decode_without_secret({ packet: Buffer.from(msg) });
        } catch {
          return;
        }
        const [ack, nak] = ACK[request];
        if (p.code === ack) done({ result: 'ack', detail: null, identifier });
        else if (p.code === nak) {
          const cause = (p.attributes as Record<string, unknown>)['Error-Cause'];
          const text = (p.attributes as Record<string, unknown>)['Reply-Message'];
          done({
            result: 'nak',
            detail:
              [cause !== undefined ? `Error-Cause ${String(cause)}` : null, text ? String(text) : null]
                .filter(Boolean)
                .join(': ') || null,
            identifier,
          });
        }
      });
      const attempt = (): void => {
        if (tries > opts.retries) {
          done({
            result: 'timeout',
            detail: `no answer from ${target.host}:${target.port} after ${tries} tries of ${opts.timeoutMs} ms`,
            identifier,
          });
          return;
        }
        tries++;
        sock.send(packet, target.port, target.host, (err) => {
          if (err) done({ result: 'error', detail: err.message, identifier });
        });
        timer = setTimeout(attempt, opts.timeoutMs);
      };
      attempt();
    });
  } finally {
    sock.close();
  }
}
