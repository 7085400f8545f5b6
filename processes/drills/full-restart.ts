// The full restart drill behind `ims drill full-restart`: against a live, supervised system under a
// steady order load (drill-load.ts), kill -9 every process of the instance, the supervisor first so
// nothing is restarted, as a power cut would; wipe the run directory on /dev/shm as a reboot does
// (rings, status files, leases: everything not on disk); then start the instance again with the
// same data directory. The system must come back from disk alone — the journal's segment files,
// the engines' snapshots, the accounts and report databases — and trade again.
//
// What it checks, beyond the audit every drill runs (drill-audit.ts):
//
//  - every order acknowledged before the kill is in the recovered journal exactly once, under the
//    id its client was told; orders whose answer the kill cut off are sent again after the restart
//    with the same clientOrderId and are created at most once;
//  - the journal the system came back with holds everything made visible before the kill, and the
//    wallets (cash, reserved cash, units and reserved units of the drill's colleagues, and the whole
//    product-manager state hash) replayed from it to the kill's last seq equal those replayed from
//    the journal as the kill left it; the hot product manager's state hash, asked for just before
//    the kill, equals the replay's at its seq, so those are the balances the live system held;
//  - after the restart, new orders trade, the engines' state hashes equal a clean replay.
//
// Times (performance.now() of the drill): from the first SIGKILL to every process gone, the restart
// issued, the supervisor back, the journal recovered, and the RTO: the first acknowledgement of an
// order created after the kill. There is no detection time: nothing in the system survives to
// detect anything; the operator (here the drill) restarts it.
//
//   const report = await runFullRestartDrill({ runDir, gatewayUrl, restart: () => startTheInstance() });

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JournalStatusFile, statusPathForRing } from '../../bus/journal-status';
import { defaultJournalRing } from '../product-manager/pm-paths';
import { pidAlive, readRunState } from '../supervisor/run-state';
import { auditLiveSystem, balanceDifferences, balancesAt, formatSystemAudit, freshPmHash, hotProductManager, type BalanceSheet, type SystemAudit } from './drill-audit';
import { nowMs, OrderLoad, sleep, type LoadStats, type OrderLoadOptions } from './drill-load';

export interface FullRestartDrillOptions {
  readonly runDir: string;
  /** The gateway's trading listener; it must be the same after the restart (a fixed port). */
  readonly gatewayUrl: string;
  readonly journalDir?: string;
  readonly archiveDir?: string;
  /**
   * Starts the instance again (the same command, the same data directory). Default: the killed
   * supervisor's own command line, working directory and environment (read from /proc before the
   * kill), started detached with its output in `restartLog`.
   */
  readonly restart?: () => void | Promise<void>;
  /** Where the default restart writes the new supervisor's output. Default <data dir>/full-restart-drill.log. */
  readonly restartLog?: string;
  readonly load?: Omit<OrderLoadOptions, 'gatewayUrl'>;
  /** Load before the kill. Default 3,000 ms. */
  readonly loadBeforeKillMs?: number;
  /** Load after orders are acknowledged again. Default 5,000 ms. */
  readonly loadAfterRecoveryMs?: number;
  /** How long the whole system may take to come back and acknowledge orders. Default 180,000 ms. */
  readonly restartTimeoutMs?: number;
  readonly settleTimeoutMs?: number;
  readonly minAcknowledgedBeforeKill?: number;
}

export interface FullRestartReport {
  drill: 'full-restart';
  ok: boolean;
  problems: string[];
  killed: { supervisorPid: number; processes: Array<{ name: string; pid: number }>; journalSeq: number } | null;
  restarted: { supervisorPid: number; how: string; journalHeadAtRecovery: number } | null;
  acknowledgedPerSecondBeforeKill: number;
  /** Orders acknowledged before the kill, and how many of them the recovered journal holds under their id. */
  acknowledgedBeforeKill: number;
  acknowledgedBeforeKillJournaled: number;
  /** Always null: nothing survives a full restart to detect it (kept for the drills' common shape). */
  detectionMs: null;
  /** First SIGKILL → no process of the instance left. */
  allDeadMs: number | null;
  /** First SIGKILL → the restart command issued (after the wipe). */
  restartIssuedMs: number | null;
  supervisorUpMs: number | null;
  /** First SIGKILL → the new sequencer has recovered the journal from disk and runs. */
  journalRecoveredMs: number | null;
  /** First SIGKILL → the first acknowledgement of an order created after the kill. */
  rtoMs: number | null;
  balances: {
    /** The hot product manager's own state hash just before the kill, against a replay. */
    liveBeforeKill: { instance: string; seq: number; hash: string; replay: string | null; match: boolean } | null;
    /** Replayed from the journal as the kill left it, to the last seq made visible. */
    beforeKill: BalanceSheet | null;
    /** Replayed from the journal the restarted system recovered, to the same seq. */
    afterRestart: BalanceSheet | null;
    equal: boolean;
    differences: string[];
  };
  load: LoadStats | null;
  audit: SystemAudit | null;
}

