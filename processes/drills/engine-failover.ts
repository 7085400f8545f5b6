// The engine failover drill behind `ims drill engine-failover` (alias `failover`): against a live system under load, kill the
// hot matching engine with SIGKILL, measure how long the warm takes to notice, claim the next epoch
// and publish, then audit the journal: the engine output stream must equal a clean replay of the
// journal's commands, with no gap and no duplicate (processes/matching-engine/output-audit.ts).
//
//   const report = await runEngineFailoverDrill({ runDir: '/dev/shm/ims-main' });
//   process.stdout.write(formatFailoverDrillReport(report) + '\n');
//   process.exitCode = report.ok ? 0 : 1;
//
// Times are CLOCK_MONOTONIC on one machine: the drill's kill moment against the new hot's own
// records in its status file (engine-<x>.status): detected (it found the leader dead), claimed
// (epoch CAS done, old leader SIGKILLed), hot (caught up with the journal and publishing), and the
// first moment the journal status shows the new epoch (the sequencer journaled its first output).
// The killed instance is restarted by the supervisor (or by the caller); with waitForRestartMs the
// drill waits for it to come back as the warm.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LeaderLease } from '../../bus/leader-lease';
import { JournalStatusFile, statusPathForRing } from '../../bus/journal-status';
import { native } from '../../native/addon';
import type { EngineOptions } from '../matching-engine/engine';
import { engineLeasePath, engineStatusPath, readEngineInstanceStatus, type EngineInstanceStatus } from '../matching-engine/engine-status';
import { auditEngineOutputs, formatOutputAudit, type OutputAuditReport } from '../matching-engine/output-audit';

export interface FailoverDrillOptions {
  /** The instance's run directory (journal.ring, journal.status, engine.lease, engine-<x>.status). */
  runDir: string;
  /** The journal's segment directory; default: what the sequencer wrote in journal.status. */
  journalDir?: string;
  archiveDir?: string;
  /** The engine instances (default a and b). */
  instances?: readonly string[];
  /** How long to wait for a new hot before failing. Default 5,000 ms. */
  takeoverTimeoutMs?: number;
  /** How far (journal entries) the warm may lag before the kill; the drill waits up to 5 s for it. */
  maxWarmLagEntries?: number;
  /** Window over which the load is measured before the kill. Default 500 ms. */
  loadWindowMs?: number;
  /** Fails the drill when the journal grows slower than this before the kill (0 = any load). */
  minLoadPerSecond?: number;
  /** After the takeover, wait this long (the new hot publishes) before the audit. Default 300 ms. */
  settleMs?: number;
  /** Wait for the killed instance to be back as the warm (the supervisor restarts it); 0 = don't. */
  waitForRestartMs?: number;
  /** Run the journal audit (default true). */
  audit?: boolean;
  /** Must match the engines' options (their default self-trade policy). */
  engine?: EngineOptions;
}

export interface FailoverDrillReport {
  ok: boolean;
  problems: string[];
  killed: { instance: string; pid: number; epoch: number; lastAppliedSeq: number } | null;
  newHot: { instance: string; pid: number; epoch: number } | null;
  /** Journal entries per second over the window before the kill. */
  loadPerSecond: number;
  journalHeadAtKill: number;
  warmLagAtKill: number;
  /** From SIGKILL to the warm finding the leader dead. */
  detectionMs: number | null;
  /** From SIGKILL to the new epoch claimed. */
  claimMs: number | null;
  /** From SIGKILL to the new hot publishing (the takeover time). */
  takeoverMs: number | null;
  /** From SIGKILL to the journal showing the new epoch (its first output journaled). */
  firstJournaledMs: number | null;
  restarted: { pid: number; role: string; afterMs: number } | null;
  audit: OutputAuditReport | null;
}

const POLL_MS = 1;

