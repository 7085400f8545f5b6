// Writes the publisher's messages into marketdata.ring (layout: market-data-feed-layout.ts), zero-
// copy: each body is written straight into the claimed record. The ring has only non-gating
// consumers, so a claim is refused only by the batch bound (a quarter of the ring): the writer then
// commits and claims again, which always succeeds. Records are published by `commit()` once per
// poll batch (and before any snapshot, whose size may need a fresh batch).

import { clearBytes, copyChars, writeI64, writeU16, writeU32, writeU8 } from '../../bus/codec';
import { BACK_PRESSURED, RingProducer, type RingFile } from '../../bus/ring';
import { BookDelta, BookSnapshot, BookSnapshotLevel, Candle, CandleUpdate, MarketDataReply, ProductStatus, ProductStatusCause, TradeTick } from '../../bus/schema';
import type { L2Book } from './l2-book';
import type { LevelLadder } from './level-ladder';
import { assert } from './market-data-assert';
import { maxSnapshotLevels } from './market-data-feed-layout';
import { BRAND_BYTES, SYMBOL_BYTES, type ProductListings } from './product-listings';

const TEXT_ENCODER = new TextEncoder();

export class FeedWriter {
  readonly producer: RingProducer;
  readonly maxSnapshotLevels: number;
  records = 0;
  snapshots = 0;
  truncatedSnapshots = 0;
  productRecords = 0;
  productSnapshots = 0;
  private readonly view: DataView;

  constructor(readonly ring: RingFile) {
    this.producer = new RingProducer(ring);
    this.view = ring.view;
    this.maxSnapshotLevels = maxSnapshotLevels(ring.capacity);
  }

  commit(): void {
    this.producer.commit();
  }

  close(): void {
    this.producer.close();
  }

  bookDelta(productId: number, sequence: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): void {
    const b = this.claim(BookDelta.typeId, BookDelta.version, BookDelta.size);
    const v = this.view;
    const o = BookDelta.o;
    clearBytes(v, b, BookDelta.size);
    writeI64(v, b + o.sequence, sequence);
    writeI64(v, b + o.price, price);
    writeI64(v, b + o.quantity, quantity);
    writeI64(v, b + o.timestampUs, timestampUs);
    writeU32(v, b + o.productId, productId);
    writeU32(v, b + o.orderCount, orderCount);
    writeU8(v, b + o.side, side);
  }

  trade(productId: number, execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): void {
    const b = this.claim(TradeTick.typeId, TradeTick.version, TradeTick.size);
    const v = this.view;
    const o = TradeTick.o;
    clearBytes(v, b, TradeTick.size);
    writeI64(v, b + o.execId, execId);
    writeI64(v, b + o.price, price);
    writeI64(v, b + o.quantity, quantity);
    writeI64(v, b + o.timestampUs, timestampUs);
    writeU32(v, b + o.productId, productId);
    writeU8(v, b + o.takerSide, takerSide);
  }

  /** A closed candle (Candle) or the open candle's latest state (CandleUpdate): the same fields. */
  candle(closed: boolean, productId: number, resolutionS: number, bucketStartUs: number, open: number, high: number, low: number, close: number, volume: number, trades: number): void {
    const desc = closed ? Candle : CandleUpdate;
    const b = this.claim(desc.typeId, desc.version, desc.size);
    const v = this.view;
    const o = desc.o;
    clearBytes(v, b, desc.size);
    writeI64(v, b + o.bucketStartUs, bucketStartUs);
    writeI64(v, b + o.open, open);
    writeI64(v, b + o.high, high);
    writeI64(v, b + o.low, low);
    writeI64(v, b + o.close, close);
    writeI64(v, b + o.volume, volume);
    writeU32(v, b + o.productId, productId);
    writeU32(v, b + o.resolutionS, resolutionS);
    writeU32(v, b + o.trades, trades);
  }

  /**
   * The whole book of a product (or the empty book at sequence 0 when `book` is null). A book with
   * more levels than a record holds keeps its best levels, split evenly, and is flagged truncated.
   */
  snapshot(productId: number, book: L2Book | null): void {
    const bids = book === null ? 0 : book.bids.length;
    const asks = book === null ? 0 : book.asks.length;
    let bidCount = bids;
    let askCount = asks;
    const max = this.maxSnapshotLevels;
    if (bidCount + askCount > max) {
      bidCount = Math.min(bids, Math.max(max >> 1, max - asks));
      askCount = Math.min(asks, max - bidCount);
      this.truncatedSnapshots++;
    }
    // A snapshot starts a fresh batch so it never meets the batch bound half-way.
    this.producer.commit();
    const bytes = BookSnapshot.size + (bidCount + askCount) * BookSnapshotLevel.size;
    const b = this.claim(BookSnapshot.typeId, BookSnapshot.version, bytes);
    const v = this.view;
    const o = BookSnapshot.o;
    clearBytes(v, b, BookSnapshot.size);
    writeI64(v, b + o.sequence, book === null ? 0 : book.sequence);
    writeI64(v, b + o.timestampUs, book === null ? 0 : book.timeUs);
    writeU32(v, b + o.productId, productId);
    writeU32(v, b + o.bidCount, bidCount);
    writeU32(v, b + o.askCount, askCount);
    writeU8(v, b + o.truncated, bidCount + askCount < bids + asks ? 1 : 0);
    if (book !== null) {
      let at = this.writeLevels(book.bids, bidCount, b + BookSnapshot.size);
      at = this.writeLevels(book.asks, askCount, at);
    }
    this.producer.commit();
    this.snapshots++;
  }

