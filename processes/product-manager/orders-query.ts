// Answers a gateway's OrdersQuery from the hot product manager's order table: one order of the
// caller (GET /v1/transact/{id}), or the caller's open orders, or open and remembered finished ones
// (GET /v1/transact?status=open|all). The product manager holds every order, so the answer is
// right after a gateway restart, for orders placed through another gateway, and after ims stop /
// start (the state is rebuilt from the journal).
//
// A read: not sequenced, nothing forwarded, nothing in the state written (see wallet-query.ts).
// Ownership: an order of another account answers exactly like a missing one (NONE).
//
// Cost. One order is an index lookup. An account's orders have no index of their own in the order
// table, so a list is a scan of the table's slots, which can be millions on a busy day (measured on
// this 2-core machine under load: p50 0.16 ms per step of 32,768 slots, ~5 ms per million). The
// scan therefore runs in steps of ORDER_SCAN_SLOTS_PER_ITERATION slots per hot iteration, beside
// order processing rather than in front of it, for at most MAX_PENDING_ORDER_SCANS queries at once
// (one more stays unread on its gateway ring until a scan finishes). It stops early once it holds every open order of the
// account (accounts.openOrders), so an account with nothing open costs nothing, and the table's
// initial size (16,384 slots) is one step. The query is taken off the ring when it is queued, so a
// hot that dies mid-scan leaves it unanswered (the gateway answers 503 after its reply bound; a
// retry is harmless), and its records are written at once when the scan ends, from the orders as
// they stand then (an order that finished during the scan is left out of an open list).
//
// Answer layout (bus/schema.ts OrderRecord, all with the query's requestId): open orders in slot
// order, then (scope ALL) finished orders newest first; `more` = 0 on the last; the gateway sorts.
// No match: one record with answerStatus NONE and no order.

import { clearBytes, writeI64, writeU16, writeU32, writeU8 } from '../../bus/codec';
import { BACK_PRESSURED, type RingProducer } from '../../bus/ring';
import { MAX_ORDER_RECORDS, OrderRecord, OrdersQuery, OrdersScope, ReadStatus } from '../../bus/schema';
import { claimAnswerRecord, READ_BACK_PRESSURED } from './answer-records';
import { CLIENT_ORDER_ID_BYTES, NO_SLOT, OrderPhase } from './order-table';
import { NOT_FOUND } from './pair-index';
import type { ProductManagerState } from './product-manager-state';

/** Slots of the order table scanned per hot iteration, over all queued list queries. */
export const ORDER_SCAN_SLOTS_PER_ITERATION = 1 << 15;
/** List queries scanning at once; another waits on its gateway ring. */
export const MAX_PENDING_ORDER_SCANS = 16;
/** take(): the query is queued; its answer comes from a later advance(). */
export const ORDERS_QUEUED = 0;

const O = OrderRecord.o;
/** The region of `found` for answers written at once (after the queue's regions). */
const SCRATCH_BASE = MAX_PENDING_ORDER_SCANS * MAX_ORDER_RECORDS;
const Q = OrdersQuery.o;

export class OrdersAnswerer {
  answers = 0;
  records = 0;
  /** Answers cut short because the reply ring filled up in the middle (the gateway then times out). */
  incomplete = 0;
  /** Table slots scanned, for status and tests. */
  slotsScanned = 0;

