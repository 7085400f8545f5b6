// The market-data state reads real journal records (JournalHeader + Fill / BookLevelChanged bodies
// encoded with bus/codec.ts): fills reach the tape, the candles and the sink as trades; level
// changes reach the book, its history and the sink with the product's sequence; other records
// only move candle time; unknown versions, malformed levels and too many products are refused
// with a code and change nothing.
import t from 'tap';
import { Side } from '../bus/enums';
import { encode } from '../bus/codec';
import { BookLevelChanged, Fill, JOURNAL_HEADER_BYTES, JournalHeader, Heartbeat, type AnyMessage, type ValueOf } from '../bus/schema';
import { TradeTape } from '../processes/market-data/trade-tape';
import { MarketData, MarketDataResult, type MarketDataSink } from '../processes/market-data/market-data';

const BUFFER_BYTES = 4096;
const view = new DataView(new ArrayBuffer(BUFFER_BYTES));
let journalSeq = 0;

/** Writes one journal entry at offset 0 and returns the offset of its JournalHeader. */
function journal<M extends AnyMessage>(desc: M, timestampUs: number, body: ValueOf<M>): number {
  journalSeq++;
  encode(JournalHeader, { seq: journalSeq, timestampUs, sourceSeq: journalSeq, sourceId: 1, flags: 0, epoch: 1 }, view, 0);
  encode(desc, body, view, JOURNAL_HEADER_BYTES);
  return 0;
}

function fill(productId: number, execId: number, price: number, quantity: number, takerSide: number): ValueOf<typeof Fill> {
  return {
    execId,
    price,
    quantity,
    makerOrderId: 1,
    makerLeaves: 0,
    makerCumQuantity: quantity,
    takerOrderId: 2,
    takerLeaves: 0,
    takerCumQuantity: quantity,
    inSeq: 1,
    productId,
    makerAccountId: 10,
    takerAccountId: 11,
    epoch: 1,
    outIndex: 0,
    takerSide,
  };
}

function level(productId: number, side: number, price: number, quantity: number, orderCount: number): ValueOf<typeof BookLevelChanged> {
  return { price, quantity, inSeq: 1, productId, orderCount, epoch: 1, outIndex: 0, side };
}

class Recorder implements MarketDataSink {
  readonly events: string[] = [];
  onTrade(productId: number, execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): void {
    this.events.push(`trade p${productId} #${execId} ${quantity}@${price} taker${takerSide} t${timestampUs}`);
  }
  onBookDelta(productId: number, sequence: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): void {
    this.events.push(`delta p${productId} s${sequence} side${side} ${quantity}@${price} n${orderCount} t${timestampUs}`);
  }
  onCandleClosed(productId: number, resolutionS: number, bucketStartUs: number, open: number, high: number, low: number, close: number, volume: number, trades: number): void {
    this.events.push(`candle p${productId} ${resolutionS}s ${new Date(bucketStartUs / 1000).toISOString()} o${open} h${high} l${low} c${close} v${volume} n${trades}`);
  }
}

const T0 = Date.parse('2026-01-15T14:37:10Z') * 1000;

