// Reporter benchmark: journal events per second from the journal's disk segments through the
// reporter (ReportModel + the process's own ReporterLoop, batched transactions) into SQLite and
// into PostgreSQL, with a same-run baseline that writes every journal event in its own
// transaction (the unbatched way), on a smaller sample.
//
//   node dist/scripts/bench/reporter.js [--quick] [--no-postgres]
//
// The journal: a realistic trading day built with the REAL product manager and matching engine
// (processes/reporter/report-workload.ts): FULL 10,000 colleagues in 200 outlets (QUICK 2,000 in
// 40), 100 products, orders of every time in force, cancels, amends, deposits, withdrawals,
// receipts, dispatches; written as segment files with the real JournalWriter. The set-up entries
// before the day opens (accounts, deposits, each colleague's stock) are applied untimed; the
// timed part is the trading day, read with JournalDiskReader (CRC-checked), i.e. the reporter
// catching up from disk, which is its slowest source. The in-process exchange journals no
// BookLevelChanged or EngineCheckpoint entries: a production journal has many, which the reporter
// skips almost for free, so events/s here is a floor for that mix.
//
// Each trial starts from a fresh database holding the set-up; the figure is the median over
// trials of (trading entries) / (time until the last batch is committed). PostgreSQL runs at
// 127.0.0.1:5432 database `test` (IMS_TEST_DATABASE_URL overrides) in a throw-away schema; when
// none answers its figures are null and the line says why. The last line printed is one JSON
// object; everything before it is for humans.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { JournalDiskReader, TO_DISK_END } from '../../bus/journal-disk-reader';
import { TypeId } from '../../bus/schema';
import { ReportModel } from '../../processes/reporter/report-model';
import { openReportStore, type ReportStore } from '../../processes/reporter/report-store';
import { ReporterLoop } from '../../processes/reporter/reporter-loop';
import { BATCH_MAX_ENTRIES, BATCH_MAX_MS, MAX_BATCHES_IN_FLIGHT } from '../../processes/reporter/reporter-limits';
import { findTestPostgres, postgresTestDatabase, sqliteTestDatabase, type TestDatabase } from '../../processes/reporter/report-test-database';
import { buildWorkload } from '../../processes/reporter/report-workload';
import { writeJournalSegments } from '../../processes/reporter/workload-journal';
import { reconcile } from '../../processes/reporter/reconcile';

const QUICK = process.argv.includes('--quick');
const NO_POSTGRES = process.argv.includes('--no-postgres');
const SEED = 0x2e9_0a7e;
const OPERATIONS = QUICK ? 120_000 : 500_000;
const ACCOUNTS = QUICK ? 2_000 : 10_000;
const OUTLETS = QUICK ? 40 : 200;
const PRODUCTS = 100;
const TRIALS = QUICK ? 1 : 3;
/** Journal events the unbatched baseline writes (one transaction each). */
const BASELINE_EVENTS = QUICK ? 4_000 : 20_000;
const TARGET_EVENTS_PER_S = 215_000;

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Applies journal seqs [fromSeq, toSeq] from disk through the reporter loop; returns the seconds until all is committed. */
async function reportRange(store: ReportStore, journalDir: string, fromSeq: number, toSeq: number, batchEntries: number): Promise<{ seconds: number; batches: number; rows: number }> {
  const model = new ReportModel(await store.loadState());
  if (model.lastSeq !== fromSeq - 1) throw new Error(`bench: the database holds seq ${model.lastSeq}, expected ${fromSeq - 1}`);
  const disk = new JournalDiskReader({ dataDir: journalDir, fromSeq });
  const loop = new ReporterLoop(store, model, { poll: (handler, limit) => disk.read(handler, Math.min(limit, toSeq - model.lastSeq), TO_DISK_END) });
  let rows = 0;
  const started = performance.now();
  await loop.run({ batchEntries, batchMs: BATCH_MAX_MS, stopWhen: () => model.lastSeq >= toSeq, onCommitted: (b) => (rows += b.rowCount) });
  const seconds = (performance.now() - started) / 1000;
  disk.close();
  if (loop.committedSeq !== toSeq) throw new Error(`bench: committed ${loop.committedSeq}, expected ${toSeq}`);
  return { seconds, batches: loop.batchesWritten, rows };
}

/** The unbatched way: every journal event applied and committed in its own transaction. */
async function reportUnbatched(store: ReportStore, journalDir: string, fromSeq: number, toSeq: number): Promise<number> {
  const model = new ReportModel(await store.loadState());
  const disk = new JournalDiskReader({ dataDir: journalDir, fromSeq });
  const started = performance.now();
  while (model.lastSeq < toSeq) {
    disk.read((typeId, version, buf, offset) => model.apply(buf.view, offset, typeId, version), 1, TO_DISK_END);
    await store.writeBatch(model.takeBatch());
  }
  const seconds = (performance.now() - started) / 1000;
  disk.close();
  return (toSeq - fromSeq + 1) / seconds;
}

interface DatabaseResult {
  eventsPerS: number;
  trials: number[];
  unbatchedEventsPerS: number;
  rowsPerEvent: number;
  batches: number;
}

