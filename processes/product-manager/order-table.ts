// Every order the product manager knows lives in one slot of this table: columns of typed arrays
// indexed by slot, no object per order. An order goes through these phases:
//
//   IN_FLIGHT  checked and reserved by this product manager, on its way to the sequencer; not yet
//              journaled, so not part of the state hash (a replay never sees this phase)
//   OPEN       its NewOrder is journaled and it is not finished (it may not be accepted yet)
//   FINISHED   filled, canceled, expired or rejected; kept for client-order-id idempotency and
//              order-status reads until the next TradingDayOpen or until evicted (see below)
//
// Finished orders sit in two FIFO lists threaded through the slots: one exchange-wide and one per
// account, both in the order the orders finished in the journal. When either list passes its bound
// its oldest order is forgotten, so hot, warm and replayed product managers forget the same ids.
//
// Order ids are safe integers (53 bits); the id index keys them by (high word, low word).

import { NewOrder } from '../../bus/schema';
import { assert } from './assert';
import { growFloat64, growInt32, growUint16, growUint32, growUint8 } from './columns';
import { highWord, NOT_FOUND, PairIndex } from './pair-index';

export const OrderPhase = { FREE: 0, IN_FLIGHT: 1, OPEN: 2, FINISHED: 3 } as const;
export type OrderPhase = (typeof OrderPhase)[keyof typeof OrderPhase];

/** Bytes of a client order id (the char field of NewOrder and ExecutionReport). */
export const CLIENT_ORDER_ID_BYTES = (NewOrder.fields.find((f) => f.name === 'clientOrderId') as { size: number }).size;

export const NO_SLOT = -1;

export class OrderTable {
  capacity: number;

  orderId: Float64Array;
  accountRow: Int32Array;
  productRow: Int32Array;
  side: Uint8Array;
  timeInForce: Uint8Array;
  flags: Uint8Array;
  /** OrderStatus as reported. */
  status: Uint8Array;
  phase: Uint8Array;

  /** The order as the engine has it (price, total quantity, filled, open); command values until the engine speaks. */
  price: Float64Array;
  quantity: Float64Array;
  cum: Float64Array;
  leaves: Float64Array;
  /** Price and quantity of the last journaled NewOrder/AmendOrder for it (the risk counters' baseline). */
  cmdPrice: Float64Array;
  cmdQuantity: Float64Array;
  /** The same for the last command checked here (live; leads cmd* by the commands in flight). */
  liveCmdPrice: Float64Array;
  liveCmdQuantity: Float64Array;
  /** Journaled amends the engine has not answered yet, and the highest price / quantity among them and the order. */
  pendingAmends: Int32Array;
  priceMax: Float64Array;
  quantityMax: Float64Array;
  /** Journal-derived reservation (cash for an inflow, units for an outflow). */
  reserved: Float64Array;
  /** Live only: extra held for this order's commands in flight (not hashed). */
  held: Float64Array;
  inFlight: Int32Array;
  inFlightPriceMax: Float64Array;
  inFlightQuantityMax: Float64Array;

  newSeq: Float64Array;
  creationTimeUs: Float64Array;
  lastPrice: Float64Array;
  lastQuantity: Float64Array;
  lastExecId: Float64Array;
  lastEventSeq: Float64Array;
  lastEventTimeUs: Float64Array;
  lastReason: Uint16Array;
  gatewayId: Uint16Array;
  requestId: Uint32Array;

  coid: Uint8Array;
  coidHash: Int32Array;
  hasCoid: Uint8Array;

  /** Exchange-wide finished FIFO (also the free list, through finNext, for FREE slots). */
  finPrev: Int32Array;
  finNext: Int32Array;
  acctFinPrev: Int32Array;
  acctFinNext: Int32Array;
  finHead = NO_SLOT;
  finTail = NO_SLOT;
  finCount = 0;
  readonly acctFinHead: Int32Array;
  readonly acctFinTail: Int32Array;
  readonly acctFinCount: Int32Array;

  private freeHead = NO_SLOT;
  inUse = 0;
  private readonly index: PairIndex;

