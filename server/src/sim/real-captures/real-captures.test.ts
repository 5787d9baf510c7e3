import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncidentDetail } from '@downstream/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAW_CAPTURES_DIR, REAL_CAPTURES, captureDetectability, type CaptureSpec } from './catalogue.js';
import {
  pmacctNfprobeFile,
  pmacctdPath,
  softflowdPath,
  softflowdSeconds,
  startPmacctProbe,
  type PmacctProbe,
} from './exporters.js';
import { bucketSeconds, replayIntoServer, type ServerRun } from './replay-into-server.js';
import { retimeCapture, type RetimedCapture } from './retime.js';

/**
 * Real attack traffic end to end: each real capture in ../shared/data/captures/raw/ retimed onto
 * a customer host at tens of thousands of packets/s over the library's background, metered by
 * the real exporters — softflowd (NetFlow v9) and pmacctd's sfprobe (sFlow v5, 1:100) — and
 * replayed into a full Downstream server. Each must open the right kind on the right host.
 */
const rawDir = fileURLToPath(new URL(`../../../../${RAW_CAPTURES_DIR}`, import.meta.url));
const missing = [
  !existsSync(rawDir) && `${rawDir} (the shared real captures)`,
  !softflowdPath() && 'softflowd (Debian package softflowd)',
  !pmacctdPath() && 'pmacctd (Debian package pmacct)',
].filter(Boolean);
if (missing.length > 0) console.warn(`real-captures test skipped: missing ${missing.join(', ')}`);

// Every capture is found in its first attack second (v9 and sFlow 1:100); six seconds also show
// that it keeps its kind while the attack lasts.
const ATTACK_SECONDS = 6;
const LEAD_SECONDS = 2;
const SFLOW_RATE = 100;

/** Incidents that concern the capture's customer host: as the target, or as a listed outbound source. */
function concerning(spec: CaptureSpec, details: IncidentDetail[]): IncidentDetail[] {
  return details.filter((d) =>
    spec.direction === 'inbound'
      ? d.target?.ip === spec.customerHost
      : d.direction === 'outbound' && d.sources.top.some((s) => s.ip === spec.customerHost),
  );
}

describe.skipIf(missing.length > 0)('real attack captures through real exporters into Downstream', () => {
  let dir: string;
  let probe: PmacctProbe;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ds-rc-'));
    probe = await startPmacctProbe({ plugin: 'sfprobe', samplingRate: SFLOW_RATE, dir });
  });
  afterAll(async () => {
    await probe?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const check = async (_id: string, spec: CaptureSpec): Promise<ServerRun[]> => {
    const startMs = Math.floor(Date.now() / 1000) * 1000;
    const cap: RetimedCapture = retimeCapture(spec, {
      rawDir,
      seconds: ATTACK_SECONDS,
      leadSeconds: LEAD_SECONDS,
      startMs,
    });
    expect(cap.attackPackets).toBe(spec.pps * ATTACK_SECONDS);
    // The exporters are separate processes, and each feed gets its own server: all at once.
    const [v9, sflow, nfprobe] = await Promise.all([
      softflowdSeconds(cap.seconds, { protocol: 'netflow-v9', samplingRate: 1, dir }),
      probe.meter(cap.seconds),
      pmacctNfprobeFile(cap.seconds, { version: 10, samplingRate: 1, dir }),
    ]);
    const feeds = [
      ['netflow-v9', v9],
      ['sflow-v5', sflow],
      ['ipfix', bucketSeconds(nfprobe, { startMs, seconds: cap.seconds.length })],
    ] as const;
    const runs = await Promise.all(
      feeds.map(([protocol, seconds]) => {
        // The exporters' output is spread over the capture's seconds (nfprobe's, bucketed by
        // record end, can leave a second empty where one datagram mixes records of two).
        const attackSeconds = seconds.slice(LEAD_SECONDS);
        expect(
          protocol === 'ipfix' ? attackSeconds.filter((s) => s.length > 0).length : attackSeconds.length,
          protocol,
        ).toBeGreaterThanOrEqual(attackSeconds.length - (protocol === 'ipfix' ? 2 : 0));
        return replayIntoServer(seconds, { protocol, startMs });
      }),
    );
    const seen: string[] = [];
    const expected: string[] = [];
    feeds.forEach(([protocol], i) => {
      const run = runs[i];
      expect(run.records, protocol).toBeGreaterThan(0);
      const mine = concerning(spec, run.details);
      const rate = protocol === 'sflow-v5' ? SFLOW_RATE : 1;
      const { detectable, why } = captureDetectability(spec, { seconds: ATTACK_SECONDS, copies: cap.copies, rate });
      // What sampling leaves of an attack can be too little to tell (nmap's half-open probes are
      // two-packet flows: at 1:100 none is sampled whole); then nothing may be raised on the host.
      expected.push(`${protocol}: ${detectable ? spec.kind : `nothing (not detectable: ${why})`}`);
      const kinds = [...new Set(mine.map((d) => d.kind))].join(', ');
      seen.push(`${protocol}: ${kinds ? kinds : `nothing${detectable ? '' : ` (not detectable: ${why})`}`}`);
      for (const d of mine) {
        expect(d.direction).toBe(spec.direction);
        expect(d.evidence.samplingRate).toBe(rate);
        expect(typeof d.evidence.reason).toBe('string');
        // Fragmented answers are reflection from IP fragments too, over IPv4 and IPv6 — except
        // from nfprobe, which gives non-first fragments the ports of their first (pmacct tracks them).
        if (spec.id.startsWith('dns-rrsig') && protocol !== 'ipfix') expect(d.evidence.reason).toMatch(/IP fragments/);
      }
    });
    // Every feed where the attack is detectable: at least one incident on the host, and all of
    // them of the right kind.
    expect(seen).toEqual(expected);
    return runs;
  };
  const title =
    '%s: right kind on the right customer host over NetFlow v9 (softflowd), sFlow 1:100 (pmacctd sfprobe) and IPFIX (pmacctd nfprobe)';
  it.each(REAL_CAPTURES.filter((c) => c.id !== 'nmap-aggressive').map((c) => [c.id, c] as const))(
    title,
    async (id, spec) => {
      await check(id, spec);
    },
    120_000,
  );
  it('nmap-aggressive: scanner on NetFlow v9 and IPFIX by its half-open probes; at sFlow 1:100 not detectable, and nothing raised', async () => {
    const spec = REAL_CAPTURES.find((c) => c.id === 'nmap-aggressive')!;
    const [v9] = await check(spec.id, spec);
    const scan = concerning(spec, v9.details).find((d) => d.kind === 'scanner')!;
    expect(scan.evidence.halfOpenTargets as number).toBeGreaterThanOrEqual(20);
    expect(scan.evidence.reason).toMatch(
      /of \d+ hosts contacted in \d+ s got half-open probes: a SYN, then a reset without ACK/,
    );
  }, 120_000);
});
