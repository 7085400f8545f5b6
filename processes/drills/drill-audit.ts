// The audit the live drills (sequencer-restart, full-restart) run after their load has settled: it
// holds what clients were told, and what the live processes hold, against a clean replay of the
// journal on disk.
//
//  1. client orders (drill-load.ts) against the journal, by account and clientOrderId: every order
//     acknowledged is journaled exactly once under the order id its client was told (none lost, none
//     doubled), whatever 503s, refused connections and retries it went through;
//  2. the engine: the journal's engine output stream equals a fresh engine's replay of its commands
//     (matching-engine/output-audit.ts: no gap, no duplicate, every recorded checkpoint hash), and
//     the state hash each live engine instance holds at its recent checkpoints equals the replay's
//     state hash after the same command;
//  3. the product manager (product-manager/pm-journal-audit.ts): no request, client order id or order
//     id journaled twice, the pair's inputs gap-free and fenced, the wallet invariants, conservation
//     of cash and of every product's stock; and the hot instance's state hash, freshly asked for
//     (SIGUSR2), equals the replay's at the same seq.
//
// Everything is read up to the seq the sequencer had made visible when the audit began.

import { JournalDiskReader } from '../../bus/journal-disk-reader';
import { JournalStatusFile, statusPathForRing } from '../../bus/journal-status';
import { readI64 } from '../../bus/codec';
import { JournalHeader } from '../../bus/schema';
import type { RecordBuffer } from '../../bus/ring';
import { Engine } from '../matching-engine/engine';
import type { EngineSink } from '../matching-engine/engine-sink';
import { engineStatusPath, readEngineInstanceStatus } from '../matching-engine/engine-status';
import { applyEngineCommand, isEngineCommand } from '../matching-engine/journal-commands';
import { auditEngineOutputs, type OutputAuditReport } from '../matching-engine/output-audit';
import { stateHashHex } from '../matching-engine/state-encoding';
import { auditProductManagerJournal, type PmJournalAudit } from '../product-manager/pm-journal-audit';
import { defaultJournalRing } from '../product-manager/pm-paths';
import { ProductManagerState } from '../product-manager/product-manager-state';
import { readPmStatus } from '../product-manager/pm-status';
import type { ClientOrder } from './drill-load';

const READ_BATCH_ENTRIES = 8_192;
/** Problems described per audit (every count stays exact). */
export const MAX_LISTED_PROBLEMS = 20;
/** How long a product manager is given to publish a state hash after SIGUSR2. */
const FRESH_HASH_TIMEOUT_MS = 2_000;
const ENGINE_INSTANCES = ['a', 'b'] as const;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks product-manager `instance` (pid) for a state hash (SIGUSR2) and returns it once published. */
export async function freshPmHash(runDir: string, instance: string, pid: number): Promise<{ hashSeq: number; stateHash: string } | null> {
  const before = readPmStatus(runDir).instances.find((s) => s.instance === instance && s.pid === pid);
  if (before === undefined) return null;
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return null;
  }
  const until = Date.now() + FRESH_HASH_TIMEOUT_MS;
  while (Date.now() < until) {
    const s = readPmStatus(runDir).instances.find((i) => i.instance === instance && i.pid === pid);
    if (s !== undefined && s.hashSeq > 0 && s.hashSeq >= before.lastSeq) return { hashSeq: s.hashSeq, stateHash: s.stateHash };
    await sleep(5);
  }
  return null;
}

/** The live hot product manager (alive, role hot, holding the lease), or null. */
export function hotProductManager(runDir: string): { instance: string; pid: number } | null {
  const s = readPmStatus(runDir);
  const hot = s.instances.find((i) => i.alive && i.role === 'hot' && s.lease !== null && i.pid === s.lease.leaderPid);
  return hot === undefined ? null : { instance: hot.instance, pid: hot.pid };
}

function forEachEntry(journalDir: string, archiveDir: string | undefined, toSeq: number, visit: (typeId: number, view: DataView, offset: number) => void): void {
  const reader = new JournalDiskReader({ dataDir: journalDir, archiveDir, fromSeq: 1 });
  const handler = (typeId: number, _version: number, buf: RecordBuffer, offset: number): void => visit(typeId, buf.view, offset);
  try {
    while (reader.read(handler, READ_BATCH_ENTRIES, toSeq) > 0) {
      /* read() hands every entry to the handler */
    }
  } finally {
    reader.close();
  }
}