  constructor(
    initialCapacity: number,
    readonly maxCapacity: number,
    maxAccounts: number,
  ) {
    assert(Number.isInteger(initialCapacity) && initialCapacity >= 2 && initialCapacity <= maxCapacity, 'order table capacity out of range');
    const n = initialCapacity;
    this.capacity = n;
    this.orderId = new Float64Array(n);
    this.accountRow = new Int32Array(n);
    this.productRow = new Int32Array(n);
    this.side = new Uint8Array(n);
    this.timeInForce = new Uint8Array(n);
    this.flags = new Uint8Array(n);
    this.status = new Uint8Array(n);
    this.phase = new Uint8Array(n);
    this.price = new Float64Array(n);
    this.quantity = new Float64Array(n);
    this.cum = new Float64Array(n);
    this.leaves = new Float64Array(n);
    this.cmdPrice = new Float64Array(n);
    this.cmdQuantity = new Float64Array(n);
    this.liveCmdPrice = new Float64Array(n);
    this.liveCmdQuantity = new Float64Array(n);
    this.pendingAmends = new Int32Array(n);
    this.priceMax = new Float64Array(n);
    this.quantityMax = new Float64Array(n);
    this.reserved = new Float64Array(n);
    this.held = new Float64Array(n);
    this.inFlight = new Int32Array(n);
    this.inFlightPriceMax = new Float64Array(n);
    this.inFlightQuantityMax = new Float64Array(n);
    this.newSeq = new Float64Array(n);
    this.creationTimeUs = new Float64Array(n);
    this.lastPrice = new Float64Array(n);
    this.lastQuantity = new Float64Array(n);
    this.lastExecId = new Float64Array(n);
    this.lastEventSeq = new Float64Array(n);
    this.lastEventTimeUs = new Float64Array(n);
    this.lastReason = new Uint16Array(n);
    this.gatewayId = new Uint16Array(n);
    this.requestId = new Uint32Array(n);
    this.coid = new Uint8Array(n * CLIENT_ORDER_ID_BYTES);
    this.coidHash = new Int32Array(n);
    this.hasCoid = new Uint8Array(n);
    this.finPrev = new Int32Array(n);
    this.finNext = new Int32Array(n);
    this.acctFinPrev = new Int32Array(n);
    this.acctFinNext = new Int32Array(n);
    this.acctFinHead = new Int32Array(maxAccounts).fill(NO_SLOT);
    this.acctFinTail = new Int32Array(maxAccounts).fill(NO_SLOT);
    this.acctFinCount = new Int32Array(maxAccounts);
    let indexCapacity = 2;
    while (indexCapacity < n * 2) indexCapacity *= 2;
    let indexMax = indexCapacity;
    while (indexMax < maxCapacity * 2) indexMax *= 2;
    this.index = new PairIndex('order id', indexCapacity, indexMax);
    this.threadFree(0, n);
  }

  /** True when one more order fits (the table may still have to grow). */
  get hasRoom(): boolean {
    return this.freeHead !== NO_SLOT || this.capacity * 2 <= this.maxCapacity;
  }

  find(orderId: number): number {
    return this.index.get(highWord(orderId), orderId >>> 0);
  }

  /** A zeroed slot for a new order id (which must not be present). */
  alloc(orderId: number): number {
    if (this.freeHead === NO_SLOT) this.grow();
    const slot = this.freeHead;
    this.freeHead = this.finNext[slot];
    assert(this.find(orderId) === NOT_FOUND, 'an order id is allocated twice');
    this.index.set(highWord(orderId), orderId >>> 0, slot);
    this.clearSlot(slot);
    this.orderId[slot] = orderId;
    this.inUse++;
    return slot;
  }

  /** Forgets an order: drops its id and returns the slot to the free list. Not for finished orders still listed. */
  free(slot: number): void {
    assert(this.phase[slot] !== OrderPhase.FREE, 'an order slot is freed twice');
    const removed = this.index.delete(highWord(this.orderId[slot]), this.orderId[slot] >>> 0);
    assert(removed, 'a live order slot must be in the order id index');
    this.phase[slot] = OrderPhase.FREE;
    this.finPrev[slot] = NO_SLOT;
    this.finNext[slot] = this.freeHead;
    this.freeHead = slot;
    this.inUse--;
  }

  /** Appends a just-finished order to both FIFO lists. */
  pushFinished(slot: number): void {
    const account = this.accountRow[slot];
    this.finPrev[slot] = this.finTail;
    this.finNext[slot] = NO_SLOT;
    if (this.finTail === NO_SLOT) this.finHead = slot;
    else this.finNext[this.finTail] = slot;
    this.finTail = slot;
    this.finCount++;
    const tail = this.acctFinTail[account];
    this.acctFinPrev[slot] = tail;
    this.acctFinNext[slot] = NO_SLOT;
    if (tail === NO_SLOT) this.acctFinHead[account] = slot;
    else this.acctFinNext[tail] = slot;
    this.acctFinTail[account] = slot;
    this.acctFinCount[account]++;
  }

  /** Removes a finished order from both FIFO lists (before free). */
  unlinkFinished(slot: number): void {
    const prev = this.finPrev[slot];
    const next = this.finNext[slot];
    if (prev === NO_SLOT) this.finHead = next;
    else this.finNext[prev] = next;
    if (next === NO_SLOT) this.finTail = prev;
    else this.finPrev[next] = prev;
    this.finCount--;
    const account = this.accountRow[slot];
    const aPrev = this.acctFinPrev[slot];
    const aNext = this.acctFinNext[slot];
    if (aPrev === NO_SLOT) this.acctFinHead[account] = aNext;
    else this.acctFinNext[aPrev] = aNext;
    if (aNext === NO_SLOT) this.acctFinTail[account] = aPrev;
    else this.acctFinPrev[aNext] = aPrev;
    this.acctFinCount[account]--;
    this.finPrev[slot] = NO_SLOT;
    this.finNext[slot] = NO_SLOT;
    this.acctFinPrev[slot] = NO_SLOT;
    this.acctFinNext[slot] = NO_SLOT;
  }

