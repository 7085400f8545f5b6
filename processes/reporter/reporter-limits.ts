// Every bound and batching rule of the reporter, in one place. The reporter is off the critical
// path (it never gates the journal), but every batch, page, cache and retry still has a named limit
// so a burst of trading or a hostile query cannot grow memory or hold the database without bound.

import { MAX_ORDER_CAPACITY } from '../matching-engine/engine-limits';

// --- batching (processes/reporter/main.ts) -------------------------------------------------------

/**
 * A batch is written once it holds this many journal entries. Bigger batches coalesce more
 * updates of one order (or one wallet) into one row write and commit less often (measured on the
 * benchmark's day: 8,192 → 32,768 entries +40-50 % in SQLite, 32,768 → 65,536 another +10 %);
 * smaller ones bound how much a crash makes the restart re-read and how stale the database is.
 * Sized with BATCH_MAX_MS so that at the 215,000 entries/s peak both bounds meet (≈ 300 ms), and
 * the benchmark, which reads as fast as it can, writes the batches the peak would.
 */
export const BATCH_MAX_ENTRIES = 65_536;

/**
 * A non-empty batch is written at the latest this long after its first entry, so a quiet exchange
 * still sees its records in the database within this time (plus the write itself). Reports are
 * not latency-critical; this bounds how far behind the journal a query can be.
 */
export const BATCH_MAX_MS = 300;

/** Journal entries read per poll of the JournalReader (one slice of the process loop reads several). */
export const POLL_ENTRIES = 1_024;

/** The process loop yields to the event loop (signals, database callbacks) at least this often. */
export const LOOP_SLICE_MS = 20;

/**
 * Batches handed to the database and not yet committed. Two: one being written while the next
 * waits with its SQL already built, and a third one being applied; more would only queue memory.
 */
export const MAX_BATCHES_IN_FLIGHT = 2;

/** How often the process prints a progress line (lastSeq, rates), for operators and tests. */
export const PROGRESS_REPORT_INTERVAL_MS = 1_000;

// --- the in-memory model (processes/reporter/report-model.ts) ------------------------------------

/**
 * Open orders the model holds (every order that is not finished; finished orders leave memory once
 * written). It cannot exceed the engine's own order capacity, which bounds resting orders.
 */
export const MAX_OPEN_ORDERS = MAX_ORDER_CAPACITY;

// --- databases -----------------------------------------------------------------------------------

/** The SQLite file in the data directory (separate from accounts.sqlite: its big write batches must not delay logins). */
export const SQLITE_FILE_NAME = 'reports.sqlite';

/** How long a SQLite statement waits for another process's write lock before failing. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** SQLite page cache of the writer (negative = KiB): the indexes of a busy day stay in memory. */
export const SQLITE_CACHE_KIB = 131_072;

/**
 * WAL pages after which a commit checkpoints (SQLite's default is 1,000 = 4 MiB). A batch of a
 * busy second dirties thousands of pages; checkpointing every few batches instead of every batch
 * writes a page modified by several batches once. Bounds the WAL file at about 64 MiB.
 */
export const SQLITE_WAL_AUTOCHECKPOINT_PAGES = 16_384;

/** Rows per multi-row INSERT in SQLite (its bound-parameter limit is 32,766). */
export const SQLITE_ROWS_PER_STATEMENT = 64;

/** PostgreSQL schema of the reports unless IMS_REPORTER_DATABASE_SCHEMA says otherwise. */
export const DEFAULT_POSTGRES_SCHEMA = 'ims_reports';

/** Connections of one PostgreSQL report store: one writer plus concurrent readers (queries, reconcile). */
export const POSTGRES_POOL_SIZE = 4;

export const POSTGRES_CONNECT_TIMEOUT_MS = 5_000;

/** A report statement (a batch insert, a page query) that runs longer than this fails instead of hanging. */
export const POSTGRES_STATEMENT_TIMEOUT_MS = 60_000;

/**
 * Rows per PostgreSQL INSERT ... SELECT FROM unnest(...) statement. One statement per table per
 * batch is the aim; the bound keeps one array literal below a few megabytes of SQL text.
 */
export const POSTGRES_ROWS_PER_STATEMENT = 20_000;

// --- queries (processes/reporter/report-queries.ts) ----------------------------------------------

/** Rows a page holds when the caller names no limit. */
export const DEFAULT_PAGE_SIZE = 100;

/** The largest page a caller may ask for; beyond it the query answers limit_out_of_range. */
export const MAX_PAGE_SIZE = 1_000;

/** Longest accepted cursor text: a cursor is a few numbers, anything longer was not made here. */
export const MAX_CURSOR_CHARS = 200;

/** Product ids one symbol can name (a symbol reused after delisting names several). */
export const MAX_PRODUCTS_PER_SYMBOL = 16;

// --- reconciliation and reports ------------------------------------------------------------------

/**
 * Differences one reconciliation lists in full; past it they are counted (differenceCount) but not
 * listed, so a broken database cannot produce an answer of gigabytes.
 */
export const MAX_LISTED_DIFFERENCES = 10_000;

/** Journal entries read per call of the disk reader while reconciling. */
export const RECONCILE_READ_ENTRIES = 65_536;

/** Accounts one end-of-day run reports on; beyond it the run stops with a clear error. */
export const MAX_EOD_ACCOUNTS = 200_000;
