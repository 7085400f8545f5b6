// The derived layouts obey the layout rule, the type ids are the agreed ones, and one message's
// bytes are pinned down explicitly so an accidental layout change fails here first.
import t from 'tap';
import {
  FieldKind,
  Heartbeat,
  InputHeader,
  INPUT_HEADER_BYTES,
  JournalHeader,
  JOURNAL_HEADER_BYTES,
  JOURNAL_INPUT_HEADER_OFFSET,
  MAX_BODY_BYTES,
  MESSAGES,
  NewOrder,
  OrderStatus,
  TypeId,
  WalletItem,
  WalletQuery,
  WalletReport,
  WalletStatus,
  MAX_WALLET_RECORDS,
  MAX_ORDER_RECORDS,
  MAX_RISK_RULE_RECORDS,
  OrderRecord,
  OrdersQuery,
  OrdersScope,
  ReadStatus,
  RiskRuleRecord,
  RiskRulesQuery,
  defineLayout,
  defineMessage,
  indexMessagesByTypeId,
  messageByName,
  messageByTypeId,
  type AnyLayout,
} from '../bus/schema';
import { decode, encode } from '../bus/codec';

const ALL_LAYOUTS: readonly AnyLayout[] = [InputHeader, JournalHeader, ...MESSAGES];

function alignmentOf(kind: number, size: number): number {
  return kind === FieldKind.CHAR ? 1 : size;
}

t.test('every field is aligned to its own size and no two fields overlap', async (t) => {
  for (const desc of ALL_LAYOUTS) {
    let end = 0;
    let aligned = true;
    let ordered = true;
    for (const f of desc.fields) {
      if (f.offset % alignmentOf(f.kind, f.size) !== 0) aligned = false;
      if (f.offset < end) ordered = false;
      end = f.offset + f.size;
      t.equal((desc.o as Record<string, number>)[f.name], f.offset, `${desc.name}.o.${f.name} is the field's offset`);
    }
    t.ok(aligned, `${desc.name}: every field aligned to its size`);
    t.ok(ordered, `${desc.name}: fields laid out in declaration order without overlap`);
    t.ok(end <= desc.size, `${desc.name}: last field ends (${end}) inside the size (${desc.size})`);
    t.equal(desc.size % 8, 0, `${desc.name}: size ${desc.size} is a multiple of 8`);
    t.ok(desc.size - end < 8, `${desc.name}: less than 8 bytes of tail padding`);
    t.equal(Object.keys(desc.o).length, desc.fields.length, `${desc.name}: o has one entry per field`);
  }
});

t.test('bodies are packed: padding only at the tail, never between fields', async (t) => {
  for (const desc of ALL_LAYOUTS) {
    let end = 0;
    const gaps: string[] = [];
    for (const f of desc.fields) {
      if (f.offset !== end) gaps.push(`${f.offset - end} bytes before ${f.name}`);
      end = f.offset + f.size;
    }
    t.same(gaps, [], `${desc.name}: no interior padding (declare wider fields first)`);
  }
});

t.test('descriptors are frozen', async (t) => {
  for (const desc of ALL_LAYOUTS) {
    t.ok(
      Object.isFrozen(desc) && Object.isFrozen(desc.o) && Object.isFrozen(desc.fields) && desc.fields.every(Object.isFrozen),
      `${desc.name} is frozen`,
    );
  }
  t.throws(() => {
    (NewOrder.o as { price: number }).price = 0;
  }, TypeError);
  t.equal(NewOrder.o.price, 8);
  // @ts-expect-error a misspelt field is a compile-time error (checked by tsc on this file)
  t.equal(NewOrder.o.pricee, undefined);
});

