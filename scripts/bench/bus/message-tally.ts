// The receiving end of a throughput trial over a byte transport (Unix socket, process.send): checks
// every 64-byte message (header, seq, check word) and times the MEASURE phase exactly as the ring
// consumers do, so the four transports are counted the same way.

import { BENCH_MESSAGE_BYTES, BenchPayload, BenchType, CHECK_XOR, headerTypeWord } from './bench-message';
import type { MonotonicClock } from './child-control';

const SEQ_AT = 8 + BenchPayload.SEQ;
const CHECK_AT = 8 + BenchPayload.CHECK;
const MEASURE_WORD = headerTypeWord(BenchType.MEASURE);
const WARM_WORD = headerTypeWord(BenchType.WARM);
const END_WORD = headerTypeWord(BenchType.END);

export class MessageTally {
  received = 0;
  measured = 0;
  errors = 0;
  measureStartNs = 0;
  endNs = 0;
  private expected = 0;

  constructor(private readonly clock: MonotonicClock) {}

  /** Checks and counts the message at byteOffset; true once the END message arrived. */
  onMessage(view: DataView, byteOffset: number): boolean {
    const length = view.getInt32(byteOffset, true);
    const typeWord = view.getInt32(byteOffset + 4, true);
    const seq = view.getInt32(byteOffset + SEQ_AT, true);
    if (length !== BENCH_MESSAGE_BYTES || seq !== this.expected || view.getInt32(byteOffset + CHECK_AT, true) !== (seq ^ CHECK_XOR)) this.errors++;
    this.expected = (seq + 1) | 0;
    this.received++;
    if (typeWord === MEASURE_WORD) {
      if (this.measured === 0) this.measureStartNs = this.clock.nowNs();
      this.measured++;
    } else if (typeWord === END_WORD) {
      this.endNs = this.clock.nowNs();
      return true;
    } else if (typeWord !== WARM_WORD) {
      this.errors++;
    }
    return false;
  }

  result(): Record<string, number> {
    return { received: this.received, measured: this.measured, measureNs: this.endNs - this.measureStartNs, errors: this.errors };
  }
}

/**
 * Reassembles fixed-size messages from a byte stream whose reads split them anywhere. A message
 * cut by a read boundary is copied into a 64-byte carry buffer; whole messages are read in place.
 */
export class StreamReassembler {
  private readonly carry = new Uint8Array(BENCH_MESSAGE_BYTES);
  private readonly carryView = new DataView(this.carry.buffer);
  private carryBytes = 0;

  /** Hands each complete message to onMessage; stops early (returns true) when it returns true. */
  push(chunk: Uint8Array, onMessage: (view: DataView, byteOffset: number) => boolean): boolean {
    let offset = 0;
    if (this.carryBytes > 0) {
      const take = Math.min(BENCH_MESSAGE_BYTES - this.carryBytes, chunk.length);
      for (let i = 0; i < take; i++) this.carry[this.carryBytes + i] = chunk[i]!;
      this.carryBytes += take;
      offset = take;
      if (this.carryBytes < BENCH_MESSAGE_BYTES) return false;
      this.carryBytes = 0;
      if (onMessage(this.carryView, 0)) return true;
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (chunk.length - offset >= BENCH_MESSAGE_BYTES) {
      if (onMessage(view, offset)) return true;
      offset += BENCH_MESSAGE_BYTES;
    }
    for (let i = offset; i < chunk.length; i++) this.carry[this.carryBytes++] = chunk[i]!;
    return false;
  }
}
