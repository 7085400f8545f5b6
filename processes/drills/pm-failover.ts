// The product-manager failover drill: kill -9 the hot product manager, measure how long its standby
// takes to notice, claim the next epoch and serve, then audit the journal
// (processes/product-manager/pm-journal-audit.ts) and compare the new leader's state hash with a
// fresh replay of the journal.
//
// Two ways to run it:
//
//   runPmFailoverDrill({ runDir })            against a live system (the supervisor restarts the
//                                             killed instance; waitForRestartMs waits for it to be
//                                             back as the standby). Gateways and clients are the
//                                             real ones, so the drill audits the journal only.
//   runScratchPmFailoverDrill({ ... })        builds a throwaway exchange (drill-exchange.ts: a real
//                                             sequencer and product-manager pair, the engine library,
//                                             ring-level gateways), drives orders through the
//                                             gateway rings, kills the hot under that load, retries
//                                             every unanswered request with its clientOrderId as a
//                                             client would after a 503, and audits every request:
//                                             each acknowledged one is journaled exactly once, none
//                                             twice.
//
//   node dist/processes/drills/pm-failover.js --run-dir /dev/shm/ims-main [--wait-for-restart-ms 5000]
//   node dist/processes/drills/pm-failover.js --scratch [--orders-per-second 2000] [--gateways 2] [--json]
//
// Times are CLOCK_MONOTONIC on one machine: the drill's kill moment against the new leader's own
// records in its status file (detectedAtNs, claimedAtNs, hotAtNs).

import { Command, InvalidArgumentError } from 'commander';
import * as path from 'node:path';
import { JournalStatusFile, statusPathForRing } from '../../bus/journal-status';
import { REJECT_REASON_NAMES, RejectReason, RiskRuleKind, Side } from '../../bus/enums';
import { OrderStatus } from '../../bus/schema';
import { native } from '../../native/addon';
import { sleep, ScratchExchange, type DrillAccount } from '../product-manager/drill-exchange';
import { freshPmHash as freshHash } from './drill-audit';
import type { SentRequest } from '../product-manager/drill-gateway';
import { auditProductManagerJournal, requestKey, type PmJournalAudit } from '../product-manager/pm-journal-audit';
import { readPmStatus, type PmInstanceStatus } from '../product-manager/pm-status';
import { defaultJournalRing } from '../product-manager/pm-paths';

export interface PmFailoverDrillOptions {
  /** The instance's run directory (journal.ring, journal.status, pm.lease, pm-<x>.status). */
  readonly runDir: string;
  /** The journal's segment directory; default: what the sequencer wrote in journal.status. */
  readonly journalDir?: string;
  readonly archiveDir?: string;
  /** How long to wait for a new leader before failing. Default 5,000 ms. */
  readonly takeoverTimeoutMs?: number;
  /** Wait for the killed instance to be back as the standby (the supervisor restarts it); 0 = don't. */
  readonly waitForRestartMs?: number;
  /** After the takeover, wait this long before the audit. Default 300 ms. */
  readonly settleMs?: number;
  /** Run the journal audit and the state-hash comparison (default true). */
  readonly audit?: boolean;
  /** How long to wait for a hot and a warm instance before the kill. Default 5,000 ms. */
  readonly standbyWaitMs?: number;
  /** Kills a pid (default process.kill). The scratch drill kills through its child handle. */
  readonly kill?: (pid: number) => Promise<void>;
}

export interface PmFailoverDrillReport {
  ok: boolean;
  problems: string[];
  killed: { instance: string; pid: number; epoch: number; lastSeq: number } | null;
  newLeader: { instance: string; pid: number; epoch: number } | null;
  /** New orders per second the hot forwarded just before the kill (its status file). */
  ordersPerSecondAtKill: number;
  journalSeqAtKill: number;
  /** From SIGKILL to the standby finding the leader dead. */
  detectionMs: number | null;
  /** From SIGKILL to the new epoch claimed. */
  claimMs: number | null;
  /** From SIGKILL to the new leader serving the gateways (the takeover time). */
  takeoverMs: number | null;
  /** The new leader's own account of its takeover (claim → serving). */
  leaderTakeoverMs: number | null;
  restarted: { pid: number; role: string; afterMs: number } | null;
  /** The new leader's published state hash against a fresh replay of the journal to the same seq. */
  stateHash: { seq: number; live: string; replay: string | null; match: boolean } | null;
  audit: PmJournalAudit | null;
}

function monotonicNs(clock: Float64Array): number {
  native.clockInto(clock, 0);
  return clock[0]!;
}

