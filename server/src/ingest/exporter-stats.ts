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
  | 'pending-evicted'
  | 'bad-sample'
  | 'bad-record'
  | 'exporter-limit'
  | 'internal-error';

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
  /** sFlow: samples the agent says it dropped (its `drops` counters), made up for by scaling. */
  sampleDrops = 0;
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
      ...(this.protocol === 'sflow-v5' ? { sampleDrops: this.sampleDrops } : {}),
    };
  }
}

/** Beyond this many missing sequence numbers at once, a jump is read as a restart or a resync, not loss. */
const MAX_PLAUSIBLE_GAP_DATAGRAMS = 10_000;
const MAX_PLAUSIBLE_GAP_RECORDS = 1_000_000;
/** A step back by at most this much is UDP reordering; further back is a restart. */
const REORDER_WINDOW_DATAGRAMS = 64;
const REORDER_WINDOW_RECORDS = 10_000;
/** Consecutive datagrams an alternative counting rule must explain before we switch to it. */
const SWITCH_VOTES = 3;

/**
 * How an exporter advances its sequence number: per datagram (NetFlow v9, sFlow), by the
 * records of the previous datagram (IPFIX, NetFlow v5: "sequence of the first record"), or —
 * a quirk of some exporters (softflowd's IPFIX) — by the records of the current one.
 */
export type SequenceRule = 'datagram' | 'records-before' | 'records-including';

/**
 * Sequence tracking for one stream (exporter + source id / observation domain / engine /
 * sub-agent). Arithmetic is modulo 2^32. The protocol's rule is the starting point, but an
 * exporter whose numbers consistently follow another rule is switched to it rather than
 * reported as losing data. A backwards jump beyond reordering, an implausibly large forward
 * jump, or an uptime that went back by more than reordering explains, is an exporter restart:
 * the baseline is reset and no loss is reported.
 */
export class SequenceTracker {
  private lastSeq = -1;
  private lastRecords = -1;
  private lastUptime = -1;
  private readonly votes = new Map<SequenceRule, number>();

  constructor(public rule: SequenceRule) {}

  private advance(rule: SequenceRule, current: number): number {
    if (rule === 'datagram') return 1;
    if (rule === 'records-before') return this.lastRecords;
    return current;
  }

  /**
   * `records`: data records in this datagram (-1 when some could not be counted); `uptime` in ms
   * (-1 if the protocol has none). Returns the number of lost units (datagrams or records, per
   * the rule), 0 when none, or -1 on a detected restart.
   */
  observe(seq: number, records: number, uptime = -1): number {
    const perRecord = this.rule !== 'datagram';
    const uptimeBack =
      uptime >= 0 &&
      this.lastUptime >= 0 &&
      this.lastUptime - uptime > 10_000 &&
      this.lastUptime - uptime < 0x80000000 &&
      // an uptime wrap (2^32 ms ≈ 49.7 days) also runs backwards; a wrap lands near 0 from near 2^32
      !(this.lastUptime > 0xf0000000 && uptime < 0x10000000);
    let result = 0;
    if (uptimeBack) result = -1;
    else if (this.lastSeq >= 0) {
      const adv = this.advance(this.rule, records);
      if (adv < 0 || (this.rule === 'records-before' && this.lastRecords < 0)) {
        // the previous or this datagram had records we could not count: re-baseline
      } else {
        const expected = (this.lastSeq + adv) >>> 0;
        const diff = (seq - expected) >>> 0;
        if (diff === 0) this.votes.clear();
        else {
          const delta = (seq - this.lastSeq) >>> 0;
          const alt = (['datagram', 'records-before', 'records-including'] as const).find(
            (r) => r !== this.rule && this.advance(r, records) >= 0 && this.advance(r, records) === delta,
          );
          const max = perRecord ? MAX_PLAUSIBLE_GAP_RECORDS : MAX_PLAUSIBLE_GAP_DATAGRAMS;
          const window = perRecord ? REORDER_WINDOW_RECORDS : REORDER_WINDOW_DATAGRAMS;
          if (alt !== undefined && delta !== 0) {
            // explained by another counting rule: not loss; switch after a few in a row
            const v = (this.votes.get(alt) ?? 0) + 1;
            this.votes.clear();
            this.votes.set(alt, v);
            if (v >= SWITCH_VOTES) {
              this.rule = alt;
              this.votes.clear();
            }
          } else if (diff < 0x80000000) {
            result = diff <= max ? diff : -1;
          } else if (0x100000000 - diff > window) {
            result = -1;
          } else {
            // a small step backwards is reordering or a duplicate, not loss: keep the baseline
            return 0;
          }
        }
      }
    }
    if (uptime >= 0) this.lastUptime = uptime;
    this.lastSeq = seq;
    this.lastRecords = records;
    return result;
  }
}
