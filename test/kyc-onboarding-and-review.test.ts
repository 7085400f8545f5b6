// Onboarding through the store: an application is decided at once (approved / rejected with
// reasons / pending review), administrators work the review queue, and every decision lands in
// the audit trail with who and when. Runs against SQLite and PostgreSQL.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { Accounts } from '../processes/accounts/accounts';
import { openAccountStore } from '../processes/accounts/account-store';
import type { ApplicationInput } from '../processes/accounts/application-validation';
import { ManualClock, type Clock } from '../processes/accounts/clock';
import { httpStatusOf } from '../processes/accounts/errors';
import { mrzCheckDigit } from '../processes/accounts/mrz-check-digit';
import { PostgresAccountStore, probePostgres } from '../processes/accounts/postgres-store';
import { systemActor, type Principal } from '../processes/accounts/principal';
import type { AccountStore } from '../processes/accounts/sql-store';

import { forEachBackend, type Backend, type Tap, type TestDb } from './support/accounts-db';

/** The cheap scrypt cost, through the explicit test-only option. */
const LOW_COST_SCRYPT = { logN: 10, r: 8, p: 1 };
const START_MS = Date.parse('2025-06-15T09:00:00Z');
const SETUP = systemActor('test-setup');

function application(username: string, overrides: Partial<ApplicationInput> = {}): ApplicationInput {
  const field = `P${crypto.randomInt(10_000_000, 99_999_999)}`;
  return {
    legalName: 'Hannah Okonjo',
    dateOfBirth: '1990-05-20',
    outletId: 7,
    document: { type: 'passport', number: field + mrzCheckDigit(field), expiryDate: '2030-01-31' },
    address: { line1: '1 High Street', city: 'Leeds', postalCode: 'LS1 1AA', country: 'GB' },
    username,
    password: 'river-stone-lantern',
    ...overrides,
  };
}

async function setUp(t: Tap, backend: Backend): Promise<{ accounts: Accounts; clock: ManualClock; store: AccountStore }> {
  const clock = new ManualClock(START_MS);
  const store = await backend.fresh(t).open(clock);
  return { accounts: new Accounts(store, { clock, unsafeLowCostScryptParamsForTests: LOW_COST_SCRYPT }), clock, store };
}

async function loginAs(t: Tap, accounts: Accounts, username: string, password = 'river-stone-lantern'): Promise<Principal> {
  const r = await accounts.login(username, password);
  if (!r.ok) throw new Error(`login ${username}: ${r.error.code} ${r.error.detail}`);
  t.ok(r.value.token.startsWith('imss_'));
  return r.value.principal;
}

async function makeAdmin(t: Tap, accounts: Accounts, username = 'root.admin'): Promise<Principal> {
  const r = await accounts.apply(application(username, { role: 'admin', outletId: undefined, legalName: 'Morgan Reyes' }), SETUP);
  if (!r.ok || r.value.status !== 'approved') throw new Error(`admin setup failed: ${JSON.stringify(r)}`);
  return loginAs(t, accounts, username);
}

