// An administrator changes an account's role: only an admin may, never their own, a colleague
// needs an outlet and staff have none, the same role again is refused; the change signs the
// account out everywhere (sessions and API keys), is in the audit trail with who, when and why,
// and reaches the journal as AccountRoleChanged through the outbox. Runs against SQLite and
// PostgreSQL; the schema upgrade from version 1 (the outbox rebuilt) keeps every outbox row.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { AccountRole } from '../bus/enums';
import { decode, encode } from '../bus/codec';
import { AccountRoleChanged, MAX_BODY_BYTES } from '../bus/schema';
import { Accounts } from '../processes/accounts/accounts';
import { outboxMessageOf } from '../processes/accounts/account-outbox';
import type { ApplicationInput } from '../processes/accounts/application-validation';
import { ManualClock } from '../processes/accounts/clock';
import { httpStatusOf } from '../processes/accounts/errors';
import { migrate, MIGRATIONS } from '../processes/accounts/migrations';
import { PostgresAccountStore, probePostgres } from '../processes/accounts/postgres-store';
import { systemActor, type Principal } from '../processes/accounts/principal';
import { SqliteAccountStore } from '../processes/accounts/sqlite-store';
import type { AccountStore } from '../processes/accounts/sql-store';
import { colleagueApplication as application, forEachBackend, TEST_PASSWORD, type Backend, type Tap } from './support/accounts-db';

const LOW_COST_SCRYPT = { logN: 10, r: 8, p: 1 };
const START_MS = Date.parse('2025-06-15T09:00:00Z');
const SETUP = systemActor('test-setup');
const PASSWORD = TEST_PASSWORD;


interface World {
  accounts: Accounts;
  clock: ManualClock;
  store: AccountStore;
  admin: Principal;
  /** Account ids: colleague (outlet 7), a second admin, a risk admin. */
  colleagueId: number;
  otherAdminId: number;
  risk: Principal;
}

async function login(accounts: Accounts, username: string): Promise<{ token: string; principal: Principal }> {
  const r = await accounts.login(username, PASSWORD);
  if (!r.ok) throw new Error(`login ${username}: ${r.error.code} ${r.error.detail}`);
  return r.value;
}

async function approved(accounts: Accounts, input: ApplicationInput): Promise<number> {
  const r = await accounts.apply(input, SETUP);
  if (!r.ok || r.value.status !== 'approved' || r.value.accountId === null) throw new Error(`setup of ${input.username} failed: ${JSON.stringify(r)}`);
  return r.value.accountId;
}

async function setUp(t: Tap, backend: Backend): Promise<World> {
  const clock = new ManualClock(START_MS);
  const store = await backend.fresh(t).open(clock);
  const accounts = new Accounts(store, { clock, unsafeLowCostScryptParamsForTests: LOW_COST_SCRYPT });
  const colleagueId = await approved(accounts, application('colleague.a'));
  await approved(accounts, application('root.admin', { role: 'admin', outletId: undefined, legalName: 'Morgan Reyes' }));
  const otherAdminId = await approved(accounts, application('second.admin', { role: 'admin', outletId: undefined, legalName: 'Priya Nair' }));
  await approved(accounts, application('risk.admin', { role: 'risk_admin', outletId: undefined, legalName: 'Tomas Berg' }));
  return {
    accounts,
    clock,
    store,
    admin: (await login(accounts, 'root.admin')).principal,
    risk: (await login(accounts, 'risk.admin')).principal,
    colleagueId,
    otherAdminId,
  };
}