function nowNs(clock: Float64Array): number {
  native.clockInto(clock, 0);
  return clock[0]!;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function readInstances(runDir: string, names: readonly string[]): EngineInstanceStatus[] {
  const out: EngineInstanceStatus[] = [];
  for (const name of names) {
    const s = readEngineInstanceStatus(engineStatusPath(runDir, name));
    if (s !== null) out.push(s);
  }
  return out;
}

/** Kills the hot engine under load, measures the takeover and audits the journal. */
export async function runEngineFailoverDrill(options: FailoverDrillOptions): Promise<FailoverDrillReport> {
  const names = options.instances ?? ['a', 'b'];
  const clock = new Float64Array(2);
  const report: FailoverDrillReport = {
    ok: false,
    problems: [],
    killed: null,
    newHot: null,
    loadPerSecond: 0,
    journalHeadAtKill: 0,
    warmLagAtKill: 0,
    detectionMs: null,
    claimMs: null,
    takeoverMs: null,
    firstJournaledMs: null,
    restarted: null,
    audit: null,
  };
  const fail = (text: string): FailoverDrillReport => {
    report.problems.push(text);
    report.ok = false;
    return report;
  };
  const journalStatus = JournalStatusFile.openIfExists(statusPathForRing(path.join(options.runDir, 'journal.ring')));
  if (journalStatus === null) return fail(`no journal status in ${options.runDir}: is the sequencer running there?`);
  if (!fs.existsSync(engineLeasePath(options.runDir))) return fail(`no engine lease in ${options.runDir}: are the engines running there?`);
  const lease = LeaderLease.open(engineLeasePath(options.runDir));

  // 1. A hot and a caught-up warm.
  const hot = readInstances(options.runDir, names).find((s) => s.alive && s.role === 'hot' && s.pid === lease.leaderPid && s.epoch === lease.epoch);
  if (hot === undefined) return fail(`no live hot engine holds the lease (epoch ${lease.epoch}, leader pid ${lease.leaderPid})`);
  const lagDeadline = Date.now() + 5_000;
  let warm: EngineInstanceStatus | undefined;
  for (;;) {
    const visible = journalStatus.snapshot().visibleSeq;
    warm = readInstances(options.runDir, names).find((s) => s.alive && s.role === 'warm');
    if (warm !== undefined) report.warmLagAtKill = Math.max(0, visible - warm.lastAppliedSeq);
    if (warm !== undefined && report.warmLagAtKill <= (options.maxWarmLagEntries ?? 50_000)) break;
    if (Date.now() > lagDeadline) {
      return fail(warm === undefined ? 'no live warm engine: a kill now would leave nobody to take over' : `the warm lags the journal by ${report.warmLagAtKill} entries`);
    }
    await sleep(20);
  }

  // 2. The load before the kill.
  const window = options.loadWindowMs ?? 500;
  const headBefore = journalStatus.snapshot().visibleSeq;
  await sleep(window);
  const headAfter = journalStatus.snapshot().visibleSeq;
  report.loadPerSecond = Math.round(((headAfter - headBefore) * 1000) / window);
  if (report.loadPerSecond < (options.minLoadPerSecond ?? 0)) return fail(`the journal grew ${report.loadPerSecond}/s, below the required ${options.minLoadPerSecond}/s: start a load first`);

  // 3. The kill. The hot must still be the one we looked at.
  const victim = readInstances(options.runDir, names).find((s) => s.instance === hot.instance)!;
  if (victim.pid !== lease.leaderPid || victim.role !== 'hot') return fail(`the hot changed while the drill prepared (now pid ${lease.leaderPid}); run it again`);
  report.killed = { instance: victim.instance, pid: victim.pid, epoch: victim.epoch, lastAppliedSeq: victim.lastAppliedSeq };
  report.journalHeadAtKill = journalStatus.snapshot().visibleSeq;
  const killedAtNs = nowNs(clock);
  try {
    process.kill(victim.pid, 'SIGKILL');
  } catch (e) {
    return fail(`could not kill pid ${victim.pid}: ${(e as Error).message}`);
  }

  // 4. The takeover: a new epoch, a new hot, its first output journaled.
  const deadlineNs = killedAtNs + (options.takeoverTimeoutMs ?? 5_000) * 1e6;
  let newHot: EngineInstanceStatus | undefined;
  while (nowNs(clock) < deadlineNs) {
    if (report.firstJournaledMs === null && journalStatus.snapshot().engineEpoch > victim.epoch) report.firstJournaledMs = (nowNs(clock) - killedAtNs) / 1e6;
    newHot = readInstances(options.runDir, names).find((s) => s.alive && s.role === 'hot' && s.epoch > victim.epoch && s.hotAtNs > killedAtNs);
    if (newHot !== undefined && report.firstJournaledMs !== null) break;
    await sleep(POLL_MS);
  }
  if (newHot === undefined) return fail(`no engine took over within ${options.takeoverTimeoutMs ?? 5_000} ms of the kill`);
  report.newHot = { instance: newHot.instance, pid: newHot.pid, epoch: newHot.epoch };
  report.detectionMs = newHot.detectedAtNs > killedAtNs ? (newHot.detectedAtNs - killedAtNs) / 1e6 : null;
  report.claimMs = newHot.claimedAtNs > killedAtNs ? (newHot.claimedAtNs - killedAtNs) / 1e6 : null;
  report.takeoverMs = (newHot.hotAtNs - killedAtNs) / 1e6;
  if (report.firstJournaledMs === null) report.problems.push(`the journal did not show epoch ${newHot.epoch} within the takeover timeout (no output journaled: is there load?)`);

  // 5. The killed instance back as the warm (when a supervisor restarts it).
  const restartWait = options.waitForRestartMs ?? 0;
  if (restartWait > 0) {
    const until = Date.now() + restartWait;
    while (Date.now() < until) {
      const back = readInstances(options.runDir, names).find((s) => s.instance === victim.instance && s.alive && s.pid !== victim.pid && s.role === 'warm');
      if (back !== undefined) {
        report.restarted = { pid: back.pid, role: back.role, afterMs: (back.startedAtNs - killedAtNs) / 1e6 };
        break;
      }
      await sleep(10);
    }
    if (report.restarted === null) report.problems.push(`engine-${victim.instance} was not back as the warm within ${restartWait} ms`);
  }

  // 6. The audit of everything journaled so far.
  await sleep(options.settleMs ?? 300);
  if (options.audit ?? true) {
    const snap = journalStatus.snapshot();
    const journalDir = options.journalDir ?? snap.dataDir;
    if (journalDir === '') {
      report.problems.push('the journal status names no data directory; pass journalDir');
    } else {
      report.audit = auditEngineOutputs({ journalDir, archiveDir: options.archiveDir ?? (snap.archiveDir === '' ? undefined : snap.archiveDir), toSeq: snap.visibleSeq, engine: options.engine });
      if (!report.audit.ok) report.problems.push(`the journal's engine output stream differs from a clean replay: ${report.audit.problems.slice(0, 3).join('; ')}`);
      const epochs = report.audit.epochs.map((e) => e.epoch);
      if (!epochs.includes(newHot.epoch)) report.problems.push(`no output of the new epoch ${newHot.epoch} is in the journal`);
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** The report as a few readable lines. */
export function formatFailoverDrillReport(r: FailoverDrillReport): string {
  const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} ms`);
  const lines = [`engine failover drill: ${r.ok ? 'PASSED' : 'FAILED'}`];
  if (r.killed !== null) {
    lines.push(`  killed     engine-${r.killed.instance} pid ${r.killed.pid} (hot, epoch ${r.killed.epoch}) at journal seq ${r.journalHeadAtKill}, load ${r.loadPerSecond} entries/s, warm lag ${r.warmLagAtKill}`);
  }
  if (r.newHot !== null) lines.push(`  new hot    engine-${r.newHot.instance} pid ${r.newHot.pid}, epoch ${r.newHot.epoch}`);
  lines.push(`  detection ${ms(r.detectionMs)}, epoch claimed ${ms(r.claimMs)}, publishing (takeover) ${ms(r.takeoverMs)}, first output journaled ${ms(r.firstJournaledMs)}`);
  if (r.restarted !== null) lines.push(`  restarted  pid ${r.restarted.pid} as ${r.restarted.role}, ${r.restarted.afterMs.toFixed(0)} ms after the kill`);
  if (r.audit !== null) lines.push(`  audit      ${formatOutputAudit(r.audit)}`);
  for (const p of r.problems) lines.push(`  PROBLEM    ${p}`);
  return lines.join('\n');
}
