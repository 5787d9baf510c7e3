import ipaddr from 'ipaddr.js';
import type { LeaseRecord } from './kea-leases.js';
import type { LineError, ParseSink } from './parse-errors.js';

/**
 * ISC dhcpd lease database (`dhcpd.leases`, dhcpd.leases(5); and dhcpd6's `ia-na` / `ia-pd`
 * blocks). dhcpd appends a new copy of a lease whenever it changes and rewrites the file now and
 * then, so the whole file is parsed each time it changes (idempotent: the same lease lands on the
 * same interval). Hand-written: the one npm package for it is unmaintained and reports no line
 * numbers; the grammar is statements ending in `;` and blocks in braces.
 */
type Token = { t: string; line: number; quoted: boolean };

function tokenize(text: string, file: string, errors: LineError[]): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '{' || c === '}' || c === ';') {
      out.push({ t: c, line, quoted: false });
      i++;
    } else if (c === '"') {
      const start = line;
      let s = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) {
          s += text[i] + text[i + 1];
          i += 2;
          continue;
        }
        if (text[i] === '\n') line++;
        s += text[i++];
      }
      if (i >= text.length) errors.push({ file, line: start, message: 'unterminated string' });
      i++;
      out.push({ t: s, line: start, quoted: true });
    } else {
      let s = '';
      while (i < text.length && !/[\s{};"#]/.test(text[i])) s += text[i++];
      out.push({ t: s, line, quoted: false });
    }
  }
  return out;
}

interface Block {
  head: Token[];
  statements: Token[][];
  blocks: Block[];
  line: number;
}

/** Parse the tokens into nested blocks; a malformed top-level block is reported and skipped. */
function blocks(tokens: Token[], file: string, errors: LineError[]): Block[] {
  const root: Block = { head: [], statements: [], blocks: [], line: 1 };
  const stack: Block[] = [root];
  let cur: Token[] = [];
  for (const tok of tokens) {
    const top = stack[stack.length - 1];
    if (!tok.quoted && tok.t === ';') {
      if (cur.length > 0) top.statements.push(cur);
      cur = [];
    } else if (!tok.quoted && tok.t === '{') {
      const b: Block = { head: cur, statements: [], blocks: [], line: cur[0]?.line ?? tok.line };
      top.blocks.push(b);
      stack.push(b);
      cur = [];
    } else if (!tok.quoted && tok.t === '}') {
      if (cur.length > 0) {
        errors.push({ file, line: cur[0].line, message: `statement "${cur.map((x) => x.t).join(' ')}" lacks its ;` });
        cur = [];
      }
      if (stack.length === 1) errors.push({ file, line: tok.line, message: 'unmatched }' });
      else stack.pop();
    } else {
      cur.push(tok);
    }
  }
  if (stack.length > 1) {
    const open = stack[1];
    errors.push({ file, line: open.line, message: `block "${open.head.map((x) => x.t).join(' ')}" is never closed` });
    // An unfinished last block (dhcpd mid-write) is not imported.
    root.blocks.pop();
  }
  return root.blocks;
}

/** `starts 2 2026/12/01 10:00:00;` (UTC), `epoch 1796205600;`, or `never`. */
function parseWhen(s: Token[]): number | null | undefined {
  const v = s.slice(1).map((x) => x.t);
  if (v[0] === 'never') return null;
  if (v[0] === 'epoch' && /^\d+$/.test(v[1] ?? '')) return Number(v[1]) * 1000;
  const m = /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/.exec(v[1] ?? '');
  const t = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(v[2] ?? '');
  if (!/^\d$/.test(v[0] ?? '') || !m || !t) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +t[1], +t[2], +t[3]);
  // Date.UTC rolls month 13 into next year: reject anything that does not read back the same.
  const d = new Date(ms);
  if (d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3] || +t[1] > 23 || +t[2] > 59 || +t[3] > 60)
    return undefined;
  return ms;
}

const stmt = (b: Block, name: string): Token[] | undefined => b.statements.find((s) => s[0]?.t === name);
const bindingState = (b: Block): string | undefined =>
  b.statements.find((s) => s[0]?.t === 'binding' && s[1]?.t === 'state')?.[2]?.t;

/** States in which somebody held the address over [starts, ends] (free/expired: it has since ended). */
const HELD = new Set(['active', 'free', 'expired', 'released']);

