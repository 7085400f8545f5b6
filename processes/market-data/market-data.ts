// The market-data state of the exchange, fed from the journal: per product the L2 book (with its
// sequence and its history for `bookAt`), the trade tape and the live candles. Pure and
// deterministic: no I/O, no clock but the journal's timestamps, no randomness; the publisher
// process (main.ts) polls the journal, hands each record to `onJournalRecord`, and publishes and
// stores what the MarketDataSink receives.
//
// Journal records it reads (bus/schema.ts), everything else is ignored:
//   Fill             -> one trade: tape, candles at every live resolution, sink.onTrade
//   BookLevelChanged -> one L2 delta: book (sequence + 1), history, sink.onBookDelta
// and every record's JournalHeader.timestampUs advances the candles, so a quiet product's candle
// closes when its bucket ends rather than at its next trade.
//
// The apply path allocates nothing: a product's structures are made when it is first seen (at
// most maxProducts times); after that each record is a few typed-array writes.

import { readI64, readU32, readU8 } from '../../bus/codec';
import { BookLevelChanged, Fill, JOURNAL_HEADER_BYTES, JournalHeader, TypeId } from '../../bus/schema';
import { BookHistory } from './book-history';
import { CandleAggregator, type CandleSink } from './candle-aggregator';
import type { CandleRecord } from './candle-rollup';
import { DEFAULT_EXCHANGE_TIME_ZONE, ExchangeTimeZone } from './exchange-time-zone';
import { L2Book, type BookDepth, type BookSnapshot } from './l2-book';
import { BOOK_CHECKPOINT_INTERVAL, BOOK_HISTORY_CHANGES, MAX_PRODUCTS, TRADE_TAPE_CAPACITY } from './market-data-limits';
import { TradeTape, type TradeRecord } from './trade-tape';

/** Where the market-data state's outputs go; primitives only, so emitting allocates nothing. */
export interface MarketDataSink extends CandleSink {
  /** A trade (one Fill): publish on `trades:SYMBOL` (a TradeTick) and store it. */
  onTrade(productId: number, execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): void;
  /** An L2 delta with the product's new book sequence: publish on `book:SYMBOL`. */
  onBookDelta(productId: number, sequence: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): void;
}

/** What `onJournalRecord` (and onFill / onBookLevel) did; negative codes changed nothing. */
export const MarketDataResult = {
  IGNORED: 0,
  TRADE: 1,
  BOOK_DELTA: 2,
  /** A Fill or BookLevelChanged of a layout version this build does not know. */
  UNSUPPORTED_VERSION: -1,
  /** A BookLevelChanged with a side other than inflow/outflow or a negative/non-integer level. */
  MALFORMED: -2,
  /** A product beyond maxProducts: not tracked (raise MAX_PRODUCTS). */
  TOO_MANY_PRODUCTS: -3,
} as const;
export type MarketDataResult = (typeof MarketDataResult)[keyof typeof MarketDataResult];

export interface MarketDataOptions {
  /** IANA zone of candle buckets; default America/New_York. */
  readonly timeZone?: string;
  readonly maxProducts?: number;
  /** Keep per-product book history for bookAt (default true). */
  readonly bookHistory?: boolean;
  readonly bookHistoryChanges?: number;
  readonly bookCheckpointInterval?: number;
  readonly tradeTapeCapacity?: number;
}

/** Everything kept for one product. */
export class ProductMarketData {
  constructor(
    readonly productId: number,
    readonly candleSlot: number,
    readonly book: L2Book,
    readonly history: BookHistory | null,
    readonly tape: TradeTape,
  ) {}
}

export class MarketData {
  readonly zone: ExchangeTimeZone;
  readonly candles: CandleAggregator;
  readonly maxProducts: number;
  /** JournalHeader.seq of the last record handed to onJournalRecord (where a restart resumes). */
  lastJournalSeq = 0;
  trades = 0;
  bookDeltas = 0;
  /** Records refused with a negative MarketDataResult. */
  refused = 0;

  private readonly products = new Map<number, ProductMarketData>();
  private readonly options: MarketDataOptions;

  constructor(
    private readonly sink: MarketDataSink,
    options: MarketDataOptions = {},
  ) {
    this.options = options;
    this.maxProducts = options.maxProducts ?? MAX_PRODUCTS;
    this.zone = new ExchangeTimeZone(options.timeZone ?? DEFAULT_EXCHANGE_TIME_ZONE);
    this.candles = new CandleAggregator(this.zone, sink, this.maxProducts);
  }

