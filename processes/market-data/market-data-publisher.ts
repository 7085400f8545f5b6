// The market-data publisher's work loop, one unit at a time (main.ts drives it):
//
//   1. journal: up to JOURNAL_BATCH entries from its own JournalReader (NON-gating: the sequencer
//      never waits for it; when lapped, or behind what the ring holds, the reader catches up from
//      the disk journal by seq) into MarketData (L2 books with per-product sequences, tape,
//      candles). MarketData calls back here (MarketDataSink) and each output is written to
//      marketdata.ring: BookDelta, TradeTick, Candle (closed); after the batch, one CandleUpdate per
//      live resolution of each product that traded; then one commit publishes the batch;
//   2. storage: trades and closed candles after the store's stored_seq are batched to the history
//      (SQLite writes the batch at once; PostgreSQL takes it and writes it off the loop; while the
//      database is behind by a bound, the store is back-pressured and the journal is not read);
//   3. queries: each gateway's query ring (SNAPSHOT -> a BookSnapshot on the broadcast ring,
//      PRODUCTS -> a ProductStatus of every listed product, BOOK_AT / CANDLES -> a MarketDataReply);
//   4. every SNAPSHOT_REFRESH_MS the product list and a snapshot of every product's book, so a
//      gateway whose query was lost still resyncs.
// ListProduct / HaltProduct / ResumeProduct / DelistProduct entries also update the product table
// (product-listings.ts, the product manager's rules) and each change is published at once as a
// ProductStatus record: that is how every gateway learns a listing or a halt made anywhere.
//
// Restart: the state is rebuilt by replaying the journal from seq 1 (disk segments and archive),
// which reproduces the same book sequences (they count the product's journaled deltas). Cost:
// proportional to the journal kept, ≈ 1 s per million journal entries at the library's measured
// rate; storage is skipped up to stored_seq, so a replay writes nothing twice.

import { JournalReader } from '../../bus/journal-reader';
import { readI64, readU16, readU32, readU8 } from '../../bus/codec';
import { RingConsumer, type RecordBuffer, type RecordHandler } from '../../bus/ring';
import { MarketDataQuery, TypeId } from '../../bus/schema';
import { LIVE_RESOLUTIONS_S } from './candle-resolution';
import type { CandleRecord } from './candle-rollup';
import { FeedWriter } from './feed-writer';
import { MarketData, type MarketDataSink } from './market-data';
import { MarketDataQueryKind, openMarketDataRing, openQueryRing, PUBLISHER_JOURNAL_CONSUMER, PUBLISHER_QUERY_CONSUMER } from './market-data-feed-layout';
import { MAX_PRODUCTS } from './market-data-limits';
import { answerBookAt, finishCandles, planCandles, type CandlePlan } from './market-data-queries';
import type { MarketDataStore } from './market-data-store';
import { ListingResult, ProductListings } from './product-listings';

/** Journal entries per poll: bounds the work (and the uncommitted ring batch) of one unit. */
export const JOURNAL_BATCH = 4_096;
/** Queries taken from one gateway's ring per unit of work. */
export const QUERY_BATCH = 64;
/** Every product's snapshot is published this often (the fallback for a lost SNAPSHOT query). */
export const SNAPSHOT_REFRESH_MS = 5_000;
/** Candle queries waiting for a PostgreSQL read; beyond it a query is answered 503 at once. */
export const MAX_CANDLE_READS_IN_FLIGHT = 64;

export interface PublisherOptions {
  readonly journalRing: string;
  readonly marketDataRing: string;
  readonly marketDataRingBytes?: number;
  /** One query ring per gateway (gateway n's is queryRings[n - 1]). */
  readonly queryRings: readonly string[];
  /** The history, opened (and migrated) by the caller: openMarketDataStore(marketDataStoreOptionsFromEnv(...)). */
  readonly store: MarketDataStore;
  readonly timeZone?: string;
  /** Journal data directory, when the status file does not name it (tests). */
  readonly journalDataDir?: string;
}

