// The reporter-crash drill behind `ims drill reporter-crash`: against a live, supervised instance
// under a steady order load (WebSocket clients, ws-order-load.ts), SIGKILL the reporter while it
// follows the journal and writes its batches, let the supervisor restart it, and check that it
// resumes from the last journal seq its database holds: the report database catches up with the
// journal, and reconciliation (processes/reporter/reconcile.ts, what `ims reconcile` runs) finds no
// difference between the database and the journal — no row lost, none doubled. With kills > 1 each
// further kill hits the restarted reporter as soon as it has committed its first batch, while it is
// still writing the backlog of the previous outage. The load's orders and the journal are audited
// as in every drill (client-order-audit.ts).
//
//   const report = await runReporterCrashDrill({ runDir: '/dev/shm/ims-main', kills: 2 });
//   process.stdout.write(formatReporterCrashDrillReport(report) + '\n');
//
// Times are performance.now() of the drill's process, against the kill:
//   detection  the supervisor recorded the reporter's exit (supervisor.json)
//   restarted  the supervisor recorded the new reporter process
//   resumed    the report database's last seq moved past what it held at the kill (the new
//              process committed its first batch)
//   caught up  the database's last seq reached the journal's visible seq as it was at the restart
//              (the whole backlog of the outage is written)

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openReportStore, reconcile, reportStoreOptionsFromEnv, type ReconcileDifference, type ReportStore, type ReportStoreOptions } from '../reporter';
import { pidAlive, readRunState } from '../supervisor/run-state';
import { auditDrillLoad, formatClientOrderAudit, formatJournalAudit, journalDirsOf, waitForEngineCheckpoint, type ClientOrderAudit, type JournalAuditSummary, type JournalDirs } from './client-order-audit';
import { findGatewayEndpoints } from './gateway-endpoints';
import { wsOrderLoadOptionsOf, type WsLoadDrillOptions } from './ws-load-options';
import { WsOrderLoad } from './ws-order-load';

/** The load's options (ws-load-options.ts; 4 clients by default) and these. */
export interface ReporterCrashDrillOptions extends WsLoadDrillOptions {
  /** The instance's run directory (supervisor.json, journal.ring, journal.status). */
  readonly runDir: string;
  /** The report database; default: the instance's (IMS_DATABASE_URL or <data dir>/reports.sqlite). */
  readonly database?: ReportStoreOptions;
  /** The supervisor's name of the reporter process. Default 'reporter'. */
  readonly processName?: string;
  /** How many times to kill it. Default 2. */
  readonly kills?: number;
  /** Load before the first kill. Default 1,500 ms. */
  readonly loadBeforeKillMs?: number;
  /** Load after the last kill is caught up. Default 1,000 ms. */
  readonly loadAfterKillMs?: number;
  /** How long the supervisor is given to restart the reporter. Default 15,000 ms. */
  readonly restartTimeoutMs?: number;
  /** How long the restarted reporter is given to commit and to catch up. Default 30,000 ms. */
  readonly catchUpTimeoutMs?: number;
}

export interface ReporterKill {
  pid: number;
  /** The last journal seq the report database held right after the kill (what a restart resumes after). */
  storedSeqAtKill: number;
  journalSeqAtKill: number;
  /** Entries journaled but not yet in the database at the kill. */
  backlogAtKill: number;
  detectionMs: number | null;
  restartedMs: number | null;
  newPid: number | null;
  resumedMs: number | null;
  /** The journal's visible seq when the restart was seen: the catch-up target. */
  catchUpTargetSeq: number;
  caughtUpMs: number | null;
}