forEachBackend(t, (t, backend) => {
  t.test('a clean application is approved at once, gets account id 1 and an AccountOpened in the outbox', async (t) => {
    const { accounts } = await setUp(t, backend);
    const r = await accounts.apply(application('hokonjo'));
    t.ok(r.ok);
    if (!r.ok) return;
    t.match(r.value, { status: 'approved', accountId: 1, username: 'hokonjo', reasons: [] });
    t.match(await accounts.readOutbox(), [{ outboxId: 1, kind: 'account_opened', accountId: 1, outletId: 7, role: 1 }]);
    const p = await loginAs(t, accounts, 'HOKONJO');
    t.match(p, { accountId: 1, role: 'colleague', roleCode: 1, outletId: 7, username: 'hokonjo' });
  });

  t.test('a rejected application says why, frees the username, and its applicant cannot log in', async (t) => {
    const { accounts } = await setUp(t, backend);
    const r = await accounts.apply(application('young.one', { dateOfBirth: '2007-06-16' }));
    t.match(r, { ok: true, value: { status: 'rejected', accountId: null, reasons: [{ code: 'under_age' }] } });
    t.same(await accounts.readOutbox(), [], 'no account was opened');
    const login = await accounts.login('young.one', 'river-stone-lantern');
    t.match(login, { ok: false, error: { code: 'account_rejected', detail: /at least 18.*apply again/ } });
    const again = await accounts.apply(application('young.one', { dateOfBirth: '2007-06-15' }));
    t.match(again, { ok: true, value: { status: 'approved', accountId: 1 } }, 'a corrected application under the same username is approved');
    await loginAs(t, accounts, 'young.one');
  });

  t.test('validation errors come back as a field list and store nothing', async (t) => {
    const { accounts, store } = await setUp(t, backend);
    const r = await accounts.apply({ ...application('ok.name'), dateOfBirth: 'yesterday', address: { city: 'Leeds' }, balance: 100 });
    t.match(r, { ok: false, error: { code: 'validation_failed' } });
    if (r.ok) return;
    t.equal(httpStatusOf(r.error.code), 400);
    t.same(
      r.error.fields!.map((f) => f.field).sort(),
      ['address.country', 'address.line1', 'address.postalCode', 'balance', 'dateOfBirth'],
    );
    const weak = await accounts.apply(application('ok.name', { password: 'tiny' }));
    t.match(weak, { ok: false, error: { code: 'password_too_weak', detail: /at least 12 characters/, fields: [{ field: 'password' }] } });
    t.equal((await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM accounts'))!.n, 0);
  });

  t.test('a username in use answers username_taken (409) and tells the user to choose another', async (t) => {
    const { accounts } = await setUp(t, backend);
    t.ok((await accounts.apply(application('same.name'))).ok);
    const r = await accounts.apply(application('Same.Name', { legalName: 'Other Person' }));
    t.match(r, { ok: false, error: { code: 'username_taken', detail: /choose another/, fields: [{ field: 'username', code: 'username_taken' }] } });
    if (!r.ok) t.equal(httpStatusOf(r.error.code), 409);
    const racing = await Promise.all([accounts.apply(application('racer')), accounts.apply(application('racer'))]);
    t.same(racing.map((x) => (x.ok ? 'ok' : x.error.code)).sort(), ['ok', 'username_taken'], 'two applications racing for one name: one wins');
  });

  t.test('only an administrator (or the system) creates staff accounts', async (t) => {
    const { accounts } = await setUp(t, backend);
    const self = await accounts.apply(application('wannabe', { role: 'admin', outletId: undefined }));
    t.match(self, { ok: false, error: { code: 'forbidden' } });
    const admin = await makeAdmin(t, accounts);
    t.match(admin, { role: 'admin', roleCode: 3, outletId: 0 });
    const colleague = await accounts.apply(application('plain.colleague'));
    t.ok(colleague.ok);
    const byColleague = await accounts.apply(application('ceo.two', { role: 'analyst', outletId: undefined }), await loginAs(t, accounts, 'plain.colleague'));
    t.match(byColleague, { ok: false, error: { code: 'forbidden' } });
    const byAdmin = await accounts.apply(application('ceo', { role: 'analyst', outletId: undefined, legalName: 'Jordan Blake' }), admin);
    t.match(byAdmin, { ok: true, value: { status: 'approved' } });
    t.match((await accounts.readOutbox()).map((e) => [e.accountId, e.role, e.outletId]), [
      [1, 3, 0],
      [2, 1, 7],
      [3, 4, 0],
    ]);
  });

  t.test('a fuzzy sanctions hit waits in the review queue until an administrator approves it', async (t) => {
    const { accounts } = await setUp(t, backend);
    const admin = await makeAdmin(t, accounts);
    const r = await accounts.apply(application('b.quell', { legalName: 'Quellmrash Boris' }));
    t.match(r, { ok: true, value: { status: 'pending_review', accountId: null, reasons: [{ code: 'sanctions_possible_match', detail: /IMS-0001/ }] } });
    if (!r.ok) return;
    t.match(await accounts.login('b.quell', 'river-stone-lantern'), { ok: false, error: { code: 'account_pending_review' } });
    const colleague = await accounts.apply(application('nosy'));
    t.ok(colleague.ok);
    t.match(await accounts.listPendingReviews(await loginAs(t, accounts, 'nosy')), { ok: false, error: { code: 'forbidden' } }, 'a colleague cannot see the queue');

    const queue = await accounts.listPendingReviews(admin);
    t.match(queue, { ok: true, value: [{ applicationId: r.value.applicationId, username: 'b.quell', legalName: 'Quellmrash Boris', sanctionsMatches: [{ entryId: 'IMS-0001' }] }] });
    const approved = await accounts.approveApplication(admin, r.value.applicationId, 'different date of birth from the listed person');
    t.match(approved, { ok: true, value: { status: 'approved', accountId: 3 } });
    t.match((await accounts.readOutbox()).at(-1), { kind: 'account_opened', accountId: 3, outletId: 7, role: 1 });
    await loginAs(t, accounts, 'b.quell');
    t.match(await accounts.listPendingReviews(admin), { ok: true, value: [] }, 'the queue is empty');
    t.match(await accounts.approveApplication(admin, r.value.applicationId), { ok: false, error: { code: 'not_pending_review' } });
    t.match(await accounts.approveApplication(admin, 999_999), { ok: false, error: { code: 'not_found' } });
  });

  t.test('an administrator rejects a pending application with a reason that the applicant then sees', async (t) => {
    const { accounts } = await setUp(t, backend);
    const admin = await makeAdmin(t, accounts);
    const r = await accounts.apply(application('t.grind', { legalName: 'Tobias Grindelford' }));
    t.match(r, { ok: true, value: { status: 'pending_review' } });
    if (!r.ok) return;
    t.match(await accounts.rejectApplication(admin, r.value.applicationId, '  '), { ok: false, error: { code: 'validation_failed', fields: [{ field: 'reason' }] } });
    const rejected = await accounts.rejectApplication(admin, r.value.applicationId, 'same person as list entry IMS-0003');
    t.match(rejected, { ok: true, value: { status: 'rejected', reasons: [{ code: 'rejected_on_review' }] } });
    t.match(await accounts.login('t.grind', 'river-stone-lantern'), { ok: false, error: { code: 'account_rejected', detail: /IMS-0003/ } });
    t.match(await accounts.listPendingReviews(admin), { ok: true, value: [] });
    t.same((await accounts.readOutbox()).filter((e) => e.role === 1), [], 'no colleague account was opened');
  });

  t.test('two reviewers deciding one application at once: exactly one decision counts', async (t) => {
    const { accounts } = await setUp(t, backend);
    const admin = await makeAdmin(t, accounts);
    const r = await accounts.apply(application('contested', { legalName: 'Liesel Vanterpol' }));
    if (!r.ok) throw new Error('setup');
    const [a, b] = await Promise.all([accounts.approveApplication(admin, r.value.applicationId), accounts.rejectApplication(admin, r.value.applicationId, 'match')]);
    t.same([a.ok, b.ok].filter(Boolean).length, 1, 'one wins');
    t.match([a, b].find((x) => !x.ok), { error: { code: 'not_pending_review' } });
  });

  t.test('the audit trail records who decided and when, for automatic and manual decisions', async (t) => {
    const { accounts, clock } = await setUp(t, backend);
    const admin = await makeAdmin(t, accounts);
    const t0 = clock.nowMs();
    const auto = await accounts.apply(application('auto.ok'));
    const rejected = await accounts.apply(application('auto.no', { document: { type: 'passport', number: 'X123456789', expiryDate: '2020-01-01' } }));
    const pending = await accounts.apply(application('manual', { legalName: 'Oren Halbrok' }));
    if (!auto.ok || !rejected.ok || !pending.ok) throw new Error('setup');
    clock.advance(90_000);
    const t1 = clock.nowMs();
    t.ok((await accounts.approveApplication(admin, pending.value.applicationId, 'checked passport photo')).ok);

    const autoTrail = await accounts.auditTrail(admin, { applicationId: auto.value.applicationId });
    t.match(autoTrail, { ok: true, value: [{ action: 'kyc_auto_approved', actor: 'system:kyc', actorAccountId: null, atMs: t0, accountId: auto.value.accountId, detail: { decisionDate: '2025-06-15', threshold: 0.9, requestedBy: 'applicant' } }] });
    const rejectedTrail = await accounts.auditTrail(admin, { applicationId: rejected.value.applicationId });
    t.match(rejectedTrail, { ok: true, value: [{ action: 'kyc_auto_rejected', actor: 'system:kyc', atMs: t0, detail: { reasons: [{ code: 'document_expired' }] } }] });
    const manualTrail = await accounts.auditTrail(admin, { applicationId: pending.value.applicationId });
    t.match(manualTrail, {
      ok: true,
      value: [
        { action: 'kyc_auto_pending_review', actor: 'system:kyc', atMs: t0, detail: { sanctionsMatches: [{ entryId: 'IMS-0007' }] } },
        { action: 'kyc_manual_approved', actor: `account:${admin.accountId}:root.admin`, actorAccountId: admin.accountId, atMs: t1, detail: { note: 'checked passport photo' } },
      ],
    });
    if (manualTrail.ok) t.equal(manualTrail.value.length, 2);
    const byAccount = await accounts.auditTrail(admin, { accountId: auto.value.accountId! });
    t.match(byAccount, { ok: true, value: [{ action: 'kyc_auto_approved' }] }, 'also found by account id');
    const colleague = await loginAs(t, accounts, 'auto.ok');
    t.match(await accounts.auditTrail(colleague, { applicationId: auto.value.applicationId }), { ok: false, error: { code: 'forbidden' } });
  });
});
