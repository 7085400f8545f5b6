// Matching-engine benchmark: the same order stream, side by side, through the IMS engine
// (processes/matching-engine) and the peer `nodejs-order-book` (v10.1.1), single thread, in process,
// fixed seed.
//
//   node dist/scripts/bench/engine.js [--quick]
//
// Workloads:
//   deep  1,000,000 GTC limit orders on one product, prices uniform over 100 ticks around a mid, 50 %
//         inflows, quantity 1-100, plus a cancel of a random resting order after 10 % of them.
//   mix   exchange-core's benchmark mix over 100 products: 9 % GTC, 3 % IOC, 6 % cancel, 82 % amend
//         (price move), on books pre-filled to about 1,000 resting orders each. Prices follow
//         exchange-core's generator: GTC prices a rough bell on their own side of the last trade
//         price, a move goes half way toward the last trade price. Two deviations keep each book
//         near 1,000 orders with the mix held exactly at 9/3/6/82 (exchange-core instead varies the
//         mix): IOC quantities are 1-8 units, and a move may cross the opposite best only while its
//         book is above target (otherwise it stops one tick short). About one amend in a hundred
//         trades, and the whole mix makes ~0.06 fills per operation (measured on the quick stream);
//         the script prints the book sizes it ends with.
//
// Streams are generated once, up front, by replaying them through a tracking IMS engine (so cancels
// and amends always name orders that rest at that moment), and stored in typed arrays; the timed
// loops only read them. Every order has its own account, so self-trade prevention (which the peer
// does not apply without account ids) never fires and both books evolve identically: the script
// checks that they agree level by level at the end.
//
// Measurement. Throughput: one untimed warm-up pass on a scratch book, then IMS_TIMED_PASSES timed
// passes over the whole stream, each on a fresh engine (performance.now() before and after, nothing
// inside the loop), median reported; the peer runs one pass (it takes tens of seconds). Ops per
// CPU-second (process.cpuUsage, all threads, so the peer's GC work counts) are printed beside, since
// wall-clock figures on a shared machine depend on its load (printed too). Latency: a second
// fresh pass in which every SAMPLE_EVERY-th operation is timed on its own with a pair of
// performance.now() calls (~30-60 ns each; the median cost of an empty pair, measured at start, is
// subtracted) and recorded in an HDR histogram. Timing every operation would cost more than an IMS
// operation itself, and timing batches would average the tail away; a fixed stride over a shuffled
// random stream is an unbiased sample of operations. The JSON's mix_ims_p99_ns is that p99.
//
// The last line printed is one JSON object; everything before it is for humans.

import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as hdr from 'hdr-histogram-js';
import { RejectReason, Side, TimeInForce } from '../../bus/enums';
import { Engine } from '../../processes/matching-engine/engine';
import { NOT_FOUND, OrderIdIndex } from '../../processes/matching-engine/order-id-index';
import type { EngineSink } from '../../processes/matching-engine/engine-sink';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { OrderBook: PeerOrderBook } = require('nodejs-order-book') as { OrderBook: new () => PeerBook };

/** The slice of the peer's API this benchmark uses (its published types do not resolve under CommonJS). */
interface PeerBook {
  limit(options: { id: string; side: 'buy' | 'sell'; size: number; price: number; timeInForce?: 'GTC' | 'IOC' }): {
    done: unknown[];
    err: unknown;
  };
  cancel(orderId: string): unknown;
  modify(orderId: string, update: { price: number }): { done: unknown[]; err: unknown };
  depth(): [Array<[number, number]>, Array<[number, number]>];
}

const QUICK = process.argv.includes('--quick');
/** Skips the peer (for profiling the IMS engine alone). */
const IMS_ONLY = process.argv.includes('--ims-only');
/** Only measures the order-id index against a JS Map (the design note in order-id-index.ts). */
const COMPARE_INDEX = process.argv.includes('--compare-index');
const SEED = 0x1a5e_2024;

const DEEP_ORDERS = QUICK ? 100_000 : 1_000_000;
const DEEP_CANCEL_PROBABILITY = 0.1;
const DEEP_MID_TICKS = 10_000;
const DEEP_PRICE_RANGE_TICKS = 100;
const DEEP_MAX_QUANTITY = 100;

const MIX_PRODUCTS = 100;
const MIX_TARGET_RESTING_PER_PRODUCT = 1_000;
const MIX_OPS = QUICK ? 1_000_000 : 5_000_000;
/** The peer is 2-3 orders of magnitude slower; it runs a prefix of the same stream (stated in the output). */
const MIX_PEER_OPS = QUICK ? 200_000 : 1_000_000;
const MIX_CENTER_TICKS = 10_000;
const MIX_PRICE_DEVIATION_TICKS = 50;
const MIX_CENTRAL_MOVE_ALPHA = 0.5;
const MIX_IOC_MAX_QUANTITY = 8;

