// Password hashing with scrypt at the OWASP Password Storage Cheat Sheet parameters (N=2^17, r=8,
// p=1: 128 MiB and ~100+ ms per hash, by design). crypto.scrypt runs on the libuv threadpool, so a
// hash never blocks the event loop of the gateway that calls it; at most
// MAX_CONCURRENT_PASSWORD_HASHES run at once (memory), at most MAX_QUEUED_PASSWORD_HASHES wait, and
// beyond that a caller is told "busy" at once instead of queueing without bound.
//
// Stored form (self-describing, so parameters can be raised later and old hashes still verify):
//   scrypt$ln=17,r=8,p=1$<salt, base64>$<derived key, base64>

import * as crypto from 'node:crypto';
import { MAX_CONCURRENT_PASSWORD_HASHES, MAX_QUEUED_PASSWORD_HASHES } from './account-limits';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

export const OWASP_SCRYPT_PARAMS: ScryptParams = Object.freeze({ logN: 17, r: 8, p: 1 });
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Stored hashes with a larger cost are refused: a tampered row must not make us allocate gigabytes. */
const MAX_STORED_LOG_N = 20;
const MAX_STORED_R = 16;
const MAX_STORED_P = 4;

export const HASHER_BUSY = 'busy' as const;
export type VerifyOutcome = 'match' | 'mismatch' | typeof HASHER_BUSY;

export interface PasswordHasherOptions {
  /**
   * Lower-cost scrypt parameters, for tests only: the default (and every production path) is
   * OWASP_SCRYPT_PARAMS. The long name is deliberate so it stands out in review.
   */
  readonly unsafeLowCostParamsForTests?: ScryptParams;
}

function scryptAsync(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  // Node refuses a cost whose memory (128 * N * r * p bytes, roughly) exceeds maxmem (32 MiB by
  // default), so the limit is raised to twice the need.
  const maxmem = 2 * 128 * N * params.r * Math.max(1, params.p);
  return new Promise((resolve, reject) => {
    crypto.scrypt(password, salt, KEY_BYTES, { N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function encode(params: ScryptParams, salt: Buffer, key: Buffer): string {
  return `scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const STORED_FORM = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/=]{1,64})\$([A-Za-z0-9+/=]{1,128})$/;

export function parseStoredHash(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const m = STORED_FORM.exec(stored);
  if (m === null) return undefined;
  const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (params.logN < 1 || params.logN > MAX_STORED_LOG_N || params.r < 1 || params.r > MAX_STORED_R || params.p < 1 || params.p > MAX_STORED_P) return undefined;
  return { params, salt: Buffer.from(m[4]!, 'base64'), key: Buffer.from(m[5]!, 'base64') };
}

export class PasswordHasher {
  readonly params: ScryptParams;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private dummyHash: Promise<string> | undefined;

  constructor(options: PasswordHasherOptions = {}) {
    this.params = Object.freeze({ ...(options.unsafeLowCostParamsForTests ?? OWASP_SCRYPT_PARAMS) });
  }

  /** Hashes a new password, or answers busy when too many hashes are already waiting. */
  async hash(password: string): Promise<string | typeof HASHER_BUSY> {
    return this.withSlot(async () => {
      const salt = crypto.randomBytes(SALT_BYTES);
      return encode(this.params, salt, await scryptAsync(password, salt, this.params));
    });
  }

  /** Verifies a password against a stored hash with a constant-time comparison. */
  async verify(password: string, stored: string): Promise<VerifyOutcome> {
    const parsed = parseStoredHash(stored);
    if (parsed === undefined) throw new Error('stored password hash is malformed; the accounts table is corrupt');
    const outcome = await this.withSlot(async () => {
      const key = await scryptAsync(password, parsed.salt, parsed.params);
      return key.length === parsed.key.length && crypto.timingSafeEqual(key, parsed.key);
    });
    return outcome === HASHER_BUSY ? HASHER_BUSY : outcome ? 'match' : 'mismatch';
  }

  /**
   * Spends the same time as a real verification for a username that does not exist, so response
   * times do not tell an attacker which usernames are registered. Always "mismatch" (or busy).
   */
  async verifyAgainstDummy(password: string): Promise<VerifyOutcome> {
    this.dummyHash ??= (async () => {
      const salt = crypto.randomBytes(SALT_BYTES);
      return encode(this.params, salt, await scryptAsync(crypto.randomBytes(16).toString('hex'), salt, this.params));
    })();
    const outcome = await this.verify(password, await this.dummyHash);
    return outcome === HASHER_BUSY ? HASHER_BUSY : 'mismatch';
  }

  /** True when a stored hash was made with other parameters than the current ones. */
  needsRehash(stored: string): boolean {
    const parsed = parseStoredHash(stored);
    return parsed === undefined || parsed.params.logN !== this.params.logN || parsed.params.r !== this.params.r || parsed.params.p !== this.params.p;
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T | typeof HASHER_BUSY> {
    if (this.running >= MAX_CONCURRENT_PASSWORD_HASHES) {
      if (this.waiting.length >= MAX_QUEUED_PASSWORD_HASHES) return HASHER_BUSY;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter (running stays the same) or free it.
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }
}
