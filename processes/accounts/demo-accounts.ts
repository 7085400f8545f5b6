// Demo accounts for the demo profile (what `npm start` runs): five colleagues at different outlets,
// an administrator, a risk administrator, the CEO (an analyst) and an operator, each with a known
// password that the start-up prints so a newcomer can log in at once. They go through the real
// onboarding and KYC path (their passports carry correct ICAO check digits), so they are approved
// and each one's AccountOpened is in the outbox like any other account's.
//
// NEVER seed these outside the demo profile: the passwords are in this file.

import { formatIsoDate, utcDateOf } from './calendar-date';
import { Accounts, type AccountsOptions } from './accounts';
import type { ApplicationInput } from './application-validation';
import { mrzCheckDigit } from './mrz-check-digit';
import { systemActor } from './principal';
import type { RoleName } from './roles';
import type { AccountStore } from './sql-store';
import type { ScryptParams } from './password-hashing';

/** scrypt cost of the demo accounts' public passwords (N=2^10: about a millisecond). */
export const DEMO_ACCOUNT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ logN: 10, r: 8, p: 1 });

export interface DemoCredential {
  readonly username: string;
  readonly password: string;
  readonly role: RoleName;
  readonly outletId: number;
  readonly legalName: string;
  readonly accountId: number;
  /** False when the account already existed (a restart of the demo over the same data). */
  readonly created: boolean;
}

interface DemoPerson {
  readonly username: string;
  readonly password: string;
  readonly role: RoleName;
  readonly outletId: number;
  readonly legalName: string;
  readonly dateOfBirth: string;
  /** The 9-character passport number field (padded with '<'); the check digit is computed. */
  readonly passportField: string;
  readonly city: string;
  readonly country: string;
}

export const DEMO_PEOPLE: readonly DemoPerson[] = Object.freeze([
  { username: 'alice', password: 'kiosk-101-demo', role: 'colleague', outletId: 101, legalName: 'Alice Martin', dateOfBirth: '1991-04-12', passportField: 'DM1010001', city: 'London', country: 'GB' },
  { username: 'bruno', password: 'kiosk-102-demo', role: 'colleague', outletId: 102, legalName: 'Bruno Costa', dateOfBirth: '1988-09-30', passportField: 'DM1020002', city: 'Lisbon', country: 'PT' },
  { username: 'chen', password: 'kiosk-103-demo', role: 'colleague', outletId: 103, legalName: 'Chen Wei', dateOfBirth: '1995-01-21', passportField: 'DM1030003', city: 'Singapore', country: 'SG' },
  { username: 'dara', password: 'kiosk-104-demo', role: 'colleague', outletId: 104, legalName: 'Dara Okafor', dateOfBirth: '1993-07-05', passportField: 'DM1040004', city: 'Dublin', country: 'IE' },
  { username: 'emeka', password: 'kiosk-105-demo', role: 'colleague', outletId: 105, legalName: 'Emeka Nwosu', dateOfBirth: '1990-11-17', passportField: 'DM1050005', city: 'Manchester', country: 'GB' },
  { username: 'admin', password: 'control-room-demo', role: 'admin', outletId: 0, legalName: 'Morgan Reyes', dateOfBirth: '1984-03-08', passportField: 'DM9000001', city: 'London', country: 'GB' },
  { username: 'risk', password: 'limits-desk-demo', role: 'risk_admin', outletId: 0, legalName: 'Priya Natarajan', dateOfBirth: '1986-06-19', passportField: 'DM9000002', city: 'London', country: 'GB' },
  { username: 'ceo', password: 'board-view-demo', role: 'analyst', outletId: 0, legalName: 'Jordan Blake', dateOfBirth: '1975-12-02', passportField: 'DM9000003', city: 'New York', country: 'US' },
  { username: 'ops', password: 'night-shift-demo', role: 'operator', outletId: 0, legalName: 'Sam Lindqvist', dateOfBirth: '1989-08-25', passportField: 'DM9000004', city: 'Stockholm', country: 'SE' },
]);

