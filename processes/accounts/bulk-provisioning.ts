// Bulk provisioning of colleague accounts for load benchmarks (bench:connections opens 10,000
// authenticated WebSocket sessions): many real colleague accounts, each with a live session token,
// in seconds rather than the hour that 10,000 OWASP-cost password hashes and logins would take.
//
// Nothing is bypassed but the password cost. Every account goes through the real onboarding path
// (validation, KYC decision, sanctions screening, account id, AccountOpened in the outbox, audit
// entry) via Accounts.applyMany, and every session through the real Accounts.login (password
// verified, session row written, caps applied). The one difference from production is that the
// Accounts module the caller passes in was opened with `unsafeLowCostScryptParamsForTests`
// (openBulkProvisioningAccounts below sets BULK_PROVISIONING_SCRYPT_PARAMS): stored hashes carry
// their own parameters, so these accounts keep their cheap hashes wherever they are verified. That
// is acceptable for a benchmark's throw-away instance because each password is 144 random bits,
// held only in this process's memory and never printed or stored; it is NOT acceptable for a real
// deployment, which is why nothing here is reachable from the CLI or the gateway.
//
//   const accounts = await openBulkProvisioningAccounts(accountStoreOptionsFromEnv(dataDir));
//   const colleagues = await provisionColleagues(accounts, { count: 10_000, usernamePrefix: 'bench' });
//   // colleagues[i] = { username, accountId, outletId, token }  (token: imss_… for /v1/stream)

import * as crypto from 'node:crypto';
import { MAX_OUTLET_ID, MAX_QUEUED_PASSWORD_HASHES, MAX_USERNAME_CHARS } from './account-limits';
import { Accounts, type AccountsOptions } from './accounts';
import type { OpenAccountStoreOptions } from './account-store';
import { formatIsoDate, utcDateOf } from './calendar-date';
import type { ApplicationInput } from './application-validation';
import type { ScryptParams } from './password-hashing';

/** Most accounts one call provisions (the product manager holds 2^17; a run needs far fewer). */
export const MAX_BULK_ACCOUNTS = 100_000;
/**
 * Applications (and logins) handed to the accounts module at once: the password hasher queues at
 * most MAX_QUEUED_PASSWORD_HASHES and answers server_busy beyond that, so a batch stays within it.
 */
export const BULK_BATCH = MAX_QUEUED_PASSWORD_HASHES;
/**
 * scrypt N=2^6 (64 KiB, a few microseconds) instead of the OWASP N=2^17: the only shortcut,
 * see the file comment.
 */
export const BULK_PROVISIONING_SCRYPT_PARAMS: ScryptParams = Object.freeze({ logN: 6, r: 8, p: 1 });
/** Random bytes of each password: 18 bytes are 24 base64url characters (the policy wants 12–128). */
const PASSWORD_BYTES = 18;
const DOCUMENT_VALIDITY_YEARS = 5;
/** A username is `<prefix><index>`; the index takes at most 6 digits (MAX_BULK_ACCOUNTS). */
const MAX_PREFIX_CHARS = MAX_USERNAME_CHARS - 6;

// Legal names built from two short lists (names need not be unique, usernames are). Every pair
// must clear the sanctions screening; provisionColleagues fails loudly if one does not.
const GIVEN_NAMES = ['Ada', 'Bea', 'Cai', 'Dov', 'Eli', 'Fen', 'Gus', 'Hal', 'Ivo', 'Jun', 'Kit', 'Lou', 'Mo', 'Ned', 'Oli', 'Pia'] as const;
const FAMILY_NAMES = ['Abbot', 'Brook', 'Carver', 'Dale', 'Ellis', 'Frost', 'Grove', 'Hale', 'Irwin', 'Joyce', 'Kerr', 'Lowe', 'Marsh', 'Noble', 'Oakes', 'Pryce'] as const;

export interface ProvisionedColleague {
  readonly username: string;
  readonly accountId: number;
  readonly outletId: number;
  /** A live session token (imss_…), usable as a bearer credential or WebSocket subprotocol. */
  readonly token: string;
}

export interface BulkProvisioningOptions {
  readonly count: number;
  /** Lower-case letters, 1 to 26 characters; usernames are `<prefix><index from 1>`. */
  readonly usernamePrefix: string;
  /** Colleague i (from 0) trades for outlet firstOutletId + i (default 1). */
  readonly firstOutletId?: number;
  /** Called after each batch with how many accounts are done (progress for a long run). */
  readonly onProgress?: (done: number) => void;
}

