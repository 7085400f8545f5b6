// What the journal must show about the product-manager pair, checked in one streaming pass over the
// segment files (drills, tests, operators after an incident):
//
//  - each instance's inputs (sourceId PRODUCT_MANAGER_A / _B) are numbered 1, 2, 3 … without a gap or
//    a repeat, across its restarts and takeovers (exactly-once between the PM and the sequencer);
//  - the pair's epochs never go down in journal order: once a new leader's input is journaled, no
//    input of an older leader follows (the sequencer's fence);
//  - no gateway request (gatewayId, requestId) was forwarded twice, no client order id was used twice
//    by one account, no order id was assigned twice — a failover neither doubles nor reuses;
//  - a fresh product manager replaying the journal keeps its invariants (reserved = Σ open orders,
//    available ≥ 0) and conserves cash and stock (what it holds = what was deposited and received
//    minus what was withdrawn and dispatched); its state hash at `hashAtSeq` is returned, to compare
//    with the hash a live instance published in its status file.

import { readChars, readI64, readU16, readU32 } from '../../bus/codec';
import { JournalDiskReader } from '../../bus/journal-disk-reader';
import {
  AmendOrder,
  CancelOrder,
  Deposit,
  InventoryDispatch,
  InventoryReceipt,
  JOURNAL_HEADER_BYTES,
  JournalHeader,
  NewOrder,
  TypeId,
  Withdraw,
} from '../../bus/schema';
import { SourceId } from '../../bus/source-ids';
import { ProductManagerState } from './product-manager-state';

export interface PmJournalAuditOptions {
  readonly journalDir: string;
  readonly archiveDir?: string;
  /** Audit up to here (default: everything on disk). */
  readonly toSeq?: number;
  /** Also report the replayed state hash right after this seq. */
  readonly hashAtSeq?: number;
}

export interface PmSourceSummary {
  readonly sourceId: number;
  readonly entries: number;
  readonly lastSourceSeq: number;
  readonly epochs: number[];
}

export interface PmJournalAudit {
  ok: boolean;
  problems: string[];
  entries: number;
  lastSeq: number;
  /** Commands the pair forwarded (NewOrder, CancelOrder, AmendOrder, admin commands, fences). */
  pmEntries: number;
  newOrders: number;
  sources: PmSourceSummary[];
  /** Requests (gatewayId, requestId) forwarded more than once. */
  duplicateRequests: number;
  /** (account, clientOrderId) pairs with more than one NewOrder. */
  duplicateClientOrderIds: number;
  duplicateOrderIds: number;
  /** PM inputs journaled after an input of a higher epoch of the pair. */
  staleEpochEntries: number;
  sourceSeqGaps: number;
  sourceSeqRepeats: number;
  /** The replayed state hash after hashAtSeq (null when not asked or not reached). */
  hashAtSeq: { seq: number; stateHash: string } | null;
  finalStateHash: string;
  /** (gatewayId, requestId) → order id of every NewOrder the pair forwarded (for request audits). */
  readonly ordersByRequest: Map<string, number>;
  /** `${accountId}/${clientOrderId}` → order id. */
  readonly ordersByClientOrderId: Map<string, number>;
}

const MAX_PROBLEMS_LISTED = 20;
const PM_SOURCES = new Set<number>([SourceId.PRODUCT_MANAGER_A, SourceId.PRODUCT_MANAGER_B]);

export function requestKey(gatewayId: number, requestId: number): string {
  return `${gatewayId}/${requestId}`;
}

