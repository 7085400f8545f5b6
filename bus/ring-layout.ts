// The one description of a ring file's layout. The ring code, `ims status` and the C reference ring
// of the bus benchmark all derive their offsets from here; nothing else hard-codes an offset.
//
// A ring file (on /dev/shm by default) is a header followed by a power-of-two data region:
//
//   0                                   CACHE_LINE*2 (=128)
//   +-----------------------------------+----------------------------------+-----------------
//   | META: magic | layoutVersion |      | PRODUCER: tail (u32, published   | SIGNALS: consumer
//   |  capacityBytes | maxConsumers |     |  position, the futex word        |  sleepers (i32) |
//   |  dataOffset | producerPid |        |  sleeping consumers wait on) |    |  producerSleeping |
//   |  producerRestarts | createdUs...  |  producerPid heartbeat           |  progress (futex) |
//   +-----------------------------------+----------------------------------+-----------------
//   | CONSUMER slot 0 (2 lines): position (u32) | state | pid | name[32] | lapped count ...
//   | CONSUMER slot 1 ...                                                  (maxConsumers slots)
//   +----------------------------------------------------------------------------------------
//   | DATA: capacityBytes (power of two), records back to back, each 8-byte aligned:
//   |   +--------------+-------------+------------+----------+---------------------------+
//   |   | length (i32) | typeId(u16) | version(u8)| flags(u8)| payload (length-8 bytes)  | pad to 8
//   |   +--------------+-------------+------------+----------+---------------------------+
//   | A record never wraps: when it does not fit before the end, a PADDING record (typeId 0)
//   | fills the rest and the record starts at offset 0.
//   +----------------------------------------------------------------------------------------
//
// Each hot counter sits alone on a pair of cache lines (128 bytes): adjacent-line prefetch would
// otherwise make the producer's tail and a consumer's position share traffic (false sharing).
//
// Positions are byte counters modulo 2^32 (u32 words, compared with wrapping subtraction), so
// every position access is a plain 32-bit atomic: JS Atomics on 64-bit words need BigInt, which
// allocates. The ring capacity is at most 2^30 so wrapping arithmetic stays unambiguous.
//
// Publication: the producer writes record headers and payloads with plain stores, then publishes
// the whole batch with one Atomics.store of `tail` (a full fence on x86). Consumers never read
// past the tail they loaded, so a producer killed mid-write never exposes a half-written record;
// a restarted producer resumes at the published tail and overwrites the unpublished bytes.

export const CACHE_LINE_BYTES = 64;
/** Hot counters are padded to two lines to defeat adjacent-line prefetching. */
export const COUNTER_STRIDE_BYTES = CACHE_LINE_BYTES * 2;

export const RING_MAGIC = 0x52534d49; // "IMSR" little-endian
export const RING_LAYOUT_VERSION = 1;

export const MIN_CAPACITY_BYTES = 4096;
export const MAX_CAPACITY_BYTES = 1 << 30;
export const MAX_CONSUMERS_LIMIT = 32;
export const DEFAULT_MAX_CONSUMERS = 8;

export const RECORD_HEADER_BYTES = 8;
export const RECORD_ALIGNMENT = 8;
export const PADDING_TYPE_ID = 0;
export const CONSUMER_NAME_BYTES = 32;

/** Byte offsets inside the META line (all u32/i32 words). */
export const Meta = {
  MAGIC: 0,
  LAYOUT_VERSION: 4,
  CAPACITY_BYTES: 8,
  MAX_CONSUMERS: 12,
  DATA_OFFSET: 16,
  /** pid of the producer attached now (0 when none): two live producers would corrupt the ring. */
  PRODUCER_PID: 20,
  PRODUCER_ATTACHES: 24,
  /** Realtime µs at creation, split in two u32 words (µs since epoch exceeds 32 bits). */
  CREATED_US_LO: 28,
  CREATED_US_HI: 32,
} as const;

export const PRODUCER_LINE_OFFSET = COUNTER_STRIDE_BYTES * 1;
/** The published position; also the futex word sleeping consumers wait on. */
export const TAIL_OFFSET = PRODUCER_LINE_OFFSET + 0;
/** Records published since creation, modulo 2^32 (for status and tests, not for correctness). */
export const PUBLISHED_RECORDS_OFFSET = PRODUCER_LINE_OFFSET + 4;

export const SIGNAL_LINE_OFFSET = COUNTER_STRIDE_BYTES * 2;
/** How many consumers are (about to be) asleep on TAIL: the producer wakes them only if > 0. */
export const CONSUMER_SLEEPERS_OFFSET = SIGNAL_LINE_OFFSET + 0;
/** 1 while a back-pressured producer sleeps on PROGRESS. */
export const PRODUCER_SLEEPING_OFFSET = SIGNAL_LINE_OFFSET + CACHE_LINE_BYTES;
/** Bumped by consumers that release a sleeping producer; the futex word the producer waits on. */
export const PROGRESS_OFFSET = SIGNAL_LINE_OFFSET + CACHE_LINE_BYTES + 4;

export const CONSUMERS_OFFSET = COUNTER_STRIDE_BYTES * 3;
export const CONSUMER_SLOT_BYTES = COUNTER_STRIDE_BYTES;

/** Offsets inside one consumer slot. */
export const Slot = {
  /** Committed position: everything before it has been handled by this consumer. */
  POSITION: 0,
  /** ConsumerState. */
  STATE: 4,
  PID: 8,
  /** Times this consumer was lapped (non-gating consumers only). */
  LAPPED: 12,
  /** Records committed, modulo 2^32. */
  RECORDS: 16,
  /** 1 while this consumer counts itself in CONSUMER_SLEEPERS, so a restart can take it back. */
  SLEEPING: 20,
  NAME: 64,
} as const;

export const ConsumerState = {
  FREE: 0,
  /** The producer may not overwrite what this consumer has not committed. */
  GATING: 1,
  /** Reads at its own risk; detects being lapped and must resynchronise (e.g. from disk). */
  NON_GATING: 2,
} as const;
export type ConsumerState = (typeof ConsumerState)[keyof typeof ConsumerState];

export function dataOffset(maxConsumers: number): number {
  const end = CONSUMERS_OFFSET + maxConsumers * CONSUMER_SLOT_BYTES;
  // The data region starts on a page boundary so records never share a page with counters.
  return Math.ceil(end / 4096) * 4096;
}

export function ringFileBytes(capacityBytes: number, maxConsumers: number): number {
  return dataOffset(maxConsumers) + capacityBytes;
}

export function alignRecord(length: number): number {
  return (length + (RECORD_ALIGNMENT - 1)) & ~(RECORD_ALIGNMENT - 1);
}

/** Largest payload one record may carry: a quarter of the ring, so a batch always makes progress. */
export function maxPayloadBytes(capacityBytes: number): number {
  return capacityBytes / 4 - RECORD_HEADER_BYTES;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