/** An engine sink that keeps nothing: the replay only wants the state hash. */
class DiscardingSink implements EngineSink {
  onAccepted(): void {}
  onRejected(): void {}
  onFill(): void {}
  onCanceled(): void {}
  onAmended(): void {}
  onExpired(): void {}
  onBookLevel(): void {}
}

/** A fresh engine's state hash right after each of `inSeqs` (journal seqs of engine commands). */
export function replayEngineHashes(journalDir: string, archiveDir: string | undefined, inSeqs: ReadonlySet<number>): Map<number, string> {
  const out = new Map<number, string>();
  if (inSeqs.size === 0) return out;
  const last = Math.max(...inSeqs);
  const engine = new Engine(new DiscardingSink());
  forEachEntry(journalDir, archiveDir, last, (typeId, view, offset) => {
    if (!isEngineCommand(typeId)) return;
    applyEngineCommand(engine, typeId, view, offset);
    const seq = readI64(view, offset + JournalHeader.o.seq);
    if (inSeqs.has(seq)) out.set(seq, stateHashHex(engine.stateHash()));
  });
  return out;
}

export interface AccountBalance {
  accountId: number;
  cash: number;
  cashReserved: number;
  openOrders: number;
  /** Units of each product asked for, in the order asked. */
  units: number[];
  unitsReserved: number[];
}

export interface BalanceSheet {
  /** The journal seq the balances are at (the last entry replayed). */
  seq: number;
  /** The product manager's whole-state hash there (covers every account and position). */
  stateHash: string;
  productIds: number[];
  accounts: AccountBalance[];
}

/** Wallets as a fresh product manager replaying the journal to `toSeq` holds them. */
export function balancesAt(journalDir: string, archiveDir: string | undefined, toSeq: number, accountIds: readonly number[], productIds: readonly number[]): BalanceSheet {
  const state = new ProductManagerState();
  let seq = 0;
  forEachEntry(journalDir, archiveDir, toSeq, (typeId, view, offset) => {
    state.applyJournalEntry(view, offset, typeId);
    seq = readI64(view, offset + JournalHeader.o.seq);
  });
  return {
    seq,
    stateHash: state.stateHashHex(),
    productIds: [...productIds],
    accounts: accountIds.map((accountId) => {
      const a = state.account(accountId);
      const positions = productIds.map((p) => state.position(accountId, p));
      return {
        accountId,
        cash: a?.cash ?? 0,
        cashReserved: a?.cashReserved ?? 0,
        openOrders: a?.openOrders ?? 0,
        units: positions.map((p) => p.units),
        unitsReserved: positions.map((p) => p.reserved),
      };
    }),
  };
}

/** The differences between two balance sheets (empty when equal). */
export function balanceDifferences(before: BalanceSheet, after: BalanceSheet): string[] {
  const out: string[] = [];
  if (before.stateHash !== after.stateHash) out.push(`the product manager's state hash at seq ${before.seq} was ${before.stateHash}, it is ${after.stateHash} (seq ${after.seq})`);
  for (const b of before.accounts) {
    const a = after.accounts.find((x) => x.accountId === b.accountId);
    if (a === undefined) {
      out.push(`account ${b.accountId} is missing`);
      continue;
    }
    if (a.cash !== b.cash || a.cashReserved !== b.cashReserved) out.push(`account ${b.accountId}: cash ${b.cash} (reserved ${b.cashReserved}) became ${a.cash} (reserved ${a.cashReserved})`);
    b.units.forEach((u, i) => {
      if (a.units[i] !== u || a.unitsReserved[i] !== b.unitsReserved[i]) out.push(`account ${b.accountId}: product ${before.productIds[i]} units ${u} (reserved ${b.unitsReserved[i]}) became ${a.units[i]} (reserved ${a.unitsReserved[i]})`);
    });
  }
  return out.slice(0, MAX_LISTED_PROBLEMS);
}

