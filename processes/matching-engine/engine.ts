// The matching engine: every listed product's order book, behind one command API. A pure,
// deterministic function of the sequenced commands: it reads no clock and no randomness, performs
// no I/O, and iterates nothing whose order could differ between runs. Replaying the same journal
// into a fresh engine (or restoring a snapshot and replaying the rest) yields the same outputs and
// the same state hash.
//
// Every command method takes the command's journal sequence (inSeq, strictly increasing) and the
// sequencer's timestamp, then the command's fields as numbers. Order commands report everything
// through the EngineSink and return how many outputs they emitted; product administration returns
// a RejectReason (NONE on success). Validation rejects (with a reason code) anything a hostile or
// buggy client could send; assertions guard only what the engine itself must keep true.

import { CancelReason, OrderFlags, RejectReason, SelfTradePolicy, Side, TimeInForce } from '../../bus/enums';
import { native } from '../../native/addon';
import { assert, EngineInvariantError } from './assert';
import { EngineContext } from './engine-context';
import {
  INITIAL_LEVEL_CAPACITY,
  INITIAL_ORDER_CAPACITY,
  INITIAL_ORDER_INDEX_CAPACITY,
  MAX_LISTINGS,
  MAX_ORDER_CAPACITY,
  MAX_ORDER_QUANTITY,
  TERMINAL_ORDER_MEMORY_CAPACITY,
} from './engine-limits';
import type { EngineSink } from './engine-sink';
import { LevelPool } from './level-pool';
import { NOT_FOUND, OrderIdIndex } from './order-id-index';
import { OrderBook } from './order-book';
import { FLAGS_SHIFT, ID_SHIFT, LEVEL_MASK, ORDER_SHIFT, OrderPool, W_ACCOUNT, W_CUM, W_LEAVES, W_LEVEL } from './order-pool';
import {
  ByteCounter,
  ByteReader,
  ByteWriter,
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_MAGIC,
  SNAPSHOT_OFFSET,
  SNAPSHOT_VERSION,
  type StateHash,
  StateHasher,
  type StateWriter,
} from './state-encoding';
import { TerminalOrderMemory, TerminalState } from './terminal-order-memory';

export interface EngineOptions {
  /** Self-trade policy of products listed with policy 0. Default CANCEL_NEWEST. */
  readonly selfTradePolicy?: number;
  readonly initialOrderCapacity?: number;
  readonly maxOrderCapacity?: number;
  readonly initialLevelCapacity?: number;
  readonly initialOrderIndexCapacity?: number;
  /** Entries of the finished-order memory, a power of two (see TERMINAL_ORDER_MEMORY_CAPACITY). A snapshot carries its own. */
  readonly terminalOrderMemoryCapacity?: number;
}

/** One price level, for inspection (tests, tools, `ims status`); allocates, never on the hot path. */
export interface LevelView {
  readonly price: number;
  readonly quantity: number;
  readonly orderCount: number;
}

/** One resting order, for inspection. quantity = leavesQuantity + cumQuantity. */
export interface RestingOrderView {
  readonly orderId: number;
  readonly accountId: number;
  readonly productId: number;
  readonly side: number;
  readonly price: number;
  readonly quantity: number;
  readonly leavesQuantity: number;
  readonly cumQuantity: number;
  readonly timeInForce: number;
  readonly flags: number;
}

function isPositiveSafeInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

/** Account and product ids are u32 on the wire (bus/schema.ts) and in the engine's records; 0 is none. */
function isU32Id(value: number): boolean {
  return value >>> 0 === value && value !== 0;
}

/**
 * value / unit when value is a positive safe integer multiple of unit (a positive safe integer),
 * else 0. Division instead of `%`: on doubles `%` is a call to fmod, several times slower, and
 * every price and quantity passes here. For safe integers the quotient of an exact multiple is
 * exact, and a non-multiple's quotient is at least 1/unit away from an integer, which is more than
 * its rounding error, so the integer test is exact.
 */
function unitsOf(value: number, unit: number): number {
  if (!(Number.isSafeInteger(value) && value > 0)) return 0;
  const units = value / unit;
  return Math.floor(units) === units ? units : 0;
}