const POLL_MS = 5;

/** The killed supervisor's command, to start it again after the wipe. */
interface StartCommand {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

function startCommandOf(pid: number): StartCommand {
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
  const env: NodeJS.ProcessEnv = {};
  for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (argv.length < 2 || !argv.includes('start')) throw new Error(`pid ${pid} does not look like an 'ims start' supervisor (${argv.join(' ')})`);
  return { argv, cwd, env };
}

async function productIdOf(gatewayUrl: string, symbol: string): Promise<number | null> {
  try {
    const res = await fetch(`${gatewayUrl.replace(/\/+$/, '')}/v1/products`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { products?: Array<{ productId: number; symbol: string }> };
    return body.products?.find((p) => p.symbol === symbol)?.productId ?? null;
  } catch {
    return null;
  }
}

/** kill -9 of the whole instance, a /dev/shm wipe and a start from disk, under load; audited. */
export async function runFullRestartDrill(options: FullRestartDrillOptions): Promise<FullRestartReport> {
  const report: FullRestartReport = {
    drill: 'full-restart',
    ok: false,
    problems: [],
    killed: null,
    restarted: null,
    acknowledgedPerSecondBeforeKill: 0,
    acknowledgedBeforeKill: 0,
    acknowledgedBeforeKillJournaled: 0,
    detectionMs: null,
    allDeadMs: null,
    restartIssuedMs: null,
    supervisorUpMs: null,
    journalRecoveredMs: null,
    rtoMs: null,
    balances: { liveBeforeKill: null, beforeKill: null, afterRestart: null, equal: false, differences: [] },
    load: null,
    audit: null,
  };
  const fail = (text: string): FullRestartReport => {
    report.problems.push(text);
    report.ok = false;
    return report;
  };
  const state = readRunState(options.runDir);
  if (state === null || !pidAlive(state.supervisorPid)) return fail(`no live supervisor in ${options.runDir}: start the instance with 'ims start' first`);
  const statusPath = statusPathForRing(defaultJournalRing(options.runDir));
  const status = JournalStatusFile.openIfExists(statusPath);
  if (status === null) return fail(`no journal status in ${options.runDir}: is the sequencer running there?`);
  const snap = status.snapshot();
  const journalDir = options.journalDir ?? snap.dataDir;
  const archiveDir = options.archiveDir ?? (snap.archiveDir === '' ? undefined : snap.archiveDir);
  let restart = options.restart;
  let how = 'the caller restarted it';
  if (restart === undefined) {
    let command: StartCommand;
    try {
      command = startCommandOf(state.supervisorPid);
    } catch (e) {
      return fail(`cannot read how the supervisor was started, so it could not be started again: ${(e as Error).message}`);
    }
    const log = options.restartLog ?? path.join(state.dataDir, 'full-restart-drill.log');
    how = `${command.argv.slice(1).join(' ')} (detached, output in ${log})`;
    restart = () => {
      const fd = fs.openSync(log, 'a');
      const child = spawn(command.argv[0]!, command.argv.slice(1), { cwd: command.cwd, env: command.env, detached: true, stdio: ['ignore', fd, fd] });
      child.unref();
      fs.closeSync(fd);
    };
  }

  const load = await OrderLoad.connect({ ...options.load, gatewayUrl: options.gatewayUrl });
  const productId = await productIdOf(options.gatewayUrl, load.symbol);
  if (productId === null) return fail(`the gateway lists no product ${load.symbol}`);
  let killedAt = 0;
  load.start();
  try {
    // 1. Steady load; the live product manager's state just before the kill.
    await sleep(options.loadBeforeKillMs ?? 3_000);
    const t = nowMs();
    report.acknowledgedPerSecondBeforeKill = load.acknowledgedBetween(t - 1_000, t);
    if (load.stats().acknowledged < (options.minAcknowledgedBeforeKill ?? 20)) return fail(`only ${load.stats().acknowledged} orders were acknowledged before the kill: is the exchange trading? (${JSON.stringify(load.stats().rejectedByReason)})`);
    const hot = hotProductManager(options.runDir);
    const pmBefore = hot === null ? null : await freshPmHash(options.runDir, hot.instance, hot.pid);

    // 2. kill -9 of everything, the supervisor first (it would restart the others).
    const victims = readRunState(options.runDir)!;
    const pids = [victims.supervisorPid, ...victims.processes.map((p) => p.pid)].filter((pid) => pid > 0);
    killedAt = nowMs();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone (a process between restarts) */
      }
    }
    report.killed = { supervisorPid: victims.supervisorPid, processes: victims.processes.map((p) => ({ name: p.name, pid: p.pid })), journalSeq: 0 };
    while (pids.some(pidAlive) && nowMs() - killedAt < 10_000) await sleep(1);
    if (pids.some(pidAlive)) return fail(`pids ${pids.filter(pidAlive).join(', ')} were still alive 10 s after SIGKILL`);
    report.allDeadMs = nowMs() - killedAt;
    report.acknowledgedBeforeKill = load.orders.filter((o) => o.outcome === 'acknowledged' && o.answeredAtMs < killedAt).length;

    // 3. What the kill left: the last seq made visible, the wallets replayed to it.
    const lastVisible = status.snapshot().visibleSeq;
    report.killed.journalSeq = lastVisible;
    const accountIds = load.accountIds;
    report.balances.beforeKill = balancesAt(journalDir, archiveDir, lastVisible, accountIds, [productId]);
    if (report.balances.beforeKill.seq !== lastVisible) report.problems.push(`the journal on disk ends at seq ${report.balances.beforeKill.seq} but ${lastVisible} had been made visible`);
    if (pmBefore !== null && hot !== null) {
      const replay = pmBefore.hashSeq <= lastVisible ? balancesAt(journalDir, archiveDir, pmBefore.hashSeq, [], []).stateHash : null;
      report.balances.liveBeforeKill = { instance: hot.instance, seq: pmBefore.hashSeq, hash: pmBefore.stateHash, replay, match: replay === pmBefore.stateHash };
      if (replay !== pmBefore.stateHash) report.problems.push(`pm-${hot.instance}'s state hash ${pmBefore.stateHash} at seq ${pmBefore.hashSeq} before the kill differs from a replay (${replay ?? 'not on disk'})`);
    } else {
      report.problems.push('no hot product manager published a state hash before the kill');
    }

    // 4. The reboot: /dev/shm wiped, then the same start.
    fs.rmSync(options.runDir, { recursive: true, force: true });
    await restart();
    report.restartIssuedMs = nowMs() - killedAt;

    // 5. Back from disk: supervisor, journal, orders acknowledged again.
    const deadline = killedAt + (options.restartTimeoutMs ?? 180_000);
    let newStatus: JournalStatusFile | null = null;
    while (nowMs() < deadline) {
      const now = nowMs();
      if (report.supervisorUpMs === null) {
        const s = readRunState(options.runDir);
        if (s !== null && s.supervisorPid !== victims.supervisorPid && pidAlive(s.supervisorPid)) {
          report.supervisorUpMs = now - killedAt;
          report.restarted = { supervisorPid: s.supervisorPid, how, journalHeadAtRecovery: 0 };
        }
      }
      if (newStatus === null && report.supervisorUpMs !== null) newStatus = JournalStatusFile.openIfExists(statusPath);
      if (newStatus !== null && report.journalRecoveredMs === null) {
        const j = newStatus.snapshot();
        if (j.state === 'running' && pidAlive(j.pid)) {
          report.journalRecoveredMs = now - killedAt;
          report.restarted!.journalHeadAtRecovery = j.headSeq;
        }
      }
      const first = load.firstAcknowledgedCreatedAfter(killedAt);
      if (first !== null) {
        report.rtoMs = first.answeredAtMs - killedAt;
        break;
      }
      await sleep(POLL_MS);
    }
    if (report.supervisorUpMs === null) report.problems.push(`no supervisor was running ${options.restartTimeoutMs ?? 180_000} ms after the kill`);
    if (report.rtoMs === null) return fail(`no order created after the kill was acknowledged within ${options.restartTimeoutMs ?? 180_000} ms`);
    if (report.restarted !== null && report.journalRecoveredMs !== null && report.restarted.journalHeadAtRecovery < lastVisible) {
      report.problems.push(`the restarted sequencer recovered the journal to seq ${report.restarted.journalHeadAtRecovery}, but ${lastVisible} had been made visible before the kill`);
    }

    // 6. Trading goes on.
    await sleep(options.loadAfterRecoveryMs ?? 5_000);
  } finally {
    await load.stop();
  }
  const pending = await load.settle(options.settleTimeoutMs ?? 20_000);
  report.load = load.stats();
  if (pending > 0) report.problems.push(`${pending} orders had no final answer ${options.settleTimeoutMs ?? 20_000} ms after the load stopped`);
  if (report.load.serverErrors > 0) report.problems.push(`the gateway answered ${report.load.serverErrors} requests with a 5xx other than 503 (a bug: see its log)`);