export class MarketDataPublisher implements MarketDataSink {
  readonly md: MarketData;
  /** Every product the journal listed, with its state (what ProductStatus records carry). */
  readonly listings = new ProductListings();
  readonly writer: FeedWriter;
  readonly store: MarketDataStore;
  readonly reader: JournalReader;
  readonly queries: RingConsumer[];
  queriesAnswered = 0;
  queriesRefused = 0;
  /** Journal entries applied since start (the replay included): main.ts copies it into the counters file. */
  entriesApplied = 0;
  /** Candle queries whose store read has not answered yet. */
  candleReadsInFlight = 0;

  private readonly onJournal: RecordHandler;
  private readonly onQuery: RecordHandler;
  /** Products that traded in the current batch (their open candles are published after it). */
  private readonly traded = new Float64Array(MAX_PRODUCTS);
  private readonly tradedFlag = new Map<number, boolean>();
  private tradedCount = 0;
  private lastRefreshMs = 0;
  private closing = false;

  constructor(options: PublisherOptions) {
    this.store = options.store;
    this.writer = new FeedWriter(openMarketDataRing(options.marketDataRing, options.queryRings.length, options.marketDataRingBytes));
    this.md = new MarketData(this, { timeZone: options.timeZone });
    this.queries = options.queryRings.map((file) => new RingConsumer(openQueryRing(file), PUBLISHER_QUERY_CONSUMER));
    this.reader = new JournalReader({ ringPath: options.journalRing, name: PUBLISHER_JOURNAL_CONSUMER, fromSeq: 1, gating: false, dataDir: options.journalDataDir });
    this.onJournal = (typeId, version, buf, offset) => {
      this.md.onJournalRecord(typeId, version, buf.view, offset);
      this.entriesApplied++;
      if (typeId >= TypeId.ListProduct && typeId <= TypeId.DelistProduct && this.listings.apply(typeId, version, buf.view, offset) === ListingResult.CHANGED) {
        this.writer.productStatus(this.listings, this.listings.changedRow, this.listings.changedCause);
      }
    };
    this.onQuery = (typeId, version, buf, offset, length) => this.query(typeId, version, buf, offset, length);
  }

  /** One unit of work; returns how much was done (0 = idle). */
  doWork(nowMs: number): number {
    // A failed history write is not recoverable here: die loudly; the restart replays from stored_seq.
    if (this.store.failure !== null) throw this.store.failure;
    let work = this.store.backPressured ? 0 : this.reader.poll(this.onJournal, JOURNAL_BATCH);
    if (this.tradedCount > 0) this.publishOpenCandles();
    this.writer.commit();
    if (this.store.flushDue(nowMs, work === 0)) this.store.flush(this.md.lastJournalSeq);
    for (const q of this.queries) work += q.poll(this.onQuery, QUERY_BATCH);
    if (nowMs - this.lastRefreshMs >= SNAPSHOT_REFRESH_MS) {
      this.lastRefreshMs = nowMs;
      // Products first: a gateway learns a product before the snapshot of its book.
      this.writer.productSnapshot(this.listings);
      for (const id of this.md.productIds()) this.writer.snapshot(id, this.md.product(id)!.book);
    }
    return work;
  }

  /** Sleeps until the journal ring may have data, at most timeoutNs (queries wait that long). */
  park(timeoutNs: number): void {
    this.reader.park(timeoutNs);
  }

  /** Writes what is pending to the history, waits for it, and releases the rings. */
  async close(): Promise<void> {
    this.closing = true;
    this.writer.commit();
    try {
      await this.store.close(this.md.lastJournalSeq);
    } finally {
      this.closeRings();
    }
  }

  private closeRings(): void {
    this.writer.close();
    this.reader.close();
    for (const q of this.queries) q.close();
  }

  // --- MarketDataSink -------------------------------------------------------------------------

  onTrade(productId: number, execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): void {
    this.writer.trade(productId, execId, price, quantity, takerSide, timestampUs);
    const seq = this.md.lastJournalSeq;
    if (seq > this.store.storedSeq) this.store.addTrade(seq, productId, execId, price, quantity, takerSide, timestampUs);
    if (this.tradedFlag.get(productId) !== true && this.tradedCount < this.traded.length) {
      this.tradedFlag.set(productId, true);
      this.traded[this.tradedCount++] = productId;
    }
  }

  onBookDelta(productId: number, sequence: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): void {
    this.writer.bookDelta(productId, sequence, side, price, quantity, orderCount, timestampUs);
  }

