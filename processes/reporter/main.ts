// The reporter process: follows the journal and writes consolidated records to the report database
// (SQLite in the data directory, or PostgreSQL when IMS_DATABASE_URL is a postgres:// URL).
//
//   node dist/processes/reporter/main.js --run-dir /dev/shm/ims-main (or --journal-ring <ring>)
//     [--name reporter] [--data-dir DIR] [--database-url postgres://...] [--database-schema S]
//     [--journal-data-dir DIR] [--archive-dir DIR]
//     [--batch-entries 65536] [--batch-ms 300] [--time-zone America/New_York]
//
// It never slows the critical path: its journal ring slot is NON-gating, so the sequencer never
// waits for it; when it falls behind what the ring holds (a burst, a slow disk, a restart) the
// JournalReader catches it up from the journal's disk segments and switches back to the ring.
//
// Batches: entries are applied to the in-memory ReportModel and written as one transaction of at
// most --batch-entries entries, or after --batch-ms, whichever comes first; the transaction also
// stores the last seq it covers. Batches are written while the next is built (reporter-loop.ts).
// At start the model is loaded from the database and reading resumes at its last seq + 1, so a
// kill -9 at any instant loses and doubles nothing.
//
// Prints one JSON object per line: reporter-start, reporter-progress (every second while
// working), reporter-stopped. Exit codes: 0 after SIGTERM/SIGINT (the pending batch written), 2
// when the database or the journal failed (the supervisor restarts it; it resumes), 3 when it
// must not start (bad arguments, a database of a newer release).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { BackoffIdleStrategy } from '../../bus/idle-strategy';
import { JournalReader } from '../../bus/journal-reader';
import { ReportModel } from './report-model';
import { openReportStore, reportStoreOptionsFromEnv, type ReportStore } from './report-store';
import { ReporterLoop } from './reporter-loop';
import { BATCH_MAX_ENTRIES, BATCH_MAX_MS, PROGRESS_REPORT_INTERVAL_MS } from './reporter-limits';
import { ReporterCounters } from './reporter-counters';
import { openProcessCounters, startEventLoopSampler } from '../operations/process-counters';
import { createEventLog } from '../process-log';
import { DEFAULT_EXCHANGE_TIME_ZONE } from './trading-day';

export interface ReporterArgs {
  journalRing: string;
  name: string;
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  journalDataDir?: string;
  archiveDir?: string;
  batchEntries: number;
  batchMs: number;
  timeZone: string;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

/** JSON lines named after the supervisor's process (see processes/process-log.ts). */
const log = createEventLog('reporter');

async function run(args: ReporterArgs): Promise<void> {
  let store: ReportStore;
  let model: ReportModel;
  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (args.databaseUrl !== undefined) env['IMS_DATABASE_URL'] = args.databaseUrl;
    if (args.databaseSchema !== undefined) env['IMS_REPORTER_DATABASE_SCHEMA'] = args.databaseSchema;
    store = await openReportStore(reportStoreOptionsFromEnv(args.dataDir, env));
    model = new ReportModel(await store.loadState(), { timeZone: args.timeZone });
  } catch (e) {
    process.stderr.write(`reporter: refusing to start: ${(e as Error).message}\n`);
    log({ event: 'start-refused', error: (e as Error).message });
    process.exitCode = 3;
    return;
  }
  let reader: JournalReader;
  if (!fs.existsSync(args.journalRing)) {
    const why = `the journal ring ${args.journalRing} does not exist: start the exchange (ims start) or the sequencer first, or give the right --run-dir`;
    process.stderr.write(`reporter: refusing to start: ${why}\n`);
    log({ event: 'start-refused', error: why });
    await store.close();
    process.exitCode = 3;
    return;
  }
  try {
    reader = new JournalReader({
      ringPath: args.journalRing,
      name: args.name,
      fromSeq: model.lastSeq + 1,
      gating: false,
      dataDir: args.journalDataDir,
      archiveDir: args.archiveDir,
    });
  } catch (e) {
    process.stderr.write(`reporter: refusing to start: cannot follow the journal: ${(e as Error).message}\n`);
    log({ event: 'start-refused', error: (e as Error).message });
    await store.close();
    process.exitCode = 3;
    return;
  }
  const idle = new BackoffIdleStrategy(reader, { maxSpins: 0, maxYields: 4 });
  log({ event: 'reporter-start', pid: process.pid, fromSeq: model.lastSeq + 1, database: store.description, batchEntries: args.batchEntries, batchMs: args.batchMs });

