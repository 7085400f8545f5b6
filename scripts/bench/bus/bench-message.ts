// The one 64-byte message every transport of the bus benchmark carries, so the JS ring, the C ring,
// the Unix socket and process.send move exactly the same bytes. On the rings it is a record; on the
// stream transports the same 8-byte record header is written in front of the payload, so a
// receiver parses all four the same way.
//
//   0        4        6    7    8        12       16                         52       56 (payload)
//   +--------+--------+----+----+--------+--------+--------------------------+--------+
//   | length | typeId | v  | fl | seq    | filler | sendNs (f64, at 8)  filler| check  |
//   | (=64)  | (u16)  | u8 | u8 | (u32)  |        | ... filler words ...     | (u32)  |
//   +--------+--------+----+----+--------+--------+--------------------------+--------+
//   \------ record header -----/\----------------- payload (56 bytes) ----------------/
//
// The producer writes every payload word of every message (a real message fills its payload), the
// consumer reads seq and check: a lost, duplicated or torn message is counted and fails the run.
// The C ring reads these constants from a header generated from this file (c-ring-build.ts).

import { PADDING_TYPE_ID, RECORD_HEADER_BYTES } from '../../../bus/ring-layout';

export const BENCH_PAYLOAD_BYTES = 56;
export const BENCH_MESSAGE_BYTES = RECORD_HEADER_BYTES + BENCH_PAYLOAD_BYTES;
export const BENCH_PAYLOAD_WORDS = BENCH_PAYLOAD_BYTES / 4;
export const BENCH_MESSAGE_WORDS = BENCH_MESSAGE_BYTES / 4;
export const BENCH_VERSION = 1;

/** Record type ids: the phase of a throughput trial travels in-band, so no side channel is timed. */
export const BenchType = {
  /** Sent while both sides warm up (JIT, caches); not counted. */
  WARM: 0x7b01,
  /** Counted: the consumer times from the first MEASURE message to END. */
  MEASURE: 0x7b02,
  /** The last message of a run. */
  END: 0x7b03,
  /** One latency probe (round trip or wake-up); carries sendNs. */
  PROBE: 0x7b04,
} as const;

/** Byte offsets inside the payload. */
export const BenchPayload = {
  SEQ: 0,
  /** CLOCK_MONOTONIC ns at send (latency runs); 8-aligned because records are. */
  SEND_NS: 8,
  /** seq ^ CHECK_XOR, written last in the payload: a torn or stale message fails the check. */
  CHECK: BENCH_PAYLOAD_BYTES - 4,
} as const;

export const CHECK_XOR = 0x5eed5eed;
/** What the producer writes into filler words (any value: they are written, not checked). */
export const FILLER_WORD = 0x0badf00d;

/** The second header word of a record: typeId (u16), version (u8), flags (u8), little-endian. */
export function headerTypeWord(typeId: number): number {
  return (typeId | (BENCH_VERSION << 16)) | 0;
}

if (BENCH_MESSAGE_BYTES !== 64 || BenchPayload.SEND_NS % 8 !== 0 || Object.values(BenchType).includes(PADDING_TYPE_ID as never)) {
  throw new Error('bench-message: the message must be 64 bytes, sendNs 8-aligned, and no type id may be the padding id');
}

const CHECK_WORD = BenchPayload.CHECK >> 2;
// Module-local copies: TypeScript compiles a reference to an exported const into a property load
// of `exports`, which V8 re-checks on every use inside the hot loops below.
const FILLER = FILLER_WORD;
const XOR = CHECK_XOR;
const HEADER_BYTES = RECORD_HEADER_BYTES;
const MESSAGE_BYTES = BENCH_MESSAGE_BYTES;
/** Two filler words as one double, so the filler goes out in 8-byte stores (JS has none wider). */
const FILLER_PAIR = new Float64Array(new Int32Array([FILLER_WORD, FILLER_WORD]).buffer)[0]!;

/**
 * Fills the payload at `byteOffset` (8-aligned) of the buffer that `i32` and `f64` both view:
 * seq, filler, check — 4 four-byte and 5 eight-byte stores, written out (no loop, no shared
 * constants) so V8 emits plain stores. Few, wide stores matter across cores: each store waits in
 * the store buffer until the line arrives from the consumer's cache; C does this with memcpy.
 */
export function writePayload(i32: Int32Array, f64: Float64Array, byteOffset: number, seq: number): void {
  const w = byteOffset >> 2;
  const d = byteOffset >> 3;
  i32[w] = seq;
  i32[w + 1] = FILLER;
  f64[d + 1] = FILLER_PAIR;
  f64[d + 2] = FILLER_PAIR;
  f64[d + 3] = FILLER_PAIR;
  f64[d + 4] = FILLER_PAIR;
  f64[d + 5] = FILLER_PAIR;
  i32[w + 12] = FILLER;
  i32[w + 13] = seq ^ XOR;
}

/** Writes a whole message (header and payload) for the stream transports, at `byteOffset`. */
export function writeMessage(i32: Int32Array, f64: Float64Array, byteOffset: number, typeId: number, seq: number): void {
  i32[byteOffset >> 2] = MESSAGE_BYTES;
  i32[(byteOffset >> 2) + 1] = headerTypeWord(typeId);
  writePayload(i32, f64, byteOffset + HEADER_BYTES, seq);
}

/** True when the payload at i32 index `word` carries `seq` and an intact check word. */
export function payloadIsIntact(i32: Int32Array, word: number, seq: number): boolean {
  return i32[word] === seq && i32[word + 13] === (seq ^ XOR);
}

if (CHECK_WORD !== 13 || BENCH_PAYLOAD_WORDS !== 14 || BenchPayload.SEQ !== 0) {
  throw new Error('bench-message: writePayload is written out for a 14-word payload, seq first and the check word last');
}
