// The audit behind the gateway-kill and reporter-crash drills, run after the load has stopped:
//
//  1. the load's own orders against the journal (by account and clientOrderId): every order a
//     client got acknowledged is journaled exactly once, under the order id it was told; an order
//     whose answer was lost with its gateway is journaled at most once however often it was sent
//     again; an order refused before sequencing is not doubled either;
//  2. the journal as a whole (processes/sequencer/journal-tools.ts journalVerify): every CRC, the
//     gap-free seq chain, and a fresh engine replaying the commands to the recorded outputs and
//     checkpoint state hashes (the engine's state hash equals a clean replay);
//  3. the product-manager replay (processes/product-manager/pm-journal-audit.ts): no request, client
//     order id or order id journaled twice, the pair's inputs gap-free and fenced, the wallet
//     invariants, and conservation of cash and of every product's stock.
//
// All three read the journal only up to the seq the sequencer has made visible when the audit
// starts: the exchange keeps running (and journaling) while it reads.

import * as path from 'node:path';
import { readChars, readI64, readU32 } from '../../bus/codec';
import { JournalDiskReader } from '../../bus/journal-disk-reader';
import { JournalStatusFile, statusPathForRing } from '../../bus/journal-status';
import { JOURNAL_HEADER_BYTES, NewOrder, TypeId } from '../../bus/schema';
import { readEngineStatus } from '../matching-engine/engine-status';
import { auditProductManagerJournal } from '../product-manager/pm-journal-audit';
import { journalVerify } from '../sequencer/journal-tools';
import { ENGINE_CHECKPOINT_EVERY } from '../supervisor/topology';
import type { LoadOrder } from './ws-order-load';

/** Entries read per disk-reader call. */
const READ_BATCH_ENTRIES = 4_096;
/** Problems listed per audit part (the counts say how many there were in all). */
export const MAX_LISTED_PROBLEMS = 20;

export interface ClientOrderAudit {
  /** Distinct client orders the load made. */
  clientOrders: number;
  /** Acknowledged with an order id. */
  acknowledged: number;
  /** Acknowledged orders found in the journal exactly once, under the id the client was told. */
  journaledExactlyOnce: number;
  /** Acknowledged orders not in the journal (lost). */
  lost: number;
  /** Client orders with more than one NewOrder in the journal (doubled), whatever their answer. */
  doubled: number;
  /** Acknowledged orders journaled under another order id than the answer named, or answered with two ids. */
  wrongOrderId: number;
  /** Orders with an attempt in flight when its gateway connection died. */
  answersLost: number;
  /** Of those, the ones the journal holds (the first attempt, or a later one, went through). */
  answersLostJournaled: number;
  /** Refused with a final error (a risk limit, a closed market): answered, no order. */
  rejected: number;
  rejectedByReason: Record<string, number>;
  /** No answer at all at the end (each a problem: the retries should have got one). */
  unanswered: number;
  /** Sends beyond the first (after a lost answer, a 503 or a long silence). */
  resent: number;
  problems: string[];
}

/** (account/clientOrderId) → the order ids of its NewOrder entries, for ids starting with `prefix`. */
export function journaledClientOrders(journalDir: string, archiveDir: string | undefined, toSeq: number, prefix: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const reader = new JournalDiskReader({ dataDir: journalDir, archiveDir, fromSeq: 1 });
  try {
    while (
      reader.read(
        (typeId, _version, buf, offset) => {
          if (typeId !== TypeId.NewOrder) return;
          const b = offset + JOURNAL_HEADER_BYTES;
          const coid = readChars(buf.view, b + NewOrder.o.clientOrderId, 24);
          if (!coid.startsWith(prefix)) return;
          const key = `${readU32(buf.view, b + NewOrder.o.accountId)}/${coid}`;
          const ids = out.get(key);
          const id = readI64(buf.view, b + NewOrder.o.orderId);
          if (ids === undefined) out.set(key, [id]);
          else ids.push(id);
        },
        READ_BATCH_ENTRIES,
        toSeq,
      ) > 0
    );
  } finally {
    reader.close();
  }
  return out;
}