export interface OrderAudit {
  clientOrders: number;
  acknowledged: number;
  /** Acknowledged and journaled under the order id the client was told (once, when `doubled` is 0). */
  journaledExactlyOnce: number;
  /** Acknowledged but not in the journal. */
  lost: number;
  /** Client order ids with more than one NewOrder in the journal (the journal as a whole). */
  doubled: number;
  /** Acknowledged under another order id than the journal's. */
  wrongOrderId: number;
  /** Finally rejected with a 4xx (a risk limit, …): an explicit answer, no order expected. */
  rejected: number;
  /** Rejections the journal nonetheless holds an order for (the engine refused it after sequencing). */
  rejectedButJournaled: number;
  /** No final answer when the drill ended (each a problem: retries should have got one). */
  unanswered: number;
  /** Orders that got a 503 or a failed request first, then were acknowledged by a retry with the same clientOrderId. */
  acknowledgedAfterRetry: number;
  /** Orders acknowledged before `acknowledgedBeforeMs` (a kill), and how many of them are journaled under their id. */
  acknowledgedBefore: number;
  acknowledgedBeforeJournaled: number;
  problems: string[];
}

/** Holds every client order against the journal's NewOrders (by account/clientOrderId). */
export function auditClientOrders(orders: readonly ClientOrder[], journal: PmJournalAudit, acknowledgedBeforeMs = Number.NEGATIVE_INFINITY): OrderAudit {
  const a: OrderAudit = {
    clientOrders: orders.length,
    acknowledged: 0,
    journaledExactlyOnce: 0,
    lost: 0,
    doubled: journal.duplicateClientOrderIds,
    wrongOrderId: 0,
    rejected: 0,
    rejectedButJournaled: 0,
    unanswered: 0,
    acknowledgedAfterRetry: 0,
    acknowledgedBefore: 0,
    acknowledgedBeforeJournaled: 0,
    problems: [],
  };
  const problem = (text: string): void => {
    if (a.problems.length < MAX_LISTED_PROBLEMS) a.problems.push(text);
  };
  if (journal.duplicateClientOrderIds > 0) problem(`${journal.duplicateClientOrderIds} client order id(s) have more than one NewOrder in the journal`);
  for (const o of orders) {
    const journaled = journal.ordersByClientOrderId.get(`${o.accountId}/${o.clientOrderId}`);
    if (o.outcome === 'pending') {
      a.unanswered++;
      problem(`client order ${o.clientOrderId} has no final answer after ${o.attempts} attempt(s) (${o.unavailableAnswers} x 503, ${o.networkErrors} failed)`);
      continue;
    }
    if (o.outcome === 'rejected') {
      a.rejected++;
      if (journaled !== undefined) a.rejectedButJournaled++;
      continue;
    }
    a.acknowledged++;
    const early = o.answeredAtMs < acknowledgedBeforeMs;
    if (early) a.acknowledgedBefore++;
    const retried = o.unavailableAnswers + o.networkErrors > 0;
    if (retried) a.acknowledgedAfterRetry++;
    if (journaled === undefined) {
      a.lost++;
      problem(`client order ${o.clientOrderId} (account ${o.accountId}) was acknowledged as order ${o.orderId} but is not in the journal`);
    } else if (String(journaled) !== o.orderId) {
      a.wrongOrderId++;
      problem(`client order ${o.clientOrderId} was acknowledged as order ${o.orderId}, the journal has order ${journaled}`);
    } else {
      a.journaledExactlyOnce++;
      if (early) a.acknowledgedBeforeJournaled++;
    }
  }
  return a;
}

export interface EngineHashCheck {
  instance: string;
  inSeq: number;
  live: string;
  replay: string | null;
  match: boolean;
}

export interface SystemAuditOptions {
  readonly runDir: string;
  readonly journalDir?: string;
  readonly archiveDir?: string;
  readonly orders: readonly ClientOrder[];
  /** Count the orders acknowledged before this moment (performance.now(), e.g. a kill) apart. */
  readonly acknowledgedBeforeMs?: number;
}