function emptyReport(): PmFailoverDrillReport {
  return {
    ok: false,
    problems: [],
    killed: null,
    newLeader: null,
    ordersPerSecondAtKill: 0,
    journalSeqAtKill: 0,
    detectionMs: null,
    claimMs: null,
    takeoverMs: null,
    leaderTakeoverMs: null,
    restarted: null,
    stateHash: null,
    audit: null,
  };
}

/** Kills the hot product manager of a live system and measures and audits the takeover. */
export async function runPmFailoverDrill(options: PmFailoverDrillOptions): Promise<PmFailoverDrillReport> {
  const report = emptyReport();
  const clock = new Float64Array(2);
  const fail = (text: string): PmFailoverDrillReport => {
    report.problems.push(text);
    report.ok = false;
    return report;
  };
  const journalStatus = JournalStatusFile.openIfExists(statusPathForRing(defaultJournalRing(options.runDir)));
  if (journalStatus === null) return fail(`no journal status in ${options.runDir}: is the sequencer running there?`);

  // 1. A hot leader and a standby (waiting a little: one may just be restarting).
  const readyBy = Date.now() + (options.standbyWaitMs ?? 5_000);
  let hot: PmInstanceStatus | undefined;
  let standby: PmInstanceStatus | undefined;
  for (;;) {
    const before = readPmStatus(options.runDir);
    hot = before.instances.find((s) => s.alive && s.role === 'hot' && before.lease !== null && s.pid === before.lease.leaderPid);
    standby = before.instances.find((s) => s.alive && s.role === 'warm');
    if (hot !== undefined && standby !== undefined) break;
    if (Date.now() > readyBy) {
      return fail(hot === undefined ? `no live hot product manager holds the lease (${JSON.stringify(before.lease)})` : 'no live warm product manager: a kill now would leave nobody to take over');
    }
    await sleep(10);
  }
  report.killed = { instance: hot.instance, pid: hot.pid, epoch: hot.epoch, lastSeq: hot.lastSeq };
  report.ordersPerSecondAtKill = hot.ordersPerSecond;
  report.journalSeqAtKill = journalStatus.snapshot().visibleSeq;

  // 2. The kill.
  const killedAtNs = monotonicNs(clock);
  try {
    if (options.kill !== undefined) await options.kill(hot.pid);
    else process.kill(hot.pid, 'SIGKILL');
  } catch (e) {
    return fail(`could not kill pid ${hot.pid}: ${(e as Error).message}`);
  }

  // 3. The takeover: a new epoch, a new hot.
  const deadlineNs = killedAtNs + (options.takeoverTimeoutMs ?? 5_000) * 1e6;
  let leader: PmInstanceStatus | undefined;
  while (monotonicNs(clock) < deadlineNs) {
    leader = readPmStatus(options.runDir).instances.find((s) => s.alive && s.role === 'hot' && s.epoch > hot.epoch && s.hotAtNs > killedAtNs);
    if (leader !== undefined) break;
    await sleep(1);
  }
  if (leader === undefined) return fail(`no product manager took over within ${options.takeoverTimeoutMs ?? 5_000} ms of the kill`);
  report.newLeader = { instance: leader.instance, pid: leader.pid, epoch: leader.epoch };
  report.detectionMs = leader.detectedAtNs > killedAtNs ? (leader.detectedAtNs - killedAtNs) / 1e6 : 0;
  report.claimMs = (leader.claimedAtNs - killedAtNs) / 1e6;
  report.takeoverMs = (leader.hotAtNs - killedAtNs) / 1e6;
  report.leaderTakeoverMs = leader.lastTakeoverMs;

  // 4. The killed instance back as the standby (when a supervisor restarts it).
  const restartWait = options.waitForRestartMs ?? 0;
  if (restartWait > 0) {
    const until = Date.now() + restartWait;
    while (Date.now() < until) {
      const back = readPmStatus(options.runDir).instances.find((s) => s.instance === hot.instance && s.alive && s.pid !== hot.pid && s.role === 'warm');
      if (back !== undefined) {
        report.restarted = { pid: back.pid, role: back.role, afterMs: (monotonicNs(clock) - killedAtNs) / 1e6 };
        break;
      }
      await sleep(10);
    }
    if (report.restarted === null) report.problems.push(`pm-${hot.instance} was not back as the standby within ${restartWait} ms`);
  }

  // 5. The audit: the journal, and the new leader's state hash against a replay.
  await sleep(options.settleMs ?? 300);
  if (options.audit ?? true) {
    const snap = journalStatus.snapshot();
    const journalDir = options.journalDir ?? snap.dataDir;
    if (journalDir === '') return fail('the journal status names no data directory; pass journalDir');
    const published = await freshHash(options.runDir, leader.instance, leader.pid);
    if (published === null) {
      report.problems.push(`pm-${leader.instance} published no state hash after the takeover`);
    }
    report.audit = auditProductManagerJournal({
      journalDir,
      archiveDir: options.archiveDir ?? (snap.archiveDir === '' ? undefined : snap.archiveDir),
      hashAtSeq: published?.hashSeq,
    });
    for (const p of report.audit.problems) report.problems.push(`journal audit: ${p}`);
    if (published !== null) {
      const replay = report.audit.hashAtSeq?.stateHash ?? null;
      report.stateHash = { seq: published.hashSeq, live: published.stateHash, replay, match: replay === published.stateHash };
      if (!report.stateHash.match) report.problems.push(`the new leader's state hash ${published.stateHash} at seq ${published.hashSeq} differs from a replay of the journal (${replay})`);
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}

// ---------------------------------------------------------------------------------------------
// The scratch drill: its own exchange, its own load, an audit of every request.

export interface ScratchPmFailoverDrillOptions {
  readonly gateways?: number;
  /** New orders per second over all gateways. Default 2,000. */
  readonly ordersPerSecond?: number;
  /** Load before the kill. Default 1,000 ms. */
  readonly loadBeforeKillMs?: number;
  /** Load after the kill. Default 1,000 ms. */
  readonly loadAfterKillMs?: number;
  /** A request unanswered this long is sent again with its clientOrderId (a client after a 503). Default 500 ms. */
  readonly retryAfterMs?: number;
  readonly leaseTimeoutMs?: number;
  /** Restart the killed instance and check it comes back as the standby with the same state. Default true. */
  readonly restartKilled?: boolean;
  readonly runDir?: string;
  readonly dataDir?: string;
  readonly durability?: 'fsync' | 'async';
}

export interface RequestAudit {
  /** Distinct client orders (clientOrderIds) the load placed. */
  clientOrders: number;
  /** Requests written to gateway rings (retries included). */
  sent: number;
  retried: number;
  /** Client orders acknowledged with an order id. */
  acknowledged: number;
  /** Client orders rejected before sequencing (answered, nothing journaled). */
  rejected: number;
  /** Client orders with no answer at the end (each a problem). */
  unanswered: number;
  /** Answers that were the original order of a resubmitted clientOrderId. */
  answeredAsDuplicate: number;
  /** Longest time a client order waited for its answer. */
  maxAnswerMs: number;
  /** Rejections by reason name (a risk limit reached under a burst is a correct answer, not a problem). */
  rejectedByReason: Record<string, number>;
}

export interface ScratchPmFailoverDrillReport extends PmFailoverDrillReport {
  requests: RequestAudit;
  /** Takeovers that happened before the drill's kill (a leader that stalled past its lease on a loaded machine). */
  takeoversBeforeKill: number;
}

/** Leaders the exchange has had so far, minus the first: takeovers that already happened. */
function leaderTakeovers(ex: ScratchExchange): number {
  return ex.pmHistory.reduce((n, p) => n + p.process.lines.filter((l) => l.event === 'pm-hot').length, 0) - 1;
}

interface ClientOrder {
  readonly clientOrderId: string;
  readonly gatewayId: number;
  readonly accountId: number;
  readonly side: number;
  readonly firstSentMs: number;
  attempts: SentRequest[];
}

const DRILL_PRODUCT = 1;
const DRILL_PRICE = 100;

export async function runScratchPmFailoverDrill(options: ScratchPmFailoverDrillOptions = {}): Promise<ScratchPmFailoverDrillReport> {
  const gateways = options.gateways ?? 2;
  const accounts: DrillAccount[] = [];
  for (let g = 1; g <= gateways; g++) {
    accounts.push({ accountId: 100 + 2 * g - 1, outletId: 2 * g - 1, cash: 1e12, units: 1e8 });
    accounts.push({ accountId: 100 + 2 * g, outletId: 2 * g, cash: 1e12, units: 1e8 });
  }
  const ex = await ScratchExchange.start({
    label: 'pmdrill',
    runDir: options.runDir,
    dataDir: options.dataDir,
    gateways,
    products: [{ productId: DRILL_PRODUCT, brandId: 1, tickSize: 1, lotSize: 1, referencePrice: DRILL_PRICE, symbol: 'DRILL-1' }],
    accounts,
    // Orders stay open until the engine's outputs are journaled; under a burst the default limit of
    // open orders per account would turn the drill into a test of that limit.
    riskRules: [[RiskRuleKind.MAX_OPEN_ORDERS, 10_000_000, 0, 0]],
    leaseTimeoutMs: options.leaseTimeoutMs,
    durability: options.durability,
    hashIntervalMs: 200,
    // Like the supervisor: a product manager that exits is started again, and comes back as the warm.
    supervise: options.restartKilled ?? true,
  });
  const requests: RequestAudit = { clientOrders: 0, sent: 0, retried: 0, acknowledged: 0, rejected: 0, unanswered: 0, answeredAsDuplicate: 0, maxAnswerMs: 0, rejectedByReason: {} };
  const orders: ClientOrder[] = [];
  try {
    const rate = options.ordersPerSecond ?? 2_000;
    const retryAfterMs = options.retryAfterMs ?? 500;
    let stopLoad = false;
    let n = 0;
    const send = (o: ClientOrder): void => {
      const r = ex.gateway(o.gatewayId).placeOrder({ accountId: o.accountId, productId: DRILL_PRODUCT, side: o.side, price: DRILL_PRICE, quantity: 1, clientOrderId: o.clientOrderId });
      if (r !== null) {
        o.attempts.push(r);
        requests.sent++;
      }
    };
    const answered = (o: ClientOrder): boolean => o.attempts.some((a) => a.answer !== null);
    // Client orders not answered yet: the retry scan looks at these only.
    const waiting = new Set<ClientOrder>();
    const retryDue = (now: number): void => {
      for (const o of waiting) {
        if (answered(o)) {
          waiting.delete(o);
          continue;
        }
        const last = o.attempts[o.attempts.length - 1];
        if (last === undefined || now - last.sentAtMs > retryAfterMs) {
          if (last !== undefined) requests.retried++;
          send(o);
        }
      }
    };
    const load = (async () => {
      const started = Date.now();
      while (!stopLoad) {
        const due = Math.floor(((Date.now() - started) * rate) / 1000);
        while (n < due) {
          const gatewayId = 1 + (n % gateways);
          // Alternate sides across accounts of different gateways, so orders fill each other and
          // fills of resting orders go to another gateway than the taker's.
          const side = Math.floor(n / gateways) % 2 === 0 ? Side.OUTFLOW : Side.INFLOW;
          const accountId = 100 + 2 * gatewayId - (side === Side.OUTFLOW ? 1 : 0);
          const o: ClientOrder = { clientOrderId: `drill-${n}`, gatewayId, accountId, side, firstSentMs: Date.now(), attempts: [] };
          orders.push(o);
          waiting.add(o);
          send(o);
          n++;
        }
        retryDue(Date.now());
        await sleep(2);
      }
    })();

    await sleep(options.loadBeforeKillMs ?? 1_000);
    const takeoversBefore = leaderTakeovers(ex);
    const base = await runPmFailoverDrill({
      runDir: ex.runDir,
      journalDir: path.join(ex.dataDir, 'journal'),
      audit: false,
      kill: async (pid) => {
        const child = ex.pmHistory.find((p) => p.process.pid === pid);
        if (child === undefined) throw new Error(`pid ${pid} is not one of the drill's product managers`);
        await child.process.kill('SIGKILL');
      },
      waitForRestartMs: (options.restartKilled ?? true) ? 10_000 : 0,
    });
    const report: ScratchPmFailoverDrillReport = { ...base, requests, takeoversBeforeKill: takeoversBefore };
    await sleep(options.loadAfterKillMs ?? 1_000);
    stopLoad = true;
    await load;
    // Every client order answered (retries keep going until the deadline).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && waiting.size > 0) {
      retryDue(Date.now());
      await sleep(5);
    }
    await ex.settle();

    // The request audit against the journal.
    const live = ex.hot();
    if (live === null) {
      report.problems.push('no hot product manager at the end of the drill');
    }
    const published = live === null ? null : await freshHash(ex.runDir, live.instance, live.pid);
    const audit = auditProductManagerJournal({ journalDir: path.join(ex.dataDir, 'journal'), hashAtSeq: published?.hashSeq });
    report.audit = audit;
    for (const p of audit.problems) report.problems.push(`journal audit: ${p}`);
    if (published !== null) {
      const replay = audit.hashAtSeq?.stateHash ?? null;
      report.stateHash = { seq: published.hashSeq, live: published.stateHash, replay, match: replay === published.stateHash };
      if (!report.stateHash.match) report.problems.push(`the leader's state hash ${published.stateHash} at seq ${published.hashSeq} differs from a replay (${replay})`);
    } else {
      report.problems.push('the leader published no state hash');
    }
    auditRequests(orders, audit, requests, report.problems);

    if (report.restarted !== null && base.killed !== null) {
      // The restarted instance, caught up on a quiet journal, must hold the state the replay holds.
      const instance = base.killed.instance;
      await ex.waitFor(() => readPmStatus(ex.runDir).instances.some((s) => s.instance === instance && s.alive && s.lastSeq >= audit.lastSeq), 10_000, `pm-${instance} caught up`).catch((e: Error) => {
        report.problems.push(e.message.split('\n')[0]!);
      });
      const back = readPmStatus(ex.runDir).instances.find((s) => s.instance === instance && s.alive);
      const hash = back === undefined ? null : await freshHash(ex.runDir, instance, back.pid);
      if (hash === null) report.problems.push(`the restarted pm-${instance} published no state hash`);
      else if (hash.hashSeq === audit.lastSeq && hash.stateHash !== audit.finalStateHash) {
        report.problems.push(`the restarted pm-${instance}'s state hash ${hash.stateHash} differs from a replay (${audit.finalStateHash}) at seq ${hash.hashSeq}`);
      }
    }
    report.ok = report.problems.length === 0;
    return report;
  } finally {
    await ex.close();
  }
}

/**
 * Every client order: answered; if acknowledged with an order id, journaled exactly once (by its
 * clientOrderId, whichever attempt got it there); if rejected before sequencing, not journaled.
 */
function auditRequests(orders: readonly ClientOrder[], audit: PmJournalAudit, out: RequestAudit, problems: string[]): void {
  const listed = (text: string): void => {
    if (problems.length < 40) problems.push(text);
  };
  out.clientOrders = orders.length;
  for (const o of orders) {
    const answers = o.attempts.filter((a) => a.answer !== null).map((a) => a.answer!);
    if (answers.length === 0) {
      out.unanswered++;
      listed(`client order ${o.clientOrderId} was never answered (${o.attempts.length} attempts)`);
      continue;
    }
    const waitedMs = Math.min(...o.attempts.filter((a) => a.answer !== null).map((a) => a.answeredAtMs)) - o.firstSentMs;
    if (waitedMs > out.maxAnswerMs) out.maxAnswerMs = waitedMs;
    const journaled = audit.ordersByClientOrderId.get(`${o.accountId}/${o.clientOrderId}`);
    const acknowledged = answers.filter((r) => r.orderId > 0 && r.eventSeq > 0);
    if (acknowledged.length > 0) {
      out.acknowledged++;
      for (const r of acknowledged) {
        if (journaled !== r.orderId) listed(`client order ${o.clientOrderId} was acknowledged as order ${r.orderId}, the journal has ${journaled ?? 'none'}`);
      }
      // The attempt whose answer names the order it created must be the journaled request.
      for (const a of o.attempts) {
        if (a.answer === null || a.answer.orderId <= 0) continue;
        const forwarded = audit.ordersByRequest.get(requestKey(a.answer.gatewayId, a.requestId));
        if (forwarded === undefined) out.answeredAsDuplicate++;
        else if (forwarded !== a.answer.orderId) listed(`request ${a.requestId} was answered with order ${a.answer.orderId} but created ${forwarded}`);
      }
    } else {
      out.rejected++;
      const reason = REJECT_REASON_NAMES[answers[0]!.reason] ?? String(answers[0]!.reason);
      out.rejectedByReason[reason] = (out.rejectedByReason[reason] ?? 0) + 1;
      if (journaled !== undefined) listed(`client order ${o.clientOrderId} was answered ${answers.map((r) => `${r.status}/${r.reason}`).join(',')} but the journal has order ${journaled}`);
      for (const r of answers) {
        if (r.status !== OrderStatus.REJECTED || r.reason === RejectReason.NONE) listed(`client order ${o.clientOrderId}: an answer without an order id that is not a rejection (${JSON.stringify(r)})`);
      }
    }
  }
}

/** The report as a few readable lines. */
export function formatPmFailoverDrillReport(r: PmFailoverDrillReport | ScratchPmFailoverDrillReport): string {
  const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} ms`);
  const lines = [`product-manager failover drill: ${r.ok ? 'PASSED' : 'FAILED'}`];
  if (r.killed !== null) lines.push(`  killed     pm-${r.killed.instance} pid ${r.killed.pid} (hot, epoch ${r.killed.epoch}) at journal seq ${r.journalSeqAtKill}, ${r.ordersPerSecondAtKill} orders/s`);
  if (r.newLeader !== null) lines.push(`  new leader pm-${r.newLeader.instance} pid ${r.newLeader.pid}, epoch ${r.newLeader.epoch}`);
  lines.push(`  detection ${ms(r.detectionMs)}, epoch claimed ${ms(r.claimMs)}, serving (takeover) ${ms(r.takeoverMs)}; the leader's own count ${ms(r.leaderTakeoverMs)}`);
  if (r.restarted !== null) lines.push(`  restarted  pid ${r.restarted.pid}, back as the ${r.restarted.role} ${r.restarted.afterMs.toFixed(0)} ms later`);
  if (r.stateHash !== null) lines.push(`  state hash ${r.stateHash.live} at seq ${r.stateHash.seq}; replay ${r.stateHash.replay ?? '-'}: ${r.stateHash.match ? 'equal' : 'DIFFERENT'}`);
  if (r.audit !== null) {
    const a = r.audit;
    lines.push(`  journal    ${a.entries} entries, ${a.pmEntries} from the pair, ${a.newOrders} new orders; duplicates: requests ${a.duplicateRequests}, client order ids ${a.duplicateClientOrderIds}, order ids ${a.duplicateOrderIds}; stale epochs ${a.staleEpochEntries}; sourceSeq gaps ${a.sourceSeqGaps}, repeats ${a.sourceSeqRepeats}`);
  }
  if ('takeoversBeforeKill' in r && r.takeoversBeforeKill > 0) lines.push(`  note       ${r.takeoversBeforeKill} takeover(s) before the drill's kill: a leader stalled past its lease (a loaded machine)`);
  if ('requests' in r) {
    const q = r.requests;
    const reasons = Object.entries(q.rejectedByReason).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`  requests   ${q.clientOrders} client orders, ${q.sent} sent (${q.retried} retries), ${q.acknowledged} acknowledged, ${q.rejected} rejected${reasons === '' ? '' : ` (${reasons})`}, ${q.unanswered} unanswered, ${q.answeredAsDuplicate} answered as duplicates; slowest answer ${q.maxAnswerMs} ms`);
  }
  for (const p of r.problems) lines.push(`  PROBLEM    ${p}`);
  return lines.join('\n');
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