/** The load's orders against what the journal holds (see the file comment, part 1). */
export function auditClientOrders(orders: readonly LoadOrder[], journaled: ReadonlyMap<string, readonly number[]>): ClientOrderAudit {
  const a: ClientOrderAudit = { clientOrders: orders.length, acknowledged: 0, journaledExactlyOnce: 0, lost: 0, doubled: 0, wrongOrderId: 0, answersLost: 0, answersLostJournaled: 0, rejected: 0, rejectedByReason: {}, unanswered: 0, resent: 0, problems: [] };
  const problem = (text: string): void => {
    if (a.problems.length < MAX_LISTED_PROBLEMS) a.problems.push(text);
  };
  for (const o of orders) {
    const ids = journaled.get(o.key) ?? [];
    a.resent += Math.max(0, o.attempts - 1);
    if (ids.length > 1) {
      a.doubled++;
      problem(`client order ${o.key} is in the journal ${ids.length} times (order ids ${ids.join(', ')})`);
    }
    if (o.answerLost) {
      a.answersLost++;
      if (ids.length > 0) a.answersLostJournaled++;
    }
    if (o.firstAckAtMs !== null) {
      a.acknowledged++;
      if (ids.length === 0) {
        a.lost++;
        problem(`client order ${o.key} was acknowledged as order ${o.ackOrderIds.join('/')} but is not in the journal`);
      } else if (o.ackOrderIds.length !== 1 || ids[0] !== o.ackOrderIds[0]) {
        a.wrongOrderId++;
        problem(`client order ${o.key} was acknowledged as order ${o.ackOrderIds.join(' and ')}, the journal has ${ids.join(', ')}`);
      } else if (ids.length === 1) {
        a.journaledExactlyOnce++;
      }
    } else if (o.rejection !== null) {
      a.rejected++;
      a.rejectedByReason[o.rejection] = (a.rejectedByReason[o.rejection] ?? 0) + 1;
    } else {
      a.unanswered++;
      problem(`client order ${o.key} was never answered (${o.attempts} attempts)`);
    }
  }
  return a;
}

export interface JournalAuditSummary {
  ok: boolean;
  /** The journal was read up to here (the visible seq when the audit began). */
  toSeq: number;
  entries: number;
  /** journalVerify: CRCs, seq chain, the engine replay. */
  verify: { ok: boolean; lastSeq: number; commandsReplayed: number; outputsCompared: number; checkpointsCompared: number; mismatches: number; ran: boolean };
  /** pm-journal-audit: duplicates, fencing, invariants, conservation. */
  productManager: { ok: boolean; newOrders: number; duplicateRequests: number; duplicateClientOrderIds: number; duplicateOrderIds: number; staleEpochEntries: number; sourceSeqGaps: number; sourceSeqRepeats: number; finalStateHash: string };
  problems: string[];
}

/** Parts 2 and 3 of the file comment, on the instance whose journal ring is in `runDir`. */
export function auditJournal(runDir: string, options: { journalDir?: string; archiveDir?: string } = {}): JournalAuditSummary {
  const ringPath = path.join(runDir, 'journal.ring');
  const statusPath = statusPathForRing(ringPath);
  const status = JournalStatusFile.openIfExists(statusPath);
  if (status === null) throw new Error(`no journal status in ${runDir}: is the sequencer of this instance running?`);
  const snap = status.snapshot();
  const journalDir = options.journalDir ?? snap.dataDir;
  const archiveDir = options.archiveDir ?? (snap.archiveDir === '' ? undefined : snap.archiveDir);
  if (journalDir === '') throw new Error('the journal status names no data directory: pass the journal directory');
  const toSeq = snap.visibleSeq;
  const problems: string[] = [];
  const verify = journalVerify({ dataDir: journalDir, archiveDir, ringPath, statusPath, engine: true });
  const det = verify.determinism;
  for (const p of verify.problems.slice(0, MAX_LISTED_PROBLEMS)) problems.push(`journal verify: ${p}`);
  if (det.ran) {
    for (const m of det.mismatches.slice(0, MAX_LISTED_PROBLEMS)) problems.push(`engine replay: ${m}`);
    if (det.mismatchCount > det.mismatches.length) problems.push(`engine replay: ${det.mismatchCount} mismatches in all`);
    if (det.checkpointsCompared === 0) problems.push(`no engine checkpoint is in the journal yet, so no state hash was compared with the replay: run the load longer or faster (the engines checkpoint every ${ENGINE_CHECKPOINT_EVERY} commands)`);
  } else {
    problems.push(`the engine replay did not run: ${'reason' in det ? det.reason : 'no reason given'}`);
  }
  const pm = auditProductManagerJournal({ journalDir, archiveDir, toSeq });
  for (const p of pm.problems) problems.push(`product-manager replay: ${p}`);
  return {
    ok: problems.length === 0,
    toSeq,
    entries: verify.entries,
    verify: {
      ok: verify.ok,
      lastSeq: verify.lastSeq,
      ran: det.ran,
      commandsReplayed: det.ran ? det.commandsApplied : 0,
      outputsCompared: det.ran ? det.outputsCompared : 0,
      checkpointsCompared: det.ran ? det.checkpointsCompared : 0,
      mismatches: det.ran ? det.mismatchCount : 0,
    },
    productManager: {
      ok: pm.ok,
      newOrders: pm.newOrders,
      duplicateRequests: pm.duplicateRequests,
      duplicateClientOrderIds: pm.duplicateClientOrderIds,
      duplicateOrderIds: pm.duplicateOrderIds,
      staleEpochEntries: pm.staleEpochEntries,
      sourceSeqGaps: pm.sourceSeqGaps,
      sourceSeqRepeats: pm.sourceSeqRepeats,
      finalStateHash: pm.finalStateHash,
    },
    problems,
  };
}