function isSelfTradePolicy(value: number): boolean {
  return (
    value === SelfTradePolicy.CANCEL_NEWEST ||
    value === SelfTradePolicy.CANCEL_OLDEST ||
    value === SelfTradePolicy.CANCEL_BOTH ||
    value === SelfTradePolicy.DECREMENT_AND_CANCEL
  );
}

const TERMINAL_REJECT_REASON: Readonly<Record<number, number>> = {
  [TerminalState.FILLED]: RejectReason.ALREADY_FILLED,
  [TerminalState.CANCELED]: RejectReason.ALREADY_CANCELED,
  [TerminalState.EXPIRED]: RejectReason.ALREADY_EXPIRED,
};

export class Engine {
  readonly defaultSelfTradePolicy: number;
  readonly terminalOrderMemoryCapacity: number;
  /** Journal sequence of the last command applied (-1 before the first). */
  lastInSeq = -1;
  lastTimestampUs = 0;
  /** The tradingDay (yyyymmdd) of the last day close, 0 before the first. */
  lastClosedTradingDay = 0;

  /**
   * Highest order id that ever passed the duplicate check, so every resting or remembered id is at
   * most this. An id above it cannot be a duplicate, which spares both index probes for the usual,
   * increasing ids. Only a shortcut (an over-estimate merely costs the probes): it never changes an
   * answer, so it is neither hashed nor snapshotted, and restore recomputes it.
   */
  private highestOrderId = 0;
  private readonly ctx: EngineContext;
  /** Listed (not delisted) products. Looked up by id; never iterated where order matters unsorted. */
  private readonly books = new Map<number, OrderBook>();
  /** Every book ever listed, by bookIndex (a level records its book by index). */
  private readonly booksByIndex: OrderBook[] = [];

  constructor(sink: EngineSink, options: EngineOptions = {}) {
    const policy = options.selfTradePolicy ?? SelfTradePolicy.CANCEL_NEWEST;
    if (!isSelfTradePolicy(policy)) throw new TypeError(`Engine: selfTradePolicy ${policy} is not a SelfTradePolicy code (1-4)`);
    const terminalCapacity = options.terminalOrderMemoryCapacity ?? TERMINAL_ORDER_MEMORY_CAPACITY;
    if (!(Number.isInteger(terminalCapacity) && terminalCapacity >= 1 && terminalCapacity <= 2 ** 30 && (terminalCapacity & (terminalCapacity - 1)) === 0)) {
      throw new TypeError(`Engine: terminalOrderMemoryCapacity ${terminalCapacity} must be a power of two in [1, 2^30]`);
    }
    this.defaultSelfTradePolicy = policy;
    this.terminalOrderMemoryCapacity = terminalCapacity;
    const maxOrders = options.maxOrderCapacity ?? MAX_ORDER_CAPACITY;
    this.ctx = new EngineContext(
      new OrderPool(Math.min(options.initialOrderCapacity ?? INITIAL_ORDER_CAPACITY, maxOrders), maxOrders),
      new LevelPool(options.initialLevelCapacity ?? INITIAL_LEVEL_CAPACITY),
      new OrderIdIndex(options.initialOrderIndexCapacity ?? INITIAL_ORDER_INDEX_CAPACITY, ID_SHIFT),
      new TerminalOrderMemory(terminalCapacity),
      sink,
    );
  }

  // --- product administration (sequenced commands; return a RejectReason) ---------------------

  /** selfTradePolicy 0 = the engine's default. */
  listProduct(inSeq: number, timestampUs: number, productId: number, tickSize: number, lotSize: number, selfTradePolicy = 0): number {
    this.begin(inSeq, timestampUs);
    if (!isU32Id(productId) || !isPositiveSafeInteger(tickSize) || !isPositiveSafeInteger(lotSize)) {
      return RejectReason.INVALID_COMMAND;
    }
    const policy = selfTradePolicy === 0 ? this.defaultSelfTradePolicy : selfTradePolicy;
    if (!isSelfTradePolicy(policy)) return RejectReason.INVALID_COMMAND;
    if (this.books.has(productId)) return RejectReason.PRODUCT_ALREADY_LISTED;
    if (this.booksByIndex.length >= MAX_LISTINGS) return RejectReason.INVALID_COMMAND;
    this.addBook(productId, tickSize, lotSize, policy);
    return RejectReason.NONE;
  }

