// One product's order book: price-time (FIFO) priority matching of limit orders, resting, cancel,
// amend, self-trade prevention, day expiry. The book validates nothing a command carries (the
// Engine did that); it holds the rules of matching and reports every state change to the sink.
//
// Output order is part of the contract (the reference model in test/reference-book.ts and the warm
// engine reproduce it exactly): each change is reported where it happens, and every change of a
// price level is followed at once by that level's new aggregate (onBookLevel).
//
//   new order:  Rejected POST_ONLY_WOULD_TAKE (post-only that would take), or
//               Canceled FOK_NOT_FILLABLE (a FOK that cannot fill completely; nothing else), or
//               [Fill, BookLevel]* ... then one of: Accepted + BookLevel (rests) |
//               Canceled IOC_REMAINDER | nothing more (filled) | Canceled SELF_TRADE
//   amend:      Amended, then either BookLevel (kept priority / same price) or
//               BookLevel(old level), [Fill, BookLevel]*, BookLevel(new level) if it rests
//
// Self-trade prevention (an inflow and an outflow of the same account never match) applies when the
// incoming order reaches a resting order of its own account, per the book's policy:
//   CANCEL_NEWEST         the incoming order's remainder is canceled; matching stops.
//   CANCEL_OLDEST         the resting order is canceled; matching continues.
//   CANCEL_BOTH           the resting order, then the incoming remainder, are canceled.
//   DECREMENT_AND_CANCEL  both shrink by the smaller open quantity (reported as cancels, the
//                         resting one first); an order that reaches 0 is canceled; matching
//                         continues while the incoming order has quantity left.

import { CancelReason, OrderFlags, RejectReason, SelfTradePolicy, Side, TimeInForce } from '../../bus/enums';
import { assert } from './assert';
import { BookSide } from './book-side';
import type { EngineContext } from './engine-context';
import { INITIAL_LEVELS_PER_SIDE } from './engine-limits';
import {
  ID_SHIFT,
  LEVEL_MASK,
  NO_SLOT,
  ORDER_SHIFT,
  TIF_MASK,
  TIF_SHIFT,
  W_ACCOUNT,
  W_CUM,
  W_LEAVES,
  W_LEVEL,
  W_NEXT,
  W_PREV,
} from './order-pool';
import { TerminalState } from './terminal-order-memory';

const TAKER_OPEN = 0;
const TAKER_FILLED = 1;
const TAKER_CANCELED = 2;

const INFLOW = Side.INFLOW;
const DAY = TimeInForce.DAY;
/** W_LEVEL with the level field cleared (keeps timeInForce and flags). */
const NOT_LEVEL_MASK = ~LEVEL_MASK;

export class OrderBook {
  halted = false;
  delisted = false;
  readonly bids: BookSide;
  readonly asks: BookSide;
  /** Resting orders in this book, and how many of them are DAY orders (the day close skips books without any). */
  restingOrders = 0;
  dayOrders = 0;

  constructor(
    private readonly ctx: EngineContext,
    readonly bookIndex: number,
    readonly productId: number,
    readonly tickSize: number,
    readonly lotSize: number,
    readonly selfTradePolicy: number,
  ) {
    this.bids = new BookSide(Side.INFLOW, INITIAL_LEVELS_PER_SIDE);
    this.asks = new BookSide(Side.OUTFLOW, INITIAL_LEVELS_PER_SIDE);
  }

  /** True when an order of `side` limited at priceTicks would match at least one resting order. */
  wouldTake(side: number, priceTicks: number): boolean {
    const opposite = side === INFLOW ? this.asks : this.bids;
    if (opposite.size === 0) return false;
    const bestTicks = this.ctx.levels.priceTicks[opposite.levels[opposite.size - 1]];
    return side === INFLOW ? bestTicks <= priceTicks : bestTicks >= priceTicks;
  }

