// The market-data publisher's work loop, one unit at a time (main.ts drives it):
//
//   1. journal: up to JOURNAL_BATCH entries from its own JournalReader (NON-gating: the sequencer
//      never waits for it; when lapped, or behind what the ring holds, the reader catches up from
//      the disk journal by seq) into MarketData (L2 books with per-product sequences, tape,
//      candles). MarketData calls back here (MarketDataSink) and each output is written to
//      marketdata.ring: BookDelta, TradeTick, Candle (closed); after the batch, one CandleUpdate per
//      live resolution of each product that traded; then one commit publishes the batch;
//   2. storage: trades and closed candles after the store's stored_seq are batched to SQLite;
//   3. queries: each gateway's query ring (SNAPSHOT -> a BookSnapshot on the broadcast ring,
//      BOOK_AT / CANDLES -> a MarketDataReply);
//   4. every SNAPSHOT_REFRESH_MS a snapshot of every product, so a gateway whose snapshot request
//      was lost still resyncs.
//
// Restart: the state is rebuilt by replaying the journal from seq 1 (disk segments and archive),
// which reproduces the same book sequences (they count the product's journaled deltas). Cost:
// proportional to the journal kept, ≈ 1 s per million journal entries at the library's measured
// rate; storage is skipped up to stored_seq, so a replay writes nothing twice.

import { JournalReader } from '../../bus/journal-reader';
import { readI64, readU16, readU32, readU8 } from '../../bus/codec';
import { RingConsumer, type RecordBuffer, type RecordHandler } from '../../bus/ring';
import { MarketDataQuery } from '../../bus/schema';
import { LIVE_RESOLUTIONS_S } from './candle-resolution';
import { FeedWriter } from './feed-writer';
import { MarketData, type MarketDataSink } from './market-data';
import { MarketDataQueryKind, openMarketDataRing, openQueryRing, PUBLISHER_JOURNAL_CONSUMER, PUBLISHER_QUERY_CONSUMER } from './market-data-feed-layout';
import { MAX_PRODUCTS } from './market-data-limits';
import { answerBookAt, answerCandles } from './market-data-queries';
import { MarketDataStore } from './market-data-store';

/** Journal entries per poll: bounds the work (and the uncommitted ring batch) of one unit. */
export const JOURNAL_BATCH = 4_096;
/** Queries taken from one gateway's ring per unit of work. */
export const QUERY_BATCH = 64;
/** Every product's snapshot is published this often (the fallback for a lost SNAPSHOT query). */
export const SNAPSHOT_REFRESH_MS = 5_000;

export interface PublisherOptions {
  readonly journalRing: string;
  readonly marketDataRing: string;
  readonly marketDataRingBytes?: number;
  /** One query ring per gateway (gateway n's is queryRings[n - 1]). */
  readonly queryRings: readonly string[];
  readonly storeFile: string;
  readonly timeZone?: string;
  /** Journal data directory, when the status file does not name it (tests). */
  readonly journalDataDir?: string;
}

export class MarketDataPublisher implements MarketDataSink {
  readonly md: MarketData;
  readonly writer: FeedWriter;
  readonly store: MarketDataStore;
  readonly reader: JournalReader;
  readonly queries: RingConsumer[];
  queriesAnswered = 0;
  queriesRefused = 0;

  private readonly onJournal: RecordHandler;
  private readonly onQuery: RecordHandler;
  /** Products that traded in the current batch (their open candles are published after it). */
  private readonly traded = new Float64Array(MAX_PRODUCTS);
  private readonly tradedFlag = new Map<number, boolean>();
  private tradedCount = 0;
  private lastRefreshMs = 0;

  constructor(options: PublisherOptions) {
    this.store = new MarketDataStore(options.storeFile);
    this.writer = new FeedWriter(openMarketDataRing(options.marketDataRing, options.queryRings.length, options.marketDataRingBytes));
    this.md = new MarketData(this, { timeZone: options.timeZone });
    this.queries = options.queryRings.map((file) => new RingConsumer(openQueryRing(file), PUBLISHER_QUERY_CONSUMER));
    this.reader = new JournalReader({ ringPath: options.journalRing, name: PUBLISHER_JOURNAL_CONSUMER, fromSeq: 1, gating: false, dataDir: options.journalDataDir });
    this.onJournal = (typeId, version, buf, offset) => {
      this.md.onJournalRecord(typeId, version, buf.view, offset);
    };
    this.onQuery = (typeId, version, buf, offset, length) => this.query(typeId, version, buf, offset, length);
  }

  /** One unit of work; returns how much was done (0 = idle). */
  doWork(nowMs: number): number {
    let work = this.reader.poll(this.onJournal, JOURNAL_BATCH);
    if (this.tradedCount > 0) this.publishOpenCandles();
    this.writer.commit();
    if (this.store.flushDue(nowMs) || (work === 0 && this.store.pending > 0)) this.store.flush(this.md.lastJournalSeq);
    for (const q of this.queries) work += q.poll(this.onQuery, QUERY_BATCH);
    if (nowMs - this.lastRefreshMs >= SNAPSHOT_REFRESH_MS) {
      this.lastRefreshMs = nowMs;
      for (const id of this.md.productIds()) this.writer.snapshot(id, this.md.product(id)!.book);
    }
    return work;
  }

  /** Sleeps until the journal ring may have data, at most timeoutNs (queries wait that long). */
  park(timeoutNs: number): void {
    this.reader.park(timeoutNs);
  }

  close(): void {
    this.writer.commit();
    this.store.flush(this.md.lastJournalSeq);
    this.store.close();
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
      case MarketDataQueryKind.SNAPSHOT:
        this.writer.snapshot(productId, this.md.product(productId)?.book ?? null);
        return;
      case MarketDataQueryKind.BOOK_AT: {
        const a = answerBookAt(this.md, productId, readI64(v, offset + o.timeUs), readU32(v, offset + o.depth));
        this.writer.reply(gatewayId, requestId, a.status, a.json);
        return;
      }
      case MarketDataQueryKind.CANDLES: {
        // Everything closed so far must be in the store before it is read.
        this.store.flush(this.md.lastJournalSeq);
        const a = answerCandles(this.md, this.store, productId, readU32(v, offset + o.resolutionS), readI64(v, offset + o.startUs), readI64(v, offset + o.endUs));
        this.writer.reply(gatewayId, requestId, a.status, a.json);
        return;
      }
      default:
        this.queriesRefused++;
        this.writer.reply(gatewayId, requestId, 400, JSON.stringify({ error: 'unknown_query', detail: `query kind ${kind} is not known to this publisher` }));
    }
  }
}