t.test('type ids are the agreed ones, unique, and found by the registry', async (t) => {
  const expected: Record<string, number> = {
    NewOrder: 1,
    CancelOrder: 2,
    AmendOrder: 3,
    ListProduct: 20,
    HaltProduct: 21,
    ResumeProduct: 22,
    DelistProduct: 23,
    TradingDayOpen: 24,
    TradingDayClose: 25,
    AccountOpened: 26,
    AccountSuspended: 27,
    Deposit: 28,
    Withdraw: 29,
    InventoryReceipt: 30,
    InventoryDispatch: 31,
    SetRiskRule: 32,
    SnapshotRequest: 33,
    AccountRoleChanged: 34,
    OrderAccepted: 50,
    OrderRejected: 51,
    Fill: 52,
    OrderCanceled: 53,
    OrderAmended: 54,
    OrderExpired: 55,
    BookLevelChanged: 56,
    EngineCheckpoint: 57,
    TradeTick: 70,
    Candle: 71,
    BookDelta: 72,
    BookSnapshot: 73,
    MarketDataQuery: 74,
    MarketDataReply: 75,
    CandleUpdate: 76,
    ProductStatus: 77,
    Heartbeat: 90,
    ExecutionReport: 91,
    WalletQuery: 92,
    WalletReport: 93,
    OrdersQuery: 94,
    OrderRecord: 95,
    RiskRulesQuery: 96,
    RiskRuleRecord: 97,
  };
  t.same(Object.fromEntries(MESSAGES.map((m) => [m.name, m.typeId])), expected);
  t.same({ ...TypeId }, expected, 'TypeId maps every name to its id');
  t.equal(new Set(MESSAGES.map((m) => m.typeId)).size, MESSAGES.length, 'type ids are unique');
  t.equal(new Set(MESSAGES.map((m) => m.name)).size, MESSAGES.length, 'names are unique');
  t.same(
    MESSAGES.map((m) => m.typeId),
    [...MESSAGES.map((m) => m.typeId)].sort((a, b) => a - b),
    'MESSAGES is in type-id order',
  );
  for (const m of MESSAGES) {
    t.equal(messageByTypeId(m.typeId), m, `messageByTypeId(${m.typeId}) is ${m.name}`);
    t.equal(messageByName(m.name), m, `messageByName(${m.name})`);
    t.equal(m.version, 1, `${m.name} is at version 1`);
  }
  for (const unknown of [0, 4, 49, 98, 65_535, -1, 1.5, Number.NaN]) {
    t.equal(messageByTypeId(unknown), undefined, `type id ${unknown} is unknown`);
  }
  t.equal(messageByName('Nope'), undefined);
  t.equal(MAX_BODY_BYTES, Math.max(...MESSAGES.map((m) => m.size)));
  t.same(OrderStatus, { NEW: 1, PARTIALLY_FILLED: 2, FILLED: 3, CANCELED: 4, REPLACED: 5, REJECTED: 6, EXPIRED: 7 });
});

t.test('the registry assertion refuses a shared type id or name', async (t) => {
  const a = defineMessage('Alpha', 200, 1, [['x', 'u32']]);
  const b = defineMessage('Beta', 200, 1, [['y', 'u32']]);
  const c = defineMessage('Alpha', 201, 1, [['z', 'u32']]);
  t.throws(() => indexMessagesByTypeId([a, b]), /type id 200 is used by both Alpha and Beta/);
  t.throws(() => indexMessagesByTypeId([a, c]), /message name Alpha is declared twice/);
  t.equal(indexMessagesByTypeId([a])[200], a);
});