  /**
   * Whether an incoming order would be filled completely right now, self-trade prevention included:
   * under CANCEL_OLDEST its own resting orders are skipped (they would be canceled); under the other
   * policies reaching one of them would cancel or shrink the incoming order, so liquidity behind it
   * does not count.
   */
  canFillCompletely(side: number, priceTicks: number, quantity: number, accountId: number): boolean {
    const w = this.ctx.pool.words;
    const levels = this.ctx.levels;
    const opposite = side === INFLOW ? this.asks : this.bids;
    const skipOwn = this.selfTradePolicy === SelfTradePolicy.CANCEL_OLDEST;
    const account = accountId | 0; // as stored in the W_ACCOUNT word
    let available = 0;
    for (let i = opposite.size - 1; i >= 0; i--) {
      const level = opposite.levels[i];
      const levelTicks = levels.priceTicks[level];
      if (side === INFLOW ? levelTicks > priceTicks : levelTicks < priceTicks) return false;
      for (let slot = levels.head[level]; slot !== NO_SLOT; slot = w[(slot << ORDER_SHIFT) + W_NEXT]) {
        const o = slot << ORDER_SHIFT;
        if (w[o + W_ACCOUNT] === account) {
          if (skipOwn) continue;
          return false;
        }
        available += w[o + W_LEAVES];
        if (available >= quantity) return true;
      }
    }
    return false;
  }

  /** A validated new order (price in ticks, not a duplicate). */
  submitNew(
    orderId: number,
    accountId: number,
    side: number,
    priceTicks: number,
    quantity: number,
    timeInForce: number,
    flags: number,
  ): void {
    const ctx = this.ctx;
    if ((flags & OrderFlags.POST_ONLY) !== 0 && this.wouldTake(side, priceTicks)) {
      ctx.reject(orderId, accountId, this.productId, RejectReason.POST_ONLY_WOULD_TAKE);
      return;
    }
    if (timeInForce === TimeInForce.FOK && !this.canFillCompletely(side, priceTicks, quantity, accountId)) {
      ctx.sink.onCanceled(
        ctx.inSeq,
        ctx.outIndex++,
        orderId,
        accountId,
        this.productId,
        side,
        priceTicks * this.tickSize,
        quantity,
        0,
        CancelReason.FOK_NOT_FILLABLE,
      );
      ctx.terminal.remember(orderId, accountId, this.productId, TerminalState.CANCELED);
      return;
    }
    const slot = ctx.pool.alloc(orderId, accountId, quantity, timeInForce, flags);
    this.takeThenRest(slot, side, priceTicks, true);
  }

  /** A user cancel, a self-trade cancel of a resting order, or a delisting. */
  cancelResting(slot: number, reason: number): void {
    const ctx = this.ctx;
    const w = ctx.pool.words;
    const levels = ctx.levels;
    const o = slot << ORDER_SHIFT;
    const level = (w[o + W_LEVEL] & LEVEL_MASK) - 1;
    const side = levels.side[level];
    const price = levels.priceTicks[level] * this.tickSize;
    ctx.sink.onCanceled(
      ctx.inSeq,
      ctx.outIndex++,
      ctx.pool.ids[slot << ID_SHIFT],
      w[o + W_ACCOUNT] >>> 0,
      this.productId,
      side,
      price,
      w[o + W_LEAVES],
      0,
      reason,
    );
    const left = this.removeFromLevel(slot, level);
    this.publishLevel(side, level, price, left);
    this.finish(slot, TerminalState.CANCELED, true);
  }

  /**
   * A validated amend of a resting order (new total quantity > filled, something changes).
   * Reducing the quantity at the same price keeps time priority; any other change moves the order to
   * the back of its (new) level, and a new price may cross the book, in which case the order takes
   * liquidity first, exactly like a new order.
   */
  amend(slot: number, newTicks: number, newQuantity: number): void {
    const ctx = this.ctx;
    const w = ctx.pool.words;
    const levels = ctx.levels;
    const o = slot << ORDER_SHIFT;
    const level = (w[o + W_LEVEL] & LEVEL_MASK) - 1;
    const side = levels.side[level];
    const oldTicks = levels.priceTicks[level];
    const oldLeaves = w[o + W_LEAVES];
    const newLeaves = newQuantity - w[o + W_CUM];
    const oldPrice = oldTicks * this.tickSize;
    const newPrice = newTicks * this.tickSize;
    assert(newLeaves > 0, 'amend must leave open quantity (the engine validates newQuantity > filled)');

    if (newTicks === oldTicks && newLeaves < oldLeaves) {
      w[o + W_LEAVES] = newLeaves;
      levels.quantity[level] -= oldLeaves - newLeaves;
      this.publishAmended(slot, side, oldPrice, newPrice, newQuantity, newLeaves, false);
      this.publishLevel(side, level, oldPrice, levels.orderCount[level]);
      return;
    }

    this.publishAmended(slot, side, oldPrice, newPrice, newQuantity, newLeaves, true);
    if (newTicks === oldTicks) {
      // More quantity at the same price: to the back of the same queue. The book is not crossed at
      // rest, so an order at an existing resting price cannot match; no level is created or removed.
      this.moveToTail(slot, level);
      w[o + W_LEAVES] = newLeaves;
      levels.quantity[level] += newLeaves - oldLeaves;
      this.publishLevel(side, level, oldPrice, levels.orderCount[level]);
      return;
    }
    const left = this.removeFromLevel(slot, level);
    this.publishLevel(side, level, oldPrice, left);
    w[o + W_LEAVES] = newLeaves;
    this.takeThenRest(slot, side, newTicks, false);
  }

