/**
 * The external sender of `pnpm bench:ingest --e2e`: its own process (so the collector under
 * test shares the box, not the thread), NetFlow v9 from EXPORTERS routers (one socket each,
 * bound to 127.0.1.N so every router is its own exporter with its own templates), paced in
 * 1 ms slices at RATE records/s for SECONDS. The traffic is the mixed scenario (background,
 * attacks and their look-alikes) encoded once up front and looped.
 *
 * argv: PORT RATE SECONDS EXPORTERS. Prints `start` when its clock starts, then one JSON line: { records, datagrams, errors, seconds, cpuMs }.
 */
import dgram from 'node:dgram';
import { FlowDecoder } from '../src/ingest/decoder.js';
import { NetflowV9Encoder } from '../src/sim/encoders/netflow-v9.js';
import { mixedScenario } from '../src/sim/scenarios/library.js';
import type { SimFlow } from '../src/sim/sim-flow.js';

const [port, rate, seconds, exporters] = process.argv.slice(2, 6).map(Number);
if (![port, rate, seconds, exporters].every((n) => Number.isFinite(n) && n > 0))
  throw new Error('usage: netflow-sender PORT RATE SECONDS EXPORTERS');

/** Records in the looped pool: enough distinct flows that the detectors see a real mix. */
const POOL_RECORDS = 240_000;

interface Out {
  payload: Uint8Array;
  exporter: number;
}

function buildPool(): Out[] {
  const scenario = mixedScenario(1);
  const now = Date.now();
  const encoders = Array.from({ length: exporters }, () => new NetflowV9Encoder({ templateEvery: 1e9 }));
  const perExporter: Out[][] = encoders.map(() => []);
  let total = 0;
  // Seconds 60–70 of the mix: background plus a fan-in DDoS and spam bots under way.
  for (let s = 60; total < POOL_RECORDS; s++) {
    const flows: SimFlow[] = scenario.flows(s % scenario.durationSeconds, now);
    const share = Math.ceil(flows.length / exporters);
    encoders.forEach((enc, e) => {
      for (const payload of enc.encode(flows.slice(e * share, (e + 1) * share), now)) {
        perExporter[e].push({ payload, exporter: e });
        // the header's count (templates included): near enough to size the pool
        total += new DataView(payload.buffer, payload.byteOffset).getUint16(2);
      }
    });
  }
  // Interleave the routers, as a collector facing many of them sees them.
  const out: Out[] = [];
  for (let i = 0; perExporter.some((l) => i < l.length); i++)
    for (const l of perExporter) if (i < l.length) out.push(l[i]);
  return out;
}

async function main(): Promise<void> {
  const pool = buildPool();
  // v9's count covers template records too: count data records as a decoder sees them.
  const decoder = new FlowDecoder({ pendingMs: 0, batchCapacity: 1 << 16 });
  const dataRecords = pool.map((d) => {
    const n = decoder.decode(d.payload, `127.0.1.${d.exporter + 1}`, Date.now());
    decoder.batch.length = 0;
    return n;
  });
  const perDatagram = dataRecords.reduce((a, b) => a + b, 0) / pool.length;
  const socks = await Promise.all(
    Array.from(
      { length: exporters },
      (_, e) =>
        new Promise<dgram.Socket>((resolve, reject) => {
          const s = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
          s.once('error', reject);
          s.bind(0, `127.0.1.${e + 1}`, () => resolve(s));
        }),
    ),
  );
  // the collector's CPU is measured from this line on: pool building is not the window
  process.stdout.write('start\n');
  const cpu0 = process.cpuUsage();
  const perMs = rate / perDatagram / 1000;
  const t0 = performance.now();
  let sent = 0;
  let i = 0;
  let inflight = 0;
  let records = 0;
  let errors = 0;
  const done = (): void => {
    const c = process.cpuUsage(cpu0);
    for (const s of socks) s.close();
    process.stdout.write(
      `${JSON.stringify({ records, datagrams: sent, errors, seconds: (performance.now() - t0) / 1000, cpuMs: (c.user + c.system) / 1000 })}\n`,
    );
  };
  const tick = (): void => {
    const el = performance.now() - t0;
    if (el >= seconds * 1000) {
      const wait = (): unknown => (inflight > 0 ? setTimeout(wait, 5) : done());
      wait();
      return;
    }
    const due = Math.floor(el * perMs);
    while (sent < due && inflight < 4096) {
      const d = pool[i];
      inflight++;
      socks[d.exporter].send(d.payload, port, '127.0.0.1', (err) => {
        inflight--;
        if (err) errors++;
      });
      records += dataRecords[i];
      i = (i + 1) % pool.length;
      sent++;
    }
    // sleep between slices: a spinning sender would take a core from the collector under test
    setTimeout(tick, 1);
  };
  tick();
}

await main();
