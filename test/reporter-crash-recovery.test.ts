// kill -9 of the reporter PROCESS at random moments under load, several times, in SQLite and in
// PostgreSQL: the real sequencer process journals a realistic workload (real product manager and
// engine) as fast as it can; the reporter process follows the journal through its non-gating
// JournalReader (a small journal ring, so it is lapped and catches up from the disk segments) and
// is killed while it is busy writing batches, then restarted. After every restart it resumes at the
// seq the database holds + 1; at the end a SIGTERM makes it write its last batch and exit 0, and
// reconcile() finds zero differences between the database and the journal on disk — nothing lost,
// nothing doubled — and the records agree with the product manager's wallets.
import t, { type Test } from 'tap';
import { RingFile, RingProducer } from '../bus/ring';
import { TypeId } from '../bus/schema';
import { reconcile, formatReconcileResult } from '../processes/reporter/reconcile';
import { POSTGRES_WRITER_APPLICATION } from '../processes/reporter/postgres-report-store';
import { openReportStore, type ReportStore } from '../processes/reporter/report-store';
import { buildWorkload } from '../processes/reporter/report-workload';
import { findTestPostgres, postgresMissingMessage, postgresRequired, postgresTestDatabase, sqliteTestDatabase, type TestDatabase } from '../processes/reporter/report-test-database';
import { SequencerInputFeeder } from '../processes/reporter/workload-journal';
import { makeBus, tempDir } from './support/journal-harness';
import { SeededRandom, testSeed } from './support/seeded-random';
import { spawnDist, type DistProcess } from './support/spawn';

const SEED = testSeed(0xc4a5_4e9);
const KILLS = 4;
t.comment(`seed ${SEED} (IMS_TEST_SEED replays), ${KILLS} kills per database`);

const workload = buildWorkload({ seed: SEED, operations: 45_000, accounts: 60, outlets: 6, products: 12, dayEvery: 15_000 });
const journal = workload.journal;
const TOTAL = journal.length;
const FILLS = journal.entries.filter((e) => e.typeId === TypeId.Fill).length;
t.comment(`${TOTAL} journal entries, ${FILLS} fills`);