  // The queue of list scans: a ring of MAX_PENDING_ORDER_SCANS entries.
  private head = 0;
  private queued = 0;
  private readonly producer: (RingProducer | null)[] = new Array<RingProducer | null>(MAX_PENDING_ORDER_SCANS).fill(null);
  private readonly accountId = new Uint32Array(MAX_PENDING_ORDER_SCANS);
  private readonly accountRow = new Int32Array(MAX_PENDING_ORDER_SCANS);
  private readonly requestId = new Uint32Array(MAX_PENDING_ORDER_SCANS);
  private readonly gatewayId = new Uint16Array(MAX_PENDING_ORDER_SCANS);
  private readonly maxOrders = new Uint32Array(MAX_PENDING_ORDER_SCANS);
  private readonly scope = new Uint8Array(MAX_PENDING_ORDER_SCANS);
  private readonly nextSlot = new Float64Array(MAX_PENDING_ORDER_SCANS);
  private readonly truncated = new Uint8Array(MAX_PENDING_ORDER_SCANS);
  /**
   * Slots found so far (and the order id each held then), MAX_ORDER_RECORDS per queue entry, plus
   * one more region (SCRATCH) for the answers written at once.
   */
  private readonly found = new Int32Array((MAX_PENDING_ORDER_SCANS + 1) * MAX_ORDER_RECORDS);
  private readonly foundId = new Float64Array((MAX_PENDING_ORDER_SCANS + 1) * MAX_ORDER_RECORDS);
  private readonly foundCount = new Int32Array(MAX_PENDING_ORDER_SCANS);

  constructor(private readonly state: ProductManagerState) {}

  /** List queries waiting for their scan. */
  get pendingScans(): number {
    return this.queued;
  }

  /**
   * Takes the query at `body`: answers it now (one order, or an account with nothing open), or
   * queues its scan. Returns the records written, ORDERS_QUEUED, or READ_BACK_PRESSURED (leave the
   * query unread: the reply ring is full, or MAX_PENDING_ORDER_SCANS scans are running).
   */
  take(producer: RingProducer, view: DataView, body: number, gatewayId: number): number {
    const accountId = view.getUint32(body + Q.accountId, true);
    const requestId = view.getUint32(body + Q.requestId, true);
    const scope = view.getUint8(body + Q.scope);
    const maxOrders = Math.max(1, Math.min(MAX_ORDER_RECORDS, view.getUint32(body + Q.maxOrders, true)));
    const state = this.state;
    const orders = state.orders;
    const account = state.accounts.find(accountId);
    if (scope === OrdersScope.ONE) {
      const orderId = readSafeI64(view, body + Q.orderId);
      const slot = orderId > 0 ? orders.find(orderId) : NOT_FOUND;
      const visible =
        slot !== NOT_FOUND && account !== NOT_FOUND && orders.accountRow[slot] === account && (orders.phase[slot] === OrderPhase.OPEN || orders.phase[slot] === OrderPhase.FINISHED);
      this.found[SCRATCH_BASE] = slot;
      return this.write(producer, SCRATCH_BASE, visible ? 1 : 0, accountId, requestId, gatewayId, ReadStatus.OK);
    }
    if (account === NOT_FOUND || state.accounts.openOrders[account]! === 0) {
      // Nothing open: no scan. ALL still lists the finished orders, from the account's own list.
      const n = scope === OrdersScope.ALL && account !== NOT_FOUND ? this.gatherFinished(account, SCRATCH_BASE, 0, maxOrders) : 0;
      const status = n < 0 ? ReadStatus.TRUNCATED : ReadStatus.OK;
      return this.write(producer, SCRATCH_BASE, n < 0 ? maxOrders : n, accountId, requestId, gatewayId, status);
    }
    if (this.queued === MAX_PENDING_ORDER_SCANS) return READ_BACK_PRESSURED;
    const q = (this.head + this.queued) % MAX_PENDING_ORDER_SCANS;
    this.queued++;
    this.producer[q] = producer;
    this.accountId[q] = accountId;
    this.accountRow[q] = account;
    this.requestId[q] = requestId;
    this.gatewayId[q] = gatewayId;
    this.maxOrders[q] = maxOrders;
    this.scope[q] = scope === OrdersScope.ALL ? OrdersScope.ALL : OrdersScope.OPEN;
    this.nextSlot[q] = 0;
    this.truncated[q] = 0;
    this.foundCount[q] = 0;
    return ORDERS_QUEUED;
  }