  /** Starts tracking a product (idempotent); undefined when maxProducts are tracked already. */
  addProduct(productId: number): ProductMarketData | undefined {
    const known = this.products.get(productId);
    if (known !== undefined) return known;
    if (this.products.size >= this.maxProducts) return undefined;
    const o = this.options;
    const product = new ProductMarketData(
      productId,
      this.candles.addProduct(productId),
      new L2Book(productId),
      o.bookHistory === false ? null : new BookHistory(productId, o.bookHistoryChanges ?? BOOK_HISTORY_CHANGES, o.bookCheckpointInterval ?? BOOK_CHECKPOINT_INTERVAL),
      new TradeTape(o.tradeTapeCapacity ?? TRADE_TAPE_CAPACITY),
    );
    this.products.set(productId, product);
    return product;
  }

  /** Products tracked, in the order they were first seen. */
  productIds(): number[] {
    return [...this.products.keys()];
  }

  /**
   * Handles one journal record: `payloadOffset` is where its JournalHeader starts in `view` (the
   * ring's RecordHandler hands exactly that). Allocation-free.
   */
  onJournalRecord(typeId: number, version: number, view: DataView, payloadOffset: number): MarketDataResult {
    this.lastJournalSeq = readI64(view, payloadOffset + JournalHeader.o.seq);
    const timestampUs = readI64(view, payloadOffset + JournalHeader.o.timestampUs);
    const body = payloadOffset + JOURNAL_HEADER_BYTES;
    if (typeId === TypeId.BookLevelChanged) {
      if (version !== BookLevelChanged.version) return this.refuse(MarketDataResult.UNSUPPORTED_VERSION);
      return this.onBookLevel(
        readU32(view, body + BookLevelChanged.o.productId),
        readU8(view, body + BookLevelChanged.o.side),
        readI64(view, body + BookLevelChanged.o.price),
        readI64(view, body + BookLevelChanged.o.quantity),
        readU32(view, body + BookLevelChanged.o.orderCount),
        timestampUs,
      );
    }
    if (typeId === TypeId.Fill) {
      if (version !== Fill.version) return this.refuse(MarketDataResult.UNSUPPORTED_VERSION);
      return this.onFill(
        readU32(view, body + Fill.o.productId),
        readI64(view, body + Fill.o.execId),
        readI64(view, body + Fill.o.price),
        readI64(view, body + Fill.o.quantity),
        readU8(view, body + Fill.o.takerSide),
        timestampUs,
      );
    }
    this.candles.advanceTime(timestampUs);
    return MarketDataResult.IGNORED;
  }

  /** One trade (a Fill's fields). */
  onFill(productId: number, execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): MarketDataResult {
    this.candles.advanceTime(timestampUs);
    const product = this.products.get(productId) ?? this.addProduct(productId);
    if (product === undefined) return this.refuse(MarketDataResult.TOO_MANY_PRODUCTS);
    product.tape.record(execId, price, quantity, takerSide, timestampUs);
    this.candles.onTrade(product.candleSlot, timestampUs, price, quantity);
    this.trades++;
    this.sink.onTrade(productId, execId, price, quantity, takerSide, timestampUs);
    return MarketDataResult.TRADE;
  }

  /** One L2 delta (a BookLevelChanged's fields). */
  onBookLevel(productId: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): MarketDataResult {
    this.candles.advanceTime(timestampUs);
    const product = this.products.get(productId) ?? this.addProduct(productId);
    if (product === undefined) return this.refuse(MarketDataResult.TOO_MANY_PRODUCTS);
    const book = product.book;
    if (book.apply(side, price, quantity, orderCount, timestampUs) < 0) return this.refuse(MarketDataResult.MALFORMED);
    if (product.history !== null) product.history.record(book, side, price, quantity, orderCount, timestampUs);
    this.bookDeltas++;
    this.sink.onBookDelta(productId, book.sequence, side, price, quantity, orderCount, timestampUs);
    return MarketDataResult.BOOK_DELTA;
  }

  /** Closes candles whose bucket ended by `timestampUs` (e.g. on a journal heartbeat). */
  advanceTime(timestampUs: number): void {
    this.candles.advanceTime(timestampUs);
  }

  // --- queries (allocate) ------------------------------------------------------------------------

  product(productId: number): ProductMarketData | undefined {
    return this.products.get(productId);
  }

  depth(productId: number, levels: number): BookDepth | undefined {
    return this.products.get(productId)?.book.depth(levels);
  }

  snapshot(productId: number): BookSnapshot | undefined {
    return this.products.get(productId)?.book.snapshot();
  }

  /** The book at a past time; undefined for an unknown product or a time no longer kept in memory. */
  bookAt(productId: number, timeUs: number, levels: number): BookDepth | undefined {
    return this.products.get(productId)?.history?.bookAt(timeUs, levels);
  }

  recentTrades(productId: number, count: number): TradeRecord[] {
    return this.products.get(productId)?.tape.recent(count) ?? [];
  }

  candlesBetween(productId: number, resolutionS: number, fromUs: number, toUs: number, limit: number): CandleRecord[] {
    return this.candles.candles(productId, resolutionS, fromUs, toUs, limit);
  }

  private refuse(result: MarketDataResult): MarketDataResult {
    this.refused++;
    return result;
  }
}