const WARMUP_OPS = QUICK ? 100_000 : 300_000;
/**
 * Timed IMS passes per workload, each on a fresh engine; the median is reported. The benchmark
 * machine is shared (other processes come and go), and a sub-second pass can be descheduled;
 * the peer's passes last tens of seconds and average such noise out by themselves.
 */
const IMS_TIMED_PASSES = QUICK ? 3 : 5;
const SAMPLE_EVERY = 8;

const OP_NEW = 1;
const OP_CANCEL = 2;
const OP_AMEND = 3;

// --- deterministic random numbers (sfc32; no Math.random) --------------------------------------------

class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  float(): number {
    return this.next() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
}

// --- the operation stream -------------------------------------------------------------------------------

/**
 * Operations in typed-array columns (21 bytes each). Every order has its own account, equal to its
 * order id, so no account column is stored. Peer ids are pre-built strings so the peer pays no
 * conversion inside its timed loop.
 */
class OpStream {
  count = 0;
  kind: Uint8Array;
  orderId: Float64Array;
  productId: Uint16Array;
  side: Uint8Array;
  price: Int32Array;
  quantity: Int32Array;
  tif: Uint8Array;
  peerId: string[] = [];

  constructor(capacity: number) {
    this.kind = new Uint8Array(capacity);
    this.orderId = new Float64Array(capacity);
    this.productId = new Uint16Array(capacity);
    this.side = new Uint8Array(capacity);
    this.price = new Int32Array(capacity);
    this.quantity = new Int32Array(capacity);
    this.tif = new Uint8Array(capacity);
  }

  push(kind: number, orderId: number, productId: number, side: number, price: number, quantity: number, tif: number): number {
    if (this.count === this.kind.length) this.grow();
    const i = this.count++;
    this.kind[i] = kind;
    this.orderId[i] = orderId;
    this.productId[i] = productId;
    this.side[i] = side;
    this.price[i] = price;
    this.quantity[i] = quantity;
    this.tif[i] = tif;
    return i;
  }

  /** Builds the peer's string ids for operations [0, upTo), outside any timed region. */
  buildPeerIds(upTo: number): void {
    for (let i = this.peerId.length; i < upTo; i++) this.peerId.push(String(this.orderId[i]));
  }

  get bytes(): number {
    return this.kind.byteLength * 3 + this.orderId.byteLength + this.productId.byteLength + this.price.byteLength * 2 + this.peerId.length * 40;
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const grow = <T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.kind = grow(this.kind, (k) => new Uint8Array(k));
    this.orderId = grow(this.orderId, (k) => new Float64Array(k));
    this.productId = grow(this.productId, (k) => new Uint16Array(k));
    this.side = grow(this.side, (k) => new Uint8Array(k));
    this.price = grow(this.price, (k) => new Int32Array(k));
    this.quantity = grow(this.quantity, (k) => new Int32Array(k));
    this.tif = grow(this.tif, (k) => new Uint8Array(k));
  }
}

/** Applies operations [from, to) of a stream to an IMS engine; inSeq continues from `seq`. */
function runIms(engine: Engine, s: OpStream, from: number, to: number, seq: number): number {
  const kind = s.kind;
  for (let i = from; i < to; i++) {
    const k = kind[i];
    if (k === OP_NEW) {
      engine.newOrder(++seq, seq, s.orderId[i], s.orderId[i], s.productId[i], s.side[i], s.price[i], s.quantity[i], s.tif[i], 0);
    } else if (k === OP_AMEND) {
      engine.amend(++seq, seq, s.orderId[i], s.orderId[i], s.price[i], s.quantity[i]);
    } else {
      engine.cancel(++seq, seq, s.orderId[i], s.orderId[i]);
    }
  }
  return seq;
}

/** Same, timing every SAMPLE_EVERY-th operation into `histogram` (ns, minus the timer's own cost). */
function runImsSampled(engine: Engine, s: OpStream, from: number, to: number, seq: number, histogram: hdr.Histogram, timerNs: number): number {
  const kind = s.kind;
  for (let i = from; i < to; i++) {
    const sampled = i % SAMPLE_EVERY === 0;
    const t0 = sampled ? performance.now() : 0;
    const k = kind[i];
    if (k === OP_NEW) {
      engine.newOrder(++seq, seq, s.orderId[i], s.orderId[i], s.productId[i], s.side[i], s.price[i], s.quantity[i], s.tif[i], 0);
    } else if (k === OP_AMEND) {
      engine.amend(++seq, seq, s.orderId[i], s.orderId[i], s.price[i], s.quantity[i]);
    } else {
      engine.cancel(++seq, seq, s.orderId[i], s.orderId[i]);
    }
    if (sampled) histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1e6 - timerNs)));
  }
  return seq;
}