  /** Expires every resting DAY order, inflows then outflows, each from the best level down, FIFO. */
  expireDayOrders(): void {
    if (this.dayOrders === 0) return;
    this.expireSide(this.bids);
    this.expireSide(this.asks);
    assert(this.dayOrders === 0, 'no DAY order may rest after the day close');
  }

  /** Cancels every resting order (delisting), in the same order as the day close. */
  cancelAll(reason: number): void {
    this.cancelSide(this.bids, reason);
    this.cancelSide(this.asks, reason);
    assert(this.restingOrders === 0 && this.bids.size === 0 && this.asks.size === 0, 'a book must be empty after cancelAll');
  }

  /** Appends a resting order without emitting anything (snapshot restore). */
  restoreOrder(
    orderId: number,
    accountId: number,
    side: number,
    priceTicks: number,
    leaves: number,
    cum: number,
    timeInForce: number,
    flags: number,
  ): void {
    const pool = this.ctx.pool;
    const slot = pool.alloc(orderId, accountId, leaves, timeInForce, flags);
    pool.words[(slot << ORDER_SHIFT) + W_CUM] = cum;
    this.linkAtTail(slot, side, priceTicks);
    this.ctx.index.insert(orderId, slot);
  }

  // --- matching ------------------------------------------------------------------------------

  /** Matches an incoming (or re-priced) order, then rests it, cancels its IOC remainder, or retires it. */
  private takeThenRest(slot: number, side: number, priceTicks: number, isNew: boolean): void {
    const ctx = this.ctx;
    const outcome = this.match(slot, side, priceTicks);
    if (outcome === TAKER_FILLED) {
      this.finish(slot, TerminalState.FILLED, !isNew);
      return;
    }
    if (outcome === TAKER_CANCELED) {
      this.finish(slot, TerminalState.CANCELED, !isNew);
      return;
    }
    const w = ctx.pool.words;
    const o = slot << ORDER_SHIFT;
    const timeInForce = (w[o + W_LEVEL] >>> TIF_SHIFT) & TIF_MASK;
    assert(timeInForce !== TimeInForce.FOK, 'a FOK order that passed its fill check must be filled completely');
    const price = priceTicks * this.tickSize;
    if (timeInForce === TimeInForce.IOC) {
      ctx.sink.onCanceled(
        ctx.inSeq,
        ctx.outIndex++,
        ctx.pool.ids[slot << ID_SHIFT],
        w[o + W_ACCOUNT] >>> 0,
        this.productId,
        side,
        price,
        w[o + W_LEAVES],
        0,
        CancelReason.IOC_REMAINDER,
      );
      this.finish(slot, TerminalState.CANCELED, false);
      return;
    }
    if (isNew) {
      const orderId = ctx.pool.ids[slot << ID_SHIFT];
      const leaves = w[o + W_LEAVES];
      ctx.sink.onAccepted(ctx.inSeq, ctx.outIndex++, orderId, w[o + W_ACCOUNT] >>> 0, this.productId, side, price, leaves + w[o + W_CUM], leaves);
      ctx.index.insert(orderId, slot);
    }
    const level = this.linkAtTail(slot, side, priceTicks);
    this.publishLevel(side, level, price, ctx.levels.orderCount[level]);
  }

