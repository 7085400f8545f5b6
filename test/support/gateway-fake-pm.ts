// A SIMULATED product manager for the gateway's contract tests — a test double, not the product
// manager. It runs inside the test process: it reads the gateway->PM ring as the product manager's
// consumer, checks EVERY record against the contract (so a test can prove nothing invalid was
// written), and answers over the PM->gateway ring with ExecutionReports shaped like the real
// product manager's (processes/product-manager/product-manager-state.ts):
//   - every report of an order carries the requestId of the command that created it, except the
//     replies to cancels and amends, which carry theirs;
//   - a new order that crosses gets its fills first (maker report, then taker report, per fill),
//     then Accepted if it rests or an IOC remainder cancel;
//   - rejections before sequencing are bare reports (orderId 0 for new orders).
// Matching is deliberately small: price-time across accounts of one product, no self-trade rules.
// Reads (sourceSeq 0, outside the command numbering) are answered like the real product manager's
// read-queries.ts: WalletQuery with CASH, a POSITION per product, NOTIONAL_DAILY, one brand (every
// account starts with FAKE_CASH_MINOR and FAKE_UNITS of each product, open orders reserve);
// OrdersQuery with the account's orders from this fake's book (ONE: only the account's own,
// NONE otherwise); RiskRulesQuery with the five built-in defaults and the SetRiskRule commands
// read so far.

/** What every account holds in the simulation before it trades (cash in minor units; units per product). */
export const FAKE_CASH_MINOR = 100_000_000;
export const FAKE_UNITS = 1_000;