async function measure(label: string, fresh: () => TestDatabase, journalDir: string, setupLastSeq: number, lastSeq: number): Promise<DatabaseResult> {
  const trials: number[] = [];
  let rowsPerEvent = 0;
  let batches = 0;
  const trading = lastSeq - setupLastSeq;
  for (let trial = 0; trial < TRIALS; trial++) {
    const db = fresh();
    const store = await openReportStore(db.options);
    try {
      await reportRange(store, journalDir, 1, setupLastSeq, BATCH_MAX_ENTRIES);
      const run = await reportRange(store, journalDir, setupLastSeq + 1, lastSeq, BATCH_MAX_ENTRIES);
      trials.push(trading / run.seconds);
      rowsPerEvent = run.rows / trading;
      batches = run.batches;
      console.log(`  ${label} trial ${trial + 1}: ${fmt(trading)} events in ${run.seconds.toFixed(2)} s = ${fmt(trading / run.seconds)} events/s (${run.batches} batches, ${(run.rows / trading).toFixed(2)} rows/event)`);
      if (trial === TRIALS - 1) {
        const check = await reconcile({ database: store, journalDir });
        console.log(`  ${label} reconcile after the last trial: ${check.differenceCount} differences (${fmt(check.checked.orders)} orders, ${fmt(check.checked.executions)} executions) in ${check.durationMs} ms`);
        if (!check.ok) process.exitCode = 1;
      }
    } finally {
      await store.close();
      await db.remove();
    }
  }
  // Baseline: a fresh database with the set-up, then BASELINE_EVENTS trading events one transaction each.
  const db = fresh();
  const store = await openReportStore(db.options);
  let unbatchedEventsPerS: number;
  try {
    await reportRange(store, journalDir, 1, setupLastSeq, BATCH_MAX_ENTRIES);
    unbatchedEventsPerS = await reportUnbatched(store, journalDir, setupLastSeq + 1, Math.min(lastSeq, setupLastSeq + BASELINE_EVENTS));
  } finally {
    await store.close();
    await db.remove();
  }
  const eventsPerS = median(trials);
  console.log(
    `${label}: ${fmt(eventsPerS)} events/s batched (median of ${TRIALS}: ${trials.map(fmt).join(', ')}); ` +
      `unbatched baseline (one transaction per event, first ${fmt(Math.min(trading, BASELINE_EVENTS))} events): ${fmt(unbatchedEventsPerS)} events/s; ` +
      `batched / unbatched = ${(eventsPerS / unbatchedEventsPerS).toFixed(1)}x; target >= ${fmt(TARGET_EVENTS_PER_S)}: ${eventsPerS >= TARGET_EVENTS_PER_S ? 'met' : 'NOT met'}`,
  );
  return { eventsPerS, trials, unbatchedEventsPerS, rowsPerEvent, batches };
}

async function main(): Promise<void> {
  const built = performance.now();
  const workload = buildWorkload({ seed: SEED, operations: OPERATIONS, accounts: ACCOUNTS, outlets: OUTLETS, products: PRODUCTS, startTimestampUs: Date.parse('2026-03-02T14:30:00Z') * 1000 });
  const journal = workload.journal;
  const firstOpen = journal.entries.findIndex((e) => e.typeId === TypeId.TradingDayOpen);
  const setupLastSeq = journal.entries[firstOpen]!.seq - 1;
  const counts = new Map<string, number>();
  for (let i = firstOpen; i < journal.length; i++) counts.set(journal.entries[i]!.desc.name, (counts.get(journal.entries[i]!.desc.name) ?? 0) + 1);
  const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-bench-reporter-journal-'));
  try {
    writeJournalSegments(journal, journalDir);
    const trading = journal.length - setupLastSeq;
    console.log(
      `journal: ${fmt(journal.length)} entries (${fmt(setupLastSeq)} set-up, untimed; ${fmt(trading)} trading, timed) from ${fmt(OPERATIONS)} commands of ${fmt(ACCOUNTS)} colleagues ` +
        `in ${OUTLETS} outlets on ${PRODUCTS} products, built with the real product manager and engine and written to disk in ${((performance.now() - built) / 1000).toFixed(1)} s` +
        (QUICK ? ' [quick]' : ''),
    );
    console.log(`trading mix: ${[...counts].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ${((100 * c) / trading).toFixed(1)}%`).join(', ')}`);
    console.log(`batches: at most ${fmt(BATCH_MAX_ENTRIES)} entries or ${BATCH_MAX_MS} ms; up to ${MAX_BATCHES_IN_FLIGHT} handed to the database while the next is built`);

    const sqlite = await measure('SQLite', () => sqliteTestDatabase('bench'), journalDir, setupLastSeq, journal.length);
    let postgres: DatabaseResult | null = null;
    let postgresWhy = NO_POSTGRES ? '--no-postgres' : '';
    if (!NO_POSTGRES) {
      const found = await findTestPostgres();
      if (found.url === undefined) postgresWhy = found.why;
      else postgres = await measure('PostgreSQL', () => postgresTestDatabase(found.url!, 'bench'), journalDir, setupLastSeq, journal.length);
    }
    if (postgres === null) console.log(`PostgreSQL NOT measured: ${postgresWhy}`);
    console.log(
      JSON.stringify({
        bench: 'reporter',
        sqlite_events_per_s: Math.round(sqlite.eventsPerS),
        postgres_events_per_s: postgres === null ? null : Math.round(postgres.eventsPerS),
        sqlite_unbatched_events_per_s: Math.round(sqlite.unbatchedEventsPerS),
        postgres_unbatched_events_per_s: postgres === null ? null : Math.round(postgres.unbatchedEventsPerS),
        rows_per_event: Number(sqlite.rowsPerEvent.toFixed(2)),
      }),
    );
  } finally {
    fs.rmSync(journalDir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exitCode = 1;
});