let peerChecksum = 0;

/** Applies operations [from, to) to the peer books (one per product id). */
function runPeer(books: PeerBook[], s: OpStream, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const book = books[s.productId[i]];
    const k = s.kind[i];
    if (k === OP_NEW) {
      const r = book.limit({
        id: s.peerId[i],
        side: s.side[i] === Side.INFLOW ? 'buy' : 'sell',
        size: s.quantity[i],
        price: s.price[i],
        timeInForce: s.tif[i] === TimeInForce.IOC ? 'IOC' : 'GTC',
      });
      peerChecksum += r.done.length;
    } else if (k === OP_AMEND) {
      peerChecksum += book.modify(s.peerId[i], { price: s.price[i] }).done.length;
    } else {
      peerChecksum += book.cancel(s.peerId[i]) === undefined ? 0 : 1;
    }
  }
}

function runPeerSampled(books: PeerBook[], s: OpStream, from: number, to: number, histogram: hdr.Histogram, timerNs: number): void {
  for (let i = from; i < to; i += SAMPLE_EVERY) {
    runPeer(books, s, i, Math.min(to, i + SAMPLE_EVERY - 1));
    const j = Math.min(to, i + SAMPLE_EVERY - 1);
    if (j < to) {
      const t0 = performance.now();
      runPeer(books, s, j, j + 1);
      histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1e6 - timerNs)));
    }
  }
}

// --- sinks ---------------------------------------------------------------------------------------------

/** Consumes every output (sums fields) so the JIT cannot drop the work; allocates nothing. */
class NullSink implements EngineSink {
  checksum = 0;
  onAccepted(_s: number, o: number, id: number, _a: number, _p: number, _sd: number, price: number, q: number, leaves: number): void {
    this.checksum += o + id + price + q + leaves;
  }
  onRejected(_s: number, o: number, id: number, _a: number, _p: number, reason: number): void {
    this.checksum += o + id + reason * 1_000_003;
  }
  onFill(
    _s: number,
    o: number,
    execId: number,
    _p: number,
    price: number,
    q: number,
    _ts: number,
    maker: number,
    _ma: number,
    makerLeaves: number,
    _mc: number,
    taker: number,
    _ta: number,
    takerLeaves: number,
    _tc: number,
  ): void {
    this.checksum += o + execId + price * q + maker + makerLeaves + taker + takerLeaves;
  }
  onCanceled(_s: number, o: number, id: number, _a: number, _p: number, _sd: number, price: number, q: number, leaves: number, reason: number): void {
    this.checksum += o + id + price + q + leaves + reason;
  }
  onAmended(_s: number, o: number, id: number, _a: number, _p: number, _sd: number, oldPrice: number, newPrice: number, q: number, leaves: number, lost: boolean): void {
    this.checksum += o + id + oldPrice + newPrice + q + leaves + (lost ? 1 : 0);
  }
  onExpired(_s: number, o: number, id: number, _a: number, _p: number, _sd: number, price: number, q: number): void {
    this.checksum += o + id + price + q;
  }
  onBookLevel(_s: number, o: number, _p: number, side: number, price: number, q: number, count: number): void {
    this.checksum += o + side + price + q + count;
  }
}

/** Follows a generation engine's outputs: which orders rest, per product, for picking cancel/amend targets. */
class TrackingSink extends NullSink {
  /** Per product: resting order ids (swap-remove array) and each id's position. */
  readonly resting: number[][] = [];
  private readonly position = new Map<number, number>();
  private readonly productOf = new Map<number, number>();
  readonly quantityOf = new Map<number, number>();
  readonly lastTrade: number[] = [];
  rejects = 0;

  constructor(products: number) {
    super();
    for (let p = 0; p <= products; p++) this.resting.push([]);
  }
  private add(id: number, productId: number, quantity: number): void {
    const list = this.resting[productId];
    this.position.set(id, list.length);
    this.productOf.set(id, productId);
    this.quantityOf.set(id, quantity);
    list.push(id);
  }
  private remove(id: number): void {
    const productId = this.productOf.get(id) as number;
    const list = this.resting[productId];
    const at = this.position.get(id) as number;
    const last = list.pop() as number;
    if (last !== id) {
      list[at] = last;
      this.position.set(last, at);
    }
    this.position.delete(id);
    this.productOf.delete(id);
    this.quantityOf.delete(id);
  }
  override onAccepted(_s: number, _o: number, id: number, _a: number, productId: number, _sd: number, _price: number, quantity: number): void {
    this.add(id, productId, quantity);
  }
  override onRejected(_s: number, _o: number, _id: number, _a: number, _p: number, reason: number): void {
    if (reason !== RejectReason.NONE) this.rejects++;
  }
  override onFill(
    _s: number,
    _o: number,
    _e: number,
    productId: number,
    price: number,
    _q: number,
    _ts: number,
    maker: number,
    _ma: number,
    makerLeaves: number,
  ): void {
    if (makerLeaves === 0) this.remove(maker);
    this.lastTrade[productId] = price;
  }
  override onCanceled(_s: number, _o: number, id: number, _a: number, _p: number, _sd: number, _price: number, _q: number, leaves: number): void {
    if (leaves === 0 && this.position.has(id)) this.remove(id);
  }
  override onAmended(): void {}
  override onBookLevel(): void {}
  /** An amended order that filled completely as a taker leaves the book without a maker fill. */
  dropIfGone(engine: Engine, id: number): void {
    if (this.position.has(id) && engine.restingOrder(id) === undefined) this.remove(id);
  }
}

