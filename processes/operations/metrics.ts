// The operator's /metrics: everything read at scrape time from what the processes already publish
// in the run directory — ring headers and consumer slots, the journal status file, the
// supervisor's run state, the engine and product-manager status files, and each process's counters
// file (<process>.counters, one per process: orders in, rejects by reason, fills, latency histograms,
// entries, rows, last seq; the families in process-counters.ts METRIC_HELP, the layout in
// bus/counters.ts) — and from /proc. No process is contacted, so a stuck process cannot stall
// a scrape, and a scrape cannot slow the hot path (reads are plain loads of shared memory).
//
//   renderMetrics(runDir)               → Prometheus text
//   startMetricsServer({runDir, port})  → GET /metrics, GET /healthz on a node:http server

import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { RingFile } from '../../bus/ring';
import { ConsumerState } from '../../bus/ring-layout';
import { BUCKET_COUNT, bucketUpperNs } from '../../bus/counters';
import { ENGINE_ROLE_NAMES, readEngineStatus } from '../matching-engine/engine-status';
import { pmLeasePath } from '../product-manager/pm-paths';
import { readPmStatus } from '../product-manager/pm-status';
import { journalStatus } from '../sequencer/journal-tools';
import { cpusOf, pidAlive, readRunState, type RunState } from '../supervisor/run-state';
import { METRIC_HELP, readProcessCounters, scaleOf, summarizeHistogram } from './process-counters';
import { MetricsWriter, PROMETHEUS_CONTENT_TYPE } from './prometheus-text';

/** Ring files read per scrape: bounds the work of a run dir full of stray files. */
export const MAX_RINGS_PER_SCRAPE = 256;
/** The kernel's clock tick for /proc/<pid>/stat times; 100 on every Linux build IMS runs on. */
const CLOCK_TICKS_PER_S = 100;
const PAGE_BYTES = 4096;

const PROCESS_STATUSES = ['starting', 'running', 'backoff', 'failed', 'stopped'] as const;

/** Resident memory and CPU time of a live process, from /proc (null when it is gone). */
function procUsage(pid: number): { rssBytes: number; cpuSeconds: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const rssPages = Number(fields[21]);
    return { rssBytes: rssPages * PAGE_BYTES, cpuSeconds: (utime + stime) / CLOCK_TICKS_PER_S };
  } catch {
    return null;
  }
}

function ringFiles(runDir: string, state: RunState | null): Array<{ name: string; path: string }> {
  if (state !== null) return state.rings.slice(0, MAX_RINGS_PER_SCRAPE);
  // Under systemd there is no supervisor: the rings are whatever ims-bus.service made.
  let entries: string[];
  try {
    entries = fs.readdirSync(runDir);
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.endsWith('.ring'))
    .sort()
    .slice(0, MAX_RINGS_PER_SCRAPE)
    .map((e) => ({ name: e.slice(0, -'.ring'.length), path: path.join(runDir, e) }));
}

function supervisorMetrics(w: MetricsWriter, state: RunState | null, nowMs: number): void {
  const running = state !== null && pidAlive(state.supervisorPid);
  w.gauge('ims_supervisor_up', '1 while the supervisor of this run dir is alive.', running ? 1 : 0);
  if (state === null) return;
  w.gauge('ims_info', 'The instance this run dir belongs to (always 1).', 1, { instance: state.instance, data_dir: state.dataDir });
  if (running) w.gauge('ims_supervisor_uptime_seconds', 'Seconds since the supervisor started the instance.', (nowMs - state.startedAtMs) / 1000);
  for (const p of state.processes) {
    const alive = running && p.status === 'running' && pidAlive(p.pid);
    const labels = { process: p.name };
    w.gauge('ims_process_up', '1 while the process runs (its pid is alive).', alive ? 1 : 0, labels);
    w.counter('ims_process_restarts_total', 'Times the supervisor restarted the process after a crash.', p.restarts, labels);
    for (const s of PROCESS_STATUSES) w.gauge('ims_process_status', 'The supervisor\'s view of the process: 1 for its current status.', p.status === s ? 1 : 0, { process: p.name, status: s });
    if (alive) {
      w.gauge('ims_process_start_time_seconds', 'Unix time the current incarnation started.', p.startedAtMs / 1000, labels);
      const usage = procUsage(p.pid);
      if (usage !== null) {
        w.gauge('ims_process_resident_memory_bytes', 'Resident memory (RSS) of the process.', usage.rssBytes, labels);
        w.counter('ims_process_cpu_seconds_total', 'User and system CPU time of the current incarnation.', usage.cpuSeconds, labels);
      }
      const cpus = cpusOf(p.pid);
      w.gauge('ims_process_cpus', 'CPUs the process may run on (its taskset / CPUAffinity).', cpus.length, labels);
    }
  }
}

