// Token buckets for the hot-path rate limits (orders per account, requests per IP), kept in typed
// arrays: one Map lookup and a few arithmetic operations per request, synchronous, no Promise and
// no per-request allocation. rate-limiter-flexible's memory limiter does the same job through a
// Promise per call; on the order path that cost is measured in test/gateway-units.test.ts
// and processes/gateway/README.md (it stays in use for the login and password routes, off the hot path).
//
// A bucket holds up to `burst` tokens and refills `ratePerS` per second; a request takes one. The
// table tracks at most `entries` keys: when it is full, keys whose bucket is full again (idle) are
// forgotten; if none is, the slot under a rotating hand is reused (that key starts a fresh bucket,
// a small leniency under a key-spraying attack, which the per-IP limit bounds).

export class TokenBucketTable<K extends string | number> {
  private readonly slotOf = new Map<K, number>();
  private readonly keys: (K | undefined)[];
  private readonly tokens: Float64Array;
  private readonly refilledMs: Float64Array;
  private readonly free: Int32Array;
  private freeCount: number;
  private hand = 0;
  private readonly msPerToken: number;
  evictions = 0;

  constructor(
    readonly ratePerS: number,
    readonly burst: number,
    readonly entries: number,
  ) {
    if (!(ratePerS > 0 && burst >= 1 && Number.isInteger(entries) && entries >= 1)) {
      throw new RangeError(`token bucket needs ratePerS > 0, burst >= 1, entries >= 1; got ${ratePerS}, ${burst}, ${entries}`);
    }
    this.keys = new Array<K | undefined>(entries).fill(undefined);
    this.tokens = new Float64Array(entries);
    this.refilledMs = new Float64Array(entries);
    this.free = new Int32Array(entries);
    for (let i = 0; i < entries; i++) this.free[i] = entries - 1 - i;
    this.freeCount = entries;
    this.msPerToken = 1000 / ratePerS;
  }

  /** Takes one token for `key`. Returns 0 when allowed, else the milliseconds until a token is due. */
  take(key: K, nowMs: number): number {
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      slot = this.claim(key, nowMs);
      this.tokens[slot] = this.burst;
      this.refilledMs[slot] = nowMs;
    } else {
      const elapsed = nowMs - this.refilledMs[slot]!;
      if (elapsed > 0) {
        const t = this.tokens[slot]! + elapsed / this.msPerToken;
        this.tokens[slot] = t > this.burst ? this.burst : t;
        this.refilledMs[slot] = nowMs;
      }
    }
    const t = this.tokens[slot]!;
    if (t >= 1) {
      this.tokens[slot] = t - 1;
      return 0;
    }
    return Math.ceil((1 - t) * this.msPerToken);
  }

  get size(): number {
    return this.slotOf.size;
  }

  private claim(key: K, nowMs: number): number {
    if (this.freeCount === 0) this.reclaimIdle(nowMs);
    let slot: number;
    if (this.freeCount > 0) {
      slot = this.free[--this.freeCount]!;
    } else {
      slot = this.hand;
      this.hand = (this.hand + 1) % this.entries;
      this.slotOf.delete(this.keys[slot]!);
      this.evictions++;
    }
    this.keys[slot] = key;
    this.slotOf.set(key, slot);
    return slot;
  }

  /** Forgets every key whose bucket has refilled completely: it behaves exactly like a new key. */
  private reclaimIdle(nowMs: number): void {
    const fullAfterMs = this.burst * this.msPerToken;
    for (let slot = 0; slot < this.entries; slot++) {
      const key = this.keys[slot];
      if (key === undefined) continue;
      if (nowMs - this.refilledMs[slot]! >= fullAfterMs) {
        this.slotOf.delete(key);
        this.keys[slot] = undefined;
        this.free[this.freeCount++] = slot;
      }
    }
  }
}