  /** A halted product accepts cancels only. */
  haltProduct(inSeq: number, timestampUs: number, productId: number): number {
    this.begin(inSeq, timestampUs);
    const book = this.books.get(productId);
    if (book === undefined) return RejectReason.UNKNOWN_PRODUCT;
    book.halted = true;
    return RejectReason.NONE;
  }

  resumeProduct(inSeq: number, timestampUs: number, productId: number): number {
    this.begin(inSeq, timestampUs);
    const book = this.books.get(productId);
    if (book === undefined) return RejectReason.UNKNOWN_PRODUCT;
    book.halted = false;
    return RejectReason.NONE;
  }

  /** Cancels every resting order with reason DELISTED (emitted), then forgets the product. */
  delistProduct(inSeq: number, timestampUs: number, productId: number): number {
    this.begin(inSeq, timestampUs);
    const book = this.books.get(productId);
    if (book === undefined) return RejectReason.UNKNOWN_PRODUCT;
    book.cancelAll(CancelReason.DELISTED);
    book.delisted = true;
    this.books.delete(productId);
    return RejectReason.NONE;
  }

  // --- order commands (outputs through the sink; return the number of outputs) ----------------

  newOrder(
    inSeq: number,
    timestampUs: number,
    orderId: number,
    accountId: number,
    productId: number,
    side: number,
    price: number,
    quantity: number,
    timeInForce: number,
    flags: number,
  ): number {
    this.begin(inSeq, timestampUs);
    const ctx = this.ctx;
    if (
      !isPositiveSafeInteger(orderId) ||
      !isU32Id(accountId) ||
      (side !== Side.INFLOW && side !== Side.OUTFLOW) ||
      !(timeInForce >= TimeInForce.GTC && timeInForce <= TimeInForce.FOK) ||
      (flags !== 0 && flags !== OrderFlags.POST_ONLY) ||
      // Post-only means "never take"; IOC and FOK mean "never rest": together they mean nothing.
      (flags !== 0 && (timeInForce === TimeInForce.IOC || timeInForce === TimeInForce.FOK))
    ) {
      ctx.reject(orderId, accountId, productId, RejectReason.INVALID_COMMAND);
      return ctx.outIndex;
    }
    const book = this.books.get(productId);
    if (book === undefined) {
      ctx.reject(orderId, accountId, productId, RejectReason.UNKNOWN_PRODUCT);
      return ctx.outIndex;
    }
    if (book.halted) {
      ctx.reject(orderId, accountId, productId, RejectReason.PRODUCT_HALTED);
      return ctx.outIndex;
    }
    const priceTicks = unitsOf(price, book.tickSize);
    if (priceTicks === 0) {
      ctx.reject(orderId, accountId, productId, RejectReason.INVALID_PRICE);
      return ctx.outIndex;
    }
    if (quantity > MAX_ORDER_QUANTITY || unitsOf(quantity, book.lotSize) === 0) {
      ctx.reject(orderId, accountId, productId, RejectReason.INVALID_QUANTITY);
      return ctx.outIndex;
    }
    if (orderId > this.highestOrderId) {
      this.highestOrderId = orderId;
    } else if (ctx.index.get(orderId, ctx.pool.ids) !== NOT_FOUND || ctx.terminal.find(orderId) !== NOT_FOUND) {
      ctx.reject(orderId, accountId, productId, RejectReason.DUPLICATE_ORDER_ID);
      return ctx.outIndex;
    }
    book.submitNew(orderId, accountId, side, priceTicks, quantity, timeInForce, flags);
    return ctx.outIndex;
  }

  /** Cancels a resting order of accountId; allowed while the product is halted. */
  cancel(inSeq: number, timestampUs: number, orderId: number, accountId: number): number {
    this.begin(inSeq, timestampUs);
    const ctx = this.ctx;
    if (!isPositiveSafeInteger(orderId) || !isU32Id(accountId)) {
      ctx.reject(orderId, accountId, 0, RejectReason.INVALID_COMMAND);
      return ctx.outIndex;
    }
    const slot = ctx.index.get(orderId, ctx.pool.ids);
    if (slot === NOT_FOUND) {
      this.rejectNotResting(orderId, accountId);
      return ctx.outIndex;
    }
    const book = this.bookOfSlot(slot);
    if (ctx.pool.words[(slot << ORDER_SHIFT) + W_ACCOUNT] !== (accountId | 0)) {
      ctx.reject(orderId, accountId, book.productId, RejectReason.NOT_OWNER);
      return ctx.outIndex;
    }
    book.cancelResting(slot, CancelReason.USER);
    return ctx.outIndex;
  }