forEachBackend(t, (t, backend) => {
  t.test('an admin makes a colleague an analyst: signed out everywhere, audited, AccountRoleChanged in the outbox', async (t) => {
    const w = await setUp(t, backend);
    const s1 = await login(w.accounts, 'colleague.a');
    const s2 = await login(w.accounts, 'colleague.a');
    const key = await w.accounts.createApiKey(s1.principal, 'trading bot');
    if (!key.ok) throw new Error('api key setup failed');
    w.clock.advance(60_000);

    const r = await w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'analyst', reason: ' the CEO asked for a second analyst ' });
    t.same(r, { ok: true, value: { accountId: w.colleagueId, previousRole: 'colleague', role: 'analyst', outletId: 0, sessionsRevoked: 2, apiKeysRevoked: 1 } });

    t.match(await w.accounts.authenticate(s1.token), { ok: false, error: { code: 'session_invalid' } }, 'the old session is refused');
    t.match(await w.accounts.authenticate(s2.token), { ok: false, error: { code: 'session_invalid' } });
    t.match(await w.accounts.authenticate(key.value.key), { ok: false, error: { code: 'api_key_invalid' } }, 'the API key made under the old role is revoked');
    const again = await login(w.accounts, 'colleague.a');
    t.match(again.principal, { accountId: w.colleagueId, role: 'analyst', roleCode: AccountRole.ANALYST, outletId: 0 }, 'the next login has the new role');
    t.match(await w.accounts.getAccount(w.admin, w.colleagueId), { ok: true, value: { role: 'analyst', outletId: 0, suspended: false } });

    const last = (await w.accounts.readOutbox()).at(-1)!;
    t.match(last, { kind: 'account_role_changed', accountId: w.colleagueId, outletId: 0, role: AccountRole.ANALYST, createdAtMs: START_MS + 60_000 });
    const m = outboxMessageOf(last);
    t.equal(m.desc, AccountRoleChanged, 'it becomes the bus message AccountRoleChanged');
    const view = new DataView(new ArrayBuffer(MAX_BODY_BYTES));
    encode(AccountRoleChanged, m.value as { accountId: number; outletId: number; role: number }, view, 0);
    t.same(decode(AccountRoleChanged, view, 0), { accountId: w.colleagueId, outletId: 0, role: AccountRole.ANALYST });

    const audit = await w.accounts.auditTrail(w.admin, { accountId: w.colleagueId });
    if (!audit.ok) throw new Error('audit read failed');
    t.match(audit.value.at(-1), {
      action: 'account_role_changed',
      actor: `account:${w.admin.accountId}:root.admin`,
      actorAccountId: w.admin.accountId,
      atMs: START_MS + 60_000,
      detail: { from: 'colleague', to: 'analyst', fromOutletId: 7, outletId: 0, reason: 'the CEO asked for a second analyst', sessionsRevoked: 2, apiKeysRevoked: 1 },
    });
  });

  t.test('becoming a colleague needs an outlet; a staff role takes none', async (t) => {
    const w = await setUp(t, backend);
    const toStaff = await w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'operator', reason: 'moved to operations' });
    t.match(toStaff, { ok: true, value: { role: 'operator', outletId: 0 } });
    const noOutlet = await w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'colleague', reason: 'back to the kiosk' });
    t.match(noOutlet, { ok: false, error: { code: 'validation_failed', fields: [{ field: 'outletId', code: 'required' }] } });
    if (!noOutlet.ok) t.equal(httpStatusOf(noOutlet.error.code), 400);
    t.match(await w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'colleague', outletId: 1.5, reason: 'x' }), { ok: false, error: { fields: [{ field: 'outletId', code: 'out_of_range' }] } });
    t.match(await w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'analyst', outletId: 9, reason: 'x' }), { ok: false, error: { fields: [{ field: 'outletId', code: 'not_allowed' }] } }, 'a staff role with an outlet is refused, not silently dropped');
    const back = await w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'colleague', outletId: 12, reason: 'back to the kiosk' });
    t.match(back, { ok: true, value: { previousRole: 'operator', role: 'colleague', outletId: 12 } });
    t.match((await login(w.accounts, 'colleague.a')).principal, { role: 'colleague', outletId: 12 });
    t.match((await w.accounts.readOutbox()).slice(-2), [
      { kind: 'account_role_changed', role: AccountRole.OPERATOR, outletId: 0 },
      { kind: 'account_role_changed', role: AccountRole.COLLEAGUE, outletId: 12 },
    ]);
  });

  t.test('only an admin changes roles, never their own; unknown roles and accounts, a missing reason and a repeat are refused', async (t) => {
    const w = await setUp(t, backend);
    const colleague = (await login(w.accounts, 'colleague.a')).principal;
    const before = (await w.accounts.readOutbox()).length;
    const cases: Array<[string, Promise<unknown>, string, number]> = [
      ['a risk admin', w.accounts.changeAccountRole(w.risk, w.colleagueId, { role: 'analyst', reason: 'x' }), 'forbidden', 403],
      ['a colleague promoting themselves', w.accounts.changeAccountRole(colleague, w.colleagueId, { role: 'admin', reason: 'x' }), 'forbidden', 403],
      ['an admin demoting themselves', w.accounts.changeAccountRole(w.admin, w.admin.accountId, { role: 'analyst', reason: 'stepping back' }), 'self_demotion', 409],
      ['an unknown role', w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'ceo', reason: 'x' }), 'validation_failed', 400],
      ['no reason', w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'analyst', reason: '   ' }), 'validation_failed', 400],
      ['an unknown account', w.accounts.changeAccountRole(w.admin, 9_999, { role: 'analyst', reason: 'x' }), 'not_found', 404],
      ['the role it already has', w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'colleague', outletId: 7, reason: 'x' }), 'role_unchanged', 409],
    ];
    for (const [what, p, code, status] of cases) {
      const r = (await p) as { ok: boolean; error?: { code: string } };
      t.match(r, { ok: false, error: { code } }, `${what}: ${code}`);
      if (!r.ok) t.equal(httpStatusOf(r.error!.code as never), status, `${what}: HTTP ${status}`);
    }
    t.equal((await w.accounts.readOutbox()).length, before, 'no refused change reached the outbox');
    t.match((await login(w.accounts, 'root.admin')).principal, { role: 'admin' }, 'the admin who tried to demote themselves is still an admin');

    const demoted = await w.accounts.changeAccountRole(w.admin, w.otherAdminId, { role: 'analyst', reason: 'left the admin team' });
    t.match(demoted, { ok: true, value: { previousRole: 'admin', role: 'analyst' } }, 'another admin may be demoted (the one acting stays admin)');
  });

  t.test('a suspended account changes role and stays suspended', async (t) => {
    const w = await setUp(t, backend);
    t.match(await w.accounts.suspendAccount(w.risk, w.colleagueId, 'investigation'), { ok: true });
    t.match(await w.accounts.changeAccountRole(w.admin, w.colleagueId, { role: 'analyst', reason: 'after the investigation' }), { ok: true, value: { role: 'analyst' } });
    t.match(await w.accounts.getAccount(w.admin, w.colleagueId), { ok: true, value: { role: 'analyst', suspended: true } });
    t.match(await w.accounts.login('colleague.a', PASSWORD), { ok: false, error: { code: 'account_suspended' } });
  });
});

