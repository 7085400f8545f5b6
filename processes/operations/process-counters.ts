// Per-process counters, the process side and the reader side (bus/counters.ts has the file layout):
//
//   openProcessCounters({runDir, name})   in a process's main.ts: <runDir>/<name>.counters when the
//                                         process runs under the supervisor or systemd (both set
//                                         IMS_PROCESS_NAME and IMS_RUN_DIR), else a detached copy
//   startEventLoopSampler(counters)       event-loop delay (perf_hooks) into gauges, once a second
//   readProcessCounters(runDir)           every counters file as plain objects (for /metrics, the
//                                         admin dashboard, `ims status`)
//
// Names and help texts of every metric a process counts are declared once, here (METRIC_HELP), so
// the renderer and the processes agree. A slot whose name ends in `_seconds` holds nanoseconds
// (integers); readers divide by 1e9.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CountersWriter, quantileNs, readCountersFile, type CountersSnapshot } from '../../bus/counters';
import { pidAlive } from '../supervisor/run-state';

export const COUNTERS_FILE_SUFFIX = '.counters';
/** Counters files read per call: bounds the work of a run dir full of stray files. */
export const MAX_COUNTERS_FILES = 128;
/** How often the event-loop delay gauges are refreshed. */
export const EVENT_LOOP_SAMPLE_MS = 1_000;
/** perf_hooks sampling resolution of the event-loop delay monitor. */
const EVENT_LOOP_RESOLUTION_MS = 10;

/** Every metric processes write into their counters file: the help text Prometheus shows. */
export const METRIC_HELP: Readonly<Record<string, string>> = {
  ims_orders_in_total: 'Order commands (place, update, remove) the gateway accepted and wrote to the product manager, by command.',
  ims_rejects_total: 'Error answers sent to clients (REST and WebSocket), by error code: validation (e.g. price_not_on_tick), rate limits, and the exchange\'s rejects (e.g. insufficient_funds).',
  ims_fills_total: 'Fills (executions) reported to this gateway\'s clients: each new fill of one of their orders, once (replays are not counted twice).',
  ims_execution_reports_total: 'Execution reports received from the product manager.',
  ims_requests_total: 'Requests received, by api (rest: HTTP requests; ws: WebSocket messages).',
  ims_open_connections: 'Open connections, by kind (websocket: authenticated order streams).',
  ims_open_http_requests: 'HTTP requests received and not yet answered.',
  ims_in_flight_requests: 'Order commands written to the product manager and not yet answered.',
  ims_request_timeouts_total: 'Order commands answered 503 because the exchange did not answer in time.',
  ims_round_trip_seconds: 'Round trip of a request to the product manager (order commands, wallet reads): from its write to the ring to the reply that ends it.',
  ims_event_loop_delay_seconds: 'Event-loop delay over the last sampling interval (perf_hooks.monitorEventLoopDelay), by stat (p50, p99, max).',
  // Processes whose work loop parks on futexes (engine, product manager, sequencer) run it in slices
  // that hold the event loop on purpose, so its delay says nothing there: they time the loop itself.
  ims_loop_work_seconds: 'Duration of one turn of the work loop that did work (matching engine, product manager, sequencer: their loops park on futexes, not on the event loop).',
  ims_last_seq: 'Last journal seq this process handled (sequencer: written; reporter: committed to its database; market data: applied).',
  ims_engine_orders_total: 'Order commands this matching-engine instance applied from the journal, by command (place, update, remove).',
  ims_engine_fills_total: 'Fills (one per match: both sides in one entry) in the journal that this engine instance applied and checked against its own outputs.',
  ims_engine_rejects_total: 'Order rejects (OrderRejected) in the journal that this engine instance applied and checked, by reason.',
  ims_pm_commands_total: 'Commands the product manager took from the gateways and decided (forwarded, rejected, or answered as a duplicate), by command (place, update, remove, admin).',
  ims_pm_command_rejects_total: 'Order commands the product manager rejected before sequencing (risk, wallet, order state), by reason.',
  ims_pm_duplicates_answered_total: 'Resubmitted client order ids answered with the original order\'s report (nothing created).',
  ims_pm_reports_sent_total: 'Execution reports written to the gateways\' reply rings (resends after a takeover included).',
  ims_sequencer_entries_total: 'Journal entries this sequencer incarnation wrote.',
  ims_sequencer_batches_total: 'Group commits (batches) this sequencer incarnation wrote.',
  ims_sequencer_fsync_seconds: 'One fdatasync of the journal (per batch with fsync durability, every few ms with async).',
  ims_sequencer_commit_seconds: 'One group commit: writing the batch, its fdatasync (fsync durability) and publishing it on the journal ring.',
  ims_reporter_rows_total: 'Rows the reporter wrote to its database, by table (an order\'s row is rewritten in each batch that changes it).',
  ims_reporter_batches_total: 'Transactions (batches) the reporter committed.',
  ims_reporter_entries_total: 'Journal entries covered by the committed batches.',
  ims_reporter_replayed_batches_total: 'Batches the database already held (a replay after a crash): written once, counted here.',
  ims_reporter_batch_write_seconds: 'One batch write: from handing it to the database to its commit (queueing behind an earlier batch included).',
  ims_market_data_entries_total: 'Journal entries the market-data publisher applied to its books, tape and candles.',
  ims_market_data_trades_total: 'Trades (fills) the market-data publisher applied and published.',
  ims_market_data_book_deltas_total: 'L2 book changes the market-data publisher applied and published.',
  ims_market_data_messages_total: 'Messages published on marketdata.ring (book deltas, trades, candles, snapshots, replies).',
  ims_market_data_snapshots_total: 'Book snapshots published (on a gateway\'s request and on the periodic refresh).',
  ims_market_data_queries_total: 'Gateway queries (snapshots, book at a time, candles), by outcome (answered, refused).',
};