function ringMetrics(w: MetricsWriter, runDir: string, state: RunState | null): void {
  for (const r of ringFiles(runDir, state)) {
    let ring: RingFile;
    try {
      ring = RingFile.open(r.path);
    } catch (e) {
      // A ring being created or removed right now, or a stray file: report it, do not fail the scrape.
      w.gauge('ims_ring_readable', '1 when the ring file could be opened and validated.', 0, { ring: r.name });
      void e;
      continue;
    }
    const labels = { ring: r.name };
    w.gauge('ims_ring_readable', '1 when the ring file could be opened and validated.', 1, labels);
    w.gauge('ims_ring_capacity_bytes', 'Data capacity of the ring.', ring.capacity, labels);
    w.gauge('ims_ring_tail_position_bytes', 'Producer position (bytes published, modulo 2^32).', ring.tail(), labels);
    w.counter('ims_ring_published_records_total', 'Records published on the ring (modulo 2^32).', ring.publishedRecords(), labels);
    const producer = ring.producerPid();
    w.gauge('ims_ring_producer_up', '1 while the ring\'s producer pid is alive.', producer > 0 && pidAlive(producer) ? 1 : 0, labels);
    for (const c of ring.consumers()) {
      const cl = { ring: r.name, consumer: c.name };
      w.gauge('ims_ring_consumer_position_bytes', 'Consumer position (bytes read, modulo 2^32).', c.position, cl);
      w.gauge('ims_ring_consumer_lag_bytes', 'Bytes published that the consumer has not read yet.', c.lag, cl);
      w.gauge('ims_ring_consumer_lag_ratio', 'Consumer lag as a fraction of the ring capacity (1 = a gating consumer blocks the producer).', c.lag / ring.capacity, cl);
      w.gauge('ims_ring_consumer_gating', '1 if the producer waits for this consumer.', c.state === ConsumerState.GATING ? 1 : 0, cl);
      w.gauge('ims_ring_consumer_up', '1 while the consumer\'s pid is alive (0 before it attaches).', c.alive ? 1 : 0, cl);
      w.counter('ims_ring_consumer_records_total', 'Records the consumer has read (modulo 2^32).', c.records, cl);
      w.counter('ims_ring_consumer_lapped_total', 'Times a non-gating consumer was overtaken and had to resynchronise.', c.lapped, cl);
    }
  }
}