/** Opens a store at schema version 1 only, as the release before this change left it. */
async function upgradeFromVersion1(t: Tap, store: AccountStore): Promise<void> {
  t.same(await migrate(store, START_MS, MIGRATIONS.slice(0, 1)), [1]);
  await store.run("INSERT INTO account_outbox (outbox_id, kind, account_id, outlet_id, role, created_at_ms, delivered_at_ms) VALUES (1, 'account_opened', 5, 7, 1, 10, 20), (2, 'account_suspended', 5, 7, 1, 30, NULL)");
  await t.rejects(store.run("INSERT INTO account_outbox (outbox_id, kind, account_id, outlet_id, role, created_at_ms) VALUES (3, 'account_role_changed', 5, 0, 4, 40)"), 'version 1 refuses the new kind');
  t.same(await migrate(store, START_MS), [2], 'version 2 is applied on the next open');
  const rows = await store.all<Record<string, unknown>>('SELECT outbox_id, kind, account_id, outlet_id, role, created_at_ms, delivered_at_ms FROM account_outbox ORDER BY outbox_id');
  t.same(
    rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : typeof v === 'string' ? v : Number(v)]))),
    [
      { outbox_id: 1, kind: 'account_opened', account_id: 5, outlet_id: 7, role: 1, created_at_ms: 10, delivered_at_ms: 20 },
      { outbox_id: 2, kind: 'account_suspended', account_id: 5, outlet_id: 7, role: 1, created_at_ms: 30, delivered_at_ms: null },
    ],
    'every outbox row is kept, delivered or not',
  );
  await store.run("INSERT INTO account_outbox (outbox_id, kind, account_id, outlet_id, role, created_at_ms) VALUES (3, 'account_role_changed', 5, 0, 4, 40)");
  await t.rejects(store.run("INSERT INTO account_outbox (outbox_id, kind, account_id, outlet_id, role, created_at_ms) VALUES (4, 'something_else', 5, 0, 4, 40)"), 'the CHECK still refuses other kinds');
  t.same(
    (await store.all<{ outbox_id: number }>('SELECT outbox_id FROM account_outbox WHERE delivered_at_ms IS NULL ORDER BY outbox_id')).map((r) => Number(r.outbox_id)),
    [2, 3],
  );
}

t.test('schema version 1 upgrades to 2 keeping the outbox (SQLite)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-role-migration-'));
  const store = new SqliteAccountStore(path.join(dir, 'accounts.sqlite'));
  t.teardown(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await upgradeFromVersion1(t, store);
  t.ok((await store.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'account_outbox_undelivered'")).length === 1, 'the undelivered index is back');
});

t.test('schema version 1 upgrades to 2 keeping the outbox (PostgreSQL)', async (t) => {
  const url = process.env['IMS_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const why = await probePostgres(url);
  if (why !== undefined) {
    if (process.env['CI'] === 'true') t.fail(`PostgreSQL is required when CI=true: ${why}`);
    else t.skip(`PostgreSQL NOT RUN: ${why}`, () => undefined);
    return;
  }
  const schema = `ims_test_${process.pid}_${crypto.randomBytes(5).toString('hex')}`;
  const store = new PostgresAccountStore(url, schema);
  t.teardown(async () => {
    await store.dropSchema();
    await store.close();
  });
  await store.ensureSchema();
  await upgradeFromVersion1(t, store);
  t.ok((await store.all("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'account_outbox_undelivered'")).length === 1, 'the undelivered index is back');
});
