// A realistic command load for engine tests and drills: writes sequencer inputs (InputHeader + body,
// exactly what the product manager writes) into one input ring. First it lists the products, then
// a seeded mix of orders that cross (prices scattered around one mid on both sides): new orders
// (GTC, DAY, IOC, FOK, post-only), cancels and amends of recently sent orders (some of them filled
// or gone by then, so rejects happen too), and optionally SnapshotRequest and TradingDayClose
// entries at fixed intervals.
//
//   node dist/processes/matching-engine/order-flow-producer.js --ring PATH --source-id N --count N
//        [--rate R] [--seed S] [--products P] [--accounts A] [--batch B]
//        [--snapshot-request-every N] [--close-every N] [--exit-with-parent]
//
// sourceSeq runs 1..count (listings included). Prints producer-start, then producer-done.

import { Command, InvalidArgumentError } from 'commander';
import { clearBytes, writeI64 } from '../../bus/codec';
import { OrderFlags, Side, SnapshotReason, TimeInForce } from '../../bus/enums';
import { BackoffIdleStrategy, SleepingParker } from '../../bus/idle-strategy';
import { BACK_PRESSURED, RingFile, RingProducer } from '../../bus/ring';
import { AmendOrder, CancelOrder, INPUT_HEADER_BYTES, InputHeader, ListProduct, NewOrder, SnapshotRequest, TradingDayClose, type AnyMessage } from '../../bus/schema';
import { native } from '../../native/addon';

/** Orders remembered for cancels and amends (a power of two). */
const RECENT_ORDERS = 4096;
const MID_PRICE = 1_000;
const PRICE_SPREAD_TICKS = 6;
/** The first trading day closed (yyyymmdd); each close adds one. */
const FIRST_TRADING_DAY = 20240101;

function clearBody(view: DataView, body: number, desc: AnyMessage): void {
  clearBytes(view, body, desc.size);
}

export interface OrderFlowOptions {
  seed: number;
  products: number;
  accounts: number;
  /** Every n-th command is a SnapshotRequest (0 = never). */
  snapshotRequestEvery: number;
  /** Every n-th command is a TradingDayClose (0 = never). */
  closeEvery: number;
  /** Order ids are orderIdBase + 1, 2, 3, ... (unique per producer). */
  orderIdBase: number;
}

/** The command stream: a pure function of the options, one command per next(). */
export class OrderFlow {
  private state: number;
  private n = 0;
  private nextOrderId: number;
  private readonly recentIds = new Float64Array(RECENT_ORDERS);
  private readonly recentAccounts = new Uint32Array(RECENT_ORDERS);
  private recentCount = 0;
  private tradingDay = FIRST_TRADING_DAY;

  constructor(private readonly options: OrderFlowOptions) {
    this.state = options.seed >>> 0;
    this.nextOrderId = options.orderIdBase;
  }

  /** Writes the next command's body at `body` of `view` (zeroed first); returns its message. */
  next(view: DataView, body: number): AnyMessage {
    const o = this.options;
    this.n++;
    if (this.n <= o.products) return this.list(view, body, this.n);
    if (o.snapshotRequestEvery > 0 && this.n % o.snapshotRequestEvery === 0) {
      clearBody(view, body, SnapshotRequest);
      view.setUint8(body + SnapshotRequest.o.reason, SnapshotReason.OPERATOR);
      return SnapshotRequest;
    }
    if (o.closeEvery > 0 && this.n % o.closeEvery === 0) {
      clearBody(view, body, TradingDayClose);
      view.setUint32(body + TradingDayClose.o.tradingDay, this.tradingDay++, true);
      return TradingDayClose;
    }
    const roll = this.int(0, 99);
    if (roll < 60 || this.recentCount === 0) return this.newOrder(view, body);
    const pick = this.int(0, Math.min(this.recentCount, RECENT_ORDERS) - 1);
    const orderId = this.recentIds[pick]!;
    const accountId = this.recentAccounts[pick]!;
    if (roll < 80) {
      clearBody(view, body, CancelOrder);
      writeI64(view, body + CancelOrder.o.orderId, orderId);
      view.setUint32(body + CancelOrder.o.accountId, accountId, true);
      view.setUint32(body + CancelOrder.o.requestId, this.n >>> 0, true);
      view.setUint16(body + CancelOrder.o.gatewayId, 1, true);
      return CancelOrder;
    }
    clearBody(view, body, AmendOrder);
    writeI64(view, body + AmendOrder.o.orderId, orderId);
    writeI64(view, body + AmendOrder.o.newPrice, MID_PRICE + this.int(-PRICE_SPREAD_TICKS, PRICE_SPREAD_TICKS));
    writeI64(view, body + AmendOrder.o.newQuantity, this.int(1, 120));
    view.setUint32(body + AmendOrder.o.accountId, accountId, true);
    view.setUint32(body + AmendOrder.o.requestId, this.n >>> 0, true);
    view.setUint16(body + AmendOrder.o.gatewayId, 1, true);
    return AmendOrder;
  }