  /**
   * Walks the opposite side from its best level while the taker's limit crosses it, oldest order
   * first, executing every match at the resting order's price. Returns TAKER_OPEN (quantity left),
   * TAKER_FILLED or TAKER_CANCELED (by self-trade prevention).
   */
  private match(taker: number, takerSide: number, limitTicks: number): number {
    const ctx = this.ctx;
    // No slot is allocated while matching, so the pool's views cannot be replaced under us.
    const w = ctx.pool.words;
    const ids = ctx.pool.ids;
    const levels = ctx.levels;
    const sink = ctx.sink;
    const opposite = takerSide === INFLOW ? this.asks : this.bids;
    const makerSide = opposite.side;
    const productId = this.productId;
    const tickSize = this.tickSize;
    const t = taker << ORDER_SHIFT;
    const takerId = ids[taker << ID_SHIFT];
    const takerAccountWord = w[t + W_ACCOUNT];
    const takerAccount = takerAccountWord >>> 0;
    let takerLeaves = w[t + W_LEAVES];
    let takerCum = w[t + W_CUM];

    while (opposite.size > 0) {
      const level = opposite.levels[opposite.size - 1];
      const levelTicks = levels.priceTicks[level];
      if (takerSide === INFLOW ? levelTicks > limitTicks : levelTicks < limitTicks) break;
      const price = levelTicks * tickSize;
      let maker = levels.head[level];
      while (maker !== NO_SLOT) {
        const m = maker << ORDER_SHIFT;
        const nextMaker = w[m + W_NEXT];
        const makerAccountWord = w[m + W_ACCOUNT];
        if (makerAccountWord === takerAccountWord) {
          w[t + W_LEAVES] = takerLeaves;
          w[t + W_CUM] = takerCum;
          const outcome = this.preventSelfTrade(taker, takerSide, limitTicks, maker, level, price);
          if (outcome !== TAKER_OPEN) return outcome;
          takerLeaves = w[t + W_LEAVES];
        } else {
          const makerLeaves = w[m + W_LEAVES];
          const quantity = takerLeaves < makerLeaves ? takerLeaves : makerLeaves;
          const makerLeft = makerLeaves - quantity;
          const makerCum = w[m + W_CUM] + quantity;
          takerLeaves -= quantity;
          takerCum += quantity;
          w[m + W_LEAVES] = makerLeft;
          w[m + W_CUM] = makerCum;
          levels.quantity[level] -= quantity;
          sink.onFill(
            ctx.inSeq,
            ctx.outIndex++,
            ctx.nextExecId++,
            productId,
            price,
            quantity,
            takerSide,
            ids[maker << ID_SHIFT],
            makerAccountWord >>> 0,
            makerLeft,
            makerCum,
            takerId,
            takerAccount,
            takerLeaves,
            takerCum,
          );
          if (makerLeft === 0) {
            const left = this.removeFromLevel(maker, level);
            this.publishLevel(makerSide, level, price, left);
            this.finish(maker, TerminalState.FILLED, true);
          } else {
            this.publishLevel(makerSide, level, price, levels.orderCount[level]);
          }
          if (takerLeaves === 0) {
            w[t + W_LEAVES] = 0;
            w[t + W_CUM] = takerCum;
            return TAKER_FILLED;
          }
        }
        maker = nextMaker;
      }
    }
    w[t + W_LEAVES] = takerLeaves;
    w[t + W_CUM] = takerCum;
    return TAKER_OPEN;
  }

  /** The taker reached a resting order of its own account; see the policy table at the top. */
  private preventSelfTrade(
    taker: number,
    takerSide: number,
    limitTicks: number,
    maker: number,
    level: number,
    price: number,
  ): number {
    const ctx = this.ctx;
    const w = ctx.pool.words;
    const levels = ctx.levels;
    const t = taker << ORDER_SHIFT;
    const m = maker << ORDER_SHIFT;
    const takerPrice = limitTicks * this.tickSize;
    switch (this.selfTradePolicy) {
      case SelfTradePolicy.CANCEL_NEWEST:
        this.publishTakerCanceled(taker, takerSide, takerPrice, w[t + W_LEAVES], 0);
        return TAKER_CANCELED;
      case SelfTradePolicy.CANCEL_OLDEST:
        this.cancelResting(maker, CancelReason.SELF_TRADE);
        return TAKER_OPEN;
      case SelfTradePolicy.CANCEL_BOTH:
        this.cancelResting(maker, CancelReason.SELF_TRADE);
        this.publishTakerCanceled(taker, takerSide, takerPrice, w[t + W_LEAVES], 0);
        return TAKER_CANCELED;
      case SelfTradePolicy.DECREMENT_AND_CANCEL: {
        const takerLeaves = w[t + W_LEAVES];
        const makerLeaves = w[m + W_LEAVES];
        const decrement = takerLeaves < makerLeaves ? takerLeaves : makerLeaves;
        if (makerLeaves === decrement) {
          this.cancelResting(maker, CancelReason.SELF_TRADE);
        } else {
          const makerLeft = makerLeaves - decrement;
          w[m + W_LEAVES] = makerLeft;
          levels.quantity[level] -= decrement;
          ctx.sink.onCanceled(
            ctx.inSeq,
            ctx.outIndex++,
            ctx.pool.ids[maker << ID_SHIFT],
            w[m + W_ACCOUNT] >>> 0,
            this.productId,
            levels.side[level],
            price,
            decrement,
            makerLeft,
            CancelReason.SELF_TRADE,
          );
          this.publishLevel(levels.side[level], level, price, levels.orderCount[level]);
        }
        const takerLeft = takerLeaves - decrement;
        w[t + W_LEAVES] = takerLeft;
        this.publishTakerCanceled(taker, takerSide, takerPrice, decrement, takerLeft);
        return takerLeft === 0 ? TAKER_CANCELED : TAKER_OPEN;
      }
      default:
        throw new Error(`matching-engine invariant broken: product ${this.productId} has self-trade policy ${this.selfTradePolicy}`);
    }
  }

