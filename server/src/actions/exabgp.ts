import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Incident, MitigationRequest } from '@downstream/shared';
import ipaddr from 'ipaddr.js';
import type { ActionsConfig } from './config.js';

/** UDP source ports of reflectors, as in the FastNetMon feed. */
const AMPLIFICATION_PORTS = new Set([19, 53, 111, 123, 137, 161, 389, 1900, 3283, 3702, 5353, 11211, 27015]);
// Names ExaBGP knows; any other protocol (58, ICMPv6, among them) is given as its number.
const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 47: 'gre' };

export class MitigationError extends Error {}

export interface ExaBgpLines {
  prefix: string;
  announce: string;
  withdraw: string;
}

function hostPrefix(ip: string): string {
  if (!ipaddr.isValid(ip)) throw new MitigationError(`target ${ip} is not an IP address`);
  let a = ipaddr.parse(ip);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  return a.kind() === 'ipv4' ? `${a.toString()}/32` : `${a.toString()}/128`;
}

/** ExaBGP's value list syntax: `=53` alone, `[ =53 =123 ]` for several (unbracketed, it keeps only the first). */
function portList(ports: number[]): string {
  const terms = [...new Set(ports)].sort((a, b) => a - b).map((p) => `=${p}`);
  return terms.length === 1 ? terms[0] : `[ ${terms.join(' ')} ]`;
}

/**
 * Destination ports worth matching: the top ports when together they carry at least 90 % of
 * the attack. A narrower match would let the rest of the attack through, so otherwise none.
 */
function dominantPorts(ports: { port: number; share: number }[]): number[] {
  const sorted = ports.slice().sort((a, b) => b.share - a.share);
  const picked: number[] = [];
  let share = 0;
  for (const p of sorted.slice(0, 5)) {
    picked.push(p.port);
    share += p.share;
    if (share >= 0.9) return picked;
  }
  return [];
}

/**
 * ExaBGP API text commands for one inbound target. RTBH: a host route with the blackhole
 * community (RFC 7999 65535:666 by default) toward the configured discard next hop (an IPv6
 * one for /128s). FlowSpec (RFC 8955 IPv4, RFC 8956 IPv6): match the target, the dominant
 * protocol (IPv6: next-header) and its ports — reflector source ports for amplification, else
 * the destination ports that carry the attack — and discard or rate-limit. The withdraw line
 * names the same route so ExaBGP removes exactly it.
 */
export function exabgpLines(
  incident: Pick<Incident, 'target' | 'kind' | 'evidence'>,
  req: { type: 'rtbh' | 'flowspec'; action: 'discard' | 'rate-limit'; rateLimit?: number },
  cfg: ActionsConfig['mitigation'],
): ExaBgpLines {
  if (!incident.target) throw new MitigationError('incident has no target to mitigate');
  const prefix = hostPrefix(incident.target.ip);
  const v6 = prefix.endsWith('/128');
  const lead = cfg.neighbor ? `neighbor ${cfg.neighbor} ` : '';
  if (req.type === 'rtbh') {
    // A route's next hop must be of its own family; an IPv4 next_hop serves IPv4 targets only.
    const nh = v6 && !cfg.rtbh.next_hop.includes(':') ? cfg.rtbh.next_hop_v6 : cfg.rtbh.next_hop;
    return {
      prefix,
      announce: `${lead}announce route ${prefix} next-hop ${nh} community [${cfg.rtbh.communities.join(' ')}]`,
      withdraw: `${lead}withdraw route ${prefix} next-hop ${nh}`,
    };
  }
  const match = [`destination ${prefix};`];
  const protos = incident.evidence.protocols?.slice().sort((a, b) => b.share - a.share) ?? [];
  const lead0 = protos[0] && protos[0].share >= 0.9 ? protos[0].proto : undefined;
  const dominant = lead0 === undefined ? undefined : (PROTO_NAMES[lead0] ?? String(lead0));
  if (dominant) match.push(`${v6 ? 'next-header' : 'protocol'} ${dominant};`);
  const ports = incident.evidence.ports ?? [];
  if (incident.kind === 'amplification' && dominant === 'udp') {
    const src = ports.map((p) => p.port).filter((p) => AMPLIFICATION_PORTS.has(p));
    if (src.length) match.push(`source-port ${portList(src)};`);
  } else if (dominant === 'udp' || dominant === 'tcp') {
    const dst = dominantPorts(ports);
    if (dst.length) match.push(`destination-port ${portList(dst)};`);
  }
  let then: string;
  if (req.action === 'rate-limit') {
    if (!req.rateLimit) throw new MitigationError('rate-limit needs rateLimit (bytes per second)');
    then = `rate-limit ${req.rateLimit};`;
  } else then = 'discard;';
  const body = `flow route { match { ${match.join(' ')} } then { ${then} } }`;
  return { prefix, announce: `${lead}announce ${body}`, withdraw: `${lead}withdraw ${body}` };
}

export type MitigationRequestParsed = Required<Pick<MitigationRequest, 'type' | 'action'>> &
  Pick<MitigationRequest, 'rateLimit' | 'note'>;

/** Where API lines go: ExaBGP's named pipe, or a command that gets them on stdin. */
export interface ExaBgpSink {
  send(line: string): Promise<void>;
}

/**
 * Writes one line per call to a FIFO ExaBGP reads. Opened non-blocking so a missing reader
 * is an immediate, clear error (ENXIO) instead of a request hanging until ExaBGP comes back.
 */
export function pipeSink(path: string): ExaBgpSink {
  return {
    async send(line) {
      let fh;
      try {
        fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_APPEND);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENXIO')
          throw new MitigationError(`nothing is reading the ExaBGP pipe ${path} (is ExaBGP running?)`);
        throw new MitigationError(`cannot open ExaBGP pipe ${path}: ${(err as Error).message}`);
      }
      try {
        await fh.write(`${line}\n`);
      } finally {
        await fh.close();
      }
    },
  };
}

export function commandSink(argv: string[], timeoutMs = 10_000): ExaBgpSink {
  return {
    send(line) {
      return new Promise((resolve, reject) => {
        const p = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'], timeout: timeoutMs });
        let stderr = '';
        p.stderr.on('data', (c: Buffer) => (stderr += c.toString()).slice(-2000));
        p.on('error', (err) => reject(new MitigationError(`cannot run ${argv[0]}: ${err.message}`)));
        p.on('close', (code, signal) => {
          if (code === 0) resolve();
          else reject(new MitigationError(`${argv[0]} exited with ${code ?? signal}: ${stderr.trim()}`));
        });
        p.stdin.on('error', () => undefined);
        p.stdin.end(`${line}\n`);
      });
    },
  };
}