t.test('defineMessage refuses declarations that would make a layout ambiguous', async (t) => {
  t.throws(() => defineMessage('Zero', 0, 1, [['x', 'u8']]), /type id 0 must be an integer in \[1, 65535\]/);
  t.throws(() => defineMessage('Big', 65_536, 1, [['x', 'u8']]), /type id 65536/);
  t.throws(() => defineMessage('V0', 300, 0, [['x', 'u8']]), /version 0/);
  t.throws(() => defineMessage('V256', 300, 256, [['x', 'u8']]), /version 256/);
  t.throws(() => defineMessage('Dup', 300, 1, [['x', 'u8'], ['x', 'u16']]), /Dup\.x is declared twice/);
  t.throws(() => defineMessage('NoChars', 300, 1, [['s', 'char', 0]]), /NoChars\.s: char length 0/);
  t.throws(() => defineMessage('TooMany', 300, 1, [['s', 'char', 256]]), /char length 256/);
  t.throws(() => defineMessage('BadName', 300, 1, [['Price', 'i64']]), /BadName\.Price: field names are camelCase/);
  t.throws(() => defineMessage('BadType', 300, 1, [['x', 'u64' as 'u32']]), /unknown field type "u64"/);
  t.throws(() => defineLayout('lowercase', [['x', 'u8']]), /PascalCase/);
  const mixed = defineLayout('Mixed', [
    ['a', 'u8'],
    ['b', 'i64'],
    ['c', 'u16'],
    ['d', 'char', 3],
    ['e', 'u32'],
  ]);
  t.same(mixed.o, { a: 0, b: 8, c: 16, d: 18, e: 24 }, 'each field aligned to its own size, in declaration order');
  t.equal(mixed.size, 32, 'size rounded up to 8');
});

t.test('headers: InputHeader is 16 bytes and sits verbatim inside the 32-byte JournalHeader', async (t) => {
  t.equal(INPUT_HEADER_BYTES, 16);
  t.equal(JOURNAL_HEADER_BYTES, 32);
  t.same(InputHeader.o, { sourceSeq: 0, sourceId: 8, flags: 10, epoch: 12 });
  t.same(JournalHeader.o, { seq: 0, timestampUs: 8, sourceSeq: 16, sourceId: 24, flags: 26, epoch: 28 });
  t.equal(JOURNAL_INPUT_HEADER_OFFSET, 16);

  // What the sequencer does: copy the 16 input-header bytes as one block after seq/timestamp.
  const input = new Uint8Array(INPUT_HEADER_BYTES);
  const inputValue = { sourceSeq: 9_007_199_254_740_991, sourceId: 65_535, flags: 3, epoch: 4_000_000_000 };
  encode(InputHeader, inputValue, new DataView(input.buffer), 0);
  const journal = new Uint8Array(JOURNAL_HEADER_BYTES);
  const journalView = new DataView(journal.buffer);
  encode(JournalHeader, { seq: 123, timestampUs: 1_700_000_000_000_000, sourceSeq: 0, sourceId: 0, flags: 0, epoch: 0 }, journalView, 0);
  journal.set(input, JOURNAL_INPUT_HEADER_OFFSET);
  t.same(decode(JournalHeader, journalView, 0), { seq: 123, timestampUs: 1_700_000_000_000_000, ...inputValue });
});

t.test('golden bytes: Heartbeat and JournalHeader', async (t) => {
  t.same(Heartbeat.o, { timestampUs: 0, position: 8, epoch: 16, sourceId: 20, role: 22 });
  t.equal(Heartbeat.size, 24);
  const bytes = new Uint8Array(Heartbeat.size).fill(0xcc);
  encode(
    Heartbeat,
    { timestampUs: 0x0001_0203_0405_0607, position: -2, epoch: 0x0a0b_0c0d, sourceId: 0x1234, role: 0x56 },
    new DataView(bytes.buffer),
    0,
  );
  // prettier-ignore
  t.same([...bytes], [
    0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00, // timestampUs i64 (lo u32, hi i32)
    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // position i64 = -2
    0x0d, 0x0c, 0x0b, 0x0a,                         // epoch u32
    0x34, 0x12,                                     // sourceId u16
    0x56,                                           // role u8
    0x00,                                           // tail padding, zeroed
  ]);

  const header = new Uint8Array(JOURNAL_HEADER_BYTES);
  encode(JournalHeader, { seq: 1, timestampUs: 2 ** 40, sourceSeq: 7, sourceId: 3, flags: 0x0102, epoch: 5 }, new DataView(header.buffer), 0);
  // prettier-ignore
  t.same([...header], [
    0x01, 0, 0, 0, 0, 0, 0, 0,    // seq
    0, 0, 0, 0, 0x00, 0x01, 0, 0, // timestampUs = 2**40
    0x07, 0, 0, 0, 0, 0, 0, 0,    // sourceSeq
    0x03, 0x00,                   // sourceId
    0x02, 0x01,                   // flags
    0x05, 0, 0, 0,                // epoch
  ]);
});