  onCandleClosed(productId: number, resolutionS: number, bucketStartUs: number, open: number, high: number, low: number, close: number, volume: number, trades: number): void {
    this.writer.candle(true, productId, resolutionS, bucketStartUs, open, high, low, close, volume, trades);
    if (this.md.lastJournalSeq > this.store.storedSeq) this.store.addCandle(productId, resolutionS, bucketStartUs, open, high, low, close, volume, trades);
  }

  // --- internals -------------------------------------------------------------------------------

  private publishOpenCandles(): void {
    for (let i = 0; i < this.tradedCount; i++) {
      const productId = this.traded[i]!;
      this.tradedFlag.set(productId, false);
      for (const resolutionS of LIVE_RESOLUTIONS_S) {
        const c = this.md.candles.openCandle(productId, resolutionS);
        if (c !== undefined) this.writer.candle(false, productId, resolutionS, c.bucketStartUs, c.open, c.high, c.low, c.close, c.volume, c.trades);
      }
    }
    this.tradedCount = 0;
  }

  /** The answer of a candle query whose read came back (PostgreSQL), outside the journal loop. */
  private answerLater(gatewayId: number, requestId: number, plan: CandlePlan, rows: CandleRecord[] | null, err: Error | null): void {
    this.candleReadsInFlight--;
    if (this.closing) return;
    if (rows === null) {
      this.writer.reply(gatewayId, requestId, 503, JSON.stringify({ error: 'history_unavailable', detail: `the candle history could not be read (${err?.message.slice(0, 120)}); retry shortly` }));
      return;
    }
    const a = finishCandles(plan, rows);
    this.writer.reply(gatewayId, requestId, a.status, a.json);
  }

  private query(typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void {
    if (typeId !== MarketDataQuery.typeId || version !== MarketDataQuery.version || length < MarketDataQuery.size) {
      this.queriesRefused++;
      return;
    }
    const v = buf.view;
    const o = MarketDataQuery.o;
    const kind = readU8(v, offset + o.kind);
    const productId = readU32(v, offset + o.productId);
    const gatewayId = readU16(v, offset + o.gatewayId);
    const requestId = readU32(v, offset + o.requestId);
    this.queriesAnswered++;
    switch (kind) {
      case MarketDataQueryKind.PRODUCTS:
        this.writer.productSnapshot(this.listings);
        return;
      case MarketDataQueryKind.SNAPSHOT:
        this.writer.snapshot(productId, this.md.product(productId)?.book ?? null);
        return;
      case MarketDataQueryKind.BOOK_AT: {
        const a = answerBookAt(this.md, productId, readI64(v, offset + o.timeUs), readU32(v, offset + o.depth));
        this.writer.reply(gatewayId, requestId, a.status, a.json);
        return;
      }
      case MarketDataQueryKind.CANDLES: {
        const plan = planCandles(this.md, productId, readU32(v, offset + o.resolutionS), readI64(v, offset + o.startUs), readI64(v, offset + o.endUs));
        if (!('live' in plan)) return this.writer.reply(gatewayId, requestId, plan.status, plan.json);
        if (this.candleReadsInFlight >= MAX_CANDLE_READS_IN_FLIGHT) {
          return this.writer.reply(gatewayId, requestId, 503, JSON.stringify({ error: 'overloaded', detail: `${MAX_CANDLE_READS_IN_FLIGHT} candle queries are waiting for the history database; retry shortly` }));
        }
        // Everything closed so far must be in the store before it is read (a read follows the flush).
        this.store.flush(this.md.lastJournalSeq);
        const stored = this.store.candles(productId, plan.readResolutionS, plan.readFromUs, plan.endUs, plan.readLimit);
        if (Array.isArray(stored)) {
          const a = finishCandles(plan, stored);
          return this.writer.reply(gatewayId, requestId, a.status, a.json);
        }
        this.candleReadsInFlight++;
        stored.then(
          (rows) => this.answerLater(gatewayId, requestId, plan, rows, null),
          (err: Error) => this.answerLater(gatewayId, requestId, plan, null, err),
        );
        return;
      }
      default:
        this.queriesRefused++;
        this.writer.reply(gatewayId, requestId, 400, JSON.stringify({ error: 'unknown_query', detail: `query kind ${kind} is not known to this publisher` }));
    }
  }
}