export function parseDhcpdLeases(text: string, file: string, sink: ParseSink<LeaseRecord>): void {
  const errors: LineError[] = [];
  const toks = tokenize(text, file, errors);
  for (const b of blocks(toks, file, errors)) {
    const kind = b.head[0]?.t;
    if (kind === 'lease') leaseBlock(b, file, sink, errors);
    else if (kind === 'ia-na' || kind === 'ia-pd' || kind === 'ia-ta') iaBlock(b, file, sink, errors);
    // failover peer, host, class…: not leases.
  }
  for (const e of errors) sink.error(e);
}

function when(b: Block, name: string, file: string, errors: LineError[]): number | null | undefined {
  const s = stmt(b, name);
  if (!s) return undefined;
  const v = parseWhen(s);
  if (v === undefined)
    errors.push({
      file,
      line: s[0].line,
      message: `${name}: cannot read date "${s
        .slice(1)
        .map((x) => x.t)
        .join(' ')}"`,
    });
  return v;
}

function leaseBlock(b: Block, file: string, sink: ParseSink<LeaseRecord>, errors: LineError[]): void {
  const address = b.head[1]?.t ?? '';
  if (!ipaddr.IPv4.isValidFourPartDecimal(address)) {
    errors.push({ file, line: b.line, message: `lease ${JSON.stringify(address)}: not an IPv4 address` });
    return;
  }
  const state = bindingState(b);
  if (state && !HELD.has(state)) return; // abandoned, backup, reset: nobody's
  const hw = stmt(b, 'hardware');
  const uid = stmt(b, 'uid');
  const remote = b.statements.find((s) => s[0]?.t === 'option' && s[1]?.t === 'agent.remote-id');
  // The relay's remote-id names the subscriber line where the access network sets it.
  const subscriber = remote?.[2]?.t ?? hw?.[2]?.t?.toLowerCase() ?? uid?.[1]?.t;
  if (!subscriber) {
    errors.push({ file, line: b.line, message: `lease ${address}: no hardware, uid or agent.remote-id` });
    return;
  }
  const starts = when(b, 'starts', file, errors);
  const ends = when(b, 'ends', file, errors);
  if (starts === undefined || starts === null) {
    errors.push({ file, line: b.line, message: `lease ${address}: no readable starts` });
    return;
  }
  if (ends === undefined) {
    errors.push({ file, line: b.line, message: `lease ${address}: no readable ends` });
    return;
  }
  sink.record({ prefix: address, subscriber, from: starts, to: ends ?? Number.MAX_SAFE_INTEGER }, b.line);
}

function iaBlock(b: Block, file: string, sink: ParseSink<LeaseRecord>, errors: LineError[]): void {
  const id = b.head[1]?.t;
  if (!id) {
    errors.push({ file, line: b.line, message: `${b.head[0].t} without an IAID-DUID` });
    return;
  }
  const cltt = when(b, 'cltt', file, errors);
  for (const a of b.blocks) {
    const kind = a.head[0]?.t;
    if (kind !== 'iaaddr' && kind !== 'iaprefix') continue;
    const prefix = a.head[1]?.t ?? '';
    const addr = prefix.split('/')[0];
    if (!ipaddr.IPv6.isValid(addr) || (kind === 'iaprefix' && !/\/\d{1,3}$/.test(prefix))) {
      errors.push({
        file,
        line: a.line,
        message: `${kind} ${JSON.stringify(prefix)}: not an IPv6 ${kind === 'iaprefix' ? 'prefix' : 'address'}`,
      });
      continue;
    }
    const state = bindingState(a);
    if (state && !HELD.has(state)) continue;
    const ends = when(a, 'ends', file, errors);
    const maxLife = Number(stmt(a, 'max-life')?.[1]?.t);
    const from = cltt ?? (typeof ends === 'number' && Number.isFinite(maxLife) ? ends - maxLife * 1000 : undefined);
    if (from === undefined || from === null || ends === undefined) {
      errors.push({ file, line: a.line, message: `${kind} ${prefix}: needs cltt (or max-life) and ends` });
      continue;
    }
    sink.record({ prefix, subscriber: id, from, to: ends ?? Number.MAX_SAFE_INTEGER }, a.line);
  }
}
