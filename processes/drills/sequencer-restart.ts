// The sequencer restart drill behind `ims drill sequencer-restart`: against a live, supervised
// system under a steady order load (drill-load.ts: colleagues placing crossing orders over REST,
// each with a clientOrderId), SIGKILL the sequencer. The supervisor notices the exit and starts it
// again; it recovers the journal from its segment files (processes/sequencer/README.md, Recovery),
// republishes what the ring missed, takes the inputs it had not acknowledged from its input rings
// (skipping the ones it had journaled, by sourceSeq), and trading goes on.
//
// While it is down, orders are forwarded by the product manager but not journaled, so nobody
// answers them: the gateway answers 503 after its reply bound, and the client sends them again
// with the same clientOrderId — the product manager then answers with the order the first attempt
// created (when it made it to the journal) or creates it once. The drill measures:
//
//   detection    SIGKILL → the supervisor has seen the exit (its supervisor.json says so)
//   restart      SIGKILL → a new sequencer process runs
//   recovered    SIGKILL → the new sequencer has recovered the journal and runs (journal.status)
//
// (detection, restart and recovery are seen by polling files every 2 ms, so on a starved machine
// they can be seen late — even after the RTO, which is stamped when the acknowledgement arrives.)
//   journaling   SIGKILL → the first new entry is visible in the journal
//   RTO          SIGKILL → the first acknowledgement of an order created after the kill
//
// then stops the load, lets every order get a final answer (retrying 503s and failures) and audits
// (drill-audit.ts): every acknowledged order journaled exactly once under its id, the engines' and
// the hot product manager's state hashes equal a clean replay, cash and stock conserved.
//
//   const report = await runSequencerRestartDrill({ runDir: '/dev/shm/ims-main', gatewayUrl: 'http://127.0.0.1:8080' });
//   process.stdout.write(formatSequencerRestartReport(report) + '\n');

import { JournalStatusFile, statusPathForRing, type JournalStatusSnapshot } from '../../bus/journal-status';
import { defaultJournalRing } from '../product-manager/pm-paths';
import { pidAlive, readRunState, type ProcessState } from '../supervisor/run-state';
import { auditLiveSystem, formatSystemAudit, type SystemAudit } from './drill-audit';
import { nowMs, OrderLoad, sleep, type ClientOrder, type LoadStats, type OrderLoadOptions } from './drill-load';

export interface SequencerRestartDrillOptions {
  /** The instance's run directory (supervisor.json, journal.status, …). */
  readonly runDir: string;
  /** The gateway's trading listener, e.g. http://127.0.0.1:8080. */
  readonly gatewayUrl: string;
  readonly journalDir?: string;
  readonly archiveDir?: string;
  /** The load: rate, colleagues, product (drill-load.ts defaults: 200 orders/s, the demo colleagues). */
  readonly load?: Omit<OrderLoadOptions, 'gatewayUrl'>;
  /** Load before the kill. Default 3,000 ms. */
  readonly loadBeforeKillMs?: number;
  /** Load after orders are acknowledged again. Default 3,000 ms. */
  readonly loadAfterRecoveryMs?: number;
  /** How long the sequencer may take to be back and orders acknowledged again. Default 30,000 ms. */
  readonly recoveryTimeoutMs?: number;
  /** How long every order may take to get its final answer after the load stops. Default 20,000 ms. */
  readonly settleTimeoutMs?: number;
  /** The drill refuses to kill unless the load got this many orders acknowledged first. Default 20. */
  readonly minAcknowledgedBeforeKill?: number;
}

export interface SequencerRestartReport {
  drill: 'sequencer-restart';
  ok: boolean;
  problems: string[];
  killed: { pid: number; generation: number; headSeq: number; visibleSeq: number } | null;
  restarted: { pid: number; generation: number; headSeqAtRecovery: number } | null;
  /** Orders acknowledged per second over the second before the kill. */
  acknowledgedPerSecondBeforeKill: number;
  /** Requests in flight (sent, unanswered) when the sequencer was killed. */
  inFlightAtKill: number;
  detectionMs: number | null;
  restartMs: number | null;
  recoveredMs: number | null;
  firstJournaledMs: number | null;
  /** Kill → the first acknowledgement of an order created after the kill. */
  rtoMs: number | null;
  /** Client orders sent while the exchange could not answer (created in [kill, kill + RTO)), and how each ended. */
  outage: OutageOrders | null;
  load: LoadStats | null;
  audit: SystemAudit | null;
}

export interface OutageOrders {
  /** Orders in flight at the kill or created before orders were acknowledged again. */
  orders: number;
  /** Acknowledged by their first attempt, late (after the recovery). */
  acknowledgedLate: number;
  /** Answered 503 or failed at least once, then acknowledged by a retry with the same clientOrderId. */
  acknowledgedAfterRetry: number;
  rejected: number;
  /** Still without a final answer at the end (each a problem). */
  unanswered: number;
  /** 503 answers these orders got in all (the explicit "not now" of the gateway). */
  unavailableAnswers: number;
  networkErrors: number;
}