// --- workload generation -----------------------------------------------------------------------------------

/** Start-up sizes for the benchmark books, so that no pool grows inside a timed pass. */
const BIG = { initialOrderCapacity: 1 << 18, initialLevelCapacity: 1 << 12, initialOrderIndexCapacity: 1 << 19 } as const;

function generateDeep(rng: Rng): OpStream {
  const s = new OpStream(Math.ceil(DEEP_ORDERS * 1.2));
  const tracker = new TrackingSink(1);
  const engine = new Engine(tracker, BIG);
  let seq = 0;
  engine.listProduct(++seq, 0, 1, 1, 1);
  const low = DEEP_MID_TICKS - DEEP_PRICE_RANGE_TICKS / 2;
  for (let n = 1; n <= DEEP_ORDERS; n++) {
    const side = rng.int(2) === 0 ? Side.INFLOW : Side.OUTFLOW;
    const price = low + rng.int(DEEP_PRICE_RANGE_TICKS);
    const quantity = 1 + rng.int(DEEP_MAX_QUANTITY);
    const i = s.push(OP_NEW, n, 1, side, price, quantity, TimeInForce.GTC);
    seq = runIms(engine, s, i, i + 1, seq);
    const resting = tracker.resting[1];
    if (rng.float() < DEEP_CANCEL_PROBABILITY && resting.length > 0) {
      const victim = resting[rng.int(resting.length)];
      const j = s.push(OP_CANCEL, victim, 1, 0, 0, 0, 0);
      seq = runIms(engine, s, j, j + 1, seq);
    }
  }
  return s;
}

interface MixStreams {
  fill: OpStream;
  bench: OpStream;
  restingAfterFill: number;
  restingAtEnd: number;
}

