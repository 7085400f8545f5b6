// The order in which one message is handed to the subscribers of a stream: a fresh uniform
// permutation per message (the seed's fairness answer: no subscriber is always first, and over
// many messages every subscriber is first equally often).
//
// Deterministic: the permutation is a function of (instance seed, message sequence) only, so a
// replay delivers in the same order and a test can name the order it expects. Allocation-free:
// Fisher–Yates over a preallocated Int32Array, driven by xorshift32 seeded from the message
// sequence through a 32-bit finaliser (consecutive sequences give unrelated streams; raw
// xorshift seeded with s and s+1 would start almost identically).

import { assert } from './market-data-assert';
import { MAX_FANOUT_SUBSCRIBERS } from './market-data-limits';

const TWO_POW_32 = 4294967296;
/** Any non-zero constant: xorshift32 must never hold 0. */
const NONZERO_STATE = 0x9e3779b9 | 0;

/** murmur3's fmix32: a bijective avalanche on 32 bits. */
function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

export class FanoutOrder {
  /** order[0..count) after `shuffle`: subscriber indices, first to receive first. */
  readonly order: Int32Array;

  constructor(
    readonly maxSubscribers: number,
    readonly seed: number = 0,
  ) {
    assert(Number.isInteger(maxSubscribers) && maxSubscribers >= 1 && maxSubscribers <= MAX_FANOUT_SUBSCRIBERS, 'FanoutOrder maxSubscribers out of range');
    assert(Number.isInteger(seed), 'FanoutOrder seed must be an integer');
    this.order = new Int32Array(maxSubscribers);
  }

  /**
   * Fills order[0..count) with a permutation of 0..count-1 chosen by (seed, messageSequence) and
   * returns `order`. messageSequence is any safe integer (e.g. the journal seq of the message).
   */
  shuffle(count: number, messageSequence: number): Int32Array {
    assert(count >= 0 && count <= this.maxSubscribers, 'FanoutOrder.shuffle count out of range');
    const order = this.order;
    for (let i = 0; i < count; i++) order[i] = i;
    // Both 32-bit halves of the sequence and the seed feed the state.
    const low = messageSequence >>> 0;
    const high = Math.floor(messageSequence / TWO_POW_32) | 0;
    let state = mix32(low ^ mix32(high ^ mix32(this.seed)));
    if (state === 0) state = NONZERO_STATE;
    for (let i = count - 1; i > 0; i--) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      // (u32 * (i + 1)) / 2^32 is exact in f64 and uniform up to a bias of (i + 1) / 2^32.
      const j = Math.floor(((state >>> 0) * (i + 1)) / TWO_POW_32);
      const swap = order[i]!;
      order[i] = order[j]!;
      order[j] = swap;
    }
    return order;
  }
}