import { decode, encode } from '../../bus/codec';
import { CancelReason, OrderFlags, RejectReason, Side, TimeInForce } from '../../bus/enums';
import { BACK_PRESSURED, RingConsumer, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import {
  AmendOrder,
  CancelOrder,
  Deposit,
  ExecutionReport,
  HaltProduct,
  INPUT_HEADER_BYTES,
  InputHeader,
  InventoryDispatch,
  InventoryReceipt,
  ListProduct,
  messageByTypeId,
  NewOrder,
  OrderStatus,
  ResumeProduct,
  SetRiskRule,
  Withdraw,
  AccountOpened,
  AccountSuspended,
  AccountRoleChanged,
  OrderRecord,
  OrdersQuery,
  OrdersScope,
  ReadStatus,
  RiskRuleRecord,
  RiskRulesQuery,
  WalletItem,
  WalletQuery,
  WalletReport,
  WalletStatus,
  MAX_ORDER_RECORDS,
  type ValueOf,
} from '../../bus/schema';

export interface FakeProduct {
  readonly productId: number;
  readonly tickSize: number;
  readonly lotSize: number;
}

interface FakeOrder {
  orderId: number;
  accountId: number;
  productId: number;
  side: number;
  price: number;
  quantity: number;
  filled: number;
  status: number;
  timeInForce: number;
  clientOrderId: string;
  requestId: number;
  creationUs: number;
  lastPrice: number;
  lastQuantity: number;
  lastExecId: number;
  lastEventSeq: number;
  reason: number;
}

type Report = ValueOf<typeof ExecutionReport>;

const ADMIN_TYPES = new Set<number>([Deposit, Withdraw, InventoryReceipt, InventoryDispatch, SetRiskRule, ListProduct, HaltProduct, ResumeProduct, AccountOpened, AccountSuspended, AccountRoleChanged].map((d) => d.typeId));

export class FakeProductManager {
  readonly consumer: RingConsumer;
  readonly producer: RingProducer;
  /** Every record read, valid or not. */
  records = 0;
  /** Records that break the gateway->PM contract, with why (must stay empty). */
  readonly invalid: string[] = [];
  readonly commands = { newOrders: 0, cancels: 0, amends: 0, admin: 0, walletQueries: 0, ordersQueries: 0, riskRulesQueries: 0 };
  readonly adminCommands: Array<{ name: string; value: Record<string, unknown>; sourceSeq: number }> = [];
  /** While true, the fake polls every event-loop turn (a busy product manager), for latency measurements. */
  spin = false;
  /** When > 0, order commands are answered this many milliseconds after they are read (a slow PM). */
  delayMs = 0;
  /** While true, commands are read and checked but never answered (a PM that is failing over). */
  silent = false;
  /** Orders above this quantity are rejected with risk_max_order_quantity (the PM's risk check). */
  maxOrderQuantity = 1_000_000;
  /** Orders for these accounts are rejected with insufficient_funds. */
  readonly brokeAccounts = new Set<number>();
  readonly orders = new Map<number, FakeOrder>();
  private readonly products = new Map<number, FakeProduct>();
  private nextOrderId = 1_000;
  private nextExecId = 1;
  private eventSeq = 0;
  private lastSource = { epoch: -1, seq: 0 };
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private stopped = false;
  private readonly backlog: Report[] = [];

  constructor(toPmPath: string, fromPmPath: string, readonly gatewayId: number, products: readonly FakeProduct[], consumerName = 'pm') {
    this.consumer = new RingConsumer(RingFile.open(toPmPath), consumerName);
    this.producer = new RingProducer(RingFile.open(fromPmPath));
    for (const p of products) this.products.set(p.productId, p);
  }

  start(): void {
    this.stopped = false;
    this.loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.consumer.close();
    this.producer.close();
  }

  /** Reads everything the gateway has published so far (call before counting commands). */
  caughtUp(): void {
    while (this.consumer.lag() > 0) this.pollOnce();
  }

  /** Polls once (tests may call it directly). */
  pollOnce(): number {
    const n = this.consumer.poll(this.onRecord, 256);
    this.flush();
    return n;
  }

  /** Sends `count` unsolicited fill-like reports for one of `accountId`'s orders (a busy resting order). */
  floodReports(accountId: number, count: number): void {
    const o: FakeOrder = this.restingFor(accountId);
    for (let i = 0; i < count; i++) {
      this.eventSeq++;
      this.backlog.push(this.reportOf(o, 0, o.reason, OrderStatus.PARTIALLY_FILLED));
    }
    this.flush();
  }

  /** Sends an unsolicited fill of `orderId` (as a counterparty through another gateway would cause). */
  fillFromElsewhere(orderId: number, quantity: number): void {
    const o = this.orders.get(orderId);
    if (o === undefined) throw new Error(`fake PM: no order ${orderId}`);
    this.eventSeq++;
    this.execute(o, o.price, quantity, this.nextExecId++);
    this.backlog.push(this.reportOf(o, o.requestId, 0));
    this.flush();
  }

  private restingFor(accountId: number): FakeOrder {
    for (const o of this.orders.values()) if (o.accountId === accountId) return o;
    const p = this.products.values().next().value as FakeProduct;
    const o: FakeOrder = { orderId: this.nextOrderId++, accountId, productId: p.productId, side: Side.INFLOW, price: p.tickSize * 100, quantity: p.lotSize * 1000, filled: 0, status: OrderStatus.NEW, timeInForce: TimeInForce.GTC, clientOrderId: '', requestId: 0, creationUs: Date.now() * 1000, lastPrice: 0, lastQuantity: 0, lastExecId: 0, lastEventSeq: 0, reason: 0 };
    this.orders.set(o.orderId, o);
    return o;
  }

  private loop(): void {
    if (this.stopped) return;
    const n = this.pollOnce();
    if (n > 0 || this.spin) this.immediate = setImmediate(() => this.loop());
    else this.timer = setTimeout(() => this.loop(), 1);
  }

  private readonly onRecord = (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number): void => {
    this.records++;
    const desc = messageByTypeId(typeId);
    if (desc === undefined) return this.bad(`record of unknown type ${typeId}`);
    if (version !== desc.version) return this.bad(`${desc.name} version ${version}, expected ${desc.version}`);
    if (length !== INPUT_HEADER_BYTES + desc.size) return this.bad(`${desc.name} payload of ${length} bytes, expected ${INPUT_HEADER_BYTES + desc.size}`);
    let header: ValueOf<typeof InputHeader>;
    let body: Record<string, number | string>;
    try {
      header = decode(InputHeader, buf.view, offset);
      body = decode(desc, buf.view, offset + INPUT_HEADER_BYTES) as Record<string, number | string>;
    } catch (e) {
      return this.bad(`${desc.name} does not decode: ${(e as Error).message}`);
    }
    if (header.sourceId !== this.gatewayId) return this.bad(`${desc.name} from sourceId ${header.sourceId}, expected the gateway id ${this.gatewayId}`);
    if (typeId === WalletQuery.typeId || typeId === OrdersQuery.typeId || typeId === RiskRulesQuery.typeId) {
      // A read: never numbered (sourceSeq 0), so it neither advances nor breaks the command sequence.
      if (header.sourceSeq !== 0) return this.bad(`${desc.name} with sourceSeq ${header.sourceSeq}; a read must carry 0`);
      if (body['gatewayId'] !== this.gatewayId) return this.bad(`${desc.name} names gateway ${body['gatewayId']}`);
      if (body['requestId'] === 0 || body['accountId'] === 0) return this.bad(`${desc.name} without requestId or accountId`);
      if (typeId === WalletQuery.typeId) {
        this.commands.walletQueries++;
        if (!this.silent) this.answerWallet(body['accountId'] as number, body['requestId'] as number);
      } else if (typeId === OrdersQuery.typeId) {
        const q = body as ValueOf<typeof OrdersQuery>;
        if (!(q.scope >= OrdersScope.OPEN && q.scope <= OrdersScope.ONE)) return this.bad(`OrdersQuery scope ${q.scope}`);
        if ((q.scope === OrdersScope.ONE) !== q.orderId > 0) return this.bad(`OrdersQuery scope ${q.scope} with orderId ${q.orderId}`);
        if (!(q.maxOrders >= 1 && q.maxOrders <= MAX_ORDER_RECORDS)) return this.bad(`OrdersQuery maxOrders ${q.maxOrders}`);
        this.commands.ordersQueries++;
        if (!this.silent) this.answerOrders(q);
      } else {
        this.commands.riskRulesQueries++;
        if (!this.silent) this.answerRiskRules(body as ValueOf<typeof RiskRulesQuery>);
      }
      return;
    }
    if (header.epoch !== this.lastSource.epoch) {
      if (header.epoch < this.lastSource.epoch || header.sourceSeq !== 1) return this.bad(`epoch ${header.epoch} sourceSeq ${header.sourceSeq} after epoch ${this.lastSource.epoch}`);
    } else if (header.sourceSeq !== this.lastSource.seq + 1) {
      return this.bad(`sourceSeq ${header.sourceSeq} after ${this.lastSource.seq}: a gap or a repeat`);
    }
    this.lastSource = { epoch: header.epoch, seq: header.sourceSeq };
    if (ADMIN_TYPES.has(typeId)) {
      this.commands.admin++;
      this.adminCommands.push({ name: desc.name, value: body, sourceSeq: header.sourceSeq });
      return;
    }
    if (this.delayMs > 0) {
      setTimeout(() => {
        this.dispatch(typeId, body);
        this.flush();
      }, this.delayMs);
      return;
    }
    this.dispatch(typeId, body);
  };

  private dispatch(typeId: number, body: Record<string, number | string>): void {
    switch (typeId) {
      case NewOrder.typeId:
        return this.onNewOrder(body as ValueOf<typeof NewOrder>);
      case CancelOrder.typeId:
        return this.onCancel(body as ValueOf<typeof CancelOrder>);
      case AmendOrder.typeId:
        return this.onAmend(body as ValueOf<typeof AmendOrder>);
      default:
        return this.bad(`${messageByTypeId(typeId)?.name ?? typeId} is not a gateway command`);
    }
  }

  private bad(why: string): void {
    this.invalid.push(why);
  }

  private checkCommon(name: string, c: { accountId: number; requestId: number; gatewayId: number }): boolean {
    if (c.accountId === 0) return (this.bad(`${name} with accountId 0`), false);
    if (c.requestId === 0) return (this.bad(`${name} with requestId 0 (no reply could be routed)`), false);
    if (c.gatewayId !== this.gatewayId) return (this.bad(`${name} for gateway ${c.gatewayId}`), false);
    return true;
  }

  private onNewOrder(c: ValueOf<typeof NewOrder>): void {
    this.commands.newOrders++;
    if (!this.checkCommon('NewOrder', c)) return;
    const p = this.products.get(c.productId);
    if (c.orderId !== 0) return this.bad(`NewOrder with orderId ${c.orderId} (the PM assigns ids)`);
    if (p === undefined) return this.bad(`NewOrder for unknown product ${c.productId}`);
    if (!(c.price > 0 && c.price % p.tickSize === 0)) return this.bad(`NewOrder price ${c.price} not on tick ${p.tickSize}`);
    if (!(c.quantity > 0 && c.quantity <= 2 ** 30 && c.quantity % p.lotSize === 0)) return this.bad(`NewOrder quantity ${c.quantity} not on lot ${p.lotSize}`);
    if (c.side !== Side.INFLOW && c.side !== Side.OUTFLOW) return this.bad(`NewOrder side ${c.side}`);
    if (!(c.timeInForce >= 1 && c.timeInForce <= 4)) return this.bad(`NewOrder timeInForce ${c.timeInForce}`);
    if (c.flags !== 0 && (c.flags !== OrderFlags.POST_ONLY || c.timeInForce === TimeInForce.IOC || c.timeInForce === TimeInForce.FOK)) return this.bad(`NewOrder flags ${c.flags} with tif ${c.timeInForce}`);
    if (!/^[A-Za-z0-9._:-]{0,24}$/.test(c.clientOrderId)) return this.bad(`NewOrder clientOrderId ${JSON.stringify(c.clientOrderId)}`);
    if (c.price * c.quantity > Number.MAX_SAFE_INTEGER) return this.bad('NewOrder notional beyond 2^53');
    if (this.silent) return;
    this.eventSeq++;
    if (c.clientOrderId !== '') {
      for (const o of this.orders.values()) {
        if (o.accountId === c.accountId && o.clientOrderId === c.clientOrderId) {
          // A repeated clientOrderId: the original order's report, nothing created.
          this.backlog.push(this.reportOf(o, c.requestId, o.reason));
          return;
        }
      }
    }
    if (c.quantity > this.maxOrderQuantity) return this.bare(c.accountId, c.productId, RejectReason.RISK_MAX_ORDER_QUANTITY, c.requestId);
    if (this.brokeAccounts.has(c.accountId)) return this.bare(c.accountId, c.productId, RejectReason.INSUFFICIENT_FUNDS, c.requestId);
    const o: FakeOrder = {
      orderId: this.nextOrderId++,
      accountId: c.accountId,
      productId: c.productId,
      side: c.side,
      price: c.price,
      quantity: c.quantity,
      filled: 0,
      status: OrderStatus.NEW,
      timeInForce: c.timeInForce,
      clientOrderId: c.clientOrderId,
      requestId: c.requestId,
      creationUs: Date.now() * 1000,
      lastPrice: 0,
      lastQuantity: 0,
      lastExecId: 0,
      lastEventSeq: 0,
      reason: 0,
    };
    this.orders.set(o.orderId, o);
    // Match against resting orders of other accounts, best price first, then time.
    const resting = [...this.orders.values()]
      .filter((m) => m !== o && m.productId === o.productId && m.side !== o.side && m.accountId !== o.accountId && m.quantity - m.filled > 0 && isOpen(m.status))
      .filter((m) => (o.side === Side.INFLOW ? m.price <= o.price : m.price >= o.price))
      .sort((a, b) => (o.side === Side.INFLOW ? a.price - b.price : b.price - a.price) || a.orderId - b.orderId);
    for (const m of resting) {
      const left = o.quantity - o.filled;
      if (left === 0) break;
      const q = Math.min(left, m.quantity - m.filled);
      const execId = this.nextExecId++;
      this.eventSeq++;
      this.execute(m, m.price, q, execId);
      this.backlog.push(this.reportOf(m, m.requestId, 0));
      this.execute(o, m.price, q, execId);
      this.backlog.push(this.reportOf(o, o.requestId, 0));
    }
    if (o.quantity - o.filled === 0) return;
    this.eventSeq++;
    if (o.timeInForce === TimeInForce.IOC || o.timeInForce === TimeInForce.FOK) {
      o.status = OrderStatus.CANCELED;
      o.reason = CancelReason.IOC_REMAINDER;
      this.backlog.push(this.reportOf(o, o.requestId, o.reason));
      return;
    }
    o.status = o.filled > 0 ? OrderStatus.PARTIALLY_FILLED : OrderStatus.NEW;
    this.backlog.push(this.reportOf(o, o.requestId, 0));
  }

  private onCancel(c: ValueOf<typeof CancelOrder>): void {
    this.commands.cancels++;
    if (!this.checkCommon('CancelOrder', c)) return;
    if (!(c.orderId > 0)) return this.bad(`CancelOrder orderId ${c.orderId}`);
    if (this.silent) return;
    this.eventSeq++;
    const o = this.orders.get(c.orderId);
    if (o === undefined) return this.bare(c.accountId, 0, RejectReason.UNKNOWN_ORDER, c.requestId, c.orderId);
    if (o.accountId !== c.accountId) return this.bare(c.accountId, 0, RejectReason.NOT_OWNER, c.requestId, c.orderId);
    if (!isOpen(o.status)) return this.rejectOn(o, c.requestId, finishedReason(o.status));
    o.status = OrderStatus.CANCELED;
    o.reason = CancelReason.USER;
    this.backlog.push(this.reportOf(o, c.requestId, o.reason));
  }

  private onAmend(c: ValueOf<typeof AmendOrder>): void {
    this.commands.amends++;
    if (!this.checkCommon('AmendOrder', c)) return;
    if (!(c.orderId > 0)) return this.bad(`AmendOrder orderId ${c.orderId}`);
    if (c.newPrice < 0 || c.newQuantity < 0 || c.newQuantity > 2 ** 30) return this.bad(`AmendOrder values ${c.newPrice} ${c.newQuantity}`);
    const known = this.orders.get(c.orderId);
    const p = known === undefined ? undefined : this.products.get(known.productId);
    if (p !== undefined && known!.accountId === c.accountId) {
      if (c.newPrice !== 0 && c.newPrice % p.tickSize !== 0) return this.bad(`AmendOrder price ${c.newPrice} not on tick ${p.tickSize}`);
      if (c.newQuantity !== 0 && c.newQuantity % p.lotSize !== 0) return this.bad(`AmendOrder quantity ${c.newQuantity} not on lot ${p.lotSize}`);
    }
    if (this.silent) return;
    this.eventSeq++;
    const o = known;
    if (o === undefined) return this.bare(c.accountId, 0, RejectReason.UNKNOWN_ORDER, c.requestId, c.orderId);
    if (o.accountId !== c.accountId) return this.bare(c.accountId, 0, RejectReason.NOT_OWNER, c.requestId, c.orderId);
    if (!isOpen(o.status)) return this.rejectOn(o, c.requestId, finishedReason(o.status));
    const price = c.newPrice === 0 ? o.price : c.newPrice;
    const quantity = c.newQuantity === 0 ? o.quantity : c.newQuantity;
    if (quantity <= o.filled) return this.rejectOn(o, c.requestId, RejectReason.INVALID_QUANTITY);
    if (price === o.price && quantity === o.quantity) return this.rejectOn(o, c.requestId, RejectReason.AMEND_NO_CHANGE);
    o.price = price;
    o.quantity = quantity;
    o.status = OrderStatus.REPLACED;
    this.backlog.push(this.reportOf(o, c.requestId, 0));
  }

  private execute(o: FakeOrder, price: number, q: number, execId: number): void {
    o.filled += q;
    o.lastPrice = price;
    o.lastQuantity = q;
    o.lastExecId = execId;
    o.status = o.filled === o.quantity ? OrderStatus.FILLED : OrderStatus.PARTIALLY_FILLED;
  }

  private rejectOn(o: FakeOrder, requestId: number, reason: number): void {
    this.backlog.push(this.reportOf(o, requestId, reason, OrderStatus.REJECTED));
  }

  private bare(accountId: number, productId: number, reason: number, requestId: number, orderId = 0): void {
    this.backlog.push({
      orderId, price: 0, quantity: 0, filledQuantity: 0, remainingQuantity: 0, lastPrice: 0, lastQuantity: 0, execId: 0, creationTimeUs: 0,
      eventTimeUs: Date.now() * 1000, eventSeq: 0, requestId, accountId, productId, gatewayId: this.gatewayId, reason, side: 0, status: OrderStatus.REJECTED, timeInForce: 0, clientOrderId: '',
    });
  }

  private reportOf(o: FakeOrder, requestId: number, reason: number, status = o.status): Report {
    o.lastEventSeq = this.eventSeq;
    return {
      orderId: o.orderId, price: o.price, quantity: o.quantity, filledQuantity: o.filled, remainingQuantity: isOpen(o.status) ? o.quantity - o.filled : 0,
      lastPrice: o.lastPrice, lastQuantity: o.lastQuantity, execId: o.lastExecId, creationTimeUs: o.creationUs, eventTimeUs: Date.now() * 1000,
      eventSeq: this.eventSeq, requestId, accountId: o.accountId, productId: o.productId, gatewayId: this.gatewayId, reason, side: o.side, status,
      timeInForce: o.timeInForce, clientOrderId: o.clientOrderId,
    };
  }

  /** Writes the wallet of `accountId` as WalletReport records (more = 1 on all but the last). */
  private answerWallet(accountId: number, requestId: number): void {
    let cashReserved = 0;
    const unitsReserved = new Map<number, number>();
    let unitsToday = 0;
    for (const o of this.orders.values()) {
      if (o.accountId !== accountId) continue;
      unitsToday += o.quantity;
      if (!isOpen(o.status)) continue;
      if (o.side === Side.INFLOW) cashReserved += o.price * (o.quantity - o.filled);
      else unitsReserved.set(o.productId, (unitsReserved.get(o.productId) ?? 0) + o.quantity - o.filled);
    }
    const items: Array<[kind: number, itemId: number, total: number, used: number]> = [[WalletItem.CASH, 0, FAKE_CASH_MINOR, cashReserved]];
    for (const p of this.products.values()) items.push([WalletItem.POSITION, p.productId, FAKE_UNITS, unitsReserved.get(p.productId) ?? 0]);
    items.push([WalletItem.NOTIONAL_DAILY, 0, 100_000_000, 0]);
    items.push([WalletItem.BRAND_DAILY_UNITS, 1, 1_000_000, unitsToday]);
    this.producer.commit();
    items.forEach(([kind, itemId, total, used], i) => {
      const at = this.producer.tryClaim(WalletReport.typeId, WalletReport.version, WalletReport.size);
      if (at === BACK_PRESSURED) throw new Error('fake PM: the reply ring is full; drain the gateway first');
      encode(WalletReport, { total, used, free: Math.max(0, total - used), asOfSeq: this.eventSeq, timeUs: Date.now() * 1000, requestId, accountId, itemId, outletId: 0, gatewayId: this.gatewayId, kind, status: WalletStatus.OK, more: i + 1 < items.length ? 1 : 0 }, this.producer.ring.view, at);
    });
    this.producer.commit();
  }

  /** Writes the account's orders as OrderRecords (one NONE record when nothing matches). */
  private answerOrders(q: ValueOf<typeof OrdersQuery>): void {
    const all = [...this.orders.values()].filter((o) => o.accountId === q.accountId);
    const matching =
      q.scope === OrdersScope.ONE ? all.filter((o) => o.orderId === q.orderId) : q.scope === OrdersScope.OPEN ? all.filter((o) => isOpen(o.status)) : all;
    const truncated = matching.length > q.maxOrders;
    const chosen = matching.slice(0, q.maxOrders);
    const status = chosen.length === 0 ? ReadStatus.NONE : truncated ? ReadStatus.TRUNCATED : ReadStatus.OK;
    const records = chosen.length === 0 ? [undefined] : chosen;
    this.writeAnswer(OrderRecord, records.map((o, i) => ({
      orderId: o?.orderId ?? 0, price: o?.price ?? 0, quantity: o?.quantity ?? 0, filledQuantity: o?.filled ?? 0,
      remainingQuantity: o === undefined || !isOpen(o.status) ? 0 : o.quantity - o.filled, lastPrice: o?.lastPrice ?? 0, lastQuantity: o?.lastQuantity ?? 0,
      creationTimeUs: o?.creationUs ?? 0, requestId: q.requestId, accountId: q.accountId, productId: o?.productId ?? 0, gatewayId: this.gatewayId,
      reason: o?.reason ?? 0, side: o?.side ?? 0, status: o?.status ?? 0, timeInForce: o?.timeInForce ?? 0, flags: 0, answerStatus: status,
      more: i + 1 < records.length ? 1 : 0, clientOrderId: o?.clientOrderId ?? '',
    })));
  }

  /** Writes the five defaults, then the rules set so far (later SetRiskRules replace earlier ones of the same scope). */
  private answerRiskRules(q: ValueOf<typeof RiskRulesQuery>): void {
    const defaults = [1_000_000, 100_000_000, 1_000_000, 1_000, 1_000];
    const rules = new Map<string, { kind: number; accountId: number; brandId: number; limit: number }>();
    for (const c of this.adminCommands) {
      if (c.name !== 'SetRiskRule') continue;
      const v = c.value as ValueOf<typeof SetRiskRule>;
      const key = `${v.ruleKind}/${v.accountId}/${v.brandId}`;
      if (v.limit < 0) rules.delete(key);
      else rules.set(key, { kind: v.ruleKind, accountId: v.accountId, brandId: v.brandId, limit: v.limit });
    }
    const items = [
      ...defaults.map((limit, i) => ({ kind: i + 1, accountId: 0, brandId: 0, limit, isDefault: 1 })),
      ...[...rules.values()].filter((r) => q.forAccountId === 0 || r.accountId === 0 || r.accountId === q.forAccountId).map((r) => ({ ...r, isDefault: 0 })),
    ];
    this.writeAnswer(RiskRuleRecord, items.map((r, i) => ({
      limit: r.limit, asOfSeq: this.eventSeq, requestId: q.requestId, accountId: q.accountId, ruleAccountId: r.accountId, brandId: r.brandId,
      gatewayId: this.gatewayId, kind: r.kind, isDefault: r.isDefault, answerStatus: ReadStatus.OK, more: i + 1 < items.length ? 1 : 0,
    })));
  }

  /** Publishes the pending reports, then one answer's records together. */
  private writeAnswer<D extends typeof OrderRecord | typeof RiskRuleRecord>(desc: D, values: ValueOf<D>[]): void {
    this.flush();
    for (const v of values) {
      const at = this.producer.tryClaim(desc.typeId, desc.version, desc.size);
      if (at === BACK_PRESSURED) throw new Error('fake PM: the reply ring is full; drain the gateway first');
      encode(desc as typeof OrderRecord, v as ValueOf<typeof OrderRecord>, this.producer.ring.view, at);
    }
    this.producer.commit();
  }

  private flush(): void {
    while (this.backlog.length > 0) {
      const at = this.producer.tryClaim(ExecutionReport.typeId, ExecutionReport.version, ExecutionReport.size);
      if (at === BACK_PRESSURED) {
        this.producer.commit();
        return; // the gateway is behind; the rest goes on the next poll
      }
      encode(ExecutionReport, this.backlog.shift()!, this.producer.ring.view, at);
      if ((this.backlog.length & 63) === 0) this.producer.commit();
    }
    this.producer.commit();
  }
}

function isOpen(status: number): boolean {
  return status === OrderStatus.NEW || status === OrderStatus.PARTIALLY_FILLED || status === OrderStatus.REPLACED;
}

function finishedReason(status: number): number {
  if (status === OrderStatus.FILLED) return RejectReason.ALREADY_FILLED;
  if (status === OrderStatus.EXPIRED) return RejectReason.ALREADY_EXPIRED;
  return RejectReason.ALREADY_CANCELED;
}
