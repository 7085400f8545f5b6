// The account outbox and the store underneath it: approvals and suspensions come out in commit
// order exactly once across a reopen of the store, a crash between send and mark re-sends with the
// same outbox id (the sequencer's sourceSeq dedupe), back-pressure keeps order, one forwarder holds
// the lease among several processes, events encode as the bus messages, and migrations are
// versioned. Runs against SQLite and PostgreSQL.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { AccountRole } from '../bus/enums';
import { decode, encode } from '../bus/codec';
import { AccountOpened, AccountSuspended } from '../bus/schema';
import { Accounts } from '../processes/accounts/accounts';
import { outboxMessageOf, type OutboxEvent } from '../processes/accounts/account-outbox';
import { spawn } from 'node:child_process';
import { accountStoreOptionsFromEnv, openAccountStore } from '../processes/accounts/account-store';
import type { ApplicationInput } from '../processes/accounts/application-validation';
import { ManualClock, type Clock } from '../processes/accounts/clock';
import { migrate, MIGRATIONS } from '../processes/accounts/migrations';
import { mrzCheckDigit } from '../processes/accounts/mrz-check-digit';
import { PostgresAccountStore, probePostgres } from '../processes/accounts/postgres-store';
import { systemActor } from '../processes/accounts/principal';
import type { AccountStore } from '../processes/accounts/sql-store';

import { forEachBackend, type Backend, type Tap, type TestDb } from './support/accounts-db';

/** The cheap scrypt cost, through the explicit test-only option. */
const LOW_COST_SCRYPT = { logN: 10, r: 8, p: 1 };
const START_MS = Date.parse('2025-06-15T09:00:00Z');
const ADMIN = systemActor('test-admin');

function application(username: string, outletId: number, overrides: Partial<ApplicationInput> = {}): ApplicationInput {
  const field = `P${crypto.randomInt(10_000_000, 99_999_999)}`;
  return {
    legalName: 'Hannah Okonjo',
    dateOfBirth: '1990-05-20',
    outletId,
    document: { type: 'passport', number: field + mrzCheckDigit(field), expiryDate: '2030-01-31' },
    address: { line1: '1 High Street', city: 'Leeds', postalCode: 'LS1 1AA', country: 'GB' },
    username,
    password: 'river-stone-lantern',
    ...overrides,
  };
}

function accountsOver(store: AccountStore, clock: Clock, onOutboxEvent?: (e: OutboxEvent) => void): Accounts {
  return new Accounts(store, { clock, unsafeLowCostScryptParamsForTests: LOW_COST_SCRYPT, ...(onOutboxEvent ? { onOutboxEvent } : {}) });
}

async function approved(accounts: Accounts, username: string, outletId: number): Promise<number> {
  const r = await accounts.apply(application(username, outletId));
  if (!r.ok || r.value.accountId === null) throw new Error(`setup: ${JSON.stringify(r)}`);
  return r.value.accountId;
}

const ROOT = path.resolve(__dirname, '..');
const DIST_ACCOUNTS = path.join(ROOT, 'dist', 'processes', 'accounts', 'index.js');

t.test('the environment picks the store: PostgreSQL for a postgres:// URL, SQLite in the data directory otherwise', async (t) => {
  t.same(accountStoreOptionsFromEnv('/data/x', {}), { kind: 'sqlite', file: path.join('/data/x', 'accounts.sqlite') });
  t.same(accountStoreOptionsFromEnv('/data/x', { IMS_DATABASE_URL: 'postgres://u@db:5432/ims' }), { kind: 'postgres', url: 'postgres://u@db:5432/ims', schema: 'ims_accounts' });
  t.same(accountStoreOptionsFromEnv('/data/x', { IMS_DATABASE_URL: 'postgresql://db/ims', IMS_DATABASE_SCHEMA: 'acc' }), { kind: 'postgres', url: 'postgresql://db/ims', schema: 'acc' });
  t.throws(() => accountStoreOptionsFromEnv('/data/x', { IMS_DATABASE_URL: 'mysql://db/ims' }), /must be a postgres:\/\/ or postgresql:\/\/ URL/);
});