  /**
   * Scans up to ORDER_SCAN_SLOTS_PER_ITERATION slots for the queued queries and answers the ones
   * done. Returns the work done (slots scanned + answers written; 0 when nothing is queued).
   */
  advance(): number {
    let budget = ORDER_SCAN_SLOTS_PER_ITERATION;
    let work = 0;
    while (this.queued > 0) {
      const q = this.head;
      const scanned = this.scan(q, budget);
      budget -= scanned;
      work += scanned;
      this.slotsScanned += scanned;
      if (!this.scanDone(q)) break; // the budget ran out inside this scan
      const base = this.foundBase(q);
      let n = this.foundCount[q]!;
      let status: number = this.truncated[q] === 1 ? ReadStatus.TRUNCATED : ReadStatus.OK;
      if (this.scope[q] === OrdersScope.ALL && status === ReadStatus.OK) {
        const finished = this.gatherFinished(this.accountRow[q]!, base, n, this.maxOrders[q]!);
        if (finished < 0) status = ReadStatus.TRUNCATED;
        n = finished < 0 ? this.maxOrders[q]! : finished;
      }
      const written = this.write(this.producer[q]!, base, n, this.accountId[q]!, this.requestId[q]!, this.gatewayId[q]!, status);
      if (written === READ_BACK_PRESSURED) break; // the reply ring is full: answer on a later iteration
      this.producer[q] = null;
      this.head = (q + 1) % MAX_PENDING_ORDER_SCANS;
      this.queued--;
      work++;
      if (budget === 0) break;
    }
    return work;
  }

  private foundBase(q: number): number {
    return q * MAX_ORDER_RECORDS;
  }

  /** Scans at most `budget` slots of entry q's scan; returns how many. */
  private scan(q: number, budget: number): number {
    const orders = this.state.orders;
    const account = this.accountRow[q]!;
    const base = this.foundBase(q);
    const max = this.maxOrders[q]!;
    let slot = this.nextSlot[q]!;
    const end = Math.min(orders.capacity, slot + budget);
    const accountRow = orders.accountRow;
    const phase = orders.phase;
    let count = this.foundCount[q]!;
    const start = slot;
    for (; slot < end; slot++) {
      if (accountRow[slot] !== account || phase[slot] !== OrderPhase.OPEN) continue;
      if (count === max) {
        count = this.compact(base, count);
        if (count === max) {
          this.truncated[q] = 1; // one more open order than the answer carries
          break;
        }
      }
      this.found[base + count] = slot;
      this.foundId[base + count] = orders.orderId[slot]!;
      count++;
    }
    this.foundCount[q] = count;
    this.nextSlot[q] = slot;
    return slot - start;
  }

  /** True when entry q's scan is over: the table's end, truncated, or every open order of the account found. */
  private scanDone(q: number): boolean {
    // Orders found earlier may have finished since (the scan spans iterations): drop them first.
    const count = this.compact(this.foundBase(q), this.foundCount[q]!);
    this.foundCount[q] = count;
    if (this.truncated[q] === 1 || this.nextSlot[q]! >= this.state.orders.capacity) return true;
    // Every kept slot is one of the account's open orders, so holding as many as the account has
    // open means holding all of them.
    return count >= this.state.accounts.openOrders[this.accountRow[q]!]!;
  }

