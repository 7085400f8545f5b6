// Bulk provisioning (processes/accounts/bulk-provisioning.ts) makes real, approved colleague
// accounts with live sessions: proved by authenticating every token through an ordinary Accounts
// module (production password cost) over the same SQLite file, and by the outbox holding one
// AccountOpened per account for the journal.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { Accounts } from '../processes/accounts/accounts';
import { BULK_BATCH, BULK_PROVISIONING_SCRYPT_PARAMS, openBulkProvisioningAccounts, provisionColleagues } from '../processes/accounts/bulk-provisioning';

function tempStore(tt: Test): { kind: 'sqlite'; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-bulk-provisioning-test-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { kind: 'sqlite', file: path.join(dir, 'accounts.sqlite') };
}

// More than two batches, so a batch boundary and a short last batch are both crossed.
const COUNT = 2 * BULK_BATCH + 7;

t.test('every provisioned colleague is approved, opened in the outbox, and holds a session the production module accepts', async (tt) => {
  const storeOptions = tempStore(tt);
  const bulk = await openBulkProvisioningAccounts(storeOptions);
  const progress: number[] = [];
  const colleagues = await provisionColleagues(bulk, { count: COUNT, usernamePrefix: 'bench', firstOutletId: 500, onProgress: (n) => progress.push(n) });
  tt.equal(colleagues.length, COUNT);
  tt.same(progress, [BULK_BATCH, 2 * BULK_BATCH, COUNT], 'progress is reported once per batch');
  tt.equal(new Set(colleagues.map((c) => c.accountId)).size, COUNT, 'account ids are distinct');
  tt.equal(new Set(colleagues.map((c) => c.token)).size, COUNT, 'tokens are distinct');
  tt.same(colleagues[0]!.username, 'bench1');
  tt.same(colleagues[COUNT - 1]!.outletId, 500 + COUNT - 1);

  const outbox = await bulk.readOutbox(COUNT + 10);
  tt.equal(outbox.filter((e) => e.kind === 'account_opened').length, COUNT, 'one AccountOpened per account waits for the journal');
  tt.same(new Set(outbox.map((e) => e.accountId)), new Set(colleagues.map((c) => c.accountId)));

  const stored = await bulk.store.get<{ password_hash: string }>('SELECT password_hash FROM accounts WHERE username = ?', ['bench1']);
  tt.match(stored!.password_hash, new RegExp(`^scrypt\\$ln=${BULK_PROVISIONING_SCRYPT_PARAMS.logN},`), 'the only shortcut is the stored password cost');
  await bulk.close();

  // A second, ordinary module (OWASP cost) over the same file: what the gateway does.
  const production = await Accounts.open(storeOptions);
  tt.teardown(() => production.close());
  for (const c of colleagues) {
    const r = await production.authenticate(c.token);
    if (!r.ok) {
      tt.fail(`token of ${c.username} refused: ${r.error.code}`);
      continue;
    }
    if (r.value.kind !== 'account' || r.value.accountId !== c.accountId || r.value.role !== 'colleague' || r.value.outletId !== c.outletId || r.value.username !== c.username) {
      tt.fail(`token of ${c.username} names ${JSON.stringify(r.value)}`);
    }
  }
  tt.pass('every token authenticates as its own colleague');
});

t.test('provisioning over usernames that already exist fails loudly instead of running on fewer accounts', async (tt) => {
  const bulk = await openBulkProvisioningAccounts(tempStore(tt));
  tt.teardown(() => bulk.close());
  await provisionColleagues(bulk, { count: 3, usernamePrefix: 'kiosk' });
  await tt.rejects(provisionColleagues(bulk, { count: 3, usernamePrefix: 'kiosk' }), /'kiosk1' failed: username_taken/);
});

t.test('bad counts and prefixes are refused before anything is written', async (tt) => {
  const bulk = await openBulkProvisioningAccounts(tempStore(tt));
  tt.teardown(() => bulk.close());
  await tt.rejects(provisionColleagues(bulk, { count: 0, usernamePrefix: 'bench' }), /count must be an integer/);
  await tt.rejects(provisionColleagues(bulk, { count: 1, usernamePrefix: 'Bench' }), /usernamePrefix must be/);
  await tt.rejects(provisionColleagues(bulk, { count: 1, usernamePrefix: 'bench', firstOutletId: 0 }), /outlets 0\.\.0/);
  tt.same(await bulk.readOutbox(10), [], 'no account was created');
});
