// The gateway's side of the market-data feed (rings: processes/market-data/market-data-feed-layout.ts):
// a NON-gating consumer of marketdata.ring keeping, per listed product, a BookMirror (snapshot +
// sequenced deltas), the last trades (a TradeTape) and the open candle of each live resolution;
// and the producer of this gateway's query ring (snapshot requests, book-at-time and candle
// queries, answered by MarketDataReply records addressed to this gateway).
//
// Resync: a mirror that sees a gap (or OVERFLOW while waiting), or every mirror when this consumer
// was lapped, asks the publisher for a snapshot (at most once per SNAPSHOT_RETRY_MS per product);
// the publisher also refreshes every snapshot periodically. Subscribers hear every applied delta,
// every trade and candle, and a full snapshot each time a mirror (re)synchronises.
//
// Products: the gateway's catalog (product-catalog.ts) starts from the products file and learns
// from ProductStatus records every listing, halt, resume and delisting the journal holds — made
// through any gateway, before or after this one started: it asks for a product snapshot (PRODUCTS
// query) when it starts and when it was lapped, and the publisher refreshes it periodically.
//
// Polled from the event loop (uWS owns this thread): every FEED_POLL_MS, or at once again while a
// poll took a full batch. Memory is bounded: a mirror and a tape per catalog product (at most
// MAX_PRODUCTS), made when the product is first known (at start, or when the journal lists it).