  private list(view: DataView, body: number, productId: number): AnyMessage {
    clearBody(view, body, ListProduct);
    writeI64(view, body + ListProduct.o.tickSize, 1);
    writeI64(view, body + ListProduct.o.lotSize, 1);
    writeI64(view, body + ListProduct.o.referencePrice, MID_PRICE);
    view.setUint32(body + ListProduct.o.productId, productId, true);
    view.setUint32(body + ListProduct.o.brandId, 1 + (productId % 7), true);
    const symbol = `P${productId}`;
    for (let i = 0; i < symbol.length; i++) view.setUint8(body + ListProduct.o.symbol + i, symbol.charCodeAt(i));
    return ListProduct;
  }

  private newOrder(view: DataView, body: number): AnyMessage {
    const o = this.options;
    clearBody(view, body, NewOrder);
    const orderId = ++this.nextOrderId;
    const accountId = this.int(1, o.accounts);
    const side = this.int(0, 1) === 0 ? Side.INFLOW : Side.OUTFLOW;
    const tifRoll = this.int(0, 99);
    let tif: number = TimeInForce.GTC;
    let flags = 0;
    if (tifRoll < 8) tif = TimeInForce.DAY;
    else if (tifRoll < 14) tif = TimeInForce.IOC;
    else if (tifRoll < 18) tif = TimeInForce.FOK;
    else if (tifRoll < 21) flags = OrderFlags.POST_ONLY;
    writeI64(view, body + NewOrder.o.orderId, orderId);
    writeI64(view, body + NewOrder.o.price, MID_PRICE + this.int(-PRICE_SPREAD_TICKS, PRICE_SPREAD_TICKS));
    writeI64(view, body + NewOrder.o.quantity, this.int(1, 100));
    view.setUint32(body + NewOrder.o.accountId, accountId, true);
    view.setUint32(body + NewOrder.o.productId, this.int(1, o.products), true);
    view.setUint32(body + NewOrder.o.requestId, this.n >>> 0, true);
    view.setUint16(body + NewOrder.o.gatewayId, 1, true);
    view.setUint8(body + NewOrder.o.side, side);
    view.setUint8(body + NewOrder.o.timeInForce, tif);
    view.setUint8(body + NewOrder.o.flags, flags);
    const slot = this.recentCount++ & (RECENT_ORDERS - 1);
    this.recentIds[slot] = orderId;
    this.recentAccounts[slot] = accountId;
    return NewOrder;
  }

  /** mulberry32: an integer in [min, max]. */
  private int(min: number, max: number): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    const u = ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
    return min + Math.floor(u * (max - min + 1));
  }
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${v}'`);
  return n;
}

interface Args {
  ring: string;
  sourceId: number;
  count: number;
  rate: number;
  seed: number;
  products: number;
  accounts: number;
  batch: number;
  snapshotRequestEvery: number;
  closeEvery: number;
  exitWithParent: boolean;
}