const DEMO_DOCUMENT_VALIDITY_YEARS = 8;
export const DEMO_SEED_ACTOR = systemActor('demo-seed');

function applicationOf(p: DemoPerson, nowMs: number): ApplicationInput {
  const today = utcDateOf(nowMs);
  const expiry = formatIsoDate({ year: today.year + DEMO_DOCUMENT_VALIDITY_YEARS, month: 1, day: 31 });
  return {
    legalName: p.legalName,
    dateOfBirth: p.dateOfBirth,
    ...(p.role === 'colleague' ? { outletId: p.outletId } : {}),
    document: { type: 'passport', number: `${p.passportField}${mrzCheckDigit(p.passportField)}`, expiryDate: expiry },
    address: { line1: `${p.outletId || 1} Demo Street`, city: p.city, postalCode: 'DEMO 1', country: p.country },
    username: p.username,
    password: p.password,
    role: p.role,
  };
}

/**
 * Creates the demo accounts that do not exist yet and returns everyone's credentials. Accepts the
 * store (an Accounts module is made over it with `options`) or an Accounts module already open.
 */
export async function seedDemoAccounts(target: AccountStore | Accounts, options: AccountsOptions = {}): Promise<DemoCredential[]> {
  // The demo passwords are public (printed at every start), so their hashes guard nothing: they are
  // stored at DEMO_ACCOUNT_SCRYPT_PARAMS, which keeps the demo's start and every demo login fast
  // (at the OWASP cost the nine hashes took ~4 s of each start on 2 cores). The cost is part of
  // the stored hash; accounts created any other way keep the OWASP parameters.
  const demoOptions: AccountsOptions = { ...options, unsafeLowCostScryptParamsForTests: options.unsafeLowCostScryptParamsForTests ?? DEMO_ACCOUNT_SCRYPT_PARAMS };
  const accounts = target instanceof Accounts ? new Accounts(target.store, { ...demoOptions, clock: options.clock ?? target.clock }) : new Accounts(target, demoOptions);
  const nowMs = accounts.clock.nowMs();
  const existing = new Map<string, number>();
  for (const p of DEMO_PEOPLE) {
    const row = await accounts.store.get<{ account_id: number | null }>("SELECT account_id FROM accounts WHERE username = ? AND kyc_status = 'approved'", [p.username]);
    if (row !== undefined && row.account_id !== null) existing.set(p.username, Number(row.account_id));
  }
  const missing = DEMO_PEOPLE.filter((p) => !existing.has(p.username));
  const results = await accounts.applyMany(
    missing.map((p) => applicationOf(p, nowMs)),
    DEMO_SEED_ACTOR,
  );
  const created = new Map<string, number>();
  results.forEach((r, i) => {
    const p = missing[i]!;
    if (!r.ok) throw new Error(`demo account '${p.username}' could not be created: ${r.error.code}: ${r.error.detail}`);
    if (r.value.status !== 'approved' || r.value.accountId === null) {
      throw new Error(`demo account '${p.username}' was not approved by KYC (${r.value.status}: ${r.value.reasons.map((x) => x.detail).join('; ')}); check the sanctions list`);
    }
    created.set(p.username, r.value.accountId);
  });
  return DEMO_PEOPLE.map((p) => ({
    username: p.username,
    password: p.password,
    role: p.role,
    outletId: p.outletId,
    legalName: p.legalName,
    accountId: existing.get(p.username) ?? created.get(p.username)!,
    created: created.has(p.username),
  }));
}

/** The credentials as a table for the start-up banner. */
export function formatDemoCredentials(credentials: readonly DemoCredential[]): string {
  const header = ['username', 'password', 'role', 'outlet', 'account', 'name'];
  const rows = credentials.map((c) => [c.username, c.password, c.role, c.outletId === 0 ? '-' : String(c.outletId), String(c.accountId), c.legalName]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return ['Demo accounts (demo profile only; passwords are public):', line(header), ...rows.map(line)].join('\n');
}