export interface SystemAudit {
  ok: boolean;
  problems: string[];
  /** The last journal seq audited (visible when the audit began). */
  toSeq: number;
  orders: OrderAudit;
  engine: {
    outputs: Pick<OutputAuditReport, 'ok' | 'commands' | 'outputsJournaled' | 'matched' | 'mismatches' | 'gaps' | 'duplicates' | 'unexpected' | 'checkpoints' | 'checkpointMismatches' | 'pendingTail'> & { epochs: string };
    /** Each live instance's recent checkpoints against the replay. */
    liveHashes: EngineHashCheck[];
    /** Why no live hash could be compared (null when some were). */
    note: string | null;
    hashesCompared: number;
    hashesEqual: number;
  };
  productManager: {
    live: { instance: string; seq: number; hash: string } | null;
    replay: string | null;
    match: boolean;
    duplicateRequests: number;
    duplicateOrderIds: number;
    staleEpochEntries: number;
    sourceSeqGaps: number;
    sourceSeqRepeats: number;
  };
  conservation: { ok: boolean; problems: string[] };
}

/** Problems of the product-manager replay that are about conservation and the wallet invariants. */
function isConservationProblem(text: string): boolean {
  return text.startsWith('cash is not conserved') || text.startsWith('stock of product') || text.startsWith('the replayed state breaks an invariant');
}

/** The whole audit (see the top of this file). Call it once the load has settled. */
export async function auditLiveSystem(options: SystemAuditOptions): Promise<SystemAudit> {
  const problems: string[] = [];
  const status = JournalStatusFile.openIfExists(statusPathForRing(defaultJournalRing(options.runDir)));
  if (status === null) throw new Error(`no journal status in ${options.runDir}: is the sequencer running there?`);
  const snap0 = status.snapshot();
  const journalDir = options.journalDir ?? snap0.dataDir;
  const archiveDir = options.archiveDir ?? (snap0.archiveDir === '' ? undefined : snap0.archiveDir);

  // The hot product manager's state hash first: the audit then reads at least up to its seq.
  const hot = hotProductManager(options.runDir);
  const pmLive = hot === null ? null : await freshPmHash(options.runDir, hot.instance, hot.pid);
  if (hot === null) problems.push('no hot product manager holds the lease: its state hash cannot be compared');
  else if (pmLive === null) problems.push(`pm-${hot.instance} published no state hash within ${FRESH_HASH_TIMEOUT_MS} ms of SIGUSR2`);
  const toSeq = status.snapshot().visibleSeq;

  const pm = auditProductManagerJournal({ journalDir, archiveDir, toSeq, ...(pmLive !== null && pmLive.hashSeq <= toSeq ? { hashAtSeq: pmLive.hashSeq } : {}) });
  const conservation = pm.problems.filter(isConservationProblem);
  for (const p of pm.problems) if (!isConservationProblem(p)) problems.push(`journal (product manager): ${p}`);
  for (const p of conservation) problems.push(`conservation: ${p}`);
  const pmReplay = pm.hashAtSeq?.stateHash ?? null;
  const pmMatch = pmLive !== null && pmReplay === pmLive.stateHash;
  if (pmLive !== null && !pmMatch) problems.push(`pm-${hot!.instance}'s state hash ${pmLive.stateHash} at seq ${pmLive.hashSeq} differs from a replay of the journal (${pmReplay ?? 'not reached'})`);

  const orders = auditClientOrders(options.orders, pm, options.acknowledgedBeforeMs);
  for (const p of orders.problems) problems.push(`orders: ${p}`);

  const outputs = auditEngineOutputs({ journalDir, archiveDir, toSeq });
  if (!outputs.ok) problems.push(`the journal's engine outputs differ from a clean replay: ${outputs.problems.slice(0, 3).join('; ')}`);
  const live: EngineHashCheck[] = [];
  for (const instance of ENGINE_INSTANCES) {
    const s = readEngineInstanceStatus(engineStatusPath(options.runDir, instance));
    if (s === null || !s.alive) continue;
    for (const c of s.checkpoints) if (c.inSeq > 0 && c.inSeq <= toSeq) live.push({ instance, inSeq: c.inSeq, live: c.stateHash, replay: null, match: false });
  }
  const replayed = replayEngineHashes(journalDir, archiveDir, new Set(live.map((c) => c.inSeq)));
  for (const c of live) {
    c.replay = replayed.get(c.inSeq) ?? null;
    c.match = c.replay === c.live;
    if (!c.match) problems.push(`engine-${c.instance}'s state hash ${c.live} after seq ${c.inSeq} differs from a clean replay (${c.replay ?? 'no command there'})`);
  }
  // Not a failure: an engine computes its first checkpoint only after 1,000 commands (a quiet or
  // freshly restarted system may have none yet); the output audit above still covers the journal.
  const note = live.length === 0 ? 'no live engine holds a checkpoint yet (one every 1,000 commands): run the load longer to compare its state hash' : null;

  const audit: SystemAudit = {
    ok: false,
    problems,
    toSeq,
    orders,
    engine: {
      outputs: {
        ok: outputs.ok,
        commands: outputs.commands,
        outputsJournaled: outputs.outputsJournaled,
        matched: outputs.matched,
        mismatches: outputs.mismatches,
        gaps: outputs.gaps,
        duplicates: outputs.duplicates,
        unexpected: outputs.unexpected,
        checkpoints: outputs.checkpoints,
        checkpointMismatches: outputs.checkpointMismatches,
        pendingTail: outputs.pendingTail,
        epochs: outputs.epochs.map((e) => `${e.epoch}x${e.outputs}`).join(' '),
      },
      liveHashes: live,
      note,
      hashesCompared: live.length,
      hashesEqual: live.filter((c) => c.match).length,
    },
    productManager: {
      live: pmLive === null ? null : { instance: hot!.instance, seq: pmLive.hashSeq, hash: pmLive.stateHash },
      replay: pmReplay,
      match: pmMatch,
      duplicateRequests: pm.duplicateRequests,
      duplicateOrderIds: pm.duplicateOrderIds,
      staleEpochEntries: pm.staleEpochEntries,
      sourceSeqGaps: pm.sourceSeqGaps,
      sourceSeqRepeats: pm.sourceSeqRepeats,
    },
    conservation: { ok: conservation.length === 0, problems: conservation },
  };
  audit.ok = problems.length === 0;
  return audit;
}