function journalMetrics(w: MetricsWriter, runDir: string): void {
  const statusPath = path.join(runDir, 'journal.status');
  let j: ReturnType<typeof journalStatus>;
  try {
    j = journalStatus(statusPath);
  } catch (e) {
    w.gauge('ims_journal_status_readable', '1 when the journal status file could be read.', 0);
    void e;
    return;
  }
  if (j === null) return;
  w.gauge('ims_journal_status_readable', '1 when the journal status file could be read.', 1);
  for (const s of ['stopped', 'recovering', 'running', 'faulted']) w.gauge('ims_journal_state', 'Sequencer state: 1 for the current one.', j.state === s ? 1 : 0, { state: s });
  w.gauge('ims_journal_fsync_durability', '1 when the journal runs fsync (group commit), 0 when async.', j.durability === 'fsync' ? 1 : 0);
  w.gauge('ims_journal_head_seq', 'Last seq written to the journal.', j.headSeq);
  w.gauge('ims_journal_durable_seq', 'Last seq known to be on disk (fdatasync done).', j.durableSeq);
  w.gauge('ims_journal_visible_seq', 'Last seq readers may see.', j.visibleSeq);
  w.gauge('ims_journal_undurable_entries', 'Entries written but not yet on disk (head - durable).', Math.max(0, j.headSeq - j.durableSeq));
  w.gauge('ims_journal_engine_epoch', 'Current matching-engine epoch (rises on each failover).', j.engineEpoch);
  w.counter('ims_journal_entries_total', 'Entries journaled by this sequencer incarnation.', j.entriesTotal);
  w.counter('ims_journal_batches_total', 'Group-commit batches.', j.batches);
  w.gauge('ims_journal_last_batch_entries', 'Entries in the last batch.', j.lastBatchEntries);
  w.counter('ims_journal_fsyncs_total', 'fdatasync calls.', j.syncs);
  w.gauge('ims_journal_fsync_avg_seconds', 'Mean fdatasync time.', j.syncAvgUs / 1e6);
  w.gauge('ims_journal_fsync_last_seconds', 'Last fdatasync time.', j.lastSyncUs / 1e6);
  w.gauge('ims_journal_fsync_max_seconds', 'Longest fdatasync time.', j.maxSyncUs / 1e6);
  w.counter('ims_journal_duplicates_total', 'Inputs skipped as duplicates (exactly-once).', j.duplicates);
  w.counter('ims_journal_stale_epoch_total', 'Engine outputs rejected from a fenced (older) epoch.', j.staleEpoch);
  w.counter('ims_journal_gap_alarms_total', 'Source sequence gaps accepted with an alarm.', j.gapAlarms);
  w.counter('ims_journal_invalid_total', 'Inputs that could not be journaled.', j.invalid);
  w.gauge('ims_journal_halted_inputs', 'Input rings halted at an input the sequencer cannot journal.', j.haltedInputs);
  w.gauge('ims_journal_faulted', '1 when the sequencer recorded a fault (see ims status).', j.fault === '' ? 0 : 1);
  for (const c of j.consumers) {
    const cl = { consumer: c.name };
    w.gauge('ims_journal_consumer_last_seq', 'Last journal seq the consumer has handled.', c.lastSeq, cl);
    w.gauge('ims_journal_consumer_lag_entries', 'Visible entries the consumer has yet to handle.', c.lagEntries, cl);
    w.gauge('ims_journal_consumer_reading_from_disk', '1 while the consumer catches up from disk instead of the ring.', c.mode === 'disk' ? 1 : 0, cl);
    w.counter('ims_journal_consumer_catch_ups_total', 'Times the consumer fell back to reading from disk.', c.catchUps, cl);
  }
}

/** Quantiles emitted beside each histogram, for dashboards that do not run histogram_quantile. */
const LATENCY_QUANTILES = [0.5, 0.99, 0.999] as const;

/** Each process's counters file: counters and gauges as declared, histograms at power-of-two bounds. */
function processCounterMetrics(w: MetricsWriter, runDir: string): void {
  for (const p of readProcessCounters(runDir)) {
    w.gauge('ims_counters_writer_up', '1 while the process that writes this counters file is alive (0: its last values).', p.alive ? 1 : 0, { process: p.process });
    for (const c of p.raw.counters) {
      const labels: Record<string, string> = { process: p.process };
      if (c.label !== null) labels[c.label.key] = c.label.value;
      const help = METRIC_HELP[c.name] ?? c.name;
      const value = c.value * scaleOf(c.name);
      try {
        if (c.kind === 'counter') w.counter(c.name, help, value, labels);
        else w.gauge(c.name, help, value, labels);
      } catch {
        // A name another file (another release's) declares with another type: skip this series
        // rather than fail the whole scrape; ims_counters_writer_up still shows the process.
      }
    }
    for (const h of p.raw.histograms) {
      const labels: Record<string, string> = { process: p.process };
      if (h.label !== null) labels[h.label.key] = h.label.value;
      // Fine buckets are 1/8 of an octave; Prometheus gets one bucket per octave (bounds at 2^k ns),
      // enough for histogram_quantile, and the fine quantiles come as gauges below.
      const out: Array<[number, number]> = [];
      let cumulative = 0;
      for (let i = 0; i < BUCKET_COUNT; i++) {
        cumulative += h.buckets[i]!;
        const upper = bucketUpperNs(i);
        if (upper === Infinity) out.push([Infinity, cumulative]);
        else if (Number.isInteger(Math.log2(upper))) out.push([upper / 1e9, cumulative]);
      }
      w.histogram(h.name, METRIC_HELP[h.name] ?? h.name, out, h.sumNs / 1e9, labels);
      const summary = summarizeHistogram(h.buckets, h.count, h.sumNs);
      const byQuantile = [summary.p50Seconds, summary.p99Seconds, summary.p999Seconds];
      for (let q = 0; q < LATENCY_QUANTILES.length; q++) {
        if (Number.isNaN(byQuantile[q]!)) continue;
        w.gauge('ims_latency_quantile_seconds', 'Quantiles of each latency histogram (the upper bound of the fine bucket holding it: within 12.5 % above the true value).', byQuantile[q]!, { ...labels, histogram: h.name, quantile: String(LATENCY_QUANTILES[q]) });
      }
    }
  }
}