t.test('NewOrder offsets are pinned (the busiest message on the bus)', async (t) => {
  t.same(NewOrder.o, {
    orderId: 0,
    price: 8,
    quantity: 16,
    accountId: 24,
    productId: 28,
    requestId: 32,
    gatewayId: 36,
    side: 38,
    timeInForce: 39,
    flags: 40,
    clientOrderId: 41,
  });
  t.equal(NewOrder.size, 72);
});

t.test('WalletQuery and WalletReport offsets are pinned (the portal wallet travels in them)', async (t) => {
  t.same(WalletQuery.o, { accountId: 0, requestId: 4, gatewayId: 8 });
  t.equal(WalletQuery.size, 16);
  t.same(WalletReport.o, {
    total: 0,
    used: 8,
    free: 16,
    asOfSeq: 24,
    timeUs: 32,
    requestId: 40,
    accountId: 44,
    itemId: 48,
    outletId: 52,
    gatewayId: 56,
    kind: 58,
    status: 59,
    more: 60,
  });
  t.equal(WalletReport.size, 64);
  t.same(WalletItem, { CASH: 1, POSITION: 2, NOTIONAL_DAILY: 3, BRAND_DAILY_UNITS: 4 });
  t.same(WalletStatus, { OK: 0, UNKNOWN_ACCOUNT: 1, TRUNCATED: 2 });
  // A whole answer (records with their 8-byte ring headers) fits in one batch (a quarter) of a
  // 1 MiB ring, the smallest the topology makes, so the product manager publishes it at once.
  t.ok(MAX_WALLET_RECORDS * (WalletReport.size + 8) <= (1 << 20) / 4, `${MAX_WALLET_RECORDS} records fit a quarter of a 1 MiB ring`);
});

t.test('order and risk-rule reads: offsets pinned, every answer fits one ring batch', async (t) => {
  t.same(OrdersQuery.o, { orderId: 0, accountId: 8, requestId: 12, maxOrders: 16, gatewayId: 20, scope: 22 });
  t.equal(OrdersQuery.size, 24);
  t.same(OrderRecord.o, {
    orderId: 0,
    price: 8,
    quantity: 16,
    filledQuantity: 24,
    remainingQuantity: 32,
    lastPrice: 40,
    lastQuantity: 48,
    creationTimeUs: 56,
    requestId: 64,
    accountId: 68,
    productId: 72,
    gatewayId: 76,
    reason: 78,
    side: 80,
    status: 81,
    timeInForce: 82,
    flags: 83,
    answerStatus: 84,
    more: 85,
    clientOrderId: 86,
  });
  t.equal(OrderRecord.size, 112);
  t.same(RiskRulesQuery.o, { accountId: 0, requestId: 4, forAccountId: 8, gatewayId: 12 });
  t.equal(RiskRulesQuery.size, 16);
  t.same(RiskRuleRecord.o, { limit: 0, asOfSeq: 8, requestId: 16, accountId: 20, ruleAccountId: 24, brandId: 28, gatewayId: 32, kind: 34, isDefault: 35, answerStatus: 36, more: 37 });
  t.equal(RiskRuleRecord.size, 40);
  t.same(OrdersScope, { OPEN: 1, ALL: 2, ONE: 3 });
  t.same(ReadStatus, { OK: 0, NONE: 1, TRUNCATED: 2 });
  t.ok(MAX_ORDER_RECORDS * (OrderRecord.size + 8) <= (1 << 20) / 4, `${MAX_ORDER_RECORDS} order records fit a quarter of a 1 MiB ring`);
  t.ok(MAX_RISK_RULE_RECORDS * (RiskRuleRecord.size + 8) <= (1 << 20) / 4, `${MAX_RISK_RULE_RECORDS} rule records fit a quarter of a 1 MiB ring`);
});