/** The audit as a few readable lines (indented for a drill report). */
export function formatSystemAudit(a: SystemAudit): string[] {
  const o = a.orders;
  const e = a.engine;
  const pm = a.productManager;
  return [
    `  orders     ${o.clientOrders} client orders: ${o.acknowledged} acknowledged, ${o.journaledExactlyOnce} journaled exactly once, ${o.lost} lost, ${o.doubled} doubled, ${o.wrongOrderId} under another id; ${o.rejected} rejected (${o.rejectedButJournaled} by the engine), ${o.unanswered} unanswered; ${o.acknowledgedAfterRetry} acknowledged by a retry (same clientOrderId) after a 503 or failed request`,
    `  engine     journal 1..${a.toSeq}: ${e.outputs.commands} commands, ${e.outputs.outputsJournaled} outputs = ${e.outputs.matched} matched a clean replay (${e.outputs.gaps} gaps, ${e.outputs.duplicates} duplicates, ${e.outputs.mismatches} mismatches), ${e.outputs.checkpoints} checkpoints (${e.outputs.checkpointMismatches} wrong), epochs ${e.outputs.epochs}`,
    `  engine     live state hashes: ${e.hashesEqual} of ${e.hashesCompared} equal a clean replay${e.note === null ? '' : ` (${e.note})`}${e.liveHashes.length > 0 ? ` (latest engine-${e.liveHashes[e.liveHashes.length - 1]!.instance} ${e.liveHashes[e.liveHashes.length - 1]!.live} after seq ${e.liveHashes[e.liveHashes.length - 1]!.inSeq})` : ''}`,
    `  pm         ${pm.live === null ? 'no live hash' : `pm-${pm.live.instance} state hash ${pm.live.hash} at seq ${pm.live.seq}; replay ${pm.replay ?? '-'}: ${pm.match ? 'equal' : 'DIFFERENT'}`}; duplicates: requests ${pm.duplicateRequests}, order ids ${pm.duplicateOrderIds}; stale epochs ${pm.staleEpochEntries}; sourceSeq gaps ${pm.sourceSeqGaps}, repeats ${pm.sourceSeqRepeats}`,
    `  conserved  ${a.conservation.ok ? 'cash and every product\'s stock, wallet invariants hold' : `NO: ${a.conservation.problems.join('; ')}`}`,
  ];
}
