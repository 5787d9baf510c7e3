import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqlDb } from '../store/sql-db.js';
import type { AuditRecord } from '../store/types.js';
import { ACTIONS_ENGINES } from '../testing/actions-db.js';
import { fakeContext, sampleIncident } from '../testing/recording-context.js';
import { Actions } from './actions.js';
import { ActionsConfig } from './config.js';
import { exabgpLines, MitigationError } from './exabgp.js';
import { Mitigator } from './mitigation.js';

const dirs: string[] = [];
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mitigation-'));
  dirs.push(d);
  return d;
}

/** A FIFO with a non-blocking reader standing in for ExaBGP. */
function fifo(dir: string) {
  const path = join(dir, 'exabgp.cmd');
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  fds.push(fd);
  const read = (): string => {
    const buf = Buffer.alloc(65536);
    try {
      const n = readSync(fd, buf, 0, buf.length, null);
      return buf.toString('utf8', 0, n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return '';
      throw err;
    }
  };
  return { path, read };
}

const mitigationConfig = (raw: Record<string, unknown>) => ActionsConfig.parse({ mitigation: raw }).mitigation;

describe('ExaBGP lines', () => {
  const cfg = mitigationConfig({ enabled: true, pipe: '/x' });
  it('RTBH announce/withdraw exactly as the ExaBGP API expects', () => {
    expect(exabgpLines(sampleIncident(), { type: 'rtbh', action: 'discard' }, cfg)).toEqual({
      prefix: '198.51.100.7/32',
      announce: 'announce route 198.51.100.7/32 next-hop 192.0.2.1 community [65535:666]',
      withdraw: 'withdraw route 198.51.100.7/32 next-hop 192.0.2.1',
    });
    const v6 = exabgpLines(
      sampleIncident({ target: { ip: '2001:db8::7' } }),
      { type: 'rtbh', action: 'discard' },
      mitigationConfig({
        enabled: true,
        pipe: '/x',
        neighbor: '192.0.2.254',
        rtbh: { next_hop: '2001:db8::1', communities: ['65535:666', '64500:9999'] },
      }),
    );
    expect(v6.announce).toBe(
      'neighbor 192.0.2.254 announce route 2001:db8::7/128 next-hop 2001:db8::1 community [65535:666 64500:9999]',
    );
  });

  it('FlowSpec discard and rate-limit, with protocol and reflector source ports for amplification', () => {
    expect(exabgpLines(sampleIncident(), { type: 'flowspec', action: 'discard' }, cfg).announce).toBe(
      'announce flow route { match { destination 198.51.100.7/32; protocol tcp; destination-port =80; } then { discard; } }',
    );
    const amp = sampleIncident({
      kind: 'amplification',
      evidence: {
        protocols: [{ proto: 17, share: 0.99 }],
        ports: [
          { port: 123, share: 0.6 },
          { port: 53, share: 0.3 },
          { port: 4444, share: 0.1 },
        ],
      },
    });
    const l = exabgpLines(amp, { type: 'flowspec', action: 'rate-limit', rateLimit: 125000 }, cfg);
    expect(l.announce).toBe(
      'announce flow route { match { destination 198.51.100.7/32; protocol udp; source-port [ =53 =123 ]; } then { rate-limit 125000; } }',
    );
    expect(l.withdraw).toBe(
      'withdraw flow route { match { destination 198.51.100.7/32; protocol udp; source-port [ =53 =123 ]; } then { rate-limit 125000; } }',
    );
    // IPv6 FlowSpec (RFC 8956): next-header instead of protocol; ports only when they carry the attack.
    const v6 = sampleIncident({
      kind: 'volumetric',
      target: { ip: '2001:db8::7' },
      evidence: {
        protocols: [{ proto: 17, share: 0.95 }],
        ports: [
          { port: 443, share: 0.5 },
          { port: 80, share: 0.45 },
        ],
      },
    });
    expect(exabgpLines(v6, { type: 'flowspec', action: 'discard' }, cfg).announce).toBe(
      'announce flow route { match { destination 2001:db8::7/128; next-header udp; destination-port [ =80 =443 ]; } then { discard; } }',
    );
    const spread = { ...v6, evidence: { ...v6.evidence, ports: [{ port: 443, share: 0.3 }] } };
    expect(exabgpLines(spread, { type: 'flowspec', action: 'discard' }, cfg).announce).toBe(
      'announce flow route { match { destination 2001:db8::7/128; next-header udp; } then { discard; } }',
    );
    expect(exabgpLines(v6, { type: 'rtbh', action: 'discard' }, cfg).announce).toBe(
      'announce route 2001:db8::7/128 next-hop 100::1 community [65535:666]',
    );
    expect(() => exabgpLines(sampleIncident({ target: undefined }), { type: 'rtbh', action: 'discard' }, cfg)).toThrow(
      MitigationError,
    );
  });
});

describe('Mitigation through a FIFO', () => {
  it('announces on operator request, withdraws on resolve, audits both, marks the incident mitigating', async () => {
    const dir = tmp();
    const pipe = fifo(dir);
    const ctx = fakeContext({ storage: { path: dir }, actions: { mitigation: { enabled: true, pipe: pipe.path } } });
    const inc = sampleIncident();
    ctx.incidentMap.set(inc.id, inc);
    const actions = new Actions(ctx);
    const m = await actions.mitigate(inc.id, { type: 'rtbh', action: 'discard', note: 'customer asked' }, 'alice');
    expect(pipe.read()).toBe('announce route 198.51.100.7/32 next-hop 192.0.2.1 community [65535:666]\n');
    expect(m).toMatchObject({ incidentId: inc.id, type: 'rtbh', announcedBy: 'alice', withdrawnAt: null });
    expect(ctx.incidentMap.get(inc.id)!.status).toBe('mitigating');
    // The same request again is the same mitigation, not a second announce.
    await actions.mitigate(inc.id, { type: 'rtbh', action: 'discard' }, 'bob');
    expect(pipe.read()).toBe('');

    ctx.emit('resolved', { ...inc, status: 'resolved' });
    await actions.mitigator.withdrawAll('nothing', 'x'); // waits for the queued withdraw
    expect(pipe.read()).toBe('withdraw route 198.51.100.7/32 next-hop 192.0.2.1\n');
    expect((await actions.mitigator.list(inc.id))[0]).toMatchObject({ withdrawnBy: 'system' });
    expect(ctx.audit.map((a) => [a.action, a.by, a.incidentId, a.detail])).toEqual([
      [
        'mitigation.announce.rtbh',
        'alice',
        inc.id,
        'announce route 198.51.100.7/32 next-hop 192.0.2.1 community [65535:666] — customer asked',
      ],
      [
        'mitigation.withdraw.rtbh',
        'system',
        inc.id,
        'withdraw route 198.51.100.7/32 next-hop 192.0.2.1 — incident resolved',
      ],
    ]);
    await actions.close();
  });

  it('withdraws at start-up what is still announced for an incident that resolved while down', async () => {
    const dir = tmp();
    const pipe = fifo(dir);
    const raw = { storage: { path: dir }, actions: { mitigation: { enabled: true, pipe: pipe.path } } };
    const first = fakeContext(raw);
    const inc = sampleIncident();
    first.incidentMap.set(inc.id, inc);
    const firstActions = new Actions(first);
    await firstActions.mitigate(inc.id, { type: 'rtbh', action: 'discard' }, 'alice');
    await firstActions.close();
    expect(pipe.read()).toMatch(/^announce route/);

    const still = fakeContext(raw); // incident still open after restart: nothing withdrawn
    still.incidentMap.set(inc.id, inc);
    const stillActions = new Actions(still);
    await stillActions.reconciled;
    await stillActions.mitigator.withdrawAll('none', 'x');
    expect(pipe.read()).toBe('');
    await stillActions.close();

    const after = fakeContext(raw);
    after.incidentMap.set(inc.id, { ...inc, status: 'resolved' });
    const afterActions = new Actions(after);
    await afterActions.reconciled;
    await afterActions.mitigator.withdrawAll('none', 'x');
    expect(pipe.read()).toBe('withdraw route 198.51.100.7/32 next-hop 192.0.2.1\n');
    expect(after.audit[0]).toMatchObject({
      action: 'mitigation.withdraw.rtbh',
      by: 'system',
      detail: expect.stringContaining('while Downstream was down'),
    });
    await afterActions.close();
  });

  it('is never automatic unless configured, and automatic when it is', async () => {
    const dir = tmp();
    const pipe = fifo(dir);
    const off = fakeContext({
      storage: { path: join(dir, 'a') },
      actions: { mitigation: { enabled: true, pipe: pipe.path } },
    });
    const offActions = new Actions(off);
    off.emit('upsert', sampleIncident({ severity: 'critical' }));
    await offActions.settled();
    await offActions.mitigator.withdrawAll('none', 'x');
    expect(pipe.read()).toBe('');
    await offActions.close();

    const on = fakeContext({
      storage: { path: join(dir, 'b') },
      actions: {
        mitigation: {
          enabled: true,
          pipe: pipe.path,
          auto: { enabled: true, type: 'flowspec', min_severity: 'critical' },
        },
      },
    });
    const onActions = new Actions(on);
    on.emit('upsert', sampleIncident({ id: 'low', severity: 'high' }));
    on.emit('upsert', sampleIncident({ id: 'crit', severity: 'critical', target: { ip: '198.51.100.9' } }));
    on.emit('upsert', sampleIncident({ id: 'crit', severity: 'critical', target: { ip: '198.51.100.9' } }));
    on.emit('upsert', sampleIncident({ id: 'out', severity: 'critical', kind: 'scanner', direction: 'outbound' }));
    await onActions.settled(); // the automatic mitigation asks the database first
    await onActions.mitigator.withdrawAll('none', 'x');
    expect(pipe.read()).toBe(
      'announce flow route { match { destination 198.51.100.9/32; protocol tcp; destination-port =80; } then { discard; } }\n',
    );
    expect(on.audit[0]).toMatchObject({ by: 'auto', action: 'mitigation.announce.flowspec', incidentId: 'crit' });
    await onActions.close();
  });

  it('fails clearly when nothing reads the pipe, and refuses outbound incidents', async () => {
    const dir = tmp();
    const path = join(dir, 'exabgp.cmd');
    execFileSync('mkfifo', [path]);
    const ctx = fakeContext({ storage: { path: dir }, actions: { mitigation: { enabled: true, pipe: path } } });
    const inc = sampleIncident();
    ctx.incidentMap.set(inc.id, inc);
    const actions = new Actions(ctx);
    await expect(actions.mitigate(inc.id, { type: 'rtbh', action: 'discard' }, 'a')).rejects.toThrow(
      /nothing is reading/,
    );
    const out = sampleIncident({ id: 'o', direction: 'outbound', kind: 'spam-bot' });
    ctx.incidentMap.set('o', out);
    await expect(actions.mitigate('o', { type: 'rtbh', action: 'discard' }, 'a')).rejects.toThrow(/only inbound/);
    expect(ctx.audit).toHaveLength(0);
    await actions.close();
  });

  it('can hand lines to a command instead of a pipe', async () => {
    const dir = tmp();
    const out = join(dir, 'lines.txt');
    const ctx = fakeContext({
      storage: { path: dir },
      actions: { mitigation: { enabled: true, command: ['sh', '-c', `cat >> '${out}'`] } },
    });
    const inc = sampleIncident();
    ctx.incidentMap.set(inc.id, inc);
    const actions = new Actions(ctx);
    await actions.mitigate(inc.id, { type: 'rtbh', action: 'discard' }, 'a');
    await actions.withdraw(inc.id, 'b');
    expect(readFileSync(out, 'utf8')).toBe(
      'announce route 198.51.100.7/32 next-hop 192.0.2.1 community [65535:666]\nwithdraw route 198.51.100.7/32 next-hop 192.0.2.1\n',
    );
    await actions.close();
  });
});

/** The Mitigator on each engine of the actions database: rows, dedupe, withdraw, restart. */
for (const engine of ACTIONS_ENGINES) {
  describe(`Mitigator (${engine.name})`, () => {
    const sent: string[] = [];
    const audit: AuditRecord[] = [];
    afterEach(() => {
      sent.length = 0;
      audit.length = 0;
    });
    let clock = Date.parse('2026-11-24T21:10:00Z');
    const mitigator = (db: SqlDb, raw: Record<string, unknown> = {}) =>
      new Mitigator({
        db,
        config: mitigationConfig({ enabled: true, pipe: '/unused', ...raw }),
        store: { appendAudit: async (e) => void audit.push(e) },
        sink: { send: async (line) => void sent.push(line) },
        now: () => (clock += 1000),
      });

    it('announces once per line, lists newest first, withdraws and audits', async () => {
      const { db } = await engine.fresh();
      const m = mitigator(db);
      const inc = sampleIncident();
      const other = sampleIncident({ id: 'other', target: { ip: '198.51.100.9' } });
      const rtbh = await m.mitigate(inc, { type: 'rtbh', action: 'discard', note: 'customer asked' }, 'alice');
      expect(rtbh).toMatchObject({
        incidentId: inc.id,
        type: 'rtbh',
        prefix: '198.51.100.7/32',
        announce: 'announce route 198.51.100.7/32 next-hop 192.0.2.1 community [65535:666]',
        withdraw: 'withdraw route 198.51.100.7/32 next-hop 192.0.2.1',
        announcedBy: 'alice',
        withdrawnAt: null,
        withdrawnBy: null,
      });
      expect(typeof rtbh.id).toBe('number');
      expect(rtbh.announcedAt).toMatch(/^2026-11-24T21:10:\d\d\.000Z$/);
      // The same request twice at once is one announce and one row (announce/withdraw are serialised).
      const [a, b] = await Promise.all([
        m.mitigate(inc, { type: 'flowspec', action: 'discard' }, 'bob'),
        m.mitigate(inc, { type: 'flowspec', action: 'discard' }, 'carol'),
      ]);
      expect(b).toEqual(a);
      await m.mitigate(other, { type: 'rtbh', action: 'discard' }, 'dave');
      expect(sent).toHaveLength(3);
      const all = await m.list();
      expect(all.map((x) => [x.incidentId, x.type, x.announcedBy])).toEqual([
        ['other', 'rtbh', 'dave'],
        [inc.id, 'flowspec', 'bob'],
        [inc.id, 'rtbh', 'alice'],
      ]);
      expect((await m.list(inc.id)).map((x) => x.type)).toEqual(['flowspec', 'rtbh']);

      const done = await m.withdrawAll(inc.id, 'erin', 'attack over');
      expect(done.map((x) => [x.type, x.withdrawnBy])).toEqual([
        ['flowspec', 'erin'],
        ['rtbh', 'erin'],
      ]);
      expect(sent.slice(3)).toEqual([a.withdraw, rtbh.withdraw]);
      expect(await m.list(inc.id, true)).toEqual([]);
      expect((await m.list(inc.id)).map((x) => x.withdrawnBy)).toEqual(['erin', 'erin']);
      expect((await m.list(undefined, true)).map((x) => x.incidentId)).toEqual(['other']);
      expect(await m.withdrawAll(inc.id, 'erin')).toEqual([]); // nothing left to withdraw
      expect(audit.map((e) => [e.action, e.by, e.incidentId])).toEqual([
        ['mitigation.announce.rtbh', 'alice', inc.id],
        ['mitigation.announce.flowspec', 'bob', inc.id],
        ['mitigation.announce.rtbh', 'dave', 'other'],
        ['mitigation.withdraw.flowspec', 'erin', inc.id],
        ['mitigation.withdraw.rtbh', 'erin', inc.id],
      ]);
      expect(audit[0]!.detail).toBe(`${rtbh.announce} — customer asked`);
      expect(audit[4]!.detail).toBe(`${rtbh.withdraw} — attack over`);
      // Withdrawn, the same request is announced again: a new row.
      const again = await m.mitigate(inc, { type: 'rtbh', action: 'discard' }, 'frank');
      expect(again.id).not.toBe(rtbh.id);
      expect((await m.list(inc.id, true)).map((x) => x.announcedBy)).toEqual(['frank']);
      await db.close();
    });

    it('keeps announced routes across a restart, so a new process can withdraw them', async () => {
      const { db, reopen } = await engine.fresh();
      const inc = sampleIncident();
      const first = await mitigator(db).mitigate(inc, { type: 'rtbh', action: 'discard' }, 'alice');
      await db.close();

      const again = await reopen();
      const m = mitigator(again);
      expect(await m.list(undefined, true)).toEqual([first]);
      // Still announced: the same request is not announced a second time.
      expect(await m.mitigate(inc, { type: 'rtbh', action: 'discard' }, 'bob')).toEqual(first);
      expect(sent).toEqual([first.announce]);
      const [w] = await m.withdrawAll(inc.id, 'system', 'incident resolved while Downstream was down');
      expect(w).toMatchObject({ id: first.id, withdrawnBy: 'system' });
      expect(sent).toEqual([first.announce, first.withdraw]);
      await again.close();

      const third = await reopen();
      const rows = await mitigator(third).list(inc.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: first.id, withdrawnBy: 'system', withdrawnAt: w!.withdrawnAt });
      await third.close();
    });

    it('announces and withdraws once when two processes share the table and act at once', async () => {
      const { db, reopen } = await engine.fresh();
      const otherDb = await reopen();
      const a = mitigator(db);
      const b = mitigator(otherDb);
      const inc = sampleIncident();
      // Two operators on two API processes press the same button; then the incident resolves and
      // every process withdraws what is announced for it.
      const [x, y] = await Promise.all([
        a.mitigate(inc, { type: 'rtbh', action: 'discard' }, 'alice'),
        b.mitigate(inc, { type: 'rtbh', action: 'discard' }, 'bob'),
      ]);
      expect(y.id).toBe(x.id);
      expect(sent).toEqual([x.announce]);
      expect(await b.list(inc.id)).toHaveLength(1);
      const [wa, wb] = await Promise.all([a.withdrawAll(inc.id, 'system'), b.withdrawAll(inc.id, 'system')]);
      expect(wa.length + wb.length).toBe(1);
      expect(sent).toEqual([x.announce, x.withdraw]);
      expect(audit.filter((e) => e.action === 'mitigation.withdraw.rtbh')).toHaveLength(1);
      expect(await a.list(inc.id, true)).toEqual([]);
      await otherDb.close();
      await db.close();
    });

    it('keeps no row for a route the sink refused, and the route active when its withdraw was refused', async () => {
      const { db } = await engine.fresh();
      let fail = true;
      const m = new Mitigator({
        db,
        config: mitigationConfig({ enabled: true, pipe: '/unused' }),
        store: { appendAudit: async (e) => void audit.push(e) },
        sink: {
          send: async (line) => {
            if (fail) throw new Error('exabgp pipe closed');
            sent.push(line);
          },
        },
      });
      const inc = sampleIncident();
      await expect(m.mitigate(inc, { type: 'rtbh', action: 'discard' }, 'alice')).rejects.toThrow('exabgp pipe closed');
      expect(await m.list(inc.id)).toEqual([]);
      fail = false;
      const row = await m.mitigate(inc, { type: 'rtbh', action: 'discard' }, 'alice');
      fail = true;
      await expect(m.withdrawAll(inc.id, 'bob')).rejects.toThrow('exabgp pipe closed');
      expect(await m.list(inc.id, true)).toEqual([row]);
      await db.close();
    });

    it('is automatic only when configured, once per incident', async () => {
      const { db } = await engine.fresh();
      const crit = sampleIncident({ severity: 'critical' });
      const off = mitigator(db);
      expect(await off.shouldAuto(crit)).toBe(false);
      const m = mitigator(db, { auto: { enabled: true, min_severity: 'high' } });
      expect(await m.shouldAuto(sampleIncident({ severity: 'medium' }))).toBe(false);
      expect(await m.shouldAuto(sampleIncident({ kind: 'scanner', direction: 'outbound' }))).toBe(false);
      expect(await m.shouldAuto({ ...crit, status: 'resolved' })).toBe(false);
      expect(await m.shouldAuto(crit)).toBe(true);
      await m.mitigate(crit, { type: 'rtbh', action: 'discard' }, 'auto');
      expect(await m.shouldAuto(crit)).toBe(false);
      // An operator's withdraw is not undone by the next update.
      await m.withdrawAll(crit.id, 'alice');
      expect(await m.shouldAuto(crit)).toBe(false);
      expect(await m.shouldAuto(sampleIncident({ id: 'other', severity: 'high' }))).toBe(true);
      await db.close();
    });
  });
}