if (require.main === module) {
  const program = new Command('pm-failover')
    .description('Kill -9 the hot product manager, measure the takeover, audit the journal')
    .option('--run-dir <dir>', 'a live instance (default /dev/shm/ims-main unless --scratch)')
    .option('--scratch', 'build a throwaway exchange with its own load instead', false)
    .option('--gateways <n>', 'scratch: gateways', positiveInt, 2)
    .option('--orders-per-second <n>', 'scratch: load', positiveInt, 2_000)
    .option('--load-ms <n>', 'scratch: load before and after the kill', positiveInt, 1_000)
    .option('--wait-for-restart-ms <n>', 'live: wait for the killed instance to be back as the standby', positiveInt)
    .option('--json', 'print the report as JSON', false)
    .action(async (o: { runDir?: string; scratch: boolean; gateways: number; ordersPerSecond: number; loadMs: number; waitForRestartMs?: number; json: boolean }) => {
      const report = o.scratch
        ? await runScratchPmFailoverDrill({ gateways: o.gateways, ordersPerSecond: o.ordersPerSecond, loadBeforeKillMs: o.loadMs, loadAfterKillMs: o.loadMs })
        : await runPmFailoverDrill({ runDir: o.runDir ?? process.env['IMS_RUN_DIR'] ?? '/dev/shm/ims-main', waitForRestartMs: o.waitForRestartMs });
      if (o.json) {
        const { audit, ...rest } = report;
        const summary = audit === null ? null : { ...audit, ordersByRequest: audit.ordersByRequest.size, ordersByClientOrderId: audit.ordersByClientOrderId.size };
        process.stdout.write(JSON.stringify({ ...rest, audit: summary }) + '\n');
      } else {
        process.stdout.write(formatPmFailoverDrillReport(report) + '\n');
      }
      process.exitCode = report.ok ? 0 : 1;
    });
  program.parseAsync().catch((e: Error) => {
    process.stderr.write(`pm-failover: ${e.message}\n`);
    process.exitCode = 2;
  });
}