import { readChars, readI64, readU16, readU32, readU8, writeI64, writeU16, writeU32, writeU8, clearBytes } from '../../bus/codec';
import { Side } from '../../bus/enums';
import { BACK_PRESSURED, LAPPED, RingConsumer, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import { BookDelta, BookSnapshot, BookSnapshotLevel, Candle, CandleUpdate, MarketDataQuery, MarketDataReply, ProductState, ProductStatus, TradeTick } from '../../bus/schema';
import { BookMirror, MirrorResult } from '../market-data/book-mirror';
import type { CandleRecord } from '../market-data/candle-rollup';
import type { BookSnapshot as BookSnapshotValue, PriceQuantityCount } from '../market-data/l2-book';
import { gatewayFeedConsumer, MarketDataQueryKind, openMarketDataRing, openQueryRing } from '../market-data/market-data-feed-layout';
import { BRAND_BYTES, SYMBOL_BYTES } from '../market-data/product-listings';
import { TradeTape } from '../market-data/trade-tape';
import { CatalogChange, type ProductCatalog } from './product-catalog';
import * as fs from 'node:fs';

/** Feed records handled per poll. */
export const FEED_POLL_BATCH = 4_096;
/** Poll period while the feed is quiet. */
export const FEED_POLL_MS = 2;
/** A product's snapshot is asked for again after this long without one. */
export const SNAPSHOT_RETRY_MS = 500;
/** Trades kept per product for new `trades:` subscribers and GET /marketdata/trades. */
export const GATEWAY_TAPE_TRADES = 100;
/** Deltas a mirror buffers while waiting for its snapshot (then it drops them and asks again). */
export const MIRROR_PENDING_DELTAS = 1_024;
/** Queries waiting for the publisher at once; more get 503 overloaded. */
export const MAX_PENDING_QUERIES = 1_024;
/** A query the publisher has not answered by then gets 503. */
export const QUERY_TIMEOUT_MS = 2_000;

/** What the subscriptions module is told; primitives and shared objects, nothing retained. */
export interface FeedListener {
  onBookDelta(productId: number, sequence: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): void;
  /** The mirror of `productId` is (again) in sync: subscribers get a full snapshot. */
  onBookSynced(productId: number): void;
  onTrade(productId: number, execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): void;
  onCandle(productId: number, resolutionS: number, closed: boolean, candle: CandleRecord): void;
}

export type QueryCallback = (status: number, json: string) => void;

interface PendingQuery {
  readonly callback: QueryCallback;
  readonly deadlineMs: number;
}

export interface FeedStats {
  records: number;
  lapped: number;
  gaps: number;
  snapshotsApplied: number;
  snapshotRequests: number;
  queriesSent: number;
  queryTimeouts: number;
  queryBackPressured: number;
  foreignRecords: number;
  /** ProductStatus records read, those that changed the catalog, and those it could not take. */
  productRecords: number;
  productChanges: number;
  productRefused: number;
  productSnapshotRequests: number;
}

const TEXT_DECODER = new TextDecoder();

export class MarketDataFeed {
  readonly consumer: RingConsumer;
  readonly queries: RingProducer;
  readonly mirrors = new Map<number, BookMirror>();
  readonly tapes = new Map<number, TradeTape>();
  /** Latest open candle per `${productId}:${resolutionS}`. */
  readonly openCandles = new Map<string, CandleRecord>();
  readonly stats: FeedStats = {
    records: 0,
    lapped: 0,
    gaps: 0,
    snapshotsApplied: 0,
    snapshotRequests: 0,
    queriesSent: 0,
    queryTimeouts: 0,
    queryBackPressured: 0,
    foreignRecords: 0,
    productRecords: 0,
    productChanges: 0,
    productRefused: 0,
    productSnapshotRequests: 0,
  };
  listener: FeedListener | null = null;

  private readonly snapshotAskedMs = new Map<number, number>();
  private readonly pending = new Map<number, PendingQuery>();
  private nextRequestId = 1;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private stopped = true;
  private readonly onRecord = (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void => this.record(typeId, version, buf, offset, length);

  constructor(
    readonly gatewayId: number,
    feedRingPath: string,
    queryRingPath: string,
    readonly catalog: ProductCatalog,
  ) {
    // The publisher may have made the ring with another capacity (--ring-bytes): open it as it is.
    const ring = fs.existsSync(feedRingPath) ? RingFile.open(feedRingPath) : openMarketDataRing(feedRingPath, 0);
    this.consumer = new RingConsumer(ring, gatewayFeedConsumer(gatewayId), { gating: false });
    this.queries = new RingProducer(openQueryRing(queryRingPath));
    for (const p of catalog.list()) this.track(p.productId);
  }

  start(): void {
    this.stopped = false;
    this.askProducts();
    for (const id of this.mirrors.keys()) this.askSnapshot(id, Date.now());
    this.schedule(false);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    for (const q of this.pending.values()) q.callback(503, JSON.stringify({ error: 'market_data_unavailable', detail: 'the gateway is shutting down' }));
    this.pending.clear();
    this.queries.close();
    this.consumer.close();
  }

  /** Mirrors that are in sync, of all listed products. */
  get liveMirrors(): number {
    let n = 0;
    for (const m of this.mirrors.values()) if (m.live) n++;
    return n;
  }

  /** Polls once; returns the records handled. */
  pollNow(): number {
    const n = this.consumer.poll(this.onRecord, FEED_POLL_BATCH);
    const nowMs = Date.now();
    if (n === LAPPED) {
      // Deltas were lost: every book may be wrong. Wait for fresh snapshots of all of them.
      this.stats.lapped++;
      // Listings and halts may have been lost with them: ask for the product list too (first, so
      // the publisher answers it before the books).
      this.askProducts();
      for (const [id, m] of this.mirrors) {
        m.live = false;
        this.askSnapshot(id, nowMs);
      }
    }
    for (const [id, m] of this.mirrors) if (!m.live && nowMs - (this.snapshotAskedMs.get(id) ?? 0) >= SNAPSHOT_RETRY_MS) this.askSnapshot(id, nowMs);
    if (this.pending.size > 0) this.expire(nowMs);
    return n < 0 ? 0 : n;
  }

  /**
   * Sends a BOOK_AT or CANDLES query; `callback` runs once with the publisher's status and JSON, or
   * 503 on timeout. Returns false when too many queries wait or the ring is full (answer 503).
   */
  query(kind: number, productId: number, fields: { timeUs?: number; depth?: number; resolutionS?: number; startUs?: number; endUs?: number }, callback: QueryCallback): boolean {
    if (this.pending.size >= MAX_PENDING_QUERIES) return false;
    const requestId = this.takeRequestId();
    if (!this.sendQuery(kind, productId, requestId, fields)) return false;
    this.pending.set(requestId, { callback, deadlineMs: Date.now() + QUERY_TIMEOUT_MS });
    this.schedule(true);
    return true;
  }

  /** The whole mirrored book as a snapshot value (for a new or resyncing subscriber). */
  snapshotOf(productId: number): BookSnapshotValue | undefined {
    const m = this.mirrors.get(productId);
    return m === undefined || !m.live ? undefined : m.book.snapshot();
  }

  private takeRequestId(): number {
    const id = this.nextRequestId;
    this.nextRequestId = id >= 0xfffffff0 ? 1 : id + 1;
    return id;
  }

  /** Starts mirroring a product (a mirror and a tape), or does nothing if it is mirrored. */
  private track(productId: number): boolean {
    if (this.mirrors.has(productId)) return false;
    this.mirrors.set(productId, new BookMirror(productId, MIRROR_PENDING_DELTAS));
    this.tapes.set(productId, new TradeTape(GATEWAY_TAPE_TRADES));
    return true;
  }

  /** Brings the mirrors in line with the catalog after a product was added or removed. */
  private syncProducts(nowMs: number): void {
    for (const id of [...this.mirrors.keys()]) {
      if (this.catalog.byProductId(id) !== undefined) continue;
      this.mirrors.delete(id);
      this.tapes.delete(id);
      this.snapshotAskedMs.delete(id);
    }
    for (const p of this.catalog.list()) if (this.track(p.productId) && !this.stopped) this.askSnapshot(p.productId, nowMs);
  }

  private askProducts(): void {
    this.stats.productSnapshotRequests++;
    this.sendQuery(MarketDataQueryKind.PRODUCTS, 0, 0, {});
  }

  /** One ProductStatus record: decoded (strings allocated) only when it is newer than the catalog's. */
  private productStatus(v: DataView, offset: number): void {
    this.stats.productRecords++;
    const o = ProductStatus.o;
    const productId = readU32(v, offset + o.productId);
    const seq = readI64(v, offset + o.seq);
    const state = readU8(v, offset + o.state);
    const known = this.catalog.byProductId(productId);
    // What the catalog would call STALE, decided before any string is decoded (the periodic snapshot repeats every product).
    if (known !== undefined && (seq < known.journalSeq || (seq === known.journalSeq && known.halted === (state === ProductState.HALTED) && state !== ProductState.DELISTED))) return;
    const change = this.catalog.applyJournalListing({
      productId,
      symbol: readChars(v, offset + o.symbol, SYMBOL_BYTES),
      brand: readChars(v, offset + o.brand, BRAND_BYTES),
      brandId: readU32(v, offset + o.brandId),
      tickSize: readI64(v, offset + o.tickSize),
      lotSize: readI64(v, offset + o.lotSize),
      halted: state === ProductState.HALTED,
      delisted: state === ProductState.DELISTED,
      seq,
    });
    if (change < 0) {
      this.stats.productRefused++;
      return;
    }
    if (change === CatalogChange.STALE) return;
    this.stats.productChanges++;
    if (change !== CatalogChange.STATE) this.syncProducts(Date.now());
  }

  private askSnapshot(productId: number, nowMs: number): void {
    this.snapshotAskedMs.set(productId, nowMs);
    this.stats.snapshotRequests++;
    this.sendQuery(MarketDataQueryKind.SNAPSHOT, productId, 0, {});
  }

  private sendQuery(kind: number, productId: number, requestId: number, f: { timeUs?: number; depth?: number; resolutionS?: number; startUs?: number; endUs?: number }): boolean {
    const at = this.queries.tryClaim(MarketDataQuery.typeId, MarketDataQuery.version, MarketDataQuery.size);
    if (at === BACK_PRESSURED) {
      this.stats.queryBackPressured++;
      return false;
    }
    const v = this.queries.ring.view;
    const o = MarketDataQuery.o;
    clearBytes(v, at, MarketDataQuery.size);
    writeI64(v, at + o.timeUs, f.timeUs ?? 0);
    writeI64(v, at + o.startUs, f.startUs ?? 0);
    writeI64(v, at + o.endUs, f.endUs ?? 0);
    writeU32(v, at + o.requestId, requestId);
    writeU32(v, at + o.productId, productId);
    writeU32(v, at + o.depth, f.depth ?? 0);
    writeU32(v, at + o.resolutionS, f.resolutionS ?? 0);
    writeU16(v, at + o.gatewayId, this.gatewayId);
    writeU8(v, at + o.kind, kind);
    this.queries.commit();
    this.stats.queriesSent++;
    return true;
  }

  private expire(nowMs: number): void {
    for (const [id, q] of this.pending) {
      if (q.deadlineMs > nowMs) continue;
      this.pending.delete(id);
      this.stats.queryTimeouts++;
      q.callback(503, JSON.stringify({ error: 'market_data_unavailable', detail: `the market-data publisher did not answer within ${QUERY_TIMEOUT_MS} ms; retry`, retryAfterSeconds: 1 }));
    }
  }

  private schedule(soon: boolean): void {
    if (this.stopped) return;
    if (soon) {
      if (this.immediate === null) this.immediate = setImmediate(this.onTick);
      return;
    }
    if (this.timer === null) this.timer = setTimeout(this.onTimer, FEED_POLL_MS);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.tick();
  };

  private readonly onTick = (): void => {
    this.immediate = null;
    this.tick();
  };

  private tick(): void {
    if (this.stopped) return;
    const n = this.pollNow();
    this.schedule(n >= FEED_POLL_BATCH);
    if (n < FEED_POLL_BATCH) this.schedule(false);
  }

  private record(typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void {
    this.stats.records++;
    const v = buf.view;
    switch (typeId) {
      case BookDelta.typeId: {
        if (version !== BookDelta.version || length < BookDelta.size) break;
        const o = BookDelta.o;
        const productId = readU32(v, offset + o.productId);
        const m = this.mirrors.get(productId);
        if (m === undefined) return;
        const sequence = readI64(v, offset + o.sequence);
        const side = readU8(v, offset + o.side);
        const price = readI64(v, offset + o.price);
        const quantity = readI64(v, offset + o.quantity);
        const orderCount = readU32(v, offset + o.orderCount);
        const timestampUs = readI64(v, offset + o.timestampUs);
        const r = m.applyDelta(sequence, side, price, quantity, orderCount, timestampUs);
        if (r === MirrorResult.APPLIED) this.listener?.onBookDelta(productId, sequence, side, price, quantity, orderCount, timestampUs);
        else if (r === MirrorResult.GAP || r === MirrorResult.OVERFLOW || r === MirrorResult.INVALID) {
          this.stats.gaps++;
          if (r === MirrorResult.INVALID) m.live = false;
          this.askSnapshot(productId, Date.now());
        }
        return;
      }
      case BookSnapshot.typeId: {
        if (version !== BookSnapshot.version || length < BookSnapshot.size) break;
        const productId = readU32(v, offset + BookSnapshot.o.productId);
        const m = this.mirrors.get(productId);
        if (m === undefined) return;
        const r = m.applySnapshot(decodeSnapshot(v, offset, productId));
        if (r === MirrorResult.SYNCED) {
          this.stats.snapshotsApplied++;
          this.listener?.onBookSynced(productId);
        } else if (r === MirrorResult.GAP) {
          this.stats.gaps++;
          this.askSnapshot(productId, Date.now());
        }
        return;
      }
      case TradeTick.typeId: {
        if (version !== TradeTick.version || length < TradeTick.size) break;
        const o = TradeTick.o;
        const productId = readU32(v, offset + o.productId);
        const tape = this.tapes.get(productId);
        if (tape === undefined) return;
        const execId = readI64(v, offset + o.execId);
        const price = readI64(v, offset + o.price);
        const quantity = readI64(v, offset + o.quantity);
        const takerSide = readU8(v, offset + o.takerSide);
        const timestampUs = readI64(v, offset + o.timestampUs);
        tape.record(execId, price, quantity, takerSide, timestampUs);
        this.listener?.onTrade(productId, execId, price, quantity, takerSide, timestampUs);
        return;
      }
      case Candle.typeId:
      case CandleUpdate.typeId: {
        const desc = typeId === Candle.typeId ? Candle : CandleUpdate;
        if (version !== desc.version || length < desc.size) break;
        const o = desc.o;
        const productId = readU32(v, offset + o.productId);
        if (!this.mirrors.has(productId)) return;
        const resolutionS = readU32(v, offset + o.resolutionS);
        const candle: CandleRecord = {
          bucketStartUs: readI64(v, offset + o.bucketStartUs),
          open: readI64(v, offset + o.open),
          high: readI64(v, offset + o.high),
          low: readI64(v, offset + o.low),
          close: readI64(v, offset + o.close),
          volume: readI64(v, offset + o.volume),
          trades: readU32(v, offset + o.trades),
        };
        const key = `${productId}:${resolutionS}`;
        if (typeId === CandleUpdate.typeId) this.openCandles.set(key, candle);
        else if (this.openCandles.get(key)?.bucketStartUs === candle.bucketStartUs) this.openCandles.delete(key);
        this.listener?.onCandle(productId, resolutionS, typeId === Candle.typeId, candle);
        return;
      }
      case ProductStatus.typeId: {
        if (version !== ProductStatus.version || length < ProductStatus.size) break;
        this.productStatus(v, offset);
        return;
      }
      case MarketDataReply.typeId: {
        if (version !== MarketDataReply.version || length < MarketDataReply.size) break;
        const o = MarketDataReply.o;
        if (readU16(v, offset + o.gatewayId) !== this.gatewayId) return;
        const requestId = readU32(v, offset + o.requestId);
        const q = this.pending.get(requestId);
        if (q === undefined) return; // timed out already
        this.pending.delete(requestId);
        const jsonBytes = Math.min(readU32(v, offset + o.jsonBytes), length - MarketDataReply.size);
        const json = TEXT_DECODER.decode(buf.bytes.subarray(offset + MarketDataReply.size, offset + MarketDataReply.size + jsonBytes));
        q.callback(readU16(v, offset + o.status), json);
        return;
      }
      default:
        break;
    }
    this.stats.foreignRecords++;
  }
}

function decodeLevels(v: DataView, at: number, count: number): PriceQuantityCount[] {
  const out = new Array<PriceQuantityCount>(count);
  const o = BookSnapshotLevel.o;
  for (let i = 0; i < count; i++) {
    out[i] = [readI64(v, at + o.price), readI64(v, at + o.quantity), readU32(v, at + o.orderCount)];
    at += BookSnapshotLevel.size;
  }
  return out;
}

function decodeSnapshot(v: DataView, offset: number, productId: number): BookSnapshotValue {
  const o = BookSnapshot.o;
  const bidCount = readU32(v, offset + o.bidCount);
  const askCount = readU32(v, offset + o.askCount);
  const levelsAt = offset + BookSnapshot.size;
  return {
    productId,
    sequence: readI64(v, offset + o.sequence),
    timeUs: readI64(v, offset + o.timestampUs),
    bids: decodeLevels(v, levelsAt, bidCount),
    asks: decodeLevels(v, levelsAt + bidCount * BookSnapshotLevel.size, askCount),
  };
}

/** 'bid' / 'ask' for the API. */
export function sideName(side: number): 'bid' | 'ask' {
  return side === Side.INFLOW ? 'bid' : 'ask';
}