function generateMix(rng: Rng): MixStreams {
  const fill = new OpStream(MIX_PRODUCTS * MIX_TARGET_RESTING_PER_PRODUCT * 2);
  const bench = new OpStream(MIX_OPS);
  const tracker = new TrackingSink(MIX_PRODUCTS);
  const engine = new Engine(tracker, BIG);
  let seq = 0;
  const center: number[] = [];
  for (let p = 1; p <= MIX_PRODUCTS; p++) {
    engine.listProduct(++seq, 0, p, 1, 1);
    center[p] = MIX_CENTER_TICKS + 100 * p;
    tracker.lastTrade[p] = center[p];
  }
  let nextId = 1;
  const size = () => 1 + rng.int(6) * rng.int(6) * rng.int(6); // exchange-core's size distribution
  // Exchange-core's GTC price: a rough bell within a random deviation, inflows below and outflows above
  // the last trade price.
  const gtcPrice = (p: number, side: number): number => {
    const dev = 1 + Math.floor(rng.float() ** 2 * MIX_PRICE_DEVIATION_TICKS);
    let offset = 0;
    for (let k = 0; k < 4; k++) offset += rng.int(dev);
    offset = Math.floor(offset / 4) * 2 - dev;
    if (side === Side.INFLOW ? offset > 0 : offset < 0) offset = -offset;
    return Math.max(1, tracker.lastTrade[p] + offset);
  };
  const pushNew = (s: OpStream, p: number, side: number, price: number, tif: number) => {
    const id = nextId++;
    const i = s.push(OP_NEW, id, p, side, price, size(), tif);
    seq = runIms(engine, s, i, i + 1, seq);
  };

  // Fill phase (not timed): about MIX_TARGET_RESTING_PER_PRODUCT resting orders per product.
  for (let p = 1; p <= MIX_PRODUCTS; p++) {
    while (tracker.resting[p].length < MIX_TARGET_RESTING_PER_PRODUCT) {
      const side = rng.int(2) === 0 ? Side.INFLOW : Side.OUTFLOW;
      pushNew(fill, p, side, gtcPrice(p, side), TimeInForce.GTC);
    }
  }
  const restingAfterFill = engine.restingOrderCount;

  for (let n = 0; n < MIX_OPS; n++) {
    const p = 1 + rng.int(MIX_PRODUCTS);
    const r = rng.int(100);
    const resting = tracker.resting[p];
    const side = rng.int(2) === 0 ? Side.INFLOW : Side.OUTFLOW;
    if (r < 9 || resting.length === 0) {
      pushNew(bench, p, side, gtcPrice(p, side), TimeInForce.GTC);
    } else if (r < 12) {
      // Priced through the whole book; small, so one IOC takes about a fraction of one order.
      const price = side === Side.INFLOW ? center[p] + 4 * MIX_PRICE_DEVIATION_TICKS : center[p] - 4 * MIX_PRICE_DEVIATION_TICKS;
      const id = nextId++;
      const i = bench.push(OP_NEW, id, p, side, price, 1 + rng.int(MIX_IOC_MAX_QUANTITY), TimeInForce.IOC);
      seq = runIms(engine, bench, i, i + 1, seq);
    } else if (r < 18) {
      const id = resting[rng.int(resting.length)];
      const i = bench.push(OP_CANCEL, id, p, 0, 0, 0, 0);
      seq = runIms(engine, bench, i, i + 1, seq);
    } else {
      // Exchange-core's move: half way toward the last trade price (one tick either way when there).
      const id = resting[rng.int(resting.length)];
      const order = engine.restingOrder(id);
      if (order === undefined) throw new Error(`bench generator: order ${id} should rest`);
      const last = tracker.lastTrade[p];
      const move = (last - order.price) * MIX_CENTRAL_MOVE_ALPHA;
      let target = order.price + (order.price > last ? Math.floor(move) : order.price < last ? Math.ceil(move) : rng.int(2) * 2 - 1);
      // With the mix fixed at 9/3/6/82, a book only stays near its target size if moves trade just
      // enough: a move may cross the opposite best (and take) while its book is above target, and
      // stops one tick short of it otherwise.
      const opposite = engine.bestPrice(p, order.side === Side.INFLOW ? Side.OUTFLOW : Side.INFLOW);
      if (opposite !== 0 && resting.length <= MIX_TARGET_RESTING_PER_PRODUCT) {
        if (order.side === Side.INFLOW && target >= opposite) target = opposite - 1;
        if (order.side === Side.OUTFLOW && target <= opposite) target = opposite + 1;
      }
      if (target === order.price) target += order.side === Side.INFLOW ? -1 : 1;
      const i = bench.push(OP_AMEND, id, p, order.side, Math.max(1, target), order.quantity, 0);
      seq = runIms(engine, bench, i, i + 1, seq);
      tracker.dropIfGone(engine, id);
    }
    const lt = tracker.lastTrade[p];
    tracker.lastTrade[p] = Math.min(center[p] + 2 * MIX_PRICE_DEVIATION_TICKS, Math.max(center[p] - 2 * MIX_PRICE_DEVIATION_TICKS, lt));
  }
  if (tracker.rejects !== 0) throw new Error(`bench generator: ${tracker.rejects} commands were rejected; the stream must be all valid`);
  return { fill, bench, restingAfterFill, restingAtEnd: engine.restingOrderCount };
}

// --- measurement helpers -----------------------------------------------------------------------------

function timerCostNs(): number {
  const samples: number[] = [];
  for (let i = 0; i < 200_001; i++) {
    const t0 = performance.now();
    samples.push((performance.now() - t0) * 1e6);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: 3 });
}

function freshIms(products: number, sink: EngineSink): { engine: Engine; seq: number } {
  const engine = new Engine(sink, BIG);
  let seq = 0;
  for (let p = 1; p <= products; p++) engine.listProduct(++seq, 0, p, 1, 1);
  return { engine, seq };
}

function freshPeer(products: number): PeerBook[] {
  const books: PeerBook[] = [];
  for (let p = 0; p <= products; p++) books.push(new PeerOrderBook());
  return books;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};


/**
 * A full garbage collection, so RSS shows the live state rather than garbage left by generating the
 * streams. --expose-gc is switched on at run time because the command line is fixed.
 */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** An untimed pass over the first WARMUP_OPS operations on a scratch engine, so the JIT has optimized the hot path. */
function warmUpIms(products: number, fill: OpStream | undefined, stream: OpStream): void {
  const fresh = freshIms(products, new NullSink());
  const seq = fill === undefined ? fresh.seq : runIms(fresh.engine, fill, 0, fill.count, fresh.seq);
  runIms(fresh.engine, stream, 0, Math.min(WARMUP_OPS, stream.count), seq);
}