/**
 * Declares `name{reason=...}` for every code of `names` (code 0 and unknown codes count as
 * reason=other), so counting a reject is one store: `values[slots[code]] += 1` with
 * `code < slots.length` checked (see reasonSlot). Every series exists from the start at 0.
 */
export function declareReasonSlots(counters: CountersWriter, name: string, names: Readonly<Record<number, string>>): Int32Array {
  let maxCode = 0;
  for (const code of Object.keys(names)) maxCode = Math.max(maxCode, Number(code));
  const other = counters.counter(name, 'reason=other');
  const slots = new Int32Array(maxCode + 1).fill(other);
  for (const [code, reason] of Object.entries(names)) if (Number(code) !== 0) slots[Number(code)] = counters.counter(name, `reason=${reason}`);
  return slots;
}

/** The slot of reason `code` in slots made by declareReasonSlots (reason=other when out of range). */
export function reasonSlot(slots: Int32Array, code: number): number {
  return code > 0 && code < slots.length ? slots[code]! : slots[0]!;
}

export function countersPath(runDir: string, processName: string): string {
  return path.join(runDir, `${processName}${COUNTERS_FILE_SUFFIX}`);
}

export interface OpenCountersOptions {
  /** The run directory; default IMS_RUN_DIR. */
  readonly runDir?: string | undefined;
  /** The process name as the supervisor knows it (gateway-1, pm-a, …); default IMS_PROCESS_NAME. */
  readonly name?: string | undefined;
  /** The name used for a detached copy when the process runs on its own (tests, benches). */
  readonly fallbackName: string;
}

/**
 * The counters of this process. Only a process started by the supervisor or systemd (which name
 * it through IMS_PROCESS_NAME) gets a file: a process a test starts by hand leaves nothing behind.
 */
