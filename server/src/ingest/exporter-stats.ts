import type { ExporterHealth, FlowProtocol } from '@downstream/shared';

/** Why a datagram (or part of one) could not be decoded; the label of the error counters. */
export type DecodeErrorReason =
  | 'truncated'
  | 'bad-version'
  | 'bad-header'
  | 'bad-set'
  | 'bad-template'
  | 'template-limit'
  | 'unknown-template'
  | 'pending-expired'
  | 'pending-overflow'
  | 'bad-sample'
  | 'bad-record'
  | 'exporter-limit';

/** Counters of one (exporter address, protocol). Plain numbers: updated per datagram, read on scrape. */
export class ExporterStats {
  datagrams = 0;
  records = 0;
  /** Options data records (v9/IPFIX) and counter samples (sFlow): read, not flows. */
  optionRecords = 0;
  counterSamples = 0;
  decodeErrors = 0;
  sequenceGaps = 0;
  /** Records (IPFIX, v5) or datagrams (v9, sFlow) the sequence numbers say were lost. */
  lost = 0;
  restarts = 0;
  templates = 0;
  lastSeen = 0;
  readonly errorsByReason = new Map<DecodeErrorReason, number>();

  constructor(
    readonly address: string,
    readonly protocol: FlowProtocol,
  ) {}

  error(reason: DecodeErrorReason, n = 1): void {
    this.decodeErrors += n;
    this.errorsByReason.set(reason, (this.errorsByReason.get(reason) ?? 0) + n);
  }

  toHealth(): ExporterHealth {
    const errorsByReason: Record<string, number> = {};
    for (const [k, v] of this.errorsByReason) errorsByReason[k] = v;
    return {
      address: this.address,
      protocol: this.protocol,
      lastSeen: new Date(this.lastSeen || 0).toISOString(),
      datagrams: this.datagrams,
      records: this.records,
      decodeErrors: this.decodeErrors,
      sequenceGaps: this.sequenceGaps,
      errorsByReason,
      templates: this.templates,
    };
  }
}

/** Beyond this many missing sequence numbers at once, a jump is read as a restart or a resync, not loss. */
const MAX_PLAUSIBLE_GAP_DATAGRAMS = 10_000;
const MAX_PLAUSIBLE_GAP_RECORDS = 1_000_000;
/** A step back by at most this much is UDP reordering; further back is a restart. */
const REORDER_WINDOW_DATAGRAMS = 64;
const REORDER_WINDOW_RECORDS = 10_000;

/**
 * Sequence tracking for one stream (exporter + source id / observation domain / engine / sub-agent).
 * All arithmetic is modulo 2^32. A backwards jump, an implausibly large forward jump or an uptime
 * that went backwards is an exporter restart: the baseline is reset and no loss is reported.
 */
export class SequenceTracker {
  private expected = -1;
  private lastUptime = -1;

  /**
   * `seq` is the header's sequence number; `advance` how far the next one should be (1 for
   * per-datagram sequences, the record count for per-record ones, -1 when unknown because some
   * records could not be counted). `uptime` (ms, -1 if the protocol has none) detects restarts.
   * Returns the number of lost units (0 when none or on restart), or -1 on a detected restart.
   */
  observe(seq: number, advance: number, perRecord: boolean, uptime = -1): number {
    let result = 0;
    const restartedByUptime =
      // backwards by more than reordering could explain
      uptime >= 0 &&
      this.lastUptime >= 0 &&
      this.lastUptime - uptime > 10_000 &&
      this.lastUptime - uptime < 0x80000000 &&
      // an uptime wrap (2^32 ms ≈ 49.7 days) also runs backwards; a wrap lands near 0 from near 2^32
      !(this.lastUptime > 0xf0000000 && uptime < 0x10000000);
    if (restartedByUptime) {
      result = -1;
    } else if (this.expected >= 0) {
      const diff = (seq - this.expected) >>> 0;
      if (diff !== 0) {
        const max = perRecord ? MAX_PLAUSIBLE_GAP_RECORDS : MAX_PLAUSIBLE_GAP_DATAGRAMS;
        if (diff < 0x80000000 && diff <= max) result = diff;
        else if (diff < 0x80000000) result = -1;
        else if (0x100000000 - diff > (perRecord ? REORDER_WINDOW_RECORDS : REORDER_WINDOW_DATAGRAMS)) result = -1;
        else {
          // a small step backwards is reordering or a duplicate, not loss: keep the expectation
          if (uptime >= 0) this.lastUptime = Math.max(this.lastUptime, uptime);
          return 0;
        }
      }
    }
    if (uptime >= 0) this.lastUptime = uptime;
    this.expected = advance >= 0 ? (seq + advance) >>> 0 : -1;
    return result;
  }
}