  // --- resting orders and levels --------------------------------------------------------------

  /** Queues a slot at the back of its price level, creating the level when it is new. */
  private linkAtTail(slot: number, side: number, priceTicks: number): number {
    const levels = this.ctx.levels;
    const bookSide = side === INFLOW ? this.bids : this.asks;
    const key = bookSide.sign * priceTicks;
    const i = bookSide.lowerBound(key);
    let level: number;
    if (i < bookSide.size && bookSide.keys[i] === key) {
      level = bookSide.levels[i];
    } else {
      level = levels.alloc(this.bookIndex, side, priceTicks);
      bookSide.insertAt(i, priceTicks, level);
    }
    const w = this.ctx.pool.words;
    const o = slot << ORDER_SHIFT;
    const tail = levels.tail[level];
    w[o + W_PREV] = tail;
    w[o + W_NEXT] = NO_SLOT;
    if (tail === NO_SLOT) levels.head[level] = slot;
    else w[(tail << ORDER_SHIFT) + W_NEXT] = slot;
    levels.tail[level] = slot;
    levels.quantity[level] += w[o + W_LEAVES];
    levels.orderCount[level]++;
    const packed = (w[o + W_LEVEL] & NOT_LEVEL_MASK) | (level + 1);
    w[o + W_LEVEL] = packed;
    this.restingOrders++;
    if (((packed >>> TIF_SHIFT) & TIF_MASK) === DAY) this.dayOrders++;
    return level;
  }

  /** Unlinks a resting order; removes its level when it was the last one. Returns the orders left there. */
  private removeFromLevel(slot: number, level: number): number {
    const w = this.ctx.pool.words;
    const levels = this.ctx.levels;
    const o = slot << ORDER_SHIFT;
    const prev = w[o + W_PREV];
    const next = w[o + W_NEXT];
    if (prev === NO_SLOT) levels.head[level] = next;
    else w[(prev << ORDER_SHIFT) + W_NEXT] = next;
    if (next === NO_SLOT) levels.tail[level] = prev;
    else w[(next << ORDER_SHIFT) + W_PREV] = prev;
    w[o + W_PREV] = NO_SLOT;
    w[o + W_NEXT] = NO_SLOT;
    const packed = w[o + W_LEVEL] & NOT_LEVEL_MASK;
    w[o + W_LEVEL] = packed;
    levels.quantity[level] -= w[o + W_LEAVES];
    const left = levels.orderCount[level] - 1;
    levels.orderCount[level] = left;
    this.restingOrders--;
    if (((packed >>> TIF_SHIFT) & TIF_MASK) === DAY) this.dayOrders--;
    if (left === 0) {
      assert(levels.quantity[level] === 0, 'an empty level must have zero aggregate quantity');
      const bookSide = levels.side[level] === INFLOW ? this.bids : this.asks;
      // The emptied level is usually the best one (matching consumes from the top).
      const top = bookSide.size - 1;
      const index = bookSide.levels[top] === level ? top : bookSide.indexOf(levels.priceTicks[level]);
      assert(index >= 0 && bookSide.levels[index] === level, 'a level being removed must be in its book side');
      bookSide.removeAt(index);
      levels.release(level);
    }
    return left;
  }