/** How the orders caught by an outage [fromMs, toMs) ended. */
export function outageOrders(orders: readonly ClientOrder[], fromMs: number, toMs: number): OutageOrders {
  const out: OutageOrders = { orders: 0, acknowledgedLate: 0, acknowledgedAfterRetry: 0, rejected: 0, unanswered: 0, unavailableAnswers: 0, networkErrors: 0 };
  for (const o of orders) {
    const caught = (o.createdAtMs >= fromMs && o.createdAtMs < toMs) || (o.createdAtMs < fromMs && (o.outcome === 'pending' || o.answeredAtMs >= fromMs));
    if (!caught) continue;
    out.orders++;
    out.unavailableAnswers += o.unavailableAnswers;
    out.networkErrors += o.networkErrors;
    if (o.outcome === 'pending') out.unanswered++;
    else if (o.outcome === 'rejected') out.rejected++;
    else if (o.unavailableAnswers + o.networkErrors > 0) out.acknowledgedAfterRetry++;
    else out.acknowledgedLate++;
  }
  return out;
}

const POLL_MS = 2;

function sequencerOf(runDir: string): ProcessState | null {
  return readRunState(runDir)?.processes.find((p) => p.name === 'sequencer') ?? null;
}

/** Kills the sequencer of a live system under load, times its return and audits everything. */
export async function runSequencerRestartDrill(options: SequencerRestartDrillOptions): Promise<SequencerRestartReport> {
  let killedAt = 0;
  const report: SequencerRestartReport = {
    drill: 'sequencer-restart',
    ok: false,
    problems: [],
    killed: null,
    restarted: null,
    acknowledgedPerSecondBeforeKill: 0,
    inFlightAtKill: 0,
    detectionMs: null,
    restartMs: null,
    recoveredMs: null,
    firstJournaledMs: null,
    rtoMs: null,
    outage: null,
    load: null,
    audit: null,
  };
  const fail = (text: string): SequencerRestartReport => {
    report.problems.push(text);
    report.ok = false;
    return report;
  };
  const state = readRunState(options.runDir);
  if (state === null || !pidAlive(state.supervisorPid)) return fail(`no live supervisor in ${options.runDir}: the drill needs one to restart the sequencer (start the instance with 'ims start')`);
  const status = JournalStatusFile.openIfExists(statusPathForRing(defaultJournalRing(options.runDir)));
  if (status === null) return fail(`no journal status in ${options.runDir}: is the sequencer running there?`);

  const load = await OrderLoad.connect({ ...options.load, gatewayUrl: options.gatewayUrl });
  load.start();
  try {
    // 1. Steady load, orders acknowledged.
    await sleep(options.loadBeforeKillMs ?? 3_000);
    const t = nowMs();
    report.acknowledgedPerSecondBeforeKill = load.acknowledgedBetween(t - 1_000, t);
    const acknowledged = load.stats().acknowledged;
    if (acknowledged < (options.minAcknowledgedBeforeKill ?? 20)) {
      return fail(`only ${acknowledged} orders were acknowledged before the kill (at least ${options.minAcknowledgedBeforeKill ?? 20} needed): is the exchange trading? (${JSON.stringify(load.stats().rejectedByReason)})`);
    }

    // 2. The kill: the sequencer the supervisor runs must be the one writing the journal.
    const victim = sequencerOf(options.runDir);
    const before: JournalStatusSnapshot = status.snapshot();
    if (victim === null || !pidAlive(victim.pid)) return fail('the supervisor runs no live sequencer');
    if (before.pid !== victim.pid || before.state !== 'running') return fail(`the journal status names sequencer pid ${before.pid} (${before.state}), the supervisor pid ${victim.pid}: wait until it runs, then try again`);
    report.inFlightAtKill = load.orders.reduce((n, o) => n + (o.inFlight ? 1 : 0), 0);
    killedAt = nowMs();
    try {
      process.kill(victim.pid, 'SIGKILL');
    } catch (e) {
      return fail(`could not kill the sequencer (pid ${victim.pid}): ${(e as Error).message}`);
    }
    const atKill = status.snapshot();
    report.killed = { pid: victim.pid, generation: atKill.generation, headSeq: atKill.headSeq, visibleSeq: atKill.visibleSeq };

    // 3. Detection, restart, recovery, journaling again, orders acknowledged again.
    const deadline = killedAt + (options.recoveryTimeoutMs ?? 30_000);
    while (nowMs() < deadline) {
      const now = nowMs();
      const s = sequencerOf(options.runDir);
      if (report.detectionMs === null && s !== null && (s.status !== 'running' || s.pid !== victim.pid)) report.detectionMs = now - killedAt;
      if (report.restartMs === null && s !== null && s.pid !== victim.pid && s.status === 'running') report.restartMs = now - killedAt;
      const j = status.snapshot();
      if (report.recoveredMs === null && j.pid !== victim.pid && j.generation > atKill.generation && j.state === 'running') {
        report.recoveredMs = now - killedAt;
        report.restarted = { pid: j.pid, generation: j.generation, headSeqAtRecovery: j.headSeq };
      }
      if (report.firstJournaledMs === null && j.pid !== victim.pid && j.visibleSeq > atKill.visibleSeq) report.firstJournaledMs = now - killedAt;
      const first = load.firstAcknowledgedCreatedAfter(killedAt);
      if (report.rtoMs === null && first !== null) report.rtoMs = first.answeredAtMs - killedAt;
      if (report.recoveredMs !== null && report.rtoMs !== null) break;
      await sleep(POLL_MS);
    }
    if (report.detectionMs === null) report.problems.push(`the supervisor did not notice the sequencer's exit within ${options.recoveryTimeoutMs ?? 30_000} ms`);
    if (report.recoveredMs === null) report.problems.push(`no new sequencer recovered the journal within ${options.recoveryTimeoutMs ?? 30_000} ms of the kill`);
    else if (report.restarted!.headSeqAtRecovery < atKill.visibleSeq) {
      report.problems.push(`the restarted sequencer recovered the journal to seq ${report.restarted!.headSeqAtRecovery}, but ${atKill.visibleSeq} had been made visible before the kill: acknowledged entries were lost`);
    }
    if (report.rtoMs === null) report.problems.push(`no order created after the kill was acknowledged within ${options.recoveryTimeoutMs ?? 30_000} ms`);

    // 4. Trading goes on; then every order gets its final answer.
    await sleep(options.loadAfterRecoveryMs ?? 3_000);
  } finally {
    await load.stop();
  }
  const pending = await load.settle(options.settleTimeoutMs ?? 20_000);
  report.load = load.stats();
  if (report.killed !== null) report.outage = outageOrders(load.orders, killedAt, killedAt + (report.rtoMs ?? Number.POSITIVE_INFINITY));
  if (pending > 0) report.problems.push(`${pending} orders had no final answer ${options.settleTimeoutMs ?? 20_000} ms after the load stopped`);
  if (report.load.serverErrors > 0) report.problems.push(`the gateway answered ${report.load.serverErrors} requests with a 5xx other than 503 (a bug: see its log)`);

  // 5. The audit.
  try {
    report.audit = await auditLiveSystem({ runDir: options.runDir, journalDir: options.journalDir, archiveDir: options.archiveDir, orders: load.orders });
    for (const p of report.audit.problems) report.problems.push(`audit: ${p}`);
  } catch (e) {
    report.problems.push(`the audit could not run: ${(e as Error).message}`);
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** The report as a few readable lines. */
export function formatSequencerRestartReport(r: SequencerRestartReport): string {
  const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} ms`);
  const lines = [`sequencer restart drill: ${r.ok ? 'PASSED' : 'FAILED'}`];
  if (r.killed !== null) lines.push(`  killed     sequencer pid ${r.killed.pid} (generation ${r.killed.generation}) at journal seq ${r.killed.visibleSeq}, ${r.acknowledgedPerSecondBeforeKill} orders/s acknowledged, ${r.inFlightAtKill} requests in flight`);
  if (r.restarted !== null) lines.push(`  restarted  sequencer pid ${r.restarted.pid} (generation ${r.restarted.generation}), journal recovered to seq ${r.restarted.headSeqAtRecovery}`);
  lines.push(`  detection ${ms(r.detectionMs)}, new process ${ms(r.restartMs)}, journal recovered ${ms(r.recoveredMs)}, journaling again ${ms(r.firstJournaledMs)}, RTO (orders acknowledged again) ${ms(r.rtoMs)}`);
  if (r.outage !== null) {
    const o = r.outage;
    lines.push(`  outage     ${o.orders} orders caught by it: ${o.acknowledgedLate} acknowledged late by their first attempt, ${o.acknowledgedAfterRetry} acknowledged by a retry after ${o.unavailableAnswers} x 503 and ${o.networkErrors} failed requests, ${o.rejected} rejected, ${o.unanswered} never answered`);
  }
  if (r.load !== null) {
    const l = r.load;
    const reasons = Object.entries(l.rejectedByReason).map(([k, v]) => `${k} x${v}`).join(', ');
    lines.push(`  load       ${l.clientOrders} client orders, ${l.requests} requests (${l.retries} retries), ${l.acknowledged} acknowledged, ${l.rejected} rejected${reasons === '' ? '' : ` (${reasons})`}, ${l.pending} without an answer; ${l.unavailableAnswers} x 503, ${l.networkErrors} failed requests, ${l.rateLimited} x 429`);
  }
  if (r.audit !== null) lines.push(...formatSystemAudit(r.audit));
  for (const p of r.problems) lines.push(`  PROBLEM    ${p}`);
  return lines.join('\n');
}