t.test('fills become trades (tape, candles, sink) and level changes become sequenced deltas', async (t) => {
  const sink = new Recorder();
  const md = new MarketData(sink);
  t.equal(md.onJournalRecord(BookLevelChanged.typeId, BookLevelChanged.version, view, journal(BookLevelChanged, T0, level(3, Side.OUTFLOW, 1010, 40, 2))), MarketDataResult.BOOK_DELTA);
  t.equal(md.onJournalRecord(BookLevelChanged.typeId, BookLevelChanged.version, view, journal(BookLevelChanged, T0, level(3, Side.INFLOW, 990, 15, 1))), MarketDataResult.BOOK_DELTA);
  t.equal(md.onJournalRecord(Fill.typeId, Fill.version, view, journal(Fill, T0 + 1, fill(3, 501, 1010, 25, Side.INFLOW))), MarketDataResult.TRADE);
  t.equal(md.onJournalRecord(BookLevelChanged.typeId, BookLevelChanged.version, view, journal(BookLevelChanged, T0 + 1, level(3, Side.OUTFLOW, 1010, 15, 1))), MarketDataResult.BOOK_DELTA);
  t.equal(md.onJournalRecord(Fill.typeId, Fill.version, view, journal(Fill, T0 + 2, fill(3, 502, 990, 5, Side.OUTFLOW))), MarketDataResult.TRADE);
  t.equal(md.lastJournalSeq, journalSeq);
  // A heartbeat a minute later closes the 1-minute candle.
  t.equal(md.onJournalRecord(Heartbeat.typeId, Heartbeat.version, view, journal(Heartbeat, T0 + 60e6, { timestampUs: 0, position: 0, epoch: 1, sourceId: 1, role: 1 })), MarketDataResult.IGNORED);
  t.same(sink.events, [
    `delta p3 s1 side2 40@1010 n2 t${T0}`,
    `delta p3 s2 side1 15@990 n1 t${T0}`,
    `trade p3 #501 25@1010 taker1 t${T0 + 1}`,
    `delta p3 s3 side2 15@1010 n1 t${T0 + 1}`,
    `trade p3 #502 5@990 taker2 t${T0 + 2}`,
    'candle p3 60s 2026-01-15T14:37:00.000Z o1010 h1010 l990 c990 v30 n2',
  ]);
  t.same(md.depth(3, 5), { bids: [[990, 15]], asks: [[1010, 15]], sequence: 3, timeUs: T0 + 1 });
  t.same(md.recentTrades(3, 10), [
    { execId: 501, price: 1010, quantity: 25, takerSide: Side.INFLOW, timestampUs: T0 + 1 },
    { execId: 502, price: 990, quantity: 5, takerSide: Side.OUTFLOW, timestampUs: T0 + 2 },
  ]);
  t.same(md.candlesBetween(3, 300, 0, Number.MAX_SAFE_INTEGER, 10), [
    { bucketStartUs: Date.parse('2026-01-15T14:35:00Z') * 1000, open: 1010, high: 1010, low: 990, close: 990, volume: 30, trades: 2 },
  ]);
  t.same(md.bookAt(3, T0, 5), { bids: [[990, 15]], asks: [[1010, 40]], sequence: 2, timeUs: T0 });
  t.equal(md.bookAt(3, T0 - 1, 5)?.sequence, 0, 'before the first delta: the empty book');
  t.same(md.productIds(), [3]);
});

t.test('unknown versions, malformed levels and a product too many are refused and change nothing', async (t) => {
  const sink = new Recorder();
  const md = new MarketData(sink, { maxProducts: 1 });
  t.equal(md.onJournalRecord(Fill.typeId, Fill.version + 1, view, journal(Fill, T0, fill(1, 1, 100, 1, Side.INFLOW))), MarketDataResult.UNSUPPORTED_VERSION);
  t.equal(md.onJournalRecord(BookLevelChanged.typeId, BookLevelChanged.version + 1, view, journal(BookLevelChanged, T0, level(1, Side.INFLOW, 100, 1, 1))), MarketDataResult.UNSUPPORTED_VERSION);
  t.equal(md.onJournalRecord(BookLevelChanged.typeId, BookLevelChanged.version, view, journal(BookLevelChanged, T0, level(1, 7, 100, 1, 1))), MarketDataResult.MALFORMED);
  t.equal(md.onJournalRecord(BookLevelChanged.typeId, BookLevelChanged.version, view, journal(BookLevelChanged, T0, level(1, Side.INFLOW, 100, 1, 1))), MarketDataResult.BOOK_DELTA);
  t.equal(md.onJournalRecord(Fill.typeId, Fill.version, view, journal(Fill, T0, fill(2, 1, 100, 1, Side.INFLOW))), MarketDataResult.TOO_MANY_PRODUCTS);
  t.equal(md.refused, 4);
  t.same(sink.events, [`delta p1 s1 side1 1@100 n1 t${T0}`]);
});

t.test('the trade tape keeps the last N trades, oldest first', async (t) => {
  const tape = new TradeTape(4);
  for (let i = 1; i <= 10; i++) tape.record(i, 100 + i, i, i % 2 === 0 ? Side.INFLOW : Side.OUTFLOW, 1_000 * i);
  t.equal(tape.length, 4);
  t.same(tape.recent(10).map((r) => r.execId), [7, 8, 9, 10]);
  t.same(tape.recent(2), [
    { execId: 9, price: 109, quantity: 9, takerSide: Side.OUTFLOW, timestampUs: 9_000 },
    { execId: 10, price: 110, quantity: 10, takerSide: Side.INFLOW, timestampUs: 10_000 },
  ]);
  t.same(new TradeTape(3).recent(5), []);
});