export function openProcessCounters(o: OpenCountersOptions, env: NodeJS.ProcessEnv = process.env): CountersWriter {
  const name = o.name ?? env['IMS_PROCESS_NAME'];
  const runDir = o.runDir ?? env['IMS_RUN_DIR'];
  if (name === undefined || name === '' || runDir === undefined || runDir === '' || !fs.existsSync(runDir)) return CountersWriter.detached(name || o.fallbackName);
  return CountersWriter.create(countersPath(runDir, name), name);
}

export interface EventLoopSampler {
  stop(): void;
}

/** Samples the event-loop delay into ims_event_loop_delay_seconds{stat=p50|p99|max} (ns in the slots). */
export function startEventLoopSampler(counters: CountersWriter, intervalMs: number = EVENT_LOOP_SAMPLE_MS): EventLoopSampler {
  const p50 = counters.gauge('ims_event_loop_delay_seconds', 'stat=p50');
  const p99 = counters.gauge('ims_event_loop_delay_seconds', 'stat=p99');
  const max = counters.gauge('ims_event_loop_delay_seconds', 'stat=max');
  const h = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  h.enable();
  const timer = setInterval(() => {
    // The monitor adds its own resolution to every sample; take it off so an idle loop reads ~0.
    const offNs = EVENT_LOOP_RESOLUTION_MS * 1e6;
    counters.set(p50, Math.max(0, h.percentile(50) - offNs));
    counters.set(p99, Math.max(0, h.percentile(99) - offNs));
    counters.set(max, Math.max(0, h.max - offNs));
    h.reset();
  }, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      h.disable();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reader side.

export interface HistogramSummary {
  count: number;
  sumSeconds: number;
  p50Seconds: number;
  p99Seconds: number;
  p999Seconds: number;
  maxSeconds: number;
}

export interface ProcessCountersReading {
  process: string;
  pid: number;
  alive: boolean;
  startTimeMs: number;
  /** Values by series: `name` or `name{key="value"}`; `_seconds` values already in seconds. */
  values: Record<string, number>;
  /** Latency histograms by name, summarised. */
  histograms: Record<string, HistogramSummary>;
  /** The raw reading (labels, buckets) for renderers. */
  raw: CountersSnapshot;
}

export function seriesKey(name: string, label: { key: string; value: string } | null): string {
  return label === null ? name : `${name}{${label.key}="${label.value}"}`;
}

export function scaleOf(name: string): number {
  return name.endsWith('_seconds') ? 1e-9 : 1;
}

export function summarizeHistogram(buckets: readonly number[], count: number, sumNs: number): HistogramSummary {
  let maxIndex = -1;
  for (let i = buckets.length - 1; i >= 0; i--) {
    if (buckets[i]! > 0) {
      maxIndex = i;
      break;
    }
  }
  return {
    count,
    sumSeconds: sumNs / 1e9,
    p50Seconds: quantileNs(buckets, 0.5) / 1e9,
    p99Seconds: quantileNs(buckets, 0.99) / 1e9,
    p999Seconds: quantileNs(buckets, 0.999) / 1e9,
    maxSeconds: maxIndex < 0 ? NaN : quantileNs(buckets, 1) / 1e9,
  };
}

/** The counters files in runDir, sorted by name (bounded by MAX_COUNTERS_FILES). */
export function countersFiles(runDir: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(runDir);
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.endsWith(COUNTERS_FILE_SUFFIX))
    .sort()
    .slice(0, MAX_COUNTERS_FILES)
    .map((e) => path.join(runDir, e));
}

/** Every process's counters in runDir as plain objects (a dead process's last values included, alive=false). */
export function readProcessCounters(runDir: string): ProcessCountersReading[] {
  const out: ProcessCountersReading[] = [];
  for (const file of countersFiles(runDir)) {
    const snap = readCountersFile(file);
    if (snap === null) continue;
    const values: Record<string, number> = {};
    for (const c of snap.counters) values[seriesKey(c.name, c.label)] = c.value * scaleOf(c.name);
    const histograms: Record<string, HistogramSummary> = {};
    for (const h of snap.histograms) histograms[seriesKey(h.name, h.label)] = summarizeHistogram(h.buckets, h.count, h.sumNs);
    out.push({ process: snap.processName, pid: snap.pid, alive: pidAlive(snap.pid), startTimeMs: snap.startTimeMs, values, histograms, raw: snap });
  }
  return out;
}

/** Sum of every series of `name` (all labels) in one reading. */
export function totalOf(r: ProcessCountersReading, name: string): number {
  let sum = 0;
  for (const c of r.raw.counters) if (c.name === name) sum += c.value * scaleOf(name);
  return sum;
}

/** What `ims status` sums per column: each process keeps one of these families (gateway, pm, engine, market data). */
const ORDERS_IN_FAMILIES = ['ims_orders_in_total', 'ims_pm_commands_total', 'ims_engine_orders_total'] as const;
const FILLS_FAMILIES = ['ims_fills_total', 'ims_engine_fills_total', 'ims_market_data_trades_total'] as const;
const REJECTS_FAMILIES = ['ims_rejects_total', 'ims_pm_command_rejects_total', 'ims_engine_rejects_total'] as const;
/** The latency shown per process: the first of these it keeps. */
const LATENCY_HISTOGRAMS = ['ims_round_trip_seconds', 'ims_sequencer_commit_seconds', 'ims_reporter_batch_write_seconds', 'ims_loop_work_seconds'] as const;

function sumOf(r: ProcessCountersReading, names: readonly string[]): number {
  let sum = 0;
  for (const name of names) sum += totalOf(r, name);
  return sum;
}

/**
 * What `ims status` prints per process that keeps counters; `previous` (an earlier reading) gives
 * rates. P99 is the gateway's round trip, the sequencer's group commit, the reporter's batch write,
 * or else the work-loop turn (engine, product manager).
 */
export function formatProcessCounters(now: ProcessCountersReading[], previous: { readings: ProcessCountersReading[]; atMs: number } | null, nowMs: number): string[] {
  if (now.length === 0) return [];
  const lines = [`${'COUNTERS'.padEnd(24)}${'ORDERS IN'.padStart(10)}${'ORDERS/S'.padStart(10)}${'FILLS'.padStart(8)}${'REJECTS'.padStart(9)}${'P99'.padStart(10)}${'OPEN WS'.padStart(9)}${'LOOP P99'.padStart(10)}${'LAST SEQ'.padStart(10)}`];
  const ms = (s: number): string => (Number.isFinite(s) ? `${(s * 1e3).toFixed(2)}ms` : '-');
  for (const r of now) {
    const orders = sumOf(r, ORDERS_IN_FAMILIES);
    const before = previous?.readings.find((p) => p.process === r.process && p.pid === r.pid);
    const rate = before !== undefined && previous !== null && nowMs > previous.atMs ? ((orders - sumOf(before, ORDERS_IN_FAMILIES)) * 1000) / (nowMs - previous.atMs) : NaN;
    const latency = LATENCY_HISTOGRAMS.map((h) => r.histograms[h]).find((h) => h !== undefined);
    lines.push(
      `${(r.process + (r.alive ? '' : ' (gone)')).padEnd(24)}${String(orders).padStart(10)}${(Number.isNaN(rate) ? '-' : rate.toFixed(1)).padStart(10)}${String(sumOf(r, FILLS_FAMILIES)).padStart(8)}${String(sumOf(r, REJECTS_FAMILIES)).padStart(9)}${ms(latency?.p99Seconds ?? NaN).padStart(10)}${String(r.values['ims_open_connections{kind="websocket"}'] ?? '-').padStart(9)}${ms(r.values['ims_event_loop_delay_seconds{stat="p99"}'] ?? NaN).padStart(10)}${String(r.values['ims_last_seq'] ?? '-').padStart(10)}`,
    );
  }
  return lines;
}