t.test('several processes share one SQLite file: migrations race safely, ids stay unique and the outbox gap-free', async (t) => {
  // Children run the compiled code (as the gateways will), with no TypeScript loader.
  if (!fs.existsSync(DIST_ACCOUNTS)) {
    t.fail(`${DIST_ACCOUNTS} is missing; compile first with npx tsc -p .`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-accounts-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'accounts.sqlite');
  const perProcess = 10;
  const child = `
    const { Accounts } = require(${JSON.stringify(DIST_ACCOUNTS)});
    const { mrzCheckDigit } = require(${JSON.stringify(path.join(ROOT, 'dist', 'processes', 'accounts', 'mrz-check-digit.js'))});
    (async () => {
      const accounts = await Accounts.open({ kind: 'sqlite', file: process.argv[1] }, { unsafeLowCostScryptParamsForTests: { logN: 10, r: 8, p: 1 } });
      const ids = [];
      for (let i = 0; i < ${perProcess}; i++) {
        const field = 'P' + process.argv[2] + String(i).padStart(7, '0');
        const r = await accounts.apply({
          legalName: 'Hannah Okonjo', dateOfBirth: '1990-05-20', outletId: 1 + i,
          document: { type: 'passport', number: field + mrzCheckDigit(field), expiryDate: '2099-01-31' },
          address: { line1: '1 High Street', city: 'Leeds', postalCode: 'LS1 1AA', country: 'GB' },
          username: 'proc' + process.argv[2] + '.user' + i, password: 'river-stone-lantern',
        });
        ids.push(r.ok ? r.value.accountId : r.error.code);
      }
      await accounts.close();
      process.stdout.write(JSON.stringify(ids));
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const run = (n: number) =>
    new Promise<number[]>((resolve, reject) => {
      const p = spawn(process.execPath, ['-e', child, file, String(n)], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`child ${n} exited ${code}: ${err}`))));
    });
  const [a, b, c] = await Promise.all([run(1), run(2), run(3)]);
  const all = [...a!, ...b!, ...c!];
  t.same([...all].sort((x, y) => x - y), Array.from({ length: 3 * perProcess }, (_, i) => i + 1), 'account ids 1..30, each once');
  for (const ids of [a!, b!, c!]) t.same(ids, [...ids].sort((x, y) => x - y), 'each process sees its own approvals in increasing order');
  const clock = new ManualClock(Date.now());
  const store = await openAccountStore({ kind: 'sqlite', file, clock });
  t.teardown(() => store.close());
  const accounts = accountsOver(store, clock);
  const events = await accounts.readOutbox();
  t.same(events.map((e) => e.outboxId), Array.from({ length: 3 * perProcess }, (_, i) => i + 1), 'outbox ids 1..30 in order');
  t.same(await store.all('SELECT version FROM schema_migrations ORDER BY version'), MIGRATIONS.map((m) => ({ version: m.version })), 'the schema was migrated once');
});

t.test('outbox events become the bus messages AccountOpened and AccountSuspended', async (t) => {
  const opened = outboxMessageOf({ outboxId: 1, kind: 'account_opened', accountId: 0xffff_fffe, outletId: 4_000_000_000, role: AccountRole.ANALYST, createdAtMs: 0 });
  t.equal(opened.desc, AccountOpened);
  const view = new DataView(new ArrayBuffer(64));
  encode(AccountOpened, opened.value as never, view, 0);
  t.same(decode(AccountOpened, view, 0), { accountId: 0xffff_fffe, outletId: 4_000_000_000, role: AccountRole.ANALYST });
  const suspended = outboxMessageOf({ outboxId: 2, kind: 'account_suspended', accountId: 42, outletId: 7, role: 1, createdAtMs: 0 });
  t.equal(suspended.desc, AccountSuspended);
  encode(AccountSuspended, suspended.value as never, view, 0);
  t.same(decode(AccountSuspended, view, 0), { accountId: 42 });
});

forEachBackend(t, (t, backend) => {
  t.test('approvals come out of the outbox in order exactly once across a reopen of the store', async (t) => {
    const clock = new ManualClock(START_MS);
    const db = backend.fresh(t);
    const first = await db.open(clock);
    const woken: number[] = [];
    let accounts = accountsOver(first, clock, (e) => woken.push(e.outboxId));
    for (let i = 1; i <= 3; i++) await approved(accounts, `colleague${i}`, 100 + i);
    const pending = await accounts.apply(application('fuzzy', 200, { legalName: 'Boris Quellmrash' }));
    for (let i = 4; i <= 5; i++) await approved(accounts, `colleague${i}`, 100 + i);
    t.same(woken, [1, 2, 3, 4, 5], 'the listener hears of each event after it commits');

    const received: OutboxEvent[] = [];
    let budget = 3;
    const sink = (e: OutboxEvent) => {
      if (budget === 0) return false;
      budget--;
      received.push(e);
      return true;
    };
    t.match(await accounts.forwardOutbox(sink), { forwarded: 3, leaseHeld: true });
    await first.close();

    // A new process (a restarted gateway) opens the same database.
    const second = await db.open(clock);
    accounts = accountsOver(second, clock);
    budget = Infinity;
    t.match(await accounts.forwardOutbox(sink), { forwarded: 2 });
    t.match(await accounts.forwardOutbox(sink), { forwarded: 0 }, 'nothing is delivered twice');
    if (!pending.ok) throw new Error('setup');
    t.ok((await accounts.approveApplication(ADMIN, pending.value.applicationId, 'cleared')).ok);
    t.match(await accounts.forwardOutbox(sink), { forwarded: 1 });
    t.same(received.map((e) => e.outboxId), [1, 2, 3, 4, 5, 6], 'gap-free, in order, each once');
    t.same(received.map((e) => [e.accountId, e.outletId, e.role]), [
      [1, 101, 1],
      [2, 102, 1],
      [3, 103, 1],
      [4, 104, 1],
      [5, 105, 1],
      [6, 200, 1],
    ]);
  });

  t.test('an event sent but not marked before a crash is sent again with the same outbox id', async (t) => {
    const clock = new ManualClock(START_MS);
    const db = backend.fresh(t);
    const store = await db.open(clock);
    let accounts = accountsOver(store, clock);
    await approved(accounts, 'alpha.user', 1);
    await approved(accounts, 'beta.user', 2);
    const sent: number[] = [];
    await t.rejects(
      accounts.forwardOutbox((e) => {
        sent.push(e.outboxId);
        if (e.outboxId === 2) throw new Error('process killed after the bus took event 2');
        return true;
      }),
    );
    await store.close();
    accounts = accountsOver(await db.open(clock), clock);
    await accounts.forwardOutbox((e) => {
      sent.push(e.outboxId);
      return true;
    });
    // The sequencer drops a sourceSeq it already took, so the repeat of 2 is applied once.
    t.same(sent, [1, 2, 2]);
  });

  t.test('a back-pressured sink stops the round and the same event comes first next time', async (t) => {
    const clock = new ManualClock(START_MS);
    const accounts = accountsOver(await backend.fresh(t).open(clock), clock);
    for (const [i, name] of ['a.one', 'b.two', 'c.three'].entries()) await approved(accounts, name, i + 1);
    const seen: number[] = [];
    let refuse = true;
    const sink = (e: OutboxEvent) => {
      if (e.outboxId === 2 && refuse) {
        refuse = false;
        return false;
      }
      seen.push(e.outboxId);
      return true;
    };
    t.match(await accounts.forwardOutbox(sink), { forwarded: 1 });
    t.match(await accounts.forwardOutbox(sink), { forwarded: 2 });
    t.same(seen, [1, 2, 3]);
    t.same(await accounts.readOutbox(), []);
  });

  t.test('of several processes sharing the store, one forwards at a time (lease), and another takes over when it lapses', async (t) => {
    const clock = new ManualClock(START_MS);
    const db = backend.fresh(t);
    const gatewayA = accountsOver(await db.open(clock), clock);
    const gatewayB = accountsOver(await db.open(clock), clock);
    await approved(gatewayA, 'first', 1);
    const take = () => true;
    t.match(await gatewayA.forwardOutbox(take, { holder: 'gateway-a', leaseMs: 10_000 }), { forwarded: 1, leaseHeld: true });
    await approved(gatewayB, 'second', 2);
    t.match(await gatewayB.forwardOutbox(take, { holder: 'gateway-b', leaseMs: 10_000 }), { forwarded: 0, leaseHeld: false });
    clock.advance(9_999);
    t.match(await gatewayB.forwardOutbox(take, { holder: 'gateway-b' }), { leaseHeld: false }, 'not before the lease lapses');
    clock.advance(1);
    t.match(await gatewayB.forwardOutbox(take, { holder: 'gateway-b', leaseMs: 10_000 }), { forwarded: 1, leaseHeld: true }, 'gateway A stopped renewing');
    t.match(await gatewayA.forwardOutbox(take, { holder: 'gateway-a' }), { leaseHeld: false });
    await gatewayB.releaseOutboxLease('gateway-b');
    t.match(await gatewayA.forwardOutbox(take, { holder: 'gateway-a' }), { leaseHeld: true }, 'a released lease is free at once');
  });

  t.test('two processes approving at once on one database give unique account ids and a gap-free ordered outbox', async (t) => {
    const clock = new ManualClock(START_MS);
    const db = backend.fresh(t);
    const a = accountsOver(await db.open(clock), clock);
    const b = accountsOver(await db.open(clock), clock);
    const results = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => a.apply(application(`a${i}.user`, 10 + i))),
      ...Array.from({ length: 8 }, (_, i) => b.apply(application(`b${i}.user`, 30 + i))),
    ]);
    const ids = results.map((r) => (r.ok ? r.value.accountId : -1));
    t.same([...ids].sort((x, y) => x! - y!), Array.from({ length: 16 }, (_, i) => i + 1), 'account ids 1..16, each once');
    const events = await a.readOutbox();
    t.same(events.map((e) => e.outboxId), Array.from({ length: 16 }, (_, i) => i + 1), 'outbox ids 1..16 in order');
    t.equal(new Set(events.map((e) => e.accountId)).size, 16, 'one AccountOpened per account');
  });

  t.test('two connections of one process to one database do not deadlock while a transaction is open', async (t) => {
    const clock = new ManualClock(START_MS);
    const db = backend.fresh(t);
    const a = await db.open(clock);
    const b = await db.open(clock);
    const order: string[] = [];
    const started = Date.now();
    const txDone = a.transaction(async (tx) => {
      await tx.run("UPDATE id_counters SET next_value = next_value + 0 WHERE name = 'account_id'");
      order.push('a holds the write lock');
      // Yield to the event loop inside the transaction: in SQLite, b must now wait in our queue,
      // not in SQLite's busy wait, which would block the one thread that could commit a.
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('a commits');
    });
    await new Promise((resolve) => setImmediate(resolve));
    await b.run("UPDATE id_counters SET next_value = next_value + 0 WHERE name = 'outbox_id'");
    order.push('b wrote');
    await txDone;
    t.ok(Date.now() - started < 1_000, `both done in ${Date.now() - started} ms`);
    if (backend.name === 'sqlite') t.same(order, ['a holds the write lock', 'a commits', 'b wrote']);
    else t.same(order.sort(), ['a commits', 'a holds the write lock', 'b wrote'], 'PostgreSQL locks rows, so b need not wait');
  });

  t.test('migrations are applied once, recorded in schema_migrations, and a newer database is refused', async (t) => {
    const clock = new ManualClock(START_MS);
    const db = backend.fresh(t);
    const store = await db.open(clock);
    t.same(await store.all('SELECT version, name, applied_at_ms FROM schema_migrations ORDER BY version'), MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at_ms: START_MS })));
    t.same(await migrate(store, clock.nowMs()), [], 'nothing left to apply');
    const again = await db.open(clock);
    t.same(await again.all('SELECT version FROM schema_migrations ORDER BY version'), MIGRATIONS.map((m) => ({ version: m.version })), 'reopening applies nothing twice');
    await store.run("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (99, 'from the future', 0)");
    await t.rejects(migrate(store, clock.nowMs()), /schema version 99 .*newer than this code knows/);
    const indexes =
      backend.name === 'sqlite'
        ? await store.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        : await store.all<{ name: string }>('SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname');
    const names = indexes.map((i) => i.name);
    for (const expected of ['accounts_live_username', 'accounts_by_username', 'accounts_review_queue', 'account_audit_by_application', 'account_outbox_undelivered', 'sessions_live_by_account', 'api_keys_by_account']) {
      t.ok(names.includes(expected), `index ${expected}`);
    }
  });
});