function run(args: Args): void {
  const ring = RingFile.open(args.ring);
  const producer = new RingProducer(ring);
  const view = ring.view;
  const flow = new OrderFlow({ seed: args.seed, products: args.products, accounts: args.accounts, snapshotRequestEvery: args.snapshotRequestEvery, closeEvery: args.closeEvery, orderIdBase: args.sourceId * 1_000_000_000 });
  const idle = new BackoffIdleStrategy({ park: (ns: number) => producer.parkUntilProgress(ns) });
  const sleeper = new SleepingParker();
  const clock = new Float64Array(2);
  native.clockInto(clock, 0);
  const startNs = clock[0]!;
  const parent = process.ppid;
  // The largest command body, so a claim always fits whatever next() writes.
  const scratch = new DataView(new ArrayBuffer(256));
  let seq = 0;
  process.stdout.write(JSON.stringify({ event: 'producer-start', pid: process.pid, sourceId: args.sourceId, count: args.count, rate: args.rate }) + '\n');
  const step = (): void => {
    const sliceEnd = Date.now() + 20;
    while (seq < args.count) {
      if (args.rate > 0) {
        native.clockInto(clock, 0);
        const due = ((clock[0]! - startNs) / 1e9) * args.rate;
        if (seq >= due) {
          sleeper.park(200_000);
          if (Date.now() > sliceEnd) break;
          continue;
        }
      }
      let n = 0;
      while (n < args.batch && seq < args.count) {
        // Generate into scratch first: the command's size is known only after next().
        const desc = flow.next(scratch, 0);
        let at = producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
        if (at === BACK_PRESSURED) {
          producer.commit();
          while ((at = producer.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size)) === BACK_PRESSURED) producer.parkUntilProgress(1_000_000);
        }
        seq++;
        writeI64(view, at + InputHeader.o.sourceSeq, seq);
        view.setUint16(at + InputHeader.o.sourceId, args.sourceId, true);
        view.setUint16(at + InputHeader.o.flags, 0, true);
        view.setUint32(at + InputHeader.o.epoch, 0, true);
        for (let i = 0; i < desc.size; i++) view.setUint8(at + INPUT_HEADER_BYTES + i, scratch.getUint8(i));
        n++;
      }
      producer.commit();
      idle.idle(n);
      if (Date.now() > sliceEnd) break;
    }
    if (args.exitWithParent && !alive(parent)) process.exit(0);
    if (seq < args.count) {
      setImmediate(step);
      return;
    }
    producer.close();
    process.stdout.write(JSON.stringify({ event: 'producer-done', sourceId: args.sourceId, lastSourceSeq: seq }) + '\n');
  };
  step();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

if (require.main === module) {
  new Command('order-flow-producer')
    .description('Writes a crossing order flow (listings, orders, cancels, amends) into a sequencer input ring')
    .requiredOption('--ring <path>', 'input ring')
    .requiredOption('--source-id <n>', 'sourceId of this producer', nonNegativeInt)
    .requiredOption('--count <n>', 'commands to write (listings included)', nonNegativeInt)
    .option('--rate <n>', 'commands per second (0 = as fast as allowed)', nonNegativeInt, 0)
    .option('--seed <n>', 'seed of the flow', nonNegativeInt, 1)
    .option('--products <n>', 'products listed first', nonNegativeInt, 10)
    .option('--accounts <n>', 'accounts trading', nonNegativeInt, 50)
    .option('--batch <n>', 'commands per ring commit', nonNegativeInt, 32)
    .option('--snapshot-request-every <n>', 'every n-th command is a SnapshotRequest (0 never)', nonNegativeInt, 0)
    .option('--close-every <n>', 'every n-th command is a TradingDayClose (0 never)', nonNegativeInt, 0)
    .option('--exit-with-parent', 'exit when the parent process dies (tests)', false)
    .action((o: Args) => run(o))
    .parse();
}