  /**
   * Changes a resting order's price and/or total quantity (filled included, FIX-style; it must stay
   * above what is already filled). Reducing the quantity keeps time priority; a new price or a larger
   * quantity moves the order to the back of its level, and a new price may take liquidity.
   */
  amend(inSeq: number, timestampUs: number, orderId: number, accountId: number, newPrice: number, newQuantity: number): number {
    this.begin(inSeq, timestampUs);
    const ctx = this.ctx;
    if (!isPositiveSafeInteger(orderId) || !isU32Id(accountId)) {
      ctx.reject(orderId, accountId, 0, RejectReason.INVALID_COMMAND);
      return ctx.outIndex;
    }
    const slot = ctx.index.get(orderId, ctx.pool.ids);
    if (slot === NOT_FOUND) {
      this.rejectNotResting(orderId, accountId);
      return ctx.outIndex;
    }
    const w = ctx.pool.words;
    const o = slot << ORDER_SHIFT;
    const levels = ctx.levels;
    const level = (w[o + W_LEVEL] & LEVEL_MASK) - 1;
    const book = this.booksByIndex[levels.book[level]];
    const productId = book.productId;
    if (w[o + W_ACCOUNT] !== (accountId | 0)) {
      ctx.reject(orderId, accountId, productId, RejectReason.NOT_OWNER);
      return ctx.outIndex;
    }
    if (book.halted) {
      ctx.reject(orderId, accountId, productId, RejectReason.PRODUCT_HALTED);
      return ctx.outIndex;
    }
    const newTicks = unitsOf(newPrice, book.tickSize);
    if (newTicks === 0) {
      ctx.reject(orderId, accountId, productId, RejectReason.INVALID_PRICE);
      return ctx.outIndex;
    }
    const cum = w[o + W_CUM];
    if (newQuantity > MAX_ORDER_QUANTITY || newQuantity <= cum || unitsOf(newQuantity, book.lotSize) === 0) {
      ctx.reject(orderId, accountId, productId, RejectReason.INVALID_QUANTITY);
      return ctx.outIndex;
    }
    const oldTicks = levels.priceTicks[level];
    if (newTicks === oldTicks && newQuantity === cum + w[o + W_LEAVES]) {
      ctx.reject(orderId, accountId, productId, RejectReason.AMEND_NO_CHANGE);
      return ctx.outIndex;
    }
    if (((w[o + W_LEVEL] >>> FLAGS_SHIFT) & OrderFlags.POST_ONLY) !== 0 && newTicks !== oldTicks && book.wouldTake(levels.side[level], newTicks)) {
      ctx.reject(orderId, accountId, productId, RejectReason.POST_ONLY_WOULD_TAKE);
      return ctx.outIndex;
    }
    book.amend(slot, newTicks, newQuantity);
    return ctx.outIndex;
  }

  /** Expires every resting DAY order: products in ascending id, inflows then outflows, best level first, FIFO. */
  closeTradingDay(inSeq: number, timestampUs: number, tradingDay = 0): number {
    this.begin(inSeq, timestampUs);
    for (const productId of this.sortedProductIds()) {
      (this.books.get(productId) as OrderBook).expireDayOrders();
    }
    this.lastClosedTradingDay = tradingDay;
    return this.ctx.outIndex;
  }

  // --- state: hash, snapshot, restore ----------------------------------------------------------

  /** Hash of the whole state (books, orders in priority order, finished-order memory, counters). */
  stateHash(): StateHash {
    const hasher = new StateHasher();
    this.writeState(hasher);
    return hasher.digest();
  }

