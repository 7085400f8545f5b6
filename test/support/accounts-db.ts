// The database harness of the accounts tests (and any test of a SQL store): every behaviour runs
// against SQLite, and against PostgreSQL at 127.0.0.1:5432 (database `test`, user postgres or the
// current user; IMS_TEST_DATABASE_URL overrides). With CI=true PostgreSQL is required; elsewhere an
// unreachable server is reported as a skip with the reason. Each test gets its own temp directory
// or its own schema, removed when it ends.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Test } from 'tap';
import { openAccountStore } from '../../processes/accounts/account-store';
import type { ApplicationInput } from '../../processes/accounts/application-validation';
import type { Clock } from '../../processes/accounts/clock';
import { mrzCheckDigit } from '../../processes/accounts/mrz-check-digit';
import { PostgresAccountStore, probePostgres } from '../../processes/accounts/postgres-store';
import type { AccountStore } from '../../processes/accounts/sql-store';

export interface TestDb {
  /** Opens (or reopens) this test's database, migrated; closed automatically at the end. */
  open(clock: Clock): Promise<AccountStore>;
}
export type Backend = { readonly name: 'sqlite' | 'postgres'; fresh(t: Tap): TestDb };
export type Tap = Test;

function trackClose(opened: AccountStore[], store: AccountStore): AccountStore {
  opened.push(store);
  return store;
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  fresh(t) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-accounts-test-'));
    const opened: AccountStore[] = [];
    t.teardown(async () => {
      for (const s of opened) await s.close().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    return { open: async (clock) => trackClose(opened, await openAccountStore({ kind: 'sqlite', file: path.join(dir, 'accounts.sqlite'), clock })) };
  },
};

export function postgresBackend(url: string): Backend {
  return {
    name: 'postgres',
    fresh(t) {
      const schema = `ims_test_${process.pid}_${crypto.randomBytes(5).toString('hex')}`;
      const opened: AccountStore[] = [];
      t.teardown(async () => {
        for (const s of opened) await s.close().catch(() => undefined);
        const admin = new PostgresAccountStore(url, schema);
        await admin.dropSchema();
        await admin.close();
      });
      return { open: async (clock) => trackClose(opened, await openAccountStore({ kind: 'postgres', url, schema, clock })) };
    },
  };
}

let postgresFound: Promise<{ url?: string; why: string }> | undefined;
async function findPostgres(): Promise<{ url?: string; why: string }> {
  const env = process.env['IMS_TEST_DATABASE_URL'];
  const candidates = env ? [env] : ['postgres://postgres@127.0.0.1:5432/test', `postgres://${os.userInfo().username}@127.0.0.1:5432/test`];
  const reasons: string[] = [];
  for (const url of candidates) {
    const why = await probePostgres(url);
    if (why === undefined) return { url, why: '' };
    reasons.push(why);
  }
  return { why: reasons.join('; ') };
}

/** Runs `body` once per backend, as subtests named after the backend. */
export function forEachBackend(t: Tap, body: (t: Tap, backend: Backend) => void): void {
  t.test('sqlite', async (t) => body(t, sqliteBackend));
  t.test('postgres', async (t) => {
    const found = await (postgresFound ??= findPostgres());
    if (found.url === undefined) {
      if (process.env['CI'] === 'true') t.fail(`PostgreSQL is required when CI=true, but none is reachable: ${found.why}`);
      else t.skip(`PostgreSQL tests NOT RUN: no server reachable (${found.why}); start PostgreSQL at 127.0.0.1:5432 or set IMS_TEST_DATABASE_URL`, () => undefined);
      return;
    }
    body(t, postgresBackend(found.url));
  });
}

/** The password of the accounts the tests create (it passes the password policy). */
export const TEST_PASSWORD = 'river-stone-lantern';

/** A colleague's application that passes KYC (a fresh, valid passport number each time). */
export function colleagueApplication(username: string, overrides: Partial<ApplicationInput> = {}): ApplicationInput {
  const field = `P${crypto.randomInt(10_000_000, 99_999_999)}`;
  return {
    legalName: 'Hannah Okonjo',
    dateOfBirth: '1990-05-20',
    outletId: 7,
    document: { type: 'passport', number: field + mrzCheckDigit(field), expiryDate: '2030-01-31' },
    address: { line1: '1 High Street', city: 'Leeds', postalCode: 'LS1 1AA', country: 'GB' },
    username,
    password: TEST_PASSWORD,
    ...overrides,
  };
}