/** The accounts module with the bulk-provisioning password cost (see the file comment). */
export function openBulkProvisioningAccounts(storeOptions: OpenAccountStoreOptions, options: AccountsOptions = {}): Promise<Accounts> {
  return Accounts.open(storeOptions, { ...options, unsafeLowCostScryptParamsForTests: BULK_PROVISIONING_SCRYPT_PARAMS });
}

function applicationOf(index: number, username: string, password: string, outletId: number, nowMs: number): ApplicationInput {
  const today = utcDateOf(nowMs);
  return {
    legalName: `${GIVEN_NAMES[index % GIVEN_NAMES.length]} ${FAMILY_NAMES[Math.floor(index / GIVEN_NAMES.length) % FAMILY_NAMES.length]}`,
    dateOfBirth: `19${70 + (index % 30)}-0${1 + (index % 9)}-1${index % 10}`,
    outletId,
    // A national id needs 5-20 letters and digits with a digit; no check digit exists for it.
    document: { type: 'national_id', number: `BK${String(index).padStart(8, '0')}`, expiryDate: formatIsoDate({ year: today.year + DOCUMENT_VALIDITY_YEARS, month: 1, day: 31 }) },
    address: { line1: `${outletId} Kiosk Row`, city: 'Benchton', postalCode: 'BN1 1AA', country: 'GB' },
    username,
    password,
    role: 'colleague',
  };
}

/**
 * Creates `count` approved colleague accounts and logs each one in once. Throws (saying which and
 * why) when an application is not approved or a login fails: a benchmark must not run on fewer
 * accounts than it claims. Usernames that already exist make their applications fail the same way.
 */
export async function provisionColleagues(accounts: Accounts, options: BulkProvisioningOptions): Promise<ProvisionedColleague[]> {
  const { count, usernamePrefix } = options;
  const firstOutletId = options.firstOutletId ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_BULK_ACCOUNTS) throw new RangeError(`count must be an integer in [1, ${MAX_BULK_ACCOUNTS}], got ${count}`);
  if (!new RegExp(`^[a-z]{1,${MAX_PREFIX_CHARS}}$`).test(usernamePrefix)) throw new RangeError(`usernamePrefix must be 1 to ${MAX_PREFIX_CHARS} lower-case letters, got '${usernamePrefix}'`);
  if (!Number.isInteger(firstOutletId) || firstOutletId < 1 || firstOutletId + count - 1 > MAX_OUTLET_ID) throw new RangeError(`outlets ${firstOutletId}..${firstOutletId + count - 1} are not all in [1, ${MAX_OUTLET_ID}]`);
  const nowMs = accounts.clock.nowMs();
  const out: ProvisionedColleague[] = [];
  for (let start = 0; start < count; start += BULK_BATCH) {
    const end = Math.min(count, start + BULK_BATCH);
    const batch: Array<{ username: string; password: string; outletId: number; application: ApplicationInput }> = [];
    for (let i = start; i < end; i++) {
      const username = `${usernamePrefix}${i + 1}`;
      const password = crypto.randomBytes(PASSWORD_BYTES).toString('base64url');
      const outletId = firstOutletId + i;
      batch.push({ username, password, outletId, application: applicationOf(i, username, password, outletId, nowMs) });
    }
    const outcomes = await accounts.applyMany(batch.map((b) => b.application));
    const accountIds: number[] = [];
    outcomes.forEach((r, k) => {
      const who = batch[k]!.username;
      if (!r.ok) throw new Error(`bulk provisioning: the application of '${who}' failed: ${r.error.code}: ${r.error.detail}`);
      if (r.value.status !== 'approved' || r.value.accountId === null) {
        throw new Error(`bulk provisioning: '${who}' was not approved (${r.value.status}: ${r.value.reasons.map((x) => x.detail).join('; ')}); check the sanctions list against the generated names`);
      }
      accountIds.push(r.value.accountId);
    });
    const logins = await Promise.all(batch.map((b) => accounts.login(b.username, b.password, 'bulk-provisioning')));
    logins.forEach((r, k) => {
      const b = batch[k]!;
      if (!r.ok) throw new Error(`bulk provisioning: the login of '${b.username}' failed: ${r.error.code}: ${r.error.detail}`);
      out.push({ username: b.username, accountId: accountIds[k]!, outletId: b.outletId, token: r.value.token });
    });
    options.onProgress?.(out.length);
  }
  return out;
}
