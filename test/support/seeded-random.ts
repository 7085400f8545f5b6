// A small deterministic PRNG (mulberry32) for tests: every randomised test prints its seed, and
// IMS_TEST_SEED=<n> replays a failing run exactly.

export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform u32. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor((this.nextU32() / 2 ** 32) * (max - min + 1));
  }

  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.nextU32() & 0xff;
  }
}

/** The seed to use: IMS_TEST_SEED when set (to replay a run), otherwise `fallback`. */
export function testSeed(fallback: number): number {
  const fromEnv = process.env['IMS_TEST_SEED'];
  if (fromEnv === undefined || fromEnv === '') return fallback;
  const seed = Number(fromEnv);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new TypeError(`IMS_TEST_SEED must be a non-negative integer, got '${fromEnv}'`);
  return seed;
}