  // 7. The balances across the restart, and the audit.
  const before = report.balances.beforeKill!;
  report.balances.afterRestart = balancesAt(journalDir, archiveDir, before.seq, before.accounts.map((a) => a.accountId), before.productIds);
  report.balances.differences = balanceDifferences(before, report.balances.afterRestart);
  report.balances.equal = report.balances.differences.length === 0;
  for (const d of report.balances.differences) report.problems.push(`balances across the restart: ${d}`);
  try {
    report.audit = await auditLiveSystem({ runDir: options.runDir, journalDir, archiveDir, orders: load.orders, acknowledgedBeforeMs: killedAt });
    for (const p of report.audit.problems) report.problems.push(`audit: ${p}`);
    report.acknowledgedBeforeKillJournaled = report.audit.orders.acknowledgedBeforeJournaled;
    if (report.audit.orders.acknowledgedBefore !== report.acknowledgedBeforeKill) report.problems.push(`the audit counted ${report.audit.orders.acknowledgedBefore} orders acknowledged before the kill, the drill ${report.acknowledgedBeforeKill}`);
  } catch (e) {
    report.problems.push(`the audit could not run: ${(e as Error).message}`);
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** The report as a few readable lines. */
export function formatFullRestartReport(r: FullRestartReport): string {
  const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} ms`);
  const lines = [`full restart drill: ${r.ok ? 'PASSED' : 'FAILED'}`];
  if (r.killed !== null) lines.push(`  killed     supervisor pid ${r.killed.supervisorPid} and ${r.killed.processes.length} processes (kill -9) at journal seq ${r.killed.journalSeq}, ${r.acknowledgedPerSecondBeforeKill} orders/s acknowledged; run directory wiped`);
  if (r.restarted !== null) lines.push(`  restarted  supervisor pid ${r.restarted.supervisorPid}: ${r.restarted.how}; journal recovered to seq ${r.restarted.journalHeadAtRecovery}`);
  lines.push(`  times      all dead ${ms(r.allDeadMs)}, restart issued ${ms(r.restartIssuedMs)}, supervisor up ${ms(r.supervisorUpMs)}, journal recovered ${ms(r.journalRecoveredMs)}, RTO (orders acknowledged again) ${ms(r.rtoMs)}; detection: none (nothing survives to detect)`);
  lines.push(`  before     ${r.acknowledgedBeforeKill} orders acknowledged before the kill, ${r.acknowledgedBeforeKillJournaled} in the recovered journal under their ids`);
  const b = r.balances;
  if (b.liveBeforeKill !== null) lines.push(`  balances   pm-${b.liveBeforeKill.instance} held state hash ${b.liveBeforeKill.hash} at seq ${b.liveBeforeKill.seq} before the kill; replay ${b.liveBeforeKill.replay ?? '-'}: ${b.liveBeforeKill.match ? 'equal' : 'DIFFERENT'}`);
  if (b.beforeKill !== null && b.afterRestart !== null) {
    lines.push(`  balances   at seq ${b.beforeKill.seq}: before the kill ${b.beforeKill.stateHash}, from the recovered journal ${b.afterRestart.stateHash}: ${b.equal ? 'equal' : 'DIFFERENT'} (${b.beforeKill.accounts.map((a) => `account ${a.accountId} cash ${a.cash} units ${a.units.join('/')}`).join(', ')})`);
  }
  if (r.load !== null) {
    const l = r.load;
    const reasons = Object.entries(l.rejectedByReason).map(([k, v]) => `${k} x${v}`).join(', ');
    lines.push(`  load       ${l.clientOrders} client orders, ${l.requests} requests (${l.retries} retries), ${l.acknowledged} acknowledged (${l.acknowledgedAfterRetry} by a retry), ${l.rejected} rejected${reasons === '' ? '' : ` (${reasons})`}, ${l.pending} without an answer; ${l.unavailableAnswers} x 503, ${l.networkErrors} failed requests, ${l.rateLimited} x 429`);
  }
  if (r.audit !== null) lines.push(...formatSystemAudit(r.audit));
  for (const p of r.problems) lines.push(`  PROBLEM    ${p}`);
  return lines.join('\n');
}