/** The engines' and product managers' own status files, under their process names. */
function roleMetrics(w: MetricsWriter, runDir: string): void {
  if (fs.existsSync(path.join(runDir, 'engine.lease'))) {
    let report: ReturnType<typeof readEngineStatus> | null = null;
    try {
      report = readEngineStatus(runDir);
    } catch {
      report = null; // a status file being created: the next scrape has it
    }
    for (const e of report?.instances ?? []) {
      const labels = { process: `engine-${e.instance}` };
      for (const role of ENGINE_ROLE_NAMES) w.gauge('ims_engine_role', 'Matching-engine role: 1 for the current one (hot publishes, warm checks).', e.alive && e.role === role ? 1 : 0, { ...labels, role });
      w.gauge('ims_engine_epoch', 'The epoch this engine instance runs in (rises on each takeover).', e.epoch, labels);
      w.gauge('ims_engine_last_applied_seq', 'Last journal seq the engine instance handled.', e.lastAppliedSeq, labels);
      w.counter('ims_engine_commands_applied_total', 'Commands (orders, updates, removes, admin) the engine instance applied.', e.commandsApplied, labels);
      w.counter('ims_engine_published_outputs_total', 'Outputs (accepts, rejects, fills, cancels, book changes) the engine published as hot.', e.publishedOutputs, labels);
      w.counter('ims_engine_divergences_total', 'Checkpoints where this instance disagreed with the journal (0 in a healthy pair).', e.divergences, labels);
      w.counter('ims_engine_takeovers_total', 'Times this instance took over as hot.', e.takeovers, labels);
    }
  }
  if (fs.existsSync(pmLeasePath(runDir))) {
    let pms: ReturnType<typeof readPmStatus> | null = null;
    try {
      pms = readPmStatus(runDir);
    } catch {
      pms = null;
    }
    for (const p of pms?.instances ?? []) {
      const labels = { process: `pm-${p.instance}` };
      w.gauge('ims_pm_hot', '1 while this product-manager instance is the leader.', p.alive && pms?.leader === p.instance ? 1 : 0, labels);
      w.gauge('ims_pm_epoch', 'The epoch this product-manager instance runs in.', p.epoch, labels);
      w.gauge('ims_pm_last_seq', 'Last journal seq applied to the product manager\'s state.', p.lastSeq, labels);
      w.gauge('ims_pm_in_flight', 'Commands checked and sent to the sequencer, not yet seen in the journal.', p.inFlight, labels);
      w.counter('ims_pm_orders_forwarded_total', 'New orders that passed risk and wallet checks and went to the sequencer.', p.ordersForwarded, labels);
      w.counter('ims_pm_commands_forwarded_total', 'Commands (orders, updates, removes) forwarded to the sequencer.', p.commandsForwarded, labels);
      w.counter('ims_pm_rejects_total', 'Commands the product manager rejected before sequencing (risk, wallet, state).', p.rejected, labels);
      w.counter('ims_pm_execution_reports_total', 'Execution reports sent to the gateways.', p.reportsSent, labels);
      w.counter('ims_pm_execution_reports_dropped_total', 'Execution reports dropped because a gateway ring stayed full.', p.reportsDropped, labels);
    }
  }
}

/** The Prometheus text for the instance whose rings are in runDir (valid, possibly near-empty, when nothing runs). */
export function renderMetrics(runDir: string, nowMs: number = Date.now()): string {
  const w = new MetricsWriter();
  let state: RunState | null = null;
  try {
    state = readRunState(runDir);
  } catch (e) {
    w.gauge('ims_run_state_readable', '1 when the supervisor run state could be read.', 0);
    void e;
  }
  supervisorMetrics(w, state, nowMs);
  ringMetrics(w, runDir, state);
  journalMetrics(w, runDir);
  roleMetrics(w, runDir);
  processCounterMetrics(w, runDir);
  return w.render();
}

export interface MetricsServerOptions {
  readonly runDir: string;
  readonly port: number;
  /** Default 127.0.0.1: metrics are for operators, not the public. */
  readonly host?: string;
}

export interface MetricsServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/** Serves GET /metrics (and /healthz). Port 0 picks a free port (see .port). */
export function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET /metrics\n');
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: scrape /metrics\n');
      return;
    }
    let body: string;
    try {
      body = renderMetrics(options.runDir);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
  });
  // Scrapes are tiny; a slow client must not hold a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.maxConnections = 64;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        host,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