  private moveToTail(slot: number, level: number): void {
    const w = this.ctx.pool.words;
    const levels = this.ctx.levels;
    const tail = levels.tail[level];
    if (tail === slot) return;
    const o = slot << ORDER_SHIFT;
    const prev = w[o + W_PREV];
    const next = w[o + W_NEXT];
    if (prev === NO_SLOT) levels.head[level] = next;
    else w[(prev << ORDER_SHIFT) + W_NEXT] = next;
    w[(next << ORDER_SHIFT) + W_PREV] = prev; // next exists: slot is not the tail
    w[o + W_PREV] = tail;
    w[o + W_NEXT] = NO_SLOT;
    w[(tail << ORDER_SHIFT) + W_NEXT] = slot;
    levels.tail[level] = slot;
  }

  /** Retires an order that left the book (or never entered it): remember its final state, free its slot. */
  private finish(slot: number, state: number, indexed: boolean): void {
    const ctx = this.ctx;
    const pool = ctx.pool;
    const orderId = pool.ids[slot << ID_SHIFT];
    ctx.terminal.remember(orderId, pool.words[(slot << ORDER_SHIFT) + W_ACCOUNT] >>> 0, this.productId, state);
    if (indexed) {
      const removed = ctx.index.delete(orderId, slot);
      assert(removed, 'a resting order must be in the order-id index');
    }
    pool.release(slot);
  }

  private expireSide(bookSide: BookSide): void {
    const ctx = this.ctx;
    const w = ctx.pool.words;
    const levels = ctx.levels;
    // From the best level down. Removing level i shifts only the levels above it, which are done.
    for (let i = bookSide.size - 1; i >= 0; i--) {
      const level = bookSide.levels[i];
      const side = levels.side[level];
      const price = levels.priceTicks[level] * this.tickSize;
      let slot = levels.head[level];
      while (slot !== NO_SLOT) {
        const o = slot << ORDER_SHIFT;
        const next = w[o + W_NEXT];
        if (((w[o + W_LEVEL] >>> TIF_SHIFT) & TIF_MASK) === DAY) {
          ctx.sink.onExpired(
            ctx.inSeq,
            ctx.outIndex++,
            ctx.pool.ids[slot << ID_SHIFT],
            w[o + W_ACCOUNT] >>> 0,
            this.productId,
            side,
            price,
            w[o + W_LEAVES],
          );
          const left = this.removeFromLevel(slot, level);
          this.publishLevel(side, level, price, left);
          this.finish(slot, TerminalState.EXPIRED, true);
        }
        slot = next;
      }
    }
  }

  private cancelSide(bookSide: BookSide, reason: number): void {
    const w = this.ctx.pool.words;
    const levels = this.ctx.levels;
    for (let i = bookSide.size - 1; i >= 0; i--) {
      let slot = levels.head[bookSide.levels[i]];
      while (slot !== NO_SLOT) {
        const next = w[(slot << ORDER_SHIFT) + W_NEXT];
        this.cancelResting(slot, reason);
        slot = next;
      }
    }
  }

  // --- outputs -----------------------------------------------------------------------------------

  private publishLevel(side: number, level: number, price: number, orderCount: number): void {
    const ctx = this.ctx;
    ctx.sink.onBookLevel(
      ctx.inSeq,
      ctx.outIndex++,
      this.productId,
      side,
      price,
      orderCount === 0 ? 0 : ctx.levels.quantity[level],
      orderCount,
    );
  }

  private publishAmended(
    slot: number,
    side: number,
    oldPrice: number,
    newPrice: number,
    newQuantity: number,
    leaves: number,
    lostPriority: boolean,
  ): void {
    const ctx = this.ctx;
    ctx.sink.onAmended(
      ctx.inSeq,
      ctx.outIndex++,
      ctx.pool.ids[slot << ID_SHIFT],
      ctx.pool.words[(slot << ORDER_SHIFT) + W_ACCOUNT] >>> 0,
      this.productId,
      side,
      oldPrice,
      newPrice,
      newQuantity,
      leaves,
      lostPriority,
    );
  }

  private publishTakerCanceled(taker: number, side: number, price: number, canceled: number, leaves: number): void {
    const ctx = this.ctx;
    ctx.sink.onCanceled(
      ctx.inSeq,
      ctx.outIndex++,
      ctx.pool.ids[taker << ID_SHIFT],
      ctx.pool.words[(taker << ORDER_SHIFT) + W_ACCOUNT] >>> 0,
      this.productId,
      side,
      price,
      canceled,
      leaves,
      CancelReason.SELF_TRADE,
    );
  }
}
