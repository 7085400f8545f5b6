// Where the accounts module gets the time. Lockouts, session expiry, the age check and document
// expiry all depend on "now", so it is injected: production uses the wall clock, tests and
// simulations move a manual clock and see the exact boundaries (the day before an 18th birthday,
// the millisecond a lockout ends).

export interface Clock {
  /** Milliseconds since the Unix epoch, an integer. */
  nowMs(): number;
}

export const systemClock: Clock = Object.freeze({ nowMs: () => Date.now() });

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  private currentMs: number;

  constructor(startMs: number) {
    if (!Number.isSafeInteger(startMs)) throw new TypeError(`clock start must be integer milliseconds, got ${startMs}`);
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`a clock only moves forward by integer milliseconds, got ${ms}`);
    this.currentMs += ms;
  }

  set(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < this.currentMs) throw new RangeError(`a clock only moves forward, ${ms} < ${this.currentMs}`);
    this.currentMs = ms;
  }
}