  /** One product's listing and state (row of `listings`), sent because of `cause`. Allocation-free. */
  productStatus(listings: ProductListings, row: number, cause: ProductStatusCause): void {
    const b = this.claim(ProductStatus.typeId, ProductStatus.version, ProductStatus.size);
    const v = this.view;
    const o = ProductStatus.o;
    clearBytes(v, b, ProductStatus.size);
    writeI64(v, b + o.tickSize, listings.tickSize[row]!);
    writeI64(v, b + o.lotSize, listings.lotSize[row]!);
    writeI64(v, b + o.referencePrice, listings.referencePrice[row]!);
    writeI64(v, b + o.seq, listings.seq[row]!);
    writeU32(v, b + o.productId, listings.productId[row]!);
    writeU32(v, b + o.brandId, listings.brandId[row]!);
    writeU8(v, b + o.state, listings.state[row]!);
    writeU8(v, b + o.cause, cause);
    copyChars(listings.symbols, row * SYMBOL_BYTES, v, b + o.symbol, SYMBOL_BYTES);
    copyChars(listings.brands, row * BRAND_BYTES, v, b + o.brand, BRAND_BYTES);
    this.productRecords++;
  }

  /**
   * Every product ever listed (delisted ones included, so a gateway drops them), one ProductStatus
   * each with cause SNAPSHOT, published at once. Bounded by the table's capacity; the claim path
   * commits whenever the batch bound is reached.
   */
  productSnapshot(listings: ProductListings): void {
    this.producer.commit();
    for (let row = 0; row < listings.rows; row++) this.productStatus(listings, row, ProductStatusCause.SNAPSHOT);
    this.producer.commit();
    this.productSnapshots++;
  }

  /** The answer to a gateway's query: status and UTF-8 JSON. */
  reply(gatewayId: number, requestId: number, status: number, json: string): void {
    let bytes = TEXT_ENCODER.encode(json);
    const room = this.producer.ring.maxPayload - MarketDataReply.size;
    if (bytes.length > room) {
      status = 503;
      bytes = TEXT_ENCODER.encode(JSON.stringify({ error: 'answer_too_large', detail: `the answer would take ${bytes.length} bytes; ask for a smaller range or depth` }));
    }
    this.producer.commit();
    const b = this.claim(MarketDataReply.typeId, MarketDataReply.version, MarketDataReply.size + bytes.length);
    const v = this.view;
    const o = MarketDataReply.o;
    clearBytes(v, b, MarketDataReply.size);
    writeU32(v, b + o.requestId, requestId);
    writeU32(v, b + o.jsonBytes, bytes.length);
    writeU16(v, b + o.gatewayId, gatewayId);
    writeU16(v, b + o.status, status);
    this.ring.bytes.set(bytes, b + MarketDataReply.size);
    this.producer.commit();
  }

  private writeLevels(ladder: LevelLadder, count: number, at: number): number {
    const v = this.view;
    const o = BookSnapshotLevel.o;
    for (let rank = 0; rank < count; rank++) {
      clearBytes(v, at, BookSnapshotLevel.size);
      writeI64(v, at + o.price, ladder.priceAt(rank));
      writeI64(v, at + o.quantity, ladder.quantityAt(rank));
      writeU32(v, at + o.orderCount, ladder.orderCountAt(rank));
      at += BookSnapshotLevel.size;
    }
    return at;
  }

  private claim(typeId: number, version: number, bytes: number): number {
    let at = this.producer.tryClaim(typeId, version, bytes);
    if (at === BACK_PRESSURED) {
      // Only the batch bound can refuse (no consumer gates this ring): publish and claim again.
      this.producer.commit();
      at = this.producer.tryClaim(typeId, version, bytes);
      assert(at !== BACK_PRESSURED, 'marketdata.ring refused a claim after a commit; a gating consumer must have joined it');
    }
    this.records++;
    return at;
  }
}