/** One pass on a fresh engine with every SAMPLE_EVERY-th operation timed into a histogram. */
function sampleImsLatency(products: number, fill: OpStream | undefined, stream: OpStream, timerNs: number): hdr.Histogram {
  const histogram = newHistogram();
  const fresh = freshIms(products, new NullSink());
  const seq = fill === undefined ? fresh.seq : runIms(fresh.engine, fill, 0, fill.count, fresh.seq);
  runImsSampled(fresh.engine, stream, 0, stream.count, seq, histogram, timerNs);
  return histogram;
}

/** IMS_TIMED_PASSES timed passes over `stream`, each on a fresh engine with `fill` applied first. */
function timeImsPasses(products: number, fill: OpStream | undefined, stream: OpStream, sink: NullSink): { wall: number; cpu: number; all: number[]; engine: Engine } {
  const wall: number[] = [];
  const cpu: number[] = [];
  let engine: Engine | undefined;
  for (let pass = 0; pass < IMS_TIMED_PASSES; pass++) {
    const fresh = freshIms(products, sink);
    const seq = fill === undefined ? fresh.seq : runIms(fresh.engine, fill, 0, fill.count, fresh.seq);
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    runIms(fresh.engine, stream, 0, stream.count, seq);
    const seconds = (performance.now() - start) / 1000;
    cpu.push(stream.count / cpuSeconds(cpu0));
    wall.push(stream.count / seconds);
    engine = fresh.engine;
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  return { wall: median(wall), cpu: median(cpu), all: wall, engine: engine as Engine };
}
const mb = () => process.memoryUsage().rss / 1048576;

/** Checks that two books hold the same levels (price, total quantity) on both sides. */
function booksAgree(engine: Engine, peer: PeerBook[], products: number): boolean {
  for (let p = 1; p <= products; p++) {
    const [asks, bids] = peer[p].depth();
    const imsBids = engine.levels(p, Side.INFLOW).map((l) => [l.price, l.quantity]);
    const imsAsks = engine.levels(p, Side.OUTFLOW).map((l) => [l.price, l.quantity]);
    if (JSON.stringify(imsBids) !== JSON.stringify(bids) || JSON.stringify(imsAsks) !== JSON.stringify(asks)) return false;
  }
  return true;
}

// --- order-id index versus a JS Map ----------------------------------------------------------------------

/**
 * The engine's order-id index against Map<number, number> on the engine's access pattern: 100,000
 * live ids above 2^32 (as a 53-bit id space produces), and per step one lookup of a random live id,
 * one delete of a random live id and one insert of a fresh id. Prints ns per step, best of 3.
 */
function compareIndex(): void {
  const LIVE = 100_000;
  const STEPS = 2_000_000;
  const BASE_ID = 2 ** 40;
  const rng = new Rng(SEED + 2);
  const picks = new Int32Array(STEPS * 2);
  for (let i = 0; i < picks.length; i++) picks[i] = rng.int(LIVE);
  const timeIt = (run: () => number): number => {
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      const start = performance.now();
      const check = run();
      best = Math.min(best, (performance.now() - start) * 1e6);
      if (check === -42) console.log('unreachable');
    }
    return best / STEPS;
  };
  // The engine's index: positions are slots of an id column (as the order pool's ids view).
  const indexNs = timeIt(() => {
    const ids = new Float64Array(LIVE);
    const index = new OrderIdIndex(1 << 18, 0);
    for (let p = 0; p < LIVE; p++) {
      ids[p] = BASE_ID + p;
      index.insert(ids[p], p);
    }
    let next = BASE_ID + LIVE;
    let sum = 0;
    for (let i = 0; i < STEPS; i++) {
      const p = picks[2 * i];
      sum += index.get(ids[picks[2 * i + 1]], ids);
      index.delete(ids[p], p);
      ids[p] = next++;
      index.insert(ids[p], p);
    }
    return sum + (index.get(1, ids) === NOT_FOUND ? 0 : 1);
  });
  const mapNs = timeIt(() => {
    const ids = new Float64Array(LIVE);
    const map = new Map<number, number>();
    for (let p = 0; p < LIVE; p++) {
      ids[p] = BASE_ID + p;
      map.set(ids[p], p);
    }
    let next = BASE_ID + LIVE;
    let sum = 0;
    for (let i = 0; i < STEPS; i++) {
      const p = picks[2 * i];
      sum += map.get(ids[picks[2 * i + 1]]) as number;
      map.delete(ids[p]);
      ids[p] = next++;
      map.set(ids[p], p);
    }
    return sum;
  });
  console.log(
    `order-id index vs Map, 100,000 live ids > 2^32, one get + delete + insert per step: ` +
      `OrderIdIndex ${indexNs.toFixed(0)} ns/step, Map ${mapNs.toFixed(0)} ns/step (best of 3)`,
  );
}

// --- main ------------------------------------------------------------------------------------------------