/** About what the 256 KiB journal ring holds (entries are ~100 bytes with their headers). */
const RING_HOLDS_ENTRIES = 2_600;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function crashAndRecover(t: Test, db: TestDatabase): Promise<void> {
  t.teardown(() => db.remove());
  const random = new SeededRandom(SEED ^ (db.name === 'sqlite' ? 1 : 2));
  // A 256 KiB journal ring holds ~2,500 entries: a reporter that is down or slow is lapped and
  // must catch up from disk. Its slot is registered non-gating, as the supervisor registers it.
  const bus = makeBus(t, `rep-crash-${db.name}`, { inputBytes: 1 << 22, journalBytes: 1 << 18, consumers: ['reporter'], nonGating: ['reporter'] });
  const journalDir = tempDir(t, 'reporter-journal');
  const sequencer = spawnDist(t, 'processes/sequencer/main.ts', ['--input', bus.inputs[0]!, '--journal-ring', bus.journal, '--data-dir', journalDir, '--durability', 'async', '--segment-bytes', String(2 << 20)]);
  await sequencer.waitForEvent('sequencer-start', 15_000);

  // Feed the whole workload as fast as the sequencer takes it (the load the reporter is under).
  const feeder = new SequencerInputFeeder(journal, new RingProducer(RingFile.open(bus.inputs[0]!)));
  let feeding = true;
  const feed = (async () => {
    while (!feeder.done && feeding) {
      if (feeder.feed(4_096) === 0) await sleep(2);
      else await sleep(0);
    }
  })();
  t.teardown(async () => {
    feeding = false;
    await feed;
  });

  const args = ['--journal-ring', bus.journal, '--data-dir', db.dataDir, '--batch-entries', '1024', '--batch-ms', '20'];
  if (db.options.kind === 'postgres') args.push('--database-url', db.options.url, '--database-schema', db.options.schema!);
  // A read-only view of the database, opened once the first reporter has created it.
  let observer: ReportStore | null = null;
  t.teardown(() => observer?.close());
  const committed = async (): Promise<number> => {
    if (observer === null) return 0;
    return (await observer.progress()).lastSeq;
  };
  // A PostgreSQL server finishes the transaction a killed client had already sent (a batch is one
  // query, committed whole or not at all): wait until the dead reporter's connections are gone
  // before reading what it left. SQLite transactions die with the process.
  const settleAfterKill = async (): Promise<void> => {
    if (db.options.kind !== 'postgres' || observer === null) return;
    const application = `${POSTGRES_WRITER_APPLICATION}:${db.options.schema}`.slice(0, 63);
    const deadline = Date.now() + 10_000;
    while ((await observer.all<{ n: number }>('SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = ?', [application]))[0]!.n > 0) {
      if (Date.now() > deadline) throw new Error('the killed reporter’s PostgreSQL connections did not go away');
      await sleep(10);
    }
  };

  let killsWhileBehind = 0;
  let reporter: DistProcess | null = null;
  for (let k = 0; k < KILLS; k++) {
    const before = await committed();
    reporter = spawnDist(t, 'processes/reporter/main.ts', args);
    const start = await reporter.waitForEvent('reporter-start', 20_000);
    t.equal(start['fromSeq'], before + 1, `run ${k + 1} resumes at the stored seq + 1 (${before + 1})`);
    observer ??= await openReportStore({ ...db.options, readOnly: true });
    // Kill it while it is busy: it is catching up on tens of thousands of entries, writing a
    // batch of 1,024 every few milliseconds (the moment is random, so mostly mid-batch).
    await sleep(random.int(30, 120));
    const exit = await reporter.kill('SIGKILL');
    t.equal(exit.signal, 'SIGKILL', `run ${k + 1} killed -9`);
    await settleAfterKill();
    const after = await committed();
    if (after < TOTAL) killsWhileBehind++;
    t.ok(after >= before, `run ${k + 1} committed ${after - before} entries before it died (stored seq ${after} of ${TOTAL})`);
  }
  t.ok(killsWhileBehind >= 3, `${killsWhileBehind} of ${KILLS} kills hit a reporter with journal left to write (under load)`);

  // The last run catches up, then stops cleanly on SIGTERM.
  const before = await committed();
  reporter = spawnDist(t, 'processes/reporter/main.ts', args);
  t.equal((await reporter.waitForEvent('reporter-start', 20_000))['fromSeq'], before + 1, 'the last run resumes at the stored seq + 1');
  await feed;
  t.ok(feeder.done, 'the whole workload was journaled');
  const deadline = Date.now() + 45_000;
  while ((await committed()) < TOTAL) {
    if (Date.now() > deadline) throw new Error(`the reporter did not catch up: ${await committed()} of ${TOTAL}\n${reporter.describe()}`);
    await sleep(50);
  }
  const [exit, stopped] = await Promise.all([reporter.kill('SIGTERM'), reporter.waitForEvent('reporter-stopped', 15_000)]);
  t.same(exit, { code: 0, signal: null }, 'SIGTERM: the reporter exits 0');
  t.equal(stopped['committedSeq'], TOTAL, 'having written everything');
  t.comment(`last run: ${JSON.stringify(stopped)}`);
  if (TOTAL - before > RING_HOLDS_ENTRIES) {
    t.ok((stopped['diskCatchUps'] as number) >= 1, `the last run started ${TOTAL - before} entries behind, more than the ring holds: it caught up from the disk segments`);
  }

  const result = await reconcile({ database: db.options, journalDir });
  t.comment(formatReconcileResult(result));
  t.equal(result.differenceCount, 0, 'reconcile: zero differences between the database and the journal');
  t.match(result, { ok: true, databaseLastSeq: TOTAL, journalLastSeq: TOTAL, lagEntries: 0 });
  t.equal(result.checked.executions, FILLS, 'every fill was compared');

  // And against the independent product manager: no execution lost or doubled, every wallet right.
  if (observer === null) throw new Error('no reporter ever started');
  const executions = await observer.all<{ n: number }>('SELECT COUNT(*) AS n FROM executions');
  t.equal(Number(executions[0]!.n), FILLS, 'one execution row per fill');
  const cash = await observer.all<{ account_id: number; cash: number }>('SELECT account_id, cash FROM account_cash ORDER BY account_id');
  t.same(
    cash.map((c) => [c.account_id, c.cash]),
    workload.accountIds.map((a) => [a, workload.pm.account(a)!.cash]),
    "every account's cash equals the product manager's",
  );
  await sequencer.kill('SIGTERM');
}

t.test('kill -9 of the reporter under load, restarts, then reconcile finds zero differences', async (t) => {
  t.test('sqlite', async (t) => crashAndRecover(t, sqliteTestDatabase('crash')));
  t.test('postgres', async (t) => {
    const found = await findTestPostgres();
    if (found.url === undefined) {
      if (postgresRequired()) t.fail(postgresMissingMessage(found.why));
      else t.skip(postgresMissingMessage(found.why), () => undefined);
      return;
    }
    await crashAndRecover(t, postgresTestDatabase(found.url, 'crash'));
  });
});