  /** Drops found slots whose order finished or was forgotten since; returns the count left. */
  private compact(base: number, count: number): number {
    const orders = this.state.orders;
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const slot = this.found[base + i]!;
      if (orders.phase[slot] !== OrderPhase.OPEN || orders.orderId[slot] !== this.foundId[base + i]) continue;
      this.found[base + kept] = slot;
      this.foundId[base + kept] = this.foundId[base + i]!;
      kept++;
    }
    return kept;
  }

  /**
   * Appends the account's finished orders, newest first, after `count` found slots, up to `max`.
   * Returns the new count, or -1 when more finished orders remain (truncated at `max`).
   */
  private gatherFinished(account: number, base: number, count: number, max: number): number {
    const orders = this.state.orders;
    let slot = orders.acctFinTail[account]!;
    while (slot !== NO_SLOT) {
      if (count === max) return -1;
      this.found[base + count] = slot;
      this.foundId[base + count] = orders.orderId[slot]!;
      count++;
      slot = orders.acctFinPrev[slot]!;
    }
    return count;
  }

  /**
   * Writes `n` orders (slots at found[base..base+n)) as OrderRecords, or one NONE record when n is
   * 0. Returns the records written, or READ_BACK_PRESSURED when not even the first fits.
   */
  private write(producer: RingProducer, base: number, n: number, accountId: number, requestId: number, gatewayId: number, status: number): number {
    const records = n === 0 ? 1 : n;
    for (let i = 0; i < records; i++) {
      const at = claimAnswerRecord(producer, OrderRecord);
      if (at === BACK_PRESSURED) {
        if (i === 0) return READ_BACK_PRESSURED;
        // The records already claimed say more=1: the gateway waits for the rest and answers 503
        // after its reply bound. Only a gateway that stopped reading gets here.
        this.incomplete++;
        return i;
      }
      const view = producer.ring.view;
      clearBytes(view, at, OrderRecord.size);
      writeU32(view, at + O.requestId, requestId);
      writeU32(view, at + O.accountId, accountId);
      writeU16(view, at + O.gatewayId, gatewayId);
      writeU8(view, at + O.answerStatus, n === 0 ? ReadStatus.NONE : status);
      writeU8(view, at + O.more, i + 1 < records ? 1 : 0);
      if (n > 0) this.writeOrder(view, at, this.found[base + i]!);
      this.records++;
    }
    this.answers++;
    return records;
  }

  /** The order in `slot` as it stands, into the record at `at`. */
  private writeOrder(view: DataView, at: number, slot: number): void {
    const state = this.state;
    const orders = state.orders;
    writeI64(view, at + O.orderId, orders.orderId[slot]!);
    writeI64(view, at + O.price, orders.price[slot]!);
    writeI64(view, at + O.quantity, orders.quantity[slot]!);
    writeI64(view, at + O.filledQuantity, orders.cum[slot]!);
    writeI64(view, at + O.remainingQuantity, orders.phase[slot] === OrderPhase.OPEN ? orders.leaves[slot]! : 0);
    writeI64(view, at + O.lastPrice, orders.lastPrice[slot]!);
    writeI64(view, at + O.lastQuantity, orders.lastQuantity[slot]!);
    writeI64(view, at + O.creationTimeUs, orders.creationTimeUs[slot]!);
    writeU32(view, at + O.productId, state.products.productId[orders.productRow[slot]!]!);
    writeU16(view, at + O.reason, orders.lastReason[slot]!);
    writeU8(view, at + O.side, orders.side[slot]!);
    writeU8(view, at + O.status, orders.status[slot]!);
    writeU8(view, at + O.timeInForce, orders.timeInForce[slot]!);
    writeU8(view, at + O.flags, orders.flags[slot]!);
    // The client order id: ASCII, zero-padded, as the table holds it (the record is zeroed first).
    const from = slot * CLIENT_ORDER_ID_BYTES;
    for (let i = 0; i < CLIENT_ORDER_ID_BYTES; i++) {
      const c = orders.coid[from + i]!;
      if (c === 0) break;
      view.setUint8(at + O.clientOrderId + i, c);
    }
  }
}

/** An i64 field as a Number; anything beyond the safe range is no order id (0). */
function readSafeI64(view: DataView, at: number): number {
  const lo = view.getUint32(at, true);
  const hi = view.getInt32(at + 4, true);
  if (hi < 0 || hi > 0x1fffff) return 0;
  return hi * 4294967296 + lo;
}
