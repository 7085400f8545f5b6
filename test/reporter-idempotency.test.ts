// Idempotency by sequence id, in SQLite and PostgreSQL: the same journal entries applied twice,
// or a reporter "crashing" at random points (its memory lost, the database at its last committed
// batch) and resuming from the database, give exactly the database a single clean run gives; a
// batch commits whole or not at all, together with the seq it brings the database to.
import t, { type Test } from 'tap';
import { MIGRATIONS_TABLE } from '../processes/reporter/report-migrations';
import { ApplyResult, ReportModel, type ReportBatch } from '../processes/reporter/report-model';
import { openReportStore, ReportProgressError, WriteResult, type ReportStore } from '../processes/reporter/report-store';
import { BATCH_TABLES, EXECUTIONS, columnIndex } from '../processes/reporter/report-tables';
import { buildWorkload, seededRandom } from '../processes/reporter/report-workload';
import { findTestPostgres, postgresMissingMessage, postgresRequired, postgresTestDatabase, sqliteTestDatabase, type TestDatabase } from '../processes/reporter/report-test-database';

const SEED = Number(process.env['IMS_TEST_SEED'] ?? 0x1de_3701);
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change)`);

const workload = buildWorkload({ seed: SEED, operations: 3_000, accounts: 12, outlets: 3, products: 5, dayEvery: 1_200 });
const journal = workload.journal;
const BATCH = 700;

function forEachDatabase(t: Test, label: string, body: (t: Test, fresh: () => TestDatabase) => Promise<void>): void {
  t.test('sqlite', async (t) => {
    await body(t, () => {
      const db = sqliteTestDatabase(label);
      t.teardown(() => db.remove());
      return db;
    });
  });
  t.test('postgres', async (t) => {
    const found = await findTestPostgres();
    if (found.url === undefined) {
      if (postgresRequired()) t.fail(postgresMissingMessage(found.why));
      else t.skip(postgresMissingMessage(found.why), () => undefined);
      return;
    }
    await body(t, () => {
      const db = postgresTestDatabase(found.url!, label);
      t.teardown(() => db.remove());
      return db;
    });
  });
}

/** Every table's rows, in key order, as one string (the progress row's wall-clock stamp left out). */
async function dump(store: ReportStore): Promise<string> {
  const parts: string[] = [];
  for (const spec of BATCH_TABLES) {
    const rows = await store.all<Record<string, unknown>>(`SELECT ${spec.columns.map((c) => c.name).join(', ')} FROM ${spec.name} ORDER BY ${spec.key.join(', ')}`);
    parts.push(`${spec.name}:${JSON.stringify(rows)}`);
  }
  const progress = await store.progress();
  parts.push(`progress:${JSON.stringify(progress)}`);
  return parts.join('\n');
}

/** Applies entries [from, to) (by index) to a model loaded from the store, writing every BATCH entries. */
async function run(store: ReportStore, from: number, to: number, writeLast = true): Promise<{ applied: number; skipped: number }> {
  const model = new ReportModel(await store.loadState());
  let applied = 0;
  let skipped = 0;
  for (let i = from; i < to; i++) {
    const e = journal.entries[i]!;
    if (model.apply(journal.view, e.offset, e.typeId, e.desc.version) === ApplyResult.APPLIED) applied++;
    else skipped++;
    if (model.pendingEntries >= BATCH) await store.writeBatch(model.takeBatch());
  }
  if (writeLast) await store.writeBatch(model.takeBatch());
  return { applied, skipped };
}

t.test('replaying the same entries twice doubles nothing', async (t) => {
  forEachDatabase(t, 'replay', async (t, fresh) => {
    const store = await openReportStore(fresh().options);
    t.teardown(() => store.close());
    await run(store, 0, journal.length);
    const once = await dump(store);
    t.ok(once.length > 10_000, 'the database holds the records');

    // The same entries through a model loaded from the database: all skipped, nothing written.
    const again = await run(store, 0, journal.length);
    t.same(again, { applied: 0, skipped: journal.length }, 'every entry is at or below the stored seq');
    t.equal(await dump(store), once, 'the database is unchanged');

    // A model that does not know the database's position (empty state) replays everything: each
    // of its batches is refused as already written, and the database is unchanged.
    const blind = new ReportModel();
    const results: number[] = [];
    for (const e of journal.entries) {
      blind.apply(journal.view, e.offset, e.typeId, e.desc.version);
      if (blind.pendingEntries >= BATCH) results.push(await store.writeBatch(blind.takeBatch()));
    }
    results.push(await store.writeBatch(blind.takeBatch()));
    t.ok(results.every((r) => r === WriteResult.ALREADY_WRITTEN), `all ${results.length} replayed batches were already written`);
    t.equal(await dump(store), once, 'still unchanged');
  });
});

t.test('a reporter that loses its memory at random points and resumes from the database ends with the same records as a clean run', async (t) => {
  forEachDatabase(t, 'resume', async (t, fresh) => {
    const clean = await openReportStore(fresh().options);
    t.teardown(() => clean.close());
    await run(clean, 0, journal.length);
    const expected = await dump(clean);

    const store = await openReportStore(fresh().options);
    t.teardown(() => store.close());
    const random = seededRandom(SEED ^ 0xc0ffee);
    let position = 0;
    let crashes = 0;
    while (position < journal.length) {
      // Apply up to a random point, writing full batches but dropping the open one (a crash
      // mid-batch), then restart from the beginning of the journal: the model skips what the
      // database holds.
      const crashAt = Math.min(journal.length, position + 1 + Math.floor(random() * 2_500));
      await run(store, 0, crashAt, crashAt === journal.length);
      crashes++;
      position = crashAt;
      const stored = (await store.progress()).lastSeq;
      t.ok(stored <= journal.entries[crashAt - 1]!.seq, `crash ${crashes} at entry ${crashAt}: the database holds up to seq ${stored}`);
    }
    t.ok(crashes >= 3, `${crashes} crashes`);
    t.equal(await dump(store), expected, 'identical to the clean run');
  });
});

t.test('a batch commits whole or not at all, with its seq; a batch that does not follow the stored seq is refused', async (t) => {
  forEachDatabase(t, 'atomic', async (t, fresh) => {
    const store = await openReportStore(fresh().options);
    t.teardown(() => store.close());
    const model = new ReportModel(await store.loadState());
    let i = 0;
    for (; i < 2_000; i++) model.apply(journal.view, journal.entries[i]!.offset, journal.entries[i]!.typeId, journal.entries[i]!.desc.version);
    await store.writeBatch(model.takeBatch());
    const before = await dump(store);
    // The next batch with one execution row broken (a NULL price): the database must refuse it
    // after writing other rows of the same transaction.
    for (; i < 3_000; i++) model.apply(journal.view, journal.entries[i]!.offset, journal.entries[i]!.typeId, journal.entries[i]!.desc.version);
    const good = model.takeBatch();
    const executions = good.tables.find((x) => x.spec === EXECUTIONS)!;
    t.ok(executions.rows.length > 0, 'the batch has executions');
    const broken: ReportBatch = {
      ...good,
      tables: good.tables.map((x) =>
        x.spec === EXECUTIONS ? { spec: x.spec, rows: x.rows.map((r, k) => (k === x.rows.length - 1 ? r.map((v, c) => (c === columnIndex(EXECUTIONS, 'price') ? null : v)) : r)) } : x,
      ),
    };
    await t.rejects(store.writeBatch(broken), 'the broken batch fails');
    t.equal(await dump(store), before, 'nothing of it was written, the stored seq did not move');
    t.equal(await store.writeBatch(good), WriteResult.WRITTEN, 'the intact batch then commits');
    t.equal((await store.progress()).lastSeq, journal.entries[2_999]!.seq);
    // A batch that starts after a gap: entries would be missing.
    for (; i < 3_500; i++) model.apply(journal.view, journal.entries[i]!.offset, journal.entries[i]!.typeId, journal.entries[i]!.desc.version);
    const gapped: ReportBatch = { ...model.takeBatch(), afterSeq: journal.entries[3_100]!.seq };
    await t.rejects(store.writeBatch(gapped), ReportProgressError, 'a batch that does not continue the stored seq is refused');
  });
});

t.test('migrations apply once; a database of a newer release is refused', async (t) => {
  forEachDatabase(t, 'migrations', async (t, fresh) => {
    const db = fresh();
    const first = await openReportStore(db.options);
    await first.close();
    const second = await openReportStore(db.options);
    const versions = await second.all<{ version: number }>(`SELECT version FROM ${MIGRATIONS_TABLE}`);
    t.same(versions.map((v) => Number(v.version)), [1], 'version 1 recorded once');
    await second.run(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at_ms) VALUES (99, 'from the future', 0)`);
    await second.close();
    await t.rejects(openReportStore(db.options), /report schema version 99 \('from the future'\), newer than this reporter knows; upgrade IMS/);
  });
});