export function auditProductManagerJournal(options: PmJournalAuditOptions): PmJournalAudit {
  const audit: PmJournalAudit = {
    ok: false,
    problems: [],
    entries: 0,
    lastSeq: 0,
    pmEntries: 0,
    newOrders: 0,
    sources: [],
    duplicateRequests: 0,
    duplicateClientOrderIds: 0,
    duplicateOrderIds: 0,
    staleEpochEntries: 0,
    sourceSeqGaps: 0,
    sourceSeqRepeats: 0,
    hashAtSeq: null,
    finalStateHash: '',
    ordersByRequest: new Map(),
    ordersByClientOrderId: new Map(),
  };
  const problem = (text: string): void => {
    if (audit.problems.length < MAX_PROBLEMS_LISTED) audit.problems.push(text);
  };
  const state = new ProductManagerState();
  const sources = new Map<number, { entries: number; lastSourceSeq: number; epochs: number[] }>();
  const orderIds = new Set<number>();
  const requests = new Set<string>();
  let pairEpoch = 0;
  let cash = 0;
  const units = new Map<number, number>();
  const hashAt = options.hashAtSeq ?? -1;
  const reader = new JournalDiskReader({ dataDir: options.journalDir, archiveDir: options.archiveDir, fromSeq: 1 });
  try {
    for (;;) {
      const n = reader.read(
        (typeId, _version, buf, offset) => {
          const view = buf.view;
          const seq = readI64(view, offset + JournalHeader.o.seq);
          const sourceId = readU16(view, offset + JournalHeader.o.sourceId);
          const sourceSeq = readI64(view, offset + JournalHeader.o.sourceSeq);
          const epoch = readU32(view, offset + JournalHeader.o.epoch);
          const b = offset + JOURNAL_HEADER_BYTES;
          audit.entries++;
          audit.lastSeq = seq;
          if (PM_SOURCES.has(sourceId)) {
            audit.pmEntries++;
            let s = sources.get(sourceId);
            if (s === undefined) sources.set(sourceId, (s = { entries: 0, lastSourceSeq: 0, epochs: [] }));
            if (sourceSeq <= s.lastSourceSeq) {
              audit.sourceSeqRepeats++;
              problem(`seq ${seq}: source ${sourceId} sourceSeq ${sourceSeq} repeats (last ${s.lastSourceSeq})`);
            } else if (sourceSeq !== s.lastSourceSeq + 1) {
              audit.sourceSeqGaps++;
              problem(`seq ${seq}: source ${sourceId} sourceSeq ${sourceSeq} after ${s.lastSourceSeq} (a gap)`);
            }
            s.lastSourceSeq = sourceSeq;
            s.entries++;
            if (s.epochs[s.epochs.length - 1] !== epoch) s.epochs.push(epoch);
            if (epoch < pairEpoch) {
              audit.staleEpochEntries++;
              problem(`seq ${seq}: source ${sourceId} epoch ${epoch} journaled after epoch ${pairEpoch} (the fence failed)`);
            } else {
              pairEpoch = epoch;
            }
            if (typeId === TypeId.NewOrder || typeId === TypeId.CancelOrder || typeId === TypeId.AmendOrder) {
              const gatewayId = readU16(view, b + (typeId === TypeId.NewOrder ? NewOrder.o.gatewayId : typeId === TypeId.CancelOrder ? CancelOrder.o.gatewayId : AmendOrder.o.gatewayId));
              const requestId = readU32(view, b + (typeId === TypeId.NewOrder ? NewOrder.o.requestId : typeId === TypeId.CancelOrder ? CancelOrder.o.requestId : AmendOrder.o.requestId));
              const key = requestKey(gatewayId, requestId);
              if (requests.has(key)) {
                audit.duplicateRequests++;
                problem(`seq ${seq}: request ${key} forwarded a second time`);
              }
              requests.add(key);
              if (typeId === TypeId.NewOrder) audit.ordersByRequest.set(key, readI64(view, b + NewOrder.o.orderId));
            }
          }
          if (typeId === TypeId.NewOrder) {
            audit.newOrders++;
            const orderId = readI64(view, b + NewOrder.o.orderId);
            if (orderIds.has(orderId)) {
              audit.duplicateOrderIds++;
              problem(`seq ${seq}: order id ${orderId} assigned a second time`);
            }
            orderIds.add(orderId);
            const coid = readChars(view, b + NewOrder.o.clientOrderId, 24);
            if (coid !== '') {
              const key = `${readU32(view, b + NewOrder.o.accountId)}/${coid}`;
              if (audit.ordersByClientOrderId.has(key)) {
                audit.duplicateClientOrderIds++;
                problem(`seq ${seq}: client order id ${key} used by a second NewOrder`);
              } else {
                audit.ordersByClientOrderId.set(key, orderId);
              }
            }
          }
          try {
            state.applyJournalEntry(view, offset, typeId);
          } catch (e) {
            problem(`seq ${seq}: the replay stopped: ${(e as Error).message}`);
            throw e;
          }
          if (state.lastApplyResult === 0) {
            switch (typeId) {
              case TypeId.Deposit:
                cash += readI64(view, b + Deposit.o.amount);
                break;
              case TypeId.Withdraw:
                cash -= readI64(view, b + Withdraw.o.amount);
                break;
              case TypeId.InventoryReceipt: {
                const p = readU32(view, b + InventoryReceipt.o.productId);
                units.set(p, (units.get(p) ?? 0) + readI64(view, b + InventoryReceipt.o.quantity));
                break;
              }
              case TypeId.InventoryDispatch: {
                const p = readU32(view, b + InventoryDispatch.o.productId);
                units.set(p, (units.get(p) ?? 0) - readI64(view, b + InventoryDispatch.o.quantity));
                break;
              }
              default:
                break;
            }
          }
          if (seq === hashAt) audit.hashAtSeq = { seq, stateHash: state.stateHashHex() };
        },
        4096,
        options.toSeq ?? Number.POSITIVE_INFINITY,
      );
      if (n === 0) break;
    }
  } catch (e) {
    if (audit.problems.length === 0) problem(`the journal could not be read to its end: ${(e as Error).message}`);
  } finally {
    reader.close();
  }
  audit.sources = [...sources.entries()].sort((a, b) => a[0] - b[0]).map(([sourceId, s]) => ({ sourceId, ...s }));
  audit.finalStateHash = state.stateHashHex();
  try {
    state.assertInvariants();
  } catch (e) {
    problem(`the replayed state breaks an invariant: ${(e as Error).message}`);
  }
  if (state.totalCash() !== cash) problem(`cash is not conserved: accounts hold ${state.totalCash()}, deposits minus withdrawals are ${cash}`);
  for (const [productId, expected] of units) {
    if (state.totalUnits(productId) !== expected) problem(`stock of product ${productId} is not conserved: accounts hold ${state.totalUnits(productId)}, receipts minus dispatches are ${expected}`);
  }
  if (hashAt >= 0 && audit.hashAtSeq === null) problem(`the journal ends before seq ${hashAt}, where a state hash was asked for`);
  audit.ok = audit.problems.length === 0;
  return audit;
}