  /** The whole state as bytes: header (magic, version, length, CRC32C) + the canonical encoding. */
  snapshot(): Uint8Array {
    const counter = new ByteCounter();
    this.writeState(counter);
    const bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES + counter.bytes);
    const writer = new ByteWriter(bytes, SNAPSHOT_HEADER_BYTES);
    this.writeState(writer);
    assert(writer.offset === bytes.length, 'snapshot body must fill exactly the bytes counted');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint32(SNAPSHOT_OFFSET.magic, SNAPSHOT_MAGIC, true);
    view.setUint16(SNAPSHOT_OFFSET.version, SNAPSHOT_VERSION, true);
    view.setUint16(SNAPSHOT_OFFSET.headerBytes, SNAPSHOT_HEADER_BYTES, true);
    view.setFloat64(SNAPSHOT_OFFSET.bodyBytes, counter.bytes, true);
    view.setUint32(SNAPSHOT_OFFSET.crc, native.crc32c(bytes, SNAPSHOT_HEADER_BYTES, counter.bytes), true);
    view.setUint32(SNAPSHOT_OFFSET.reserved, 0, true);
    return bytes;
  }

  /**
   * Rebuilds an engine from snapshot() bytes. Throws (with what is wrong) on a bad magic, version,
   * length or checksum, so the caller can fall back to an older snapshot. Sizing options apply; the
   * finished-order memory capacity and default policy come from the snapshot (they shape behaviour).
   */
  static restore(bytes: Uint8Array, sink: EngineSink, options: EngineOptions = {}): Engine {
    if (bytes.length < SNAPSHOT_HEADER_BYTES) {
      throw new Error(`matching-engine snapshot: ${bytes.length} bytes is shorter than the ${SNAPSHOT_HEADER_BYTES}-byte header`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = view.getUint32(SNAPSHOT_OFFSET.magic, true);
    if (magic !== SNAPSHOT_MAGIC) throw new Error(`matching-engine snapshot: bad magic 0x${magic.toString(16)} (not an engine snapshot)`);
    const version = view.getUint16(SNAPSHOT_OFFSET.version, true);
    if (version !== SNAPSHOT_VERSION) {
      throw new Error(`matching-engine snapshot: format version ${version}, this engine reads version ${SNAPSHOT_VERSION}`);
    }
    const headerBytes = view.getUint16(SNAPSHOT_OFFSET.headerBytes, true);
    const bodyBytes = view.getFloat64(SNAPSHOT_OFFSET.bodyBytes, true);
    if (headerBytes !== SNAPSHOT_HEADER_BYTES || headerBytes + bodyBytes !== bytes.length) {
      throw new Error(
        `matching-engine snapshot: header says ${headerBytes} + ${bodyBytes} bytes but ${bytes.length} were given (truncated or padded file)`,
      );
    }
    const expectedCrc = view.getUint32(SNAPSHOT_OFFSET.crc, true);
    const actualCrc = native.crc32c(bytes, headerBytes, bodyBytes);
    if (expectedCrc !== actualCrc) {
      throw new Error(
        `matching-engine snapshot: CRC32C mismatch (stored 0x${expectedCrc.toString(16)}, computed 0x${actualCrc.toString(16)}): the file is corrupt`,
      );
    }
    const r = new ByteReader(bytes, headerBytes, bytes.length);
    const lastInSeq = r.f64();
    const lastTimestampUs = r.f64();
    const nextExecId = r.f64();
    const lastClosedTradingDay = r.f64();
    const defaultPolicy = r.u8();
    const terminalCapacity = r.f64();
    const engine = new Engine(sink, { ...options, selfTradePolicy: defaultPolicy, terminalOrderMemoryCapacity: terminalCapacity });
    engine.lastInSeq = lastInSeq;
    engine.lastTimestampUs = lastTimestampUs;
    engine.lastClosedTradingDay = lastClosedTradingDay;
    engine.ctx.inSeq = lastInSeq;
    engine.ctx.nextExecId = nextExecId;
    const productCount = r.u32();
    for (let p = 0; p < productCount; p++) {
      const productId = r.f64();
      const tickSize = r.f64();
      const lotSize = r.f64();
      const policy = r.u8();
      const book = engine.addBook(productId, tickSize, lotSize, policy);
      book.halted = r.u8() === 1;
      for (const side of [Side.INFLOW, Side.OUTFLOW]) {
        const levelCount = r.u32();
        for (let l = 0; l < levelCount; l++) {
          const priceTicks = r.f64();
          const orderCount = r.u32();
          const quantity = r.f64();
          let sum = 0;
          for (let o = 0; o < orderCount; o++) {
            const orderId = r.f64();
            const accountId = r.f64();
            const leaves = r.f64();
            const cum = r.f64();
            const timeInForce = r.u8();
            const flags = r.u8();
            book.restoreOrder(orderId, accountId, side, priceTicks, leaves, cum, timeInForce, flags);
            if (orderId > engine.highestOrderId) engine.highestOrderId = orderId;
            sum += leaves;
          }
          if (sum !== quantity) {
            throw new Error(`matching-engine snapshot: level ${priceTicks} of product ${productId} sums to ${sum}, header says ${quantity}`);
          }
        }
      }
    }
    const terminalCount = r.u32();
    for (let i = 0; i < terminalCount; i++) {
      const orderId = r.f64();
      const accountId = r.f64();
      const productId = r.f64();
      const state = r.u8();
      engine.ctx.terminal.remember(orderId, accountId, productId, state);
      if (orderId > engine.highestOrderId) engine.highestOrderId = orderId;
    }
    if (!r.atEnd) throw new Error('matching-engine snapshot: bytes left over after the last section');
    return engine;
  }

  // --- inspection (allocates; for tests, tools and status, not the hot path) --------------------

  get restingOrderCount(): number {
    return this.ctx.index.size;
  }

  hasProduct(productId: number): boolean {
    return this.books.has(productId);
  }

  isHalted(productId: number): boolean {
    return this.books.get(productId)?.halted ?? false;
  }

  /** Listed products, ascending. */
  productIds(): number[] {
    return this.sortedProductIds();
  }

  /** Levels of one side, best first. */
  levels(productId: number, side: number): LevelView[] {
    const book = this.books.get(productId);
    if (book === undefined) return [];
    const bookSide = side === Side.INFLOW ? book.bids : book.asks;
    const levels = this.ctx.levels;
    const out: LevelView[] = [];
    for (let i = bookSide.size - 1; i >= 0; i--) {
      const level = bookSide.levels[i];
      out.push({ price: levels.priceTicks[level] * book.tickSize, quantity: levels.quantity[level], orderCount: levels.orderCount[level] });
    }
    return out;
  }

  /** Best price of one side, or 0 when the side is empty (O(1)). */
  bestPrice(productId: number, side: number): number {
    const book = this.books.get(productId);
    if (book === undefined) return 0;
    const bookSide = side === Side.INFLOW ? book.bids : book.asks;
    if (bookSide.size === 0) return 0;
    return this.ctx.levels.priceTicks[bookSide.levels[bookSide.size - 1]] * book.tickSize;
  }

  /** Resting orders of one side in priority order (best level first, FIFO within a level). */
  restingOrders(productId: number, side: number): RestingOrderView[] {
    const book = this.books.get(productId);
    if (book === undefined) return [];
    const bookSide = side === Side.INFLOW ? book.bids : book.asks;
    const { pool, levels } = this.ctx;
    const out: RestingOrderView[] = [];
    for (let i = bookSide.size - 1; i >= 0; i--) {
      const level = bookSide.levels[i];
      for (let slot = levels.head[level]; slot !== -1; slot = pool.next(slot)) {
        out.push({
          orderId: pool.orderId(slot),
          accountId: pool.accountId(slot),
          productId,
          side,
          price: levels.priceTicks[level] * book.tickSize,
          quantity: pool.leaves(slot) + pool.cum(slot),
          leavesQuantity: pool.leaves(slot),
          cumQuantity: pool.cum(slot),
          timeInForce: pool.timeInForce(slot),
          flags: pool.flags(slot),
        });
      }
    }
    return out;
  }

  /** A resting order by id, or undefined. */
  restingOrder(orderId: number): RestingOrderView | undefined {
    const slot = this.ctx.index.get(orderId, this.ctx.pool.ids);
    if (slot === NOT_FOUND) return undefined;
    const book = this.bookOfSlot(slot);
    const { pool, levels } = this.ctx;
    const level = pool.level(slot);
    return {
      orderId,
      accountId: pool.accountId(slot),
      productId: book.productId,
      side: levels.side[level],
      price: levels.priceTicks[level] * book.tickSize,
      quantity: pool.leaves(slot) + pool.cum(slot),
      leavesQuantity: pool.leaves(slot),
      cumQuantity: pool.cum(slot),
      timeInForce: pool.timeInForce(slot),
      flags: pool.flags(slot),
    };
  }

  // --- internals -------------------------------------------------------------------------------

  private begin(inSeq: number, timestampUs: number): void {
    // Applying a command twice, or out of order, would silently corrupt every book: the wrapper
    // must feed journal entries strictly in sequence (and skip those a snapshot already contains).
    if (!(Number.isSafeInteger(inSeq) && inSeq > this.lastInSeq)) {
      throw new EngineInvariantError(
        `matching-engine invariant broken: command inSeq ${inSeq} is not after the last applied inSeq ${this.lastInSeq}`,
      );
    }
    this.lastInSeq = inSeq;
    this.lastTimestampUs = timestampUs;
    this.ctx.inSeq = inSeq;
    this.ctx.outIndex = 0;
  }

  private addBook(productId: number, tickSize: number, lotSize: number, policy: number): OrderBook {
    const book = new OrderBook(this.ctx, this.booksByIndex.length, productId, tickSize, lotSize, policy);
    this.booksByIndex.push(book);
    this.books.set(productId, book);
    return book;
  }

  private bookOfSlot(slot: number): OrderBook {
    return this.booksByIndex[this.ctx.levels.book[(this.ctx.pool.words[(slot << ORDER_SHIFT) + W_LEVEL] & LEVEL_MASK) - 1]];
  }

  /** Reject for an amend/cancel of an order that is not resting: finished (and remembered) or unknown. */
  private rejectNotResting(orderId: number, accountId: number): void {
    const ctx = this.ctx;
    const terminal = ctx.terminal;
    const position = terminal.find(orderId);
    if (position === NOT_FOUND) {
      ctx.reject(orderId, accountId, 0, RejectReason.UNKNOWN_ORDER);
    } else if (terminal.accountId(position) !== accountId) {
      ctx.reject(orderId, accountId, terminal.productId(position), RejectReason.NOT_OWNER);
    } else {
      ctx.reject(orderId, accountId, terminal.productId(position), TERMINAL_REJECT_REASON[terminal.state[position]]);
    }
  }

  private sortedProductIds(): number[] {
    return Array.from(this.books.keys()).sort((a, b) => a - b);
  }

  /** The canonical state encoding (see state-encoding.ts); the snapshot body and the hash input. */
  private writeState(w: StateWriter): void {
    const { pool, levels, terminal } = this.ctx;
    w.f64(this.lastInSeq);
    w.f64(this.lastTimestampUs);
    w.f64(this.ctx.nextExecId);
    w.f64(this.lastClosedTradingDay);
    w.u8(this.defaultSelfTradePolicy);
    w.f64(this.terminalOrderMemoryCapacity);
    const productIds = this.sortedProductIds();
    w.u32(productIds.length);
    for (const productId of productIds) {
      const book = this.books.get(productId) as OrderBook;
      w.f64(productId);
      w.f64(book.tickSize);
      w.f64(book.lotSize);
      w.u8(book.selfTradePolicy);
      w.u8(book.halted ? 1 : 0);
      for (const bookSide of [book.bids, book.asks]) {
        w.u32(bookSide.size);
        for (let i = bookSide.size - 1; i >= 0; i--) {
          const level = bookSide.levels[i];
          w.f64(levels.priceTicks[level]);
          w.u32(levels.orderCount[level]);
          w.f64(levels.quantity[level]);
          for (let slot = levels.head[level]; slot !== -1; slot = pool.next(slot)) {
            w.f64(pool.orderId(slot));
            w.f64(pool.accountId(slot));
            w.f64(pool.leaves(slot));
            w.f64(pool.cum(slot));
            w.u8(pool.timeInForce(slot));
            w.u8(pool.flags(slot));
          }
        }
      }
    }
    w.u32(terminal.count);
    for (let e = 0; e < terminal.capacity; e++) {
      if (terminal.state[e] === 0) continue;
      w.f64(terminal.orderId(e));
      w.f64(terminal.accountId(e));
      w.f64(terminal.productId(e));
      w.u8(terminal.state[e]);
    }
  }
}