/** The journal seq of the newest state-hash checkpoint a live engine of `runDir` has taken (0: none). */
export function latestEngineCheckpointSeq(runDir: string): number {
  return readEngineStatus(runDir).instances.reduce((max, s) => (s.alive && s.checkpointInSeq > max ? s.checkpointInSeq : max), 0);
}

/**
 * Keeps the caller's load running until an engine has checkpointed its state hash after journal seq
 * `afterSeq` (so the audit's replay compares a hash that covers the drill), or `timeoutMs` passed.
 */
export async function waitForEngineCheckpoint(runDir: string, afterSeq: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (latestEngineCheckpointSeq(runDir) <= afterSeq) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export interface JournalDirs {
  journalDir: string;
  archiveDir: string | undefined;
  /** The seq the sequencer has made visible, now. */
  visibleSeq: () => number;
}

/** The journal directories of the instance in `runDir` (from the sequencer's status file). */
export function journalDirsOf(runDir: string): JournalDirs {
  const status = JournalStatusFile.openIfExists(statusPathForRing(path.join(runDir, 'journal.ring')));
  if (status === null) throw new Error(`no journal status in ${runDir}: is the sequencer of this instance running?`);
  const snap = status.snapshot();
  if (snap.dataDir === '') throw new Error('the journal status names no data directory');
  return { journalDir: snap.dataDir, archiveDir: snap.archiveDir === '' ? undefined : snap.archiveDir, visibleSeq: () => status.snapshot().visibleSeq };
}

/** The part of a drill's report the audit fills in. */
export interface AuditedDrillReport {
  problems: string[];
  orders: ClientOrderAudit | null;
  journal: JournalAuditSummary | null;
}

/**
 * Runs the whole audit (parts 1 to 3) once the load has stopped, up to the seq visible now, into
 * `report`: each part's result as soon as it is known, its problems appended. `nothingAcknowledged`
 * is the problem to report when the load got no order acknowledged (the drill then proved nothing).
 */
export function auditDrillLoad(report: AuditedDrillReport, runDir: string, dirs: JournalDirs, orders: readonly LoadOrder[], tag: string, nothingAcknowledged: string): void {
  const toSeq = dirs.visibleSeq();
  report.orders = auditClientOrders(orders, journaledClientOrders(dirs.journalDir, dirs.archiveDir, toSeq, `${tag}-`));
  for (const p of report.orders.problems) report.problems.push(`orders: ${p}`);
  if (report.orders.acknowledged === 0) report.problems.push(nothingAcknowledged);
  report.journal = auditJournal(runDir, { journalDir: dirs.journalDir, archiveDir: dirs.archiveDir });
  for (const p of report.journal.problems) report.problems.push(p);
}

/** One line for the human report. */
export function formatClientOrderAudit(a: ClientOrderAudit): string {
  const reasons = Object.entries(a.rejectedByReason).map(([k, v]) => `${k} ×${v}`).join(', ');
  return (
    `${a.clientOrders} client orders, ${a.acknowledged} acknowledged, ${a.journaledExactlyOnce} of them journaled exactly once; lost ${a.lost}, doubled ${a.doubled}, wrong order id ${a.wrongOrderId}; ` +
    `${a.answersLost} answers lost with a gateway (${a.answersLostJournaled} of those journaled once, the rest never); ${a.resent} resends; ${a.rejected} refused${reasons === '' ? '' : ` (${reasons})`}; ${a.unanswered} unanswered`
  );
}

export function formatJournalAudit(j: JournalAuditSummary): string {
  const p = j.productManager;
  return (
    `journal to seq ${j.toSeq}: verify ${j.verify.ok ? 'ok' : 'NOT ok'} (engine replay ${j.verify.ran ? `${j.verify.commandsReplayed} commands, ${j.verify.outputsCompared} outputs and ${j.verify.checkpointsCompared} checkpoint hashes compared, ${j.verify.mismatches} mismatches` : 'did not run'}); ` +
    `product-manager replay ${p.ok ? 'ok' : 'NOT ok'} (${p.newOrders} orders; duplicates: requests ${p.duplicateRequests}, client order ids ${p.duplicateClientOrderIds}, order ids ${p.duplicateOrderIds}; cash and stock conserved${p.ok ? '' : '?'})`
  );
}