function main(): void {
  if (COMPARE_INDEX) {
    compareIndex();
    return;
  }
  const t0 = performance.now();
  console.log(
    `engine bench: ${QUICK ? 'QUICK mode (scaled down)' : 'full mode'}, seed 0x${SEED.toString(16)}, node ${process.version}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${loadAverage()}`,
  );
  const timerNs = timerCostNs();
  console.log(`timer: one performance.now() pair costs ${timerNs.toFixed(0)} ns (median), subtracted from every latency sample`);

  // deep ---------------------------------------------------------------------------------------------
  const deep = generateDeep(new Rng(SEED));
  const deepCancels = deep.count - DEEP_ORDERS;
  console.log(
    `\ndeep: ${fmt(DEEP_ORDERS)} GTC orders on 1 product (prices uniform over ${DEEP_PRICE_RANGE_TICKS} ticks, quantity 1-${DEEP_MAX_QUANTITY})` +
      ` + ${fmt(deepCancels)} cancels of resting orders = ${fmt(deep.count)} ops${QUICK ? ' [quick: 1/10 of the full 1,000,000 orders]' : ''}`,
  );
  warmUpIms(1, undefined, deep);
  const deepSink = new NullSink();
  const deepRuns = timeImsPasses(1, undefined, deep, deepSink);
  const deepIms = deepRuns.engine;
  const deepImsOps = deepRuns.wall;
  const deepHist = sampleImsLatency(1, undefined, deep, timerNs);
  console.log(
    `  IMS : ${fmt(deepImsOps)} ops/s (median of ${IMS_TIMED_PASSES} passes: ${deepRuns.all.map(fmt).join(', ')}; ${fmt(deepRuns.cpu)} ops per CPU-second)`,
  );
  console.log(
    `        sampled latency p50 ${deepHist.getValueAtPercentile(50)} ns, p99 ${deepHist.getValueAtPercentile(99)} ns, p99.9 ${deepHist.getValueAtPercentile(99.9)} ns, max ${deepHist.maxValue} ns; ${fmt(deepIms.restingOrderCount)} orders rest at the end`,
  );

  // mix ------------------------------------------------------------------------------------------------
  const mix = generateMix(new Rng(SEED + 1));
  const counts = [0, 0, 0, 0, 0];
  for (let i = 0; i < mix.bench.count; i++) counts[mix.bench.kind[i] === OP_NEW ? (mix.bench.tif[i] === TimeInForce.IOC ? 4 : 1) : mix.bench.kind[i]]++;
  const pct = (n: number) => ((100 * n) / mix.bench.count).toFixed(1);
  console.log(
    `\nmix: ${MIX_PRODUCTS} products pre-filled with ${fmt(mix.restingAfterFill)} resting orders (${fmt(mix.restingAfterFill / MIX_PRODUCTS)} per product; ${fmt(mix.restingAtEnd / MIX_PRODUCTS)} at the end);` +
      ` ${fmt(mix.bench.count)} ops: GTC ${pct(counts[1])} %, IOC ${pct(counts[4])} %, cancel ${pct(counts[OP_CANCEL])} %, amend (price move) ${pct(counts[OP_AMEND])} %` +
      (QUICK ? ' [quick: 1/5 of the full 5,000,000 ops]' : ''),
  );
  warmUpIms(MIX_PRODUCTS, mix.fill, mix.bench);
  const mixSink = new NullSink();
  const mixRuns = timeImsPasses(MIX_PRODUCTS, mix.fill, mix.bench, mixSink);
  const mixImsOps = mixRuns.wall;
  const mixHist = sampleImsLatency(MIX_PRODUCTS, mix.fill, mix.bench, timerNs);
  const mixP99 = mixHist.getValueAtPercentile(99);
  console.log(
    `  IMS : ${fmt(mixImsOps)} ops/s (median of ${IMS_TIMED_PASSES} passes: ${mixRuns.all.map(fmt).join(', ')}; ${fmt(mixRuns.cpu)} ops per CPU-second)`,
  );
  console.log(
    `        sampled latency p50 ${mixHist.getValueAtPercentile(50)} ns, p99 ${mixP99} ns, p99.9 ${mixHist.getValueAtPercentile(99.9)} ns, max ${mixHist.maxValue} ns`,
  );
  collectGarbage();
  const rssMb = mb();
  const streamMb = (deep.bytes + mix.fill.bytes + mix.bench.bytes) / 1048576;
  const memory = process.memoryUsage();
  console.log(
    `  process RSS after the IMS runs: ${rssMb.toFixed(0)} MB after a full GC (JS heap ${(memory.heapUsed / 1048576).toFixed(0)} MB, ` +
      `typed arrays ${(memory.arrayBuffers / 1048576).toFixed(0)} MB, of which ${streamMb.toFixed(0)} MB are the stored op streams ` +
      `and the rest the two kept engines)`,
  );

  if (IMS_ONLY) {
    console.log(`(--ims-only: peer skipped; checksums ${deepSink.checksum % 1e9} ${mixSink.checksum % 1e9})`);
    return;
  }

  // peer -----------------------------------------------------------------------------------------------
  const peerOps = Math.min(MIX_PEER_OPS, mix.bench.count);
  deep.buildPeerIds(deep.count);
  mix.fill.buildPeerIds(mix.fill.count);
  mix.bench.buildPeerIds(peerOps);
  {
    const warm = freshPeer(1);
    runPeer(warm, deep, 0, Math.min(20_000, deep.count));
  }
  const deepPeer = freshPeer(1);
  let cpu0 = process.cpuUsage();
  let start = performance.now();
  runPeer(deepPeer, deep, 0, deep.count);
  const deepPeerS = (performance.now() - start) / 1000;
  const deepPeerCpu = deep.count / cpuSeconds(cpu0);
  const deepPeerOps = deep.count / deepPeerS;
  const deepAgree = booksAgree(deepIms, deepPeer, 1);
  console.log(
    `\ndeep peer nodejs-order-book: ${fmt(deepPeerOps)} ops/s (${deepPeerS.toFixed(1)} s; ${fmt(deepPeerCpu)} ops per CPU-second) on the same ${fmt(deep.count)} ops; books agree at the end: ${deepAgree ? 'yes' : 'NO'}`,
  );
  console.log(`  IMS / peer: ${(deepImsOps / deepPeerOps).toFixed(0)}x wall-clock, ${(deepRuns.cpu / deepPeerCpu).toFixed(0)}x per CPU-second (target >= 100x)`);

  const mixPeer = freshPeer(MIX_PRODUCTS);
  runPeer(mixPeer, mix.fill, 0, mix.fill.count);
  cpu0 = process.cpuUsage();
  start = performance.now();
  runPeer(mixPeer, mix.bench, 0, peerOps);
  const mixPeerS = (performance.now() - start) / 1000;
  const mixPeerCpu = peerOps / cpuSeconds(cpu0);
  const mixPeerOps = peerOps / mixPeerS;
  // The IMS book after the same prefix, to check both evolved identically.
  const check = freshIms(MIX_PRODUCTS, new NullSink());
  const seq = runIms(check.engine, mix.fill, 0, mix.fill.count, check.seq);
  runIms(check.engine, mix.bench, 0, peerOps, seq);
  const mixAgree = booksAgree(check.engine, mixPeer, MIX_PRODUCTS);
  const peerHist = newHistogram();
  const mixPeerLat = freshPeer(MIX_PRODUCTS);
  runPeer(mixPeerLat, mix.fill, 0, mix.fill.count);
  runPeerSampled(mixPeerLat, mix.bench, 0, Math.min(peerOps, 200_000), peerHist, timerNs);
  console.log(
    `mix peer nodejs-order-book: ${fmt(mixPeerOps)} ops/s (${mixPeerS.toFixed(1)} s; ${fmt(mixPeerCpu)} ops per CPU-second) on the first ${fmt(peerOps)} ops of the same stream; sampled p99 ${peerHist.getValueAtPercentile(99)} ns; books agree: ${mixAgree ? 'yes' : 'NO'}`,
  );
  console.log(`  IMS / peer: ${(mixImsOps / mixPeerOps).toFixed(0)}x wall-clock, ${(mixRuns.cpu / mixPeerCpu).toFixed(0)}x per CPU-second`);
  console.log(
    `\ntargets: mix >= 3,000,000 ops/s: ${mixImsOps >= 3e6 ? 'met' : 'NOT met'}; mix p99 <= 2,000 ns: ${mixP99 <= 2000 ? 'met' : 'NOT met'}; deep >= 100x peer: ${deepImsOps >= 100 * deepPeerOps ? 'met' : 'NOT met'}`,
  );
  console.log(
    `(checksums ${deepSink.checksum % 1e9} ${mixSink.checksum % 1e9} ${peerChecksum}; load average ${loadAverage()}; total ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  console.log(
    JSON.stringify({
      bench: 'engine',
      deep_ims_ops_per_s: Math.round(deepImsOps),
      deep_peer_ops_per_s: Math.round(deepPeerOps),
      mix_ims_ops_per_s: Math.round(mixImsOps),
      mix_peer_ops_per_s: Math.round(mixPeerOps),
      mix_ims_p99_ns: mixP99,
      rss_mb: Math.round(rssMb),
    }),
  );
}

// Importable (for profiling a single workload); runs when executed directly.
export { generateDeep, generateMix, freshIms, runIms, NullSink, OpStream, Rng, SEED, MIX_PRODUCTS };
if (require.main === module) main();
