// Credentials through the store: password login, lockout and its window, sessions (idle and
// absolute expiry, logout, tampering), API keys (shown once, hashed, revocable), suspension, password
// change and the demo seed. Runs against SQLite and PostgreSQL; the scrypt tests at the top use the
// real OWASP cost.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import {
  LOCKOUT_DURATION_MS,
  MAX_API_KEYS_PER_ACCOUNT,
  MAX_CONCURRENT_PASSWORD_HASHES,
  MAX_FAILED_LOGINS,
  MAX_QUEUED_PASSWORD_HASHES,
  SESSION_ABSOLUTE_TIMEOUT_MS,
  SESSION_IDLE_TIMEOUT_MS,
  SESSION_RETENTION_MS,
} from '../processes/accounts/account-limits';
import { Accounts } from '../processes/accounts/accounts';
import { openAccountStore } from '../processes/accounts/account-store';
import type { ApplicationInput } from '../processes/accounts/application-validation';
import { ManualClock, type Clock } from '../processes/accounts/clock';
import { DEMO_ACCOUNT_SCRYPT_PARAMS, formatDemoCredentials, seedDemoAccounts } from '../processes/accounts/demo-accounts';
import { httpStatusOf } from '../processes/accounts/errors';
import { HASHER_BUSY, OWASP_SCRYPT_PARAMS, PasswordHasher } from '../processes/accounts/password-hashing';
import { PostgresAccountStore, probePostgres } from '../processes/accounts/postgres-store';
import { systemActor, type Principal } from '../processes/accounts/principal';
import type { AccountStore } from '../processes/accounts/sql-store';

import { colleagueApplication as application, forEachBackend, TEST_PASSWORD, type Backend, type Tap, type TestDb } from './support/accounts-db';

/** The cheap scrypt cost, through the explicit test-only option. */
const LOW_COST_SCRYPT = { logN: 10, r: 8, p: 1 };
const START_MS = Date.parse('2025-06-15T09:00:00Z');
const PASSWORD = TEST_PASSWORD;
const SETUP = systemActor('test-setup');


async function setUp(t: Tap, backend: Backend): Promise<{ accounts: Accounts; clock: ManualClock; store: AccountStore }> {
  const clock = new ManualClock(START_MS);
  const store = await backend.fresh(t).open(clock);
  const accounts = new Accounts(store, { clock, unsafeLowCostScryptParamsForTests: LOW_COST_SCRYPT });
  for (const [username, role, legalName] of [
    ['colleague.a', 'colleague', 'Hannah Okonjo'],
    ['colleague.b', 'colleague', 'Ravi Menon'],
    ['root.admin', 'admin', 'Morgan Reyes'],
    ['risk.desk', 'risk_admin', 'Priya Natarajan'],
  ] as const) {
    const r = await accounts.apply(application(username, { role, legalName, ...(role === 'colleague' ? {} : { outletId: undefined }) }), SETUP);
    if (!r.ok || r.value.status !== 'approved') throw new Error(`setup of ${username} failed: ${JSON.stringify(r)}`);
  }
  return { accounts, clock, store };
}

async function login(accounts: Accounts, username: string, password = PASSWORD): Promise<{ token: string; principal: Principal }> {
  const r = await accounts.login(username, password);
  if (!r.ok) throw new Error(`login ${username}: ${r.error.code} ${r.error.detail}`);
  return r.value;
}