  let stopping = false;
  const stop = (): void => {
    stopping = true;
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const loop = new ReporterLoop(store, model, reader);
  // Counters in <runDir>/reporter.counters: rows per table, batches, write time, last seq.
  const counters = new ReporterCounters(openProcessCounters({ fallbackName: 'reporter' }));
  const eventLoop = startEventLoopSampler(counters.writer);
  let lastReportMs = Date.now();
  let lastReportSeq = loop.committedSeq;
  const progress = setInterval(() => {
    const nowMs = Date.now();
    if (loop.committedSeq === lastReportSeq) return;
    log({
      event: 'reporter-progress',
      appliedSeq: model.lastSeq,
      committedSeq: loop.committedSeq,
      entriesPerS: Math.round(((loop.committedSeq - lastReportSeq) * 1000) / (nowMs - lastReportMs)),
      batches: loop.batchesWritten,
      mode: reader.mode,
      diskCatchUps: reader.diskCatchUps,
      ordersInMemory: model.ordersInMemory,
    });
    lastReportMs = nowMs;
    lastReportSeq = loop.committedSeq;
  }, PROGRESS_REPORT_INTERVAL_MS);
  try {
    await loop.run({ batchEntries: args.batchEntries, batchMs: args.batchMs, idle: (n) => idle.idle(n), stopWhen: () => stopping, onCommitted: (batch, result, writeMs) => counters.committed(batch, result, writeMs) });
    clearInterval(progress);
    eventLoop.stop();
    reader.close();
    await store.close();
    log({ event: 'reporter-stopped', committedSeq: loop.committedSeq, batches: loop.batchesWritten, replayedBatches: loop.replayedBatches, diskCatchUps: reader.diskCatchUps });
  } catch (e) {
    clearInterval(progress);
    eventLoop.stop();
    process.stderr.write(`reporter: ${(e as Error).stack ?? (e as Error).message}\n`);
    log({ event: 'reporter-failed', error: (e as Error).message, committedSeq: loop.committedSeq });
    reader.close();
    await store.close().catch(() => undefined);
    process.exitCode = 2;
  }
}

if (require.main === module) {
  new Command('reporter')
    .description('Writes consolidated order and execution records from the journal to the report database')
    .option('--journal-ring <ring>', 'the journal ring (its .status file beside it)')
    .option('--run-dir <dir>', 'the instance run directory: the journal ring is <run-dir>/journal.ring')
    .option('--name <name>', "this consumer's slot name in the journal ring", 'reporter')
    .option('--data-dir <dir>', 'data directory (reports.sqlite unless IMS_DATABASE_URL); env IMS_DATA_DIR', process.env['IMS_DATA_DIR'] ?? path.join('data', process.env['IMS_INSTANCE'] ?? 'main'))
    .option('--database-url <url>', 'a postgres:// URL for PostgreSQL (default: env IMS_DATABASE_URL; unset: SQLite in the data directory)')
    .option('--database-schema <name>', 'PostgreSQL schema (default: env IMS_REPORTER_DATABASE_SCHEMA, else ims_reports)')
    .option('--journal-data-dir <dir>', "the journal's segment directory (default: what the sequencer wrote into the status file)")
    .option('--archive-dir <dir>', "the journal's archive directory (default: from the status file)")
    .option('--batch-entries <n>', 'journal entries per transaction at most', positiveInt, BATCH_MAX_ENTRIES)
    .option('--batch-ms <ms>', 'longest time a batch stays open', positiveInt, BATCH_MAX_MS)
    .option('--time-zone <zone>', "the exchange's IANA time zone (calendar days before the first TradingDayOpen)", DEFAULT_EXCHANGE_TIME_ZONE)
    .action((o: ReporterArgs & { runDir?: string }) => {
      if (o.journalRing === undefined) {
        if (o.runDir === undefined) {
          process.stderr.write('reporter: give --journal-ring <ring> or --run-dir <dir>\n');
          process.exitCode = 3;
          return;
        }
        o.journalRing = path.join(o.runDir, 'journal.ring');
      }
      run(o).catch((e: Error) => {
        process.stderr.write(`reporter: ${e.stack ?? e.message}\n`);
        process.exitCode = 2;
      });
    })
    .parse();
}