export interface ReporterCrashDrillReport {
  ok: boolean;
  problems: string[];
  tag: string;
  database: string;
  /** Journal entries per second before the first kill. */
  journalEntriesPerSecond: number;
  kills: ReporterKill[];
  /** The database's last seq and the journal's visible seq once the load stopped and the reporter caught up. */
  final: { databaseSeq: number; journalSeq: number; caughtUp: boolean } | null;
  reconcile: { ok: boolean; databaseLastSeq: number; journalLastSeq: number; lagEntries: number; differenceCount: number; differences: ReconcileDifference[]; checked: Record<string, number>; durationMs: number } | null;
  orders: ClientOrderAudit | null;
  journal: JournalAuditSummary | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const POLL_MS = 2;
/** Load kept running after the kills until an engine checkpoint covers them, at most. */
const CHECKPOINT_WAIT_MS = 30_000;
/** A kill is not made before the reporter has committed something since the load started, within this long. */
const REPORTER_ACTIVE_MS = 20_000;
/** Differences carried in the report (reconcile lists up to its own limit). */
const REPORTED_DIFFERENCES = 10;

/** True once `pid` no longer runs (a zombie not yet reaped by the supervisor counts as gone). */
function exited(pid: number): boolean {
  if (!pidAlive(pid)) return true;
  try {
    return /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function supervised(runDir: string, name: string): { pid: number; status: string; lastExit: string | null; restarts: number } | null {
  const p = readRunState(runDir)?.processes.find((x) => x.name === name);
  return p === undefined ? null : { pid: p.pid, status: p.status, lastExit: p.lastExit, restarts: p.restarts };
}

/** Kills the reporter under load (kills times), measures its recovery and reconciles its database. */
export async function runReporterCrashDrill(options: ReporterCrashDrillOptions): Promise<ReporterCrashDrillReport> {
  const tag = `rc${crypto.randomBytes(4).readUInt32BE(0).toString(36)}`;
  const report: ReporterCrashDrillReport = { ok: false, problems: [], tag, database: '', journalEntriesPerSecond: 0, kills: [], final: null, reconcile: null, orders: null, journal: null };
  const fail = (text: string): ReporterCrashDrillReport => {
    report.problems.push(text);
    report.ok = false;
    return report;
  };
  const name = options.processName ?? 'reporter';
  const state = readRunState(options.runDir);
  if (state === null) return fail(`no supervisor.json in ${options.runDir}: is the instance running (ims start), and is --instance/--run-dir right?`);
  const first = supervised(options.runDir, name);
  if (first === null || !pidAlive(first.pid)) return fail(`the supervisor runs no live '${name}' process in ${options.runDir}`);
  let dirs: JournalDirs;
  let store: ReportStore;
  const database = options.database ?? reportStoreOptionsFromEnv(state.dataDir, process.env, true);
  try {
    dirs = journalDirsOf(options.runDir);
    store = await openReportStore({ ...database, readOnly: true });
  } catch (e) {
    return fail((e as Error).message);
  }
  report.database = store.description;
  const storedSeq = async (): Promise<number> => (await store.progress()).lastSeq;

  let load: WsOrderLoad | null = null;
  try {
    const endpoints = await findGatewayEndpoints(options.runDir, options.host ?? '127.0.0.1');
    load = await WsOrderLoad.start(wsOrderLoadOptionsOf(options, endpoints, tag, 4));

    // 1. A steady load, and a reporter that writes it.
    const startSeq = dirs.visibleSeq();
    const startStored = await storedSeq();
    const startedAt = performance.now();
    await sleep(options.loadBeforeKillMs ?? 1_500);
    const activeBy = performance.now() + REPORTER_ACTIVE_MS;
    while ((await storedSeq()) <= startStored || load.acknowledged() === 0) {
      if (performance.now() > activeBy) return fail(`within ${REPORTER_ACTIVE_MS} ms the load got ${load.acknowledged()} acknowledgements and the report database did not move past seq ${startStored}: is the market open and the reporter writing?`);
      await sleep(20);
    }
    report.journalEntriesPerSecond = Math.round(((dirs.visibleSeq() - startSeq) * 1000) / (performance.now() - startedAt));

    // 2. The kills.
    const kills = Math.max(1, options.kills ?? 2);
    for (let k = 0; k < kills; k++) {
      const victim = supervised(options.runDir, name);
      if (victim === null || !pidAlive(victim.pid)) return fail(`kill ${k + 1}: no live '${name}' process to kill`);
      const killedAt = performance.now();
      try {
        process.kill(victim.pid, 'SIGKILL');
      } catch (e) {
        return fail(`kill ${k + 1}: could not kill pid ${victim.pid}: ${(e as Error).message}`);
      }
      const journalSeqAtKill = dirs.visibleSeq();
      // The process is gone: what the database holds now is what the restart resumes after.
      while (!exited(victim.pid) && performance.now() - killedAt < 5_000) await sleep(1);
      const storedAtKill = await storedSeq();
      const kill: ReporterKill = { pid: victim.pid, storedSeqAtKill: storedAtKill, journalSeqAtKill, backlogAtKill: journalSeqAtKill - storedAtKill, detectionMs: null, restartedMs: null, newPid: null, resumedMs: null, catchUpTargetSeq: 0, caughtUpMs: null };
      report.kills.push(kill);

      const restartBy = killedAt + (options.restartTimeoutMs ?? 15_000);
      while (performance.now() < restartBy) {
        const s = supervised(options.runDir, name);
        const now = performance.now();
        if (s !== null && kill.detectionMs === null && (s.pid !== victim.pid || s.status !== 'running' || s.restarts !== victim.restarts)) kill.detectionMs = now - killedAt;
        if (s !== null && s.pid !== victim.pid && s.pid > 0 && pidAlive(s.pid)) {
          kill.restartedMs = now - killedAt;
          kill.newPid = s.pid;
          kill.catchUpTargetSeq = dirs.visibleSeq();
          break;
        }
        await sleep(POLL_MS);
      }
      if (kill.newPid === null) return fail(`kill ${k + 1}: the supervisor did not restart '${name}' within ${options.restartTimeoutMs ?? 15_000} ms`);

      const catchUpBy = killedAt + (options.catchUpTimeoutMs ?? 30_000);
      const last = k === kills - 1;
      while (performance.now() < catchUpBy) {
        const seq = await storedSeq();
        const now = performance.now();
        if (kill.resumedMs === null && seq > storedAtKill) kill.resumedMs = now - killedAt;
        if (seq >= kill.catchUpTargetSeq && kill.resumedMs !== null) {
          kill.caughtUpMs = now - killedAt;
          break;
        }
        // The next kill hits the reporter while it is still writing this outage's backlog.
        if (!last && kill.resumedMs !== null) break;
        await sleep(POLL_MS);
      }
      if (kill.resumedMs === null) return fail(`kill ${k + 1}: the restarted reporter (pid ${kill.newPid}) committed nothing within ${options.catchUpTimeoutMs ?? 30_000} ms of the kill`);
      if (last && kill.caughtUpMs === null) report.problems.push(`the restarted reporter did not catch up with journal seq ${kill.catchUpTargetSeq} within ${options.catchUpTimeoutMs ?? 30_000} ms of the kill`);
    }
    await sleep(options.loadAfterKillMs ?? 1_000);
    if (!(await waitForEngineCheckpoint(options.runDir, report.kills[0]!.journalSeqAtKill, CHECKPOINT_WAIT_MS))) {
      report.problems.push(`no engine checkpoint after journal seq ${report.kills[0]!.journalSeqAtKill} (the first kill) within ${CHECKPOINT_WAIT_MS} ms more of load: the state hash cannot be compared over the drill`);
    }

    // 3. The load stops; every order answered; the database reaches the journal's end.
    if (!(await load.drain(options.drainTimeoutMs ?? 15_000))) report.problems.push(`${load.unansweredOrders} orders were still unanswered after the load stopped`);
    load.close();
    const finalBy = performance.now() + (options.catchUpTimeoutMs ?? 30_000);
    let final = { databaseSeq: 0, journalSeq: 0, caughtUp: false };
    while (performance.now() < finalBy) {
      const journalSeq = dirs.visibleSeq();
      const databaseSeq = await storedSeq();
      final = { databaseSeq, journalSeq, caughtUp: databaseSeq >= journalSeq };
      if (final.caughtUp) break;
      await sleep(20);
    }
    report.final = final;
    if (!final.caughtUp) report.problems.push(`the report database holds seq ${final.databaseSeq}, the journal ${final.journalSeq}: the reporter did not catch up after the load stopped`);

    // 4. Reconcile: the database against the journal, every measure.
    const r = await reconcile({ database: store, journalDir: dirs.journalDir, archiveDir: dirs.archiveDir });
    report.reconcile = { ok: r.ok, databaseLastSeq: r.databaseLastSeq, journalLastSeq: r.journalLastSeq, lagEntries: r.lagEntries, differenceCount: r.differenceCount, differences: r.differences.slice(0, REPORTED_DIFFERENCES), checked: { ...r.checked }, durationMs: r.durationMs };
    if (!r.ok) report.problems.push(`reconcile found ${r.differenceCount} difference(s) between the report database and the journal, e.g. ${r.differences.slice(0, 3).map((d) => `${d.measure} ${d.key} ${d.field}: journal ${d.journal}, database ${d.database}`).join('; ')}`);
    if (r.databaseLastSeq < final.journalSeq) report.problems.push(`reconcile compared the journal only to seq ${r.databaseLastSeq}, not to ${final.journalSeq}`);

    // 5. The load's orders and the journal, as in every drill.
    auditDrillLoad(report, options.runDir, dirs, load.orders, tag, 'no order was acknowledged: the reporter had nothing new to write');
  } catch (e) {
    report.problems.push((e as Error).message);
  } finally {
    load?.close();
    await store.close().catch(() => undefined);
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** The report as a few readable lines. */
export function formatReporterCrashDrillReport(r: ReporterCrashDrillReport): string {
  const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} ms`);
  const lines = [`reporter-crash drill: ${r.ok ? 'PASSED' : 'FAILED'}`];
  lines.push(`  database   ${r.database}; load ${r.journalEntriesPerSecond} journal entries/s; orders tagged ${r.tag}-*`);
  r.kills.forEach((k, i) => {
    lines.push(
      `  kill ${i + 1}     pid ${k.pid} with the database at seq ${k.storedSeqAtKill}, the journal at ${k.journalSeqAtKill} (backlog ${k.backlogAtKill}); ` +
        `detection ${ms(k.detectionMs)}, restarted ${ms(k.restartedMs)} (pid ${k.newPid ?? '-'}), resumed ${ms(k.resumedMs)}, caught up to seq ${k.catchUpTargetSeq} ${k.caughtUpMs === null ? '(killed again first)' : ms(k.caughtUpMs)}`,
    );
  });
  if (r.final !== null) lines.push(`  final      database seq ${r.final.databaseSeq}, journal seq ${r.final.journalSeq}${r.final.caughtUp ? '' : ' (BEHIND)'}`);
  if (r.reconcile !== null) {
    const c = r.reconcile;
    lines.push(`  reconcile  ${c.ok ? 'clean' : `${c.differenceCount} DIFFERENCES`}: database to seq ${c.databaseLastSeq}, journal to ${c.journalLastSeq}; checked ${Object.entries(c.checked).map(([k, v]) => `${v} ${k}`).join(', ')} in ${c.durationMs} ms`);
  }
  if (r.orders !== null) lines.push(`  orders     ${formatClientOrderAudit(r.orders)}`);
  if (r.journal !== null) lines.push(`  journal    ${formatJournalAudit(r.journal)}`);
  for (const p of r.problems) lines.push(`  PROBLEM    ${p}`);
  return lines.join('\n');
}