t.test('password hashes use scrypt at the OWASP cost unless the explicit test-only option lowers it', async (t) => {
  t.same(OWASP_SCRYPT_PARAMS, { logN: 17, r: 8, p: 1 });
  const hasher = new PasswordHasher();
  t.same(hasher.params, OWASP_SCRYPT_PARAMS);
  const clock = new ManualClock(START_MS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-accounts-test-'));
  const store = await openAccountStore({ kind: 'sqlite', file: path.join(dir, 'a.sqlite'), clock });
  t.teardown(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.same(new Accounts(store, { clock }).scryptParams, OWASP_SCRYPT_PARAMS, 'the default of the module');
  t.same(new Accounts(store, { clock, unsafeLowCostScryptParamsForTests: LOW_COST_SCRYPT }).scryptParams, LOW_COST_SCRYPT);

  // One real hash and two verifications at full cost, timing the event loop meanwhile: scrypt runs
  // on the libuv threadpool, so timers keep firing while it works.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const started = process.hrtime.bigint();
  const stored = await hasher.hash('correct horse battery staple');
  t.equal(await hasher.verify('correct horse battery staple', stored), 'match');
  t.equal(await hasher.verify('correct horse battery stapler', stored), 'mismatch');
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(timer);
  t.match(stored, /^scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
  t.ok(elapsedMs > 3 * 50, `three full-cost scrypt runs took ${elapsedMs.toFixed(0)} ms (each is meant to be ~100+ ms)`);
  t.ok(ticks >= (elapsedMs / 5) * 0.5, `the event loop kept running: ${ticks} timer ticks of 5 ms in ${elapsedMs.toFixed(0)} ms`);
});

t.test('the password hasher answers busy beyond its queue bound instead of queueing without limit', async (t) => {
  const hasher = new PasswordHasher({ unsafeLowCostParamsForTests: LOW_COST_SCRYPT });
  const extra = 5;
  const results = await Promise.all(Array.from({ length: MAX_CONCURRENT_PASSWORD_HASHES + MAX_QUEUED_PASSWORD_HASHES + extra }, () => hasher.hash('some password here')));
  t.equal(results.filter((r) => r === HASHER_BUSY).length, extra);
  t.equal(await hasher.verify('some password here', results[0] as string), 'match', 'and works again afterwards');
});

forEachBackend(t, (t, backend) => {
  t.test('login with the right password opens a session that authenticates as the account', async (t) => {
    const { accounts } = await setUp(t, backend);
    const r = await accounts.login('  Colleague.A ', PASSWORD, 'kiosk 7');
    t.ok(r.ok);
    if (!r.ok) return;
    t.match(r.value, { token: /^imss_[A-Za-z0-9_-]{43}$/, expiresAtMs: START_MS + SESSION_ABSOLUTE_TIMEOUT_MS, idleTimeoutMs: SESSION_IDLE_TIMEOUT_MS });
    const who = await accounts.authenticateSession(r.value.token);
    t.match(who, { ok: true, value: { kind: 'account', accountId: 1, username: 'colleague.a', role: 'colleague', roleCode: 1, outletId: 7, via: 'session' } });
    t.match(await accounts.authenticate(r.value.token), { ok: true, value: { accountId: 1 } }, 'the bearer dispatcher takes it too');
  });

  t.test('a wrong password and an unknown username get the same invalid_credentials answer', async (t) => {
    const { accounts } = await setUp(t, backend);
    const wrong = await accounts.login('colleague.a', 'not-the-password');
    const unknown = await accounts.login('nobody.here', 'not-the-password');
    t.match(wrong, { ok: false, error: { code: 'invalid_credentials' } });
    t.same(unknown, wrong);
    if (!wrong.ok) t.equal(httpStatusOf(wrong.error.code), 401);
    t.match(await accounts.login('colleague.a', ''), { ok: false, error: { code: 'validation_failed', fields: [{ field: 'password', code: 'required' }] } });
    t.match(await accounts.login('colleague.a', 'x'.repeat(10_000)), { ok: false, error: { code: 'invalid_credentials' } }, 'a huge password is refused before hashing');
  });

  t.test(`${MAX_FAILED_LOGINS} wrong passwords lock the account for ${LOCKOUT_DURATION_MS / 60_000} minutes, even against the right password`, async (t) => {
    const { accounts, clock } = await setUp(t, backend);
    for (let i = 1; i < MAX_FAILED_LOGINS; i++) t.match(await accounts.login('colleague.a', 'wrong-guess'), { ok: false, error: { code: 'invalid_credentials' } }, `failure ${i}`);
    const locked = await accounts.login('colleague.a', 'wrong-guess');
    const unlockAtMs = START_MS + LOCKOUT_DURATION_MS;
    t.match(locked, { ok: false, error: { code: 'account_locked', unlockAtMs, detail: new RegExp(new Date(unlockAtMs).toISOString().replace(/[.]/g, '\\.')) } });
    if (!locked.ok) t.equal(httpStatusOf(locked.error.code), 429);
    t.match(await accounts.login('colleague.a', PASSWORD), { ok: false, error: { code: 'account_locked', unlockAtMs } }, 'the right password does not help while locked');
    t.ok((await accounts.login('colleague.b', PASSWORD)).ok, 'other accounts are unaffected');
    clock.set(unlockAtMs - 1);
    t.match(await accounts.login('colleague.a', PASSWORD), { ok: false, error: { code: 'account_locked' } }, 'one millisecond before the window ends');
    clock.set(unlockAtMs);
    t.ok((await accounts.login('colleague.a', PASSWORD)).ok, 'unlocked when the window ends');
    t.match(await accounts.login('colleague.a', 'wrong-guess'), { ok: false, error: { code: 'invalid_credentials' } }, 'the count starts again from zero');
  });

  t.test('a successful login resets the failure count', async (t) => {
    const { accounts } = await setUp(t, backend);
    for (let i = 1; i < MAX_FAILED_LOGINS; i++) await accounts.login('colleague.a', 'wrong-guess');
    t.ok((await accounts.login('colleague.a', PASSWORD)).ok);
    for (let i = 1; i < MAX_FAILED_LOGINS; i++) t.match(await accounts.login('colleague.a', 'wrong-guess'), { ok: false, error: { code: 'invalid_credentials' } });
  });

  t.test('an administrator can lift a lockout early, and it is audited', async (t) => {
    const { accounts } = await setUp(t, backend);
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await accounts.login('colleague.b', 'wrong-guess');
    const admin = (await login(accounts, 'root.admin')).principal;
    const colleague = (await login(accounts, 'colleague.a')).principal;
    t.match(await accounts.unlockAccount(colleague, 2), { ok: false, error: { code: 'forbidden' } });
    t.ok((await accounts.unlockAccount(admin, 2)).ok);
    t.ok((await accounts.login('colleague.b', PASSWORD)).ok);
    t.match(await accounts.auditTrail(admin, { accountId: 2 }), { ok: true, value: [{ action: 'kyc_auto_approved' }, { action: 'account_unlocked', actorAccountId: admin.accountId }] });
  });

  t.test('a session expires after 30 idle minutes; use keeps it alive up to the 12-hour limit', async (t) => {
    const { accounts, clock } = await setUp(t, backend);
    const idle = await login(accounts, 'colleague.a');
    clock.advance(SESSION_IDLE_TIMEOUT_MS - 1);
    t.ok((await accounts.authenticateSession(idle.token)).ok, 'used just before the idle timeout');
    clock.advance(SESSION_IDLE_TIMEOUT_MS - 1);
    t.ok((await accounts.authenticateSession(idle.token)).ok, 'that use restarted the idle clock');
    clock.advance(SESSION_IDLE_TIMEOUT_MS);
    t.match(await accounts.authenticateSession(idle.token), { ok: false, error: { code: 'session_expired', detail: /unused for 30 minutes/ } });
    // A session used every 20 minutes lives until the absolute limit and not a moment longer.
    const steady = await login(accounts, 'colleague.a');
    const loginAt = clock.nowMs();
    while (clock.nowMs() + 20 * 60_000 < loginAt + SESSION_ABSOLUTE_TIMEOUT_MS) {
      clock.advance(20 * 60_000);
      const r = await accounts.authenticateSession(steady.token);
      if (!r.ok) {
        t.fail(`expired early at +${(clock.nowMs() - loginAt) / 60_000} min: ${r.error.detail}`);
        return;
      }
    }
    clock.set(loginAt + SESSION_ABSOLUTE_TIMEOUT_MS);
    t.match(await accounts.authenticateSession(steady.token), { ok: false, error: { code: 'session_expired', detail: /at most 12 hours/ } });
  });

  t.test('ended sessions are purged a week after their absolute expiry, live ones never', async (t) => {
    const { accounts, clock } = await setUp(t, backend);
    const old = await login(accounts, 'colleague.a');
    clock.advance(SESSION_ABSOLUTE_TIMEOUT_MS + SESSION_RETENTION_MS);
    t.equal(await accounts.purgeEndedSessions(), 0, 'kept for the whole retention period');
    clock.advance(1);
    const fresh = await login(accounts, 'colleague.a');
    t.equal(await accounts.purgeEndedSessions(), 1);
    t.match(await accounts.authenticateSession(old.token), { ok: false, error: { code: 'session_invalid' } });
    t.ok((await accounts.authenticateSession(fresh.token)).ok);
  });

  t.test('an account summary is readable by its owner and by staff, and looks absent to other colleagues', async (t) => {
    const { accounts } = await setUp(t, backend);
    const a = (await login(accounts, 'colleague.a')).principal;
    const b = (await login(accounts, 'colleague.b')).principal;
    const risk = (await login(accounts, 'risk.desk')).principal;
    t.match(await accounts.getAccount(a, a.accountId), { ok: true, value: { accountId: 1, username: 'colleague.a', role: 'colleague', outletId: 7, suspended: false, approvedAtMs: START_MS } });
    t.match(await accounts.getAccount(b, a.accountId), { ok: false, error: { code: 'not_found' } });
    t.match(await accounts.getAccount(risk, a.accountId), { ok: true, value: { accountId: 1 } });
    t.match(await accounts.getAccount(risk, 404), { ok: false, error: { code: 'not_found' } });
  });

  t.test('logout revokes the session at once; logging out twice is fine', async (t) => {
    const { accounts } = await setUp(t, backend);
    const a = await login(accounts, 'colleague.a');
    const b = await login(accounts, 'colleague.a');
    t.ok((await accounts.logout(a.token)).ok);
    t.match(await accounts.authenticateSession(a.token), { ok: false, error: { code: 'session_invalid', detail: /signed out/ } });
    t.ok((await accounts.authenticateSession(b.token)).ok, 'another session of the same account lives on');
    t.ok((await accounts.logout(a.token)).ok, 'second logout');
    t.match(await accounts.logoutEverywhere(b.principal), { ok: true, value: 1 });
    t.match(await accounts.authenticateSession(b.token), { ok: false, error: { code: 'session_invalid' } });
  });

  t.test('a tampered, unknown or malformed token is refused', async (t) => {
    const { accounts } = await setUp(t, backend);
    const { token } = await login(accounts, 'colleague.a');
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    t.match(await accounts.authenticateSession(token.slice(0, -1) + last), { ok: false, error: { code: 'session_invalid' } });
    t.match(await accounts.authenticateSession('imss_' + 'x'.repeat(43)), { ok: false, error: { code: 'session_invalid' } });
    t.match(await accounts.authenticateSession('Bearer nonsense'), { ok: false, error: { code: 'session_invalid', detail: /malformed/ } });
    t.match(await accounts.authenticate(''), { ok: false, error: { code: 'session_invalid' } });
  });

  t.test('an API key is shown once, verifies, is listed by prefix only, and stops working when revoked', async (t) => {
    const { accounts } = await setUp(t, backend);
    const me = (await login(accounts, 'colleague.a')).principal;
    const created = await accounts.createApiKey(me, 'price feed bot');
    t.ok(created.ok);
    if (!created.ok) return;
    const { key, keyId, prefix } = created.value;
    t.match(key, new RegExp(`^imsk_${prefix}_[A-Za-z0-9_-]{43}$`));
    const listed = await accounts.listApiKeys(me);
    t.match(listed, { ok: true, value: [{ keyId, prefix, label: 'price feed bot', revokedAtMs: null }] });
    t.notMatch(JSON.stringify(listed), key.slice(15), 'the secret part never appears in a listing');
    const stored = await accounts.store.all<Record<string, unknown>>('SELECT * FROM api_keys');
    t.notMatch(JSON.stringify(stored), key.slice(15), 'nor in the database (only its SHA-256)');
    t.equal(stored[0]!['key_hash'], crypto.createHash('sha256').update(key).digest('hex'));

    t.match(await accounts.authenticateApiKey(key), { ok: true, value: { accountId: me.accountId, via: 'api_key', credentialId: keyId } });
    t.match(await accounts.authenticate(key), { ok: true, value: { via: 'api_key' } });
    t.match(await accounts.authenticateApiKey(key.slice(0, -1) + (key.at(-1) === 'A' ? 'B' : 'A')), { ok: false, error: { code: 'api_key_invalid' } });
    const viaKey = (await accounts.authenticateApiKey(key)) as { ok: true; value: Principal };
    t.match(await accounts.createApiKey(viaKey.value, 'child key'), { ok: false, error: { code: 'forbidden' } }, 'a key cannot mint keys');

    const other = (await login(accounts, 'colleague.b')).principal;
    t.match(await accounts.revokeApiKey(other, keyId), { ok: false, error: { code: 'not_found' } }, "another colleague cannot revoke (or see) this key");
    t.ok((await accounts.revokeApiKey(me, keyId)).ok);
    t.match(await accounts.authenticateApiKey(key), { ok: false, error: { code: 'api_key_invalid', detail: /revoked/ } });
    t.match(await accounts.listApiKeys(me), { ok: true, value: [{ keyId, revokedAtMs: START_MS }] });
    t.match(await accounts.createApiKey(me, ''), { ok: false, error: { code: 'validation_failed', fields: [{ field: 'label' }] } });
  });

  t.test(`an account holds at most ${MAX_API_KEYS_PER_ACCOUNT} live API keys`, async (t) => {
    const { accounts } = await setUp(t, backend);
    const me = (await login(accounts, 'colleague.a')).principal;
    const keys = [];
    for (let i = 0; i < MAX_API_KEYS_PER_ACCOUNT; i++) keys.push(await accounts.createApiKey(me, `bot ${i}`));
    t.ok(keys.every((k) => k.ok));
    t.match(await accounts.createApiKey(me, 'one too many'), { ok: false, error: { code: 'api_key_limit_reached', detail: /revoke one/ } });
    const first = keys[0]!;
    if (first.ok) t.ok((await accounts.revokeApiKey(me, first.value.keyId)).ok);
    t.ok((await accounts.createApiKey(me, 'replacement')).ok, 'room again after a revocation');
  });

  t.test('a suspended account cannot log in, its sessions are revoked, its keys stop, and AccountSuspended is in the outbox', async (t) => {
    const { accounts } = await setUp(t, backend);
    const a = await login(accounts, 'colleague.a');
    const a2 = await login(accounts, 'colleague.a');
    const keyResult = await accounts.createApiKey(a.principal, 'bot');
    if (!keyResult.ok) throw new Error('setup');
    const b = await login(accounts, 'colleague.b');
    t.match(await accounts.suspendAccount(b.principal, 1, 'no reason'), { ok: false, error: { code: 'forbidden' } }, 'a colleague cannot suspend');
    const risk = (await login(accounts, 'risk.desk')).principal;
    t.match(await accounts.suspendAccount(risk, 1, ''), { ok: false, error: { code: 'validation_failed' } }, 'a reason is required');
    t.match(await accounts.suspendAccount(risk, 1, 'unusual trading pattern'), { ok: true, value: { accountId: 1, sessionsRevoked: 2 } });
    t.match(await accounts.suspendAccount(risk, 1, 'again'), { ok: false, error: { code: 'already_suspended' } });
    t.match(await accounts.suspendAccount(risk, 99, 'who'), { ok: false, error: { code: 'not_found' } });
    for (const s of [a, a2]) t.match(await accounts.authenticateSession(s.token), { ok: false, error: { code: 'session_invalid' } });
    t.match(await accounts.login('colleague.a', PASSWORD), { ok: false, error: { code: 'account_suspended', detail: /contact an administrator/ } });
    t.match(await accounts.authenticateApiKey(keyResult.value.key), { ok: false, error: { code: 'account_suspended' } });
    t.ok((await accounts.authenticateSession(b.token)).ok, "other accounts' sessions are untouched");
    t.match((await accounts.readOutbox()).at(-1), { kind: 'account_suspended', accountId: 1 });

    t.match(await accounts.reinstateAccount(risk, 1, 'cleared after review'), { ok: true, value: { accountId: 1 } });
    t.match((await accounts.readOutbox()).at(-1), { kind: 'account_opened', accountId: 1, outletId: 7, role: 1 }, 'reinstatement re-opens the account on the bus');
    t.ok((await accounts.login('colleague.a', PASSWORD)).ok);
    t.ok((await accounts.authenticateApiKey(keyResult.value.key)).ok, 'unrevoked keys work again');
    t.match(await accounts.auditTrail((await login(accounts, 'root.admin')).principal, { accountId: 1 }), {
      ok: true,
      value: [{ action: 'kyc_auto_approved' }, { action: 'api_key_created' }, { action: 'account_suspended', actor: /^account:\d+:risk\.desk$/, detail: { reason: 'unusual trading pattern', sessionsRevoked: 2 } }, { action: 'account_reinstated' }],
    });
  });

  t.test('changing the password signs out the other sessions and retires the old password', async (t) => {
    const { accounts } = await setUp(t, backend);
    const here = await login(accounts, 'colleague.a');
    const elsewhere = await login(accounts, 'colleague.a');
    t.match(await accounts.changePassword(here.principal, 'wrong-current', 'a-brand-new-passphrase'), { ok: false, error: { code: 'invalid_credentials' } });
    t.match(await accounts.changePassword(here.principal, PASSWORD, 'short'), { ok: false, error: { code: 'password_too_weak', fields: [{ field: 'newPassword' }] } });
    t.ok((await accounts.changePassword(here.principal, PASSWORD, 'a-brand-new-passphrase')).ok);
    t.ok((await accounts.authenticateSession(here.token)).ok, 'the session that changed it stays');
    t.match(await accounts.authenticateSession(elsewhere.token), { ok: false, error: { code: 'session_invalid' } });
    t.match(await accounts.login('colleague.a', PASSWORD), { ok: false, error: { code: 'invalid_credentials' } });
    t.ok((await accounts.login('colleague.a', 'a-brand-new-passphrase')).ok);
  });

  t.test('demo seeding creates approved accounts whose printed credentials log in, and a second seeding creates nothing', async (t) => {
    const clock = new ManualClock(START_MS);
    const store = await backend.fresh(t).open(clock);
    const options = { clock, unsafeLowCostScryptParamsForTests: LOW_COST_SCRYPT };
    const seeded = await seedDemoAccounts(store, options);
    t.equal(seeded.length, 9);
    t.same(seeded.map((c) => c.accountId), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'ids follow the listed order');
    t.same(seeded.filter((c) => c.role === 'colleague').map((c) => c.outletId), [101, 102, 103, 104, 105]);
    t.same(seeded.filter((c) => c.role !== 'colleague').map((c) => c.role), ['admin', 'risk_admin', 'analyst', 'operator']);
    const accounts = new Accounts(store, options);
    for (const c of seeded) {
      const r = await accounts.login(c.username, c.password);
      t.match(r, { ok: true, value: { principal: { accountId: c.accountId, role: c.role, outletId: c.outletId } } }, `${c.username} logs in`);
    }
    t.equal((await accounts.readOutbox()).length, 9, 'each has its AccountOpened');
    const again = await seedDemoAccounts(accounts);
    t.same(again.map((c) => [c.accountId, c.created]), seeded.map((c) => [c.accountId, false]));
    const banner = formatDemoCredentials(seeded);
    t.match(banner, /alice\s+kiosk-101-demo\s+colleague\s+101\s+1\s+Alice Martin/);
    t.match(banner, /ceo\s+board-view-demo\s+analyst/);
  });

  t.test("the demo's public passwords are hashed at the demo cost; other accounts keep the OWASP cost", async (t) => {
    const clock = new ManualClock(START_MS);
    const store = await backend.fresh(t).open(clock);
    await seedDemoAccounts(store, { clock });
    const demo = await store.get<{ password_hash: string }>('SELECT password_hash FROM accounts WHERE username = ?', ['alice']);
    t.match(demo?.password_hash, new RegExp(`^scrypt\\$ln=${DEMO_ACCOUNT_SCRYPT_PARAMS.logN},`), 'alice: the demo cost');
    const accounts = new Accounts(store, { clock });
    t.ok((await accounts.login('alice', 'kiosk-101-demo')).ok, 'and logs in');
    const r = await accounts.apply(application('owasp.cost'), SETUP);
    t.ok(r.ok);
    const other = await store.get<{ password_hash: string }>('SELECT password_hash FROM accounts WHERE username = ?', ['owasp.cost']);
    t.match(other?.password_hash, new RegExp(`^scrypt\\$ln=${OWASP_SCRYPT_PARAMS.logN},`), 'an applicant: the OWASP cost');
  });
});