  private clearSlot(slot: number): void {
    this.accountRow[slot] = 0;
    this.productRow[slot] = 0;
    this.side[slot] = 0;
    this.timeInForce[slot] = 0;
    this.flags[slot] = 0;
    this.status[slot] = 0;
    this.phase[slot] = OrderPhase.FREE;
    this.price[slot] = 0;
    this.quantity[slot] = 0;
    this.cum[slot] = 0;
    this.leaves[slot] = 0;
    this.cmdPrice[slot] = 0;
    this.cmdQuantity[slot] = 0;
    this.liveCmdPrice[slot] = 0;
    this.liveCmdQuantity[slot] = 0;
    this.pendingAmends[slot] = 0;
    this.priceMax[slot] = 0;
    this.quantityMax[slot] = 0;
    this.reserved[slot] = 0;
    this.held[slot] = 0;
    this.inFlight[slot] = 0;
    this.inFlightPriceMax[slot] = 0;
    this.inFlightQuantityMax[slot] = 0;
    this.newSeq[slot] = 0;
    this.creationTimeUs[slot] = 0;
    this.lastPrice[slot] = 0;
    this.lastQuantity[slot] = 0;
    this.lastExecId[slot] = 0;
    this.lastEventSeq[slot] = 0;
    this.lastEventTimeUs[slot] = 0;
    this.lastReason[slot] = 0;
    this.gatewayId[slot] = 0;
    this.requestId[slot] = 0;
    this.coid.fill(0, slot * CLIENT_ORDER_ID_BYTES, (slot + 1) * CLIENT_ORDER_ID_BYTES);
    this.coidHash[slot] = 0;
    this.hasCoid[slot] = 0;
    this.finPrev[slot] = NO_SLOT;
    this.finNext[slot] = NO_SLOT;
    this.acctFinPrev[slot] = NO_SLOT;
    this.acctFinNext[slot] = NO_SLOT;
  }

  private grow(): void {
    const old = this.capacity;
    const n = old * 2;
    assert(n <= this.maxCapacity, 'the order table is full (callers check hasRoom first)');
    this.orderId = growFloat64(this.orderId, n);
    this.accountRow = growInt32(this.accountRow, n);
    this.productRow = growInt32(this.productRow, n);
    this.side = growUint8(this.side, n);
    this.timeInForce = growUint8(this.timeInForce, n);
    this.flags = growUint8(this.flags, n);
    this.status = growUint8(this.status, n);
    this.phase = growUint8(this.phase, n);
    this.price = growFloat64(this.price, n);
    this.quantity = growFloat64(this.quantity, n);
    this.cum = growFloat64(this.cum, n);
    this.leaves = growFloat64(this.leaves, n);
    this.cmdPrice = growFloat64(this.cmdPrice, n);
    this.cmdQuantity = growFloat64(this.cmdQuantity, n);
    this.liveCmdPrice = growFloat64(this.liveCmdPrice, n);
    this.liveCmdQuantity = growFloat64(this.liveCmdQuantity, n);
    this.pendingAmends = growInt32(this.pendingAmends, n);
    this.priceMax = growFloat64(this.priceMax, n);
    this.quantityMax = growFloat64(this.quantityMax, n);
    this.reserved = growFloat64(this.reserved, n);
    this.held = growFloat64(this.held, n);
    this.inFlight = growInt32(this.inFlight, n);
    this.inFlightPriceMax = growFloat64(this.inFlightPriceMax, n);
    this.inFlightQuantityMax = growFloat64(this.inFlightQuantityMax, n);
    this.newSeq = growFloat64(this.newSeq, n);
    this.creationTimeUs = growFloat64(this.creationTimeUs, n);
    this.lastPrice = growFloat64(this.lastPrice, n);
    this.lastQuantity = growFloat64(this.lastQuantity, n);
    this.lastExecId = growFloat64(this.lastExecId, n);
    this.lastEventSeq = growFloat64(this.lastEventSeq, n);
    this.lastEventTimeUs = growFloat64(this.lastEventTimeUs, n);
    this.lastReason = growUint16(this.lastReason, n);
    this.gatewayId = growUint16(this.gatewayId, n);
    this.requestId = growUint32(this.requestId, n);
    this.coid = growUint8(this.coid, n * CLIENT_ORDER_ID_BYTES);
    this.coidHash = growInt32(this.coidHash, n);
    this.hasCoid = growUint8(this.hasCoid, n);
    this.finPrev = growInt32(this.finPrev, n);
    this.finNext = growInt32(this.finNext, n);
    this.acctFinPrev = growInt32(this.acctFinPrev, n);
    this.acctFinNext = growInt32(this.acctFinNext, n);
    this.capacity = n;
    this.threadFree(old, n);
  }

  /** Pushes slots [from, to) on the free stack so that `from` is handed out first. */
  private threadFree(from: number, to: number): void {
    for (let slot = to - 1; slot >= from; slot--) {
      this.phase[slot] = OrderPhase.FREE;
      this.finNext[slot] = this.freeHead;
      this.freeHead = slot;
    }
  }
}
