// The one declaration of every binary message on the bus. Each message is written down ONCE here
// (name, type id, version, fields in order); byte offsets, sizes and the registry are derived from
// that declaration at start-up. Nothing else in IMS (TS or C++) writes a message offset by hand:
// hot paths read `Desc.o.field`, tools use `encode`/`decode` from bus/codec.ts.
//
// How a record stacks up (little-endian everywhere; every box starts 8-byte aligned):
//
//   ring record (bus/ring-layout.ts owns this header; it is NOT part of any schema here)
//   +--------------+-------------+-------------+-----------+
//   | length (i32) | typeId(u16) | version(u8) | flags(u8) |  8 bytes; typeId/version = Desc.typeId/version
//   +--------------+-------------+-------------+-----------+
//   payload of a record in a SEQUENCER INPUT ring (gateway/PM/engine -> sequencer):
//   +------------------------------------------------------+
//   | InputHeader (INPUT_HEADER_BYTES = 16)                |
//   |   0 sourceSeq i64 | 8 sourceId u16 | 10 flags u16 | 12 epoch u32
//   +------------------------------------------------------+
//   | body: Desc.size bytes, field x at Desc.o.x           |  <- Desc.o offsets are relative to HERE
//   +------------------------------------------------------+
//   payload of a record in the JOURNAL (sequencer -> everyone):
//   +------------------------------------------------------+
//   | JournalHeader (JOURNAL_HEADER_BYTES = 32)            |
//   |   0 seq i64 | 8 timestampUs i64                      |  written by the sequencer
//   |  16 sourceSeq i64 | 24 sourceId u16 | 26 flags u16 | 28 epoch u32
//   |      (= the InputHeader, copied verbatim as one 16-byte block)
//   +------------------------------------------------------+
//   | body: Desc.size bytes, field x at Desc.o.x           |  <- the body bytes, copied verbatim
//   +------------------------------------------------------+
//   Rings that carry bare bodies (PM -> gateway execution reports, market data) put the body right
//   after the ring record header.
//
// So the absolute offset of field x of a journal entry whose ring payload starts at p is
// `p + JOURNAL_HEADER_BYTES + Desc.o.x`; in an input ring it is `p + INPUT_HEADER_BYTES + Desc.o.x`.
//
// Layout rule: fields are laid out in declaration order, each aligned to its own size (i64 -> 8,
// u32/i32 -> 4, u16 -> 2, u8 and char -> 1); the total is rounded up to 8 so the next record
// stays aligned. Declarations below list the widest fields first so a body has no interior
// padding (the layout test holds every message to that): every byte is bandwidth at 215,000
// orders/s. i64 fields are JS Numbers restricted to the safe-integer range, stored as lo u32 + hi
// i32. char[n] fields are ASCII (codes 1..127), zero-padded, so NUL marks the end of the text.
//
// Compatibility: a type id is never reused. Changing a message's fields means bumping its version;
// readers check the ring header's version against `Desc.version` before trusting `Desc.o`.

// ---------------------------------------------------------------------------------------------
// Field types and the layout machinery.

/** Fixed-width numeric field types. `i64` is a JS Number in the safe-integer range. */
export type NumericFieldType = 'u8' | 'u16' | 'u32' | 'i32' | 'i64';
export type FieldType = NumericFieldType | 'char';

/** One field as declared: `['price', 'i64']` or `['symbol', 'char', 16]`. */
export type FieldDecl =
  | readonly [name: string, type: NumericFieldType]
  | readonly [name: string, type: 'char', length: number];

/** Small integer codes for the field types, so codec loops switch on a number, not a string. */
export const FieldKind = { U8: 1, U16: 2, U32: 3, I32: 4, I64: 5, CHAR: 6 } as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

/** One field as laid out: where it sits in the body and how many bytes it takes. */
export interface FieldLayout {
  readonly name: string;
  readonly type: FieldType;
  readonly kind: FieldKind;
  /** Byte offset from the start of the body (not of the ring record, not of the header). */
  readonly offset: number;
  /** Bytes the field occupies: 1, 2, 4, 8, or the char length. */
  readonly size: number;
}

type FieldNames<F extends readonly FieldDecl[]> = F[number][0];

/** The plain-object value of a layout: numbers for numeric fields, strings for char fields. */
export type LayoutValue<F extends readonly FieldDecl[]> = {
  -readonly [E in F[number] as E[0]]: E[1] extends 'char' ? string : number;
};

/** A derived layout: the headers are layouts, every message is a layout plus its type id. */
export interface Layout<N extends string = string, F extends readonly FieldDecl[] = readonly FieldDecl[]> {
  readonly name: N;
  /** Body bytes including tail padding; always a multiple of 8. */
  readonly size: number;
  /** The fields in declaration (= byte) order. */
  readonly fields: readonly FieldLayout[];
  /** Byte offset of each field from the start of the body: `NewOrder.o.price`. */
  readonly o: { readonly [K in FieldNames<F>]: number };
  /** The declaration this layout was derived from (kept for types and tools). */
  readonly decl: F;
}

export interface MessageDescriptor<
  N extends string = string,
  T extends number = number,
  F extends readonly FieldDecl[] = readonly FieldDecl[],
> extends Layout<N, F> {
  /** Carried in the ring record header (u16); 0 is the ring's padding record, never a message. */
  readonly typeId: T;
  /** Carried in the ring record header (u8). */
  readonly version: number;
}

/** The value type of a layout or message descriptor. */
export type ValueOf<L extends Layout> = LayoutValue<L['decl']>;

/** Any layout or message, for code that handles every message generically. */
export type AnyLayout = Layout;
export type AnyMessage = MessageDescriptor;

export const LAYOUT_ALIGNMENT_BYTES = 8;
export const MAX_CHAR_FIELD_BYTES = 255;
export const MAX_FIELDS_PER_LAYOUT = 64;
export const MAX_TYPE_ID = 0xffff;
export const MAX_VERSION = 0xff;
/** Type id 0 is the ring's padding record (bus/ring-layout.ts PADDING_TYPE_ID). */
export const RESERVED_TYPE_ID = 0;

const FIELD_NAME_PATTERN = /^[a-z][A-Za-z0-9]*$/;

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`schema: ${message}`);
}

function kindOf(type: FieldType): FieldKind {
  switch (type) {
    case 'u8':
      return FieldKind.U8;
    case 'u16':
      return FieldKind.U16;
    case 'u32':
      return FieldKind.U32;
    case 'i32':
      return FieldKind.I32;
    case 'i64':
      return FieldKind.I64;
    case 'char':
      return FieldKind.CHAR;
  }
}

const NUMERIC_SIZE_BYTES: Readonly<Record<NumericFieldType, number>> = { u8: 1, u16: 2, u32: 4, i32: 4, i64: 8 };

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/**
 * Derives a layout (offsets, size) from a field declaration. Used for the headers directly and by
 * `defineMessage` for every message. Asserts on anything that would make the layout ambiguous.
 */
export function defineLayout<const N extends string, const F extends readonly FieldDecl[]>(
  name: N,
  fields: F,
): Layout<N, F> {
  assert(/^[A-Z][A-Za-z0-9]*$/.test(name), `layout name ${JSON.stringify(name)} must be PascalCase ASCII`);
  assert(fields.length <= MAX_FIELDS_PER_LAYOUT, `${name} has ${fields.length} fields, limit ${MAX_FIELDS_PER_LAYOUT}`);
  const laid: FieldLayout[] = [];
  const offsets: Record<string, number> = {};
  let cursor = 0;
  for (const decl of fields) {
    const [fieldName, type] = decl;
    assert(FIELD_NAME_PATTERN.test(fieldName), `${name}.${fieldName}: field names are camelCase ASCII`);
    assert(!(fieldName in offsets), `${name}.${fieldName} is declared twice`);
    let size: number;
    let alignment: number;
    if (type === 'char') {
      const length = decl[2];
      assert(
        Number.isInteger(length) && length >= 1 && length <= MAX_CHAR_FIELD_BYTES,
        `${name}.${fieldName}: char length ${length} must be an integer in [1, ${MAX_CHAR_FIELD_BYTES}]`,
      );
      size = length as number;
      alignment = 1;
    } else {
      assert(type in NUMERIC_SIZE_BYTES, `${name}.${fieldName}: unknown field type ${JSON.stringify(type)}`);
      size = NUMERIC_SIZE_BYTES[type];
      alignment = size;
    }
    const offset = alignUp(cursor, alignment);
    laid.push(Object.freeze({ name: fieldName, type, kind: kindOf(type), offset, size }));
    offsets[fieldName] = offset;
    cursor = offset + size;
  }
  const layout = {
    name,
    size: alignUp(cursor, LAYOUT_ALIGNMENT_BYTES),
    fields: Object.freeze(laid),
    o: Object.freeze(offsets),
    decl: Object.freeze(fields.map((d) => Object.freeze(d))),
  };
  return Object.freeze(layout) as unknown as Layout<N, F>;
}

/**
 * Declares a message: its name, its type id in the ring record header, its layout version and its
 * fields in byte order. Returns a frozen descriptor; `Desc.o.field` is a compile-time-checked key.
 */
export function defineMessage<const N extends string, const T extends number, const F extends readonly FieldDecl[]>(
  name: N,
  typeId: T,
  version: number,
  fields: F,
): MessageDescriptor<N, T, F> {
  assert(
    Number.isInteger(typeId) && typeId > RESERVED_TYPE_ID && typeId <= MAX_TYPE_ID,
    `${name}: type id ${typeId} must be an integer in [1, ${MAX_TYPE_ID}] (0 is the ring padding record)`,
  );
  assert(
    Number.isInteger(version) && version >= 1 && version <= MAX_VERSION,
    `${name}: version ${version} must be an integer in [1, ${MAX_VERSION}]`,
  );
  const layout = defineLayout(name, fields);
  return Object.freeze({ ...layout, typeId, version }) as MessageDescriptor<N, T, F>;
}

// ---------------------------------------------------------------------------------------------
// Headers.

const INPUT_HEADER_FIELDS = [
  /** Per-source sequence number, gap-free from 1: the sequencer drops anything <= the last it took. */
  ['sourceSeq', 'i64'],
  /** Which process instance wrote the record (gateway n, product manager, engine). */
  ['sourceId', 'u16'],
  ['flags', 'u16'],
  /** The writer's fencing epoch: the sequencer drops records from a superseded epoch. */
  ['epoch', 'u32'],
] as const;

/** Starts every record written to a sequencer input ring; exactly-once between processes. */
export const InputHeader = defineLayout('InputHeader', INPUT_HEADER_FIELDS);

/** Starts every journal entry: the sequencer's seq and timestamp, then the input header verbatim. */
export const JournalHeader = defineLayout('JournalHeader', [
  /** Global, gap-free journal sequence number, from 1. */
  ['seq', 'i64'],
  /** Sequencer's realtime clock in µs; the only clock the engine and the PM ever read. */
  ['timestampUs', 'i64'],
  ...INPUT_HEADER_FIELDS,
]);

export const INPUT_HEADER_BYTES = InputHeader.size;
export const JOURNAL_HEADER_BYTES = JournalHeader.size;
/** Where the copied InputHeader starts inside a JournalHeader. */
export const JOURNAL_INPUT_HEADER_OFFSET = JournalHeader.o.sourceSeq;

// The sequencer copies the input header as one block and the readers of the C++ side assume these
// sizes; a change here is a wire-format change, so it must be deliberate.
assert(INPUT_HEADER_BYTES === 16, `InputHeader is ${INPUT_HEADER_BYTES} bytes, expected 16`);
assert(JOURNAL_HEADER_BYTES === 32, `JournalHeader is ${JOURNAL_HEADER_BYTES} bytes, expected 32`);
for (const f of InputHeader.fields) {
  assert(
    JournalHeader.fields.some((j) => j.name === f.name && j.type === f.type && j.offset === JOURNAL_INPUT_HEADER_OFFSET + f.offset),
    `JournalHeader must contain InputHeader.${f.name} at ${JOURNAL_INPUT_HEADER_OFFSET} + ${f.offset} so it is copied verbatim`,
  );
}

// ---------------------------------------------------------------------------------------------
// Codes that belong to the message format itself (domain codes live in bus/enums.ts).

/** ExecutionReport.status. */
export const OrderStatus = {
  NEW: 1,
  PARTIALLY_FILLED: 2,
  FILLED: 3,
  CANCELED: 4,
  REPLACED: 5,
  REJECTED: 6,
  EXPIRED: 7,
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

// ---------------------------------------------------------------------------------------------
// Commands (gateway -> product manager -> sequencer). Prices are integer minor units; quantities
// integer units. gatewayId/requestId route the reply to the right connection and request.

export const NewOrder = defineMessage('NewOrder', 1, 1, [
  ['orderId', 'i64'],
  ['price', 'i64'],
  ['quantity', 'i64'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['requestId', 'u32'],
  ['gatewayId', 'u16'],
  ['side', 'u8'], // Side
  ['timeInForce', 'u8'], // TimeInForce
  ['flags', 'u8'], // OrderFlags bits
  ['clientOrderId', 'char', 24],
]);

export const CancelOrder = defineMessage('CancelOrder', 2, 1, [
  ['orderId', 'i64'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['requestId', 'u32'],
  ['gatewayId', 'u16'],
]);

export const AmendOrder = defineMessage('AmendOrder', 3, 1, [
  ['orderId', 'i64'],
  ['newPrice', 'i64'],
  ['newQuantity', 'i64'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['requestId', 'u32'],
  ['gatewayId', 'u16'],
]);

// Admin and system commands. They are sequenced like orders so a replay reproduces them.

export const ListProduct = defineMessage('ListProduct', 20, 1, [
  ['tickSize', 'i64'],
  ['lotSize', 'i64'],
  ['referencePrice', 'i64'],
  ['productId', 'u32'],
  ['brandId', 'u32'],
  /** SelfTradePolicy for this product; 0 = the engine's default. */
  ['selfTradePolicy', 'u8'],
  ['symbol', 'char', 16],
  ['brand', 'char', 16],
]);

const PRODUCT_ONLY_FIELDS = [['productId', 'u32']] as const;
export const HaltProduct = defineMessage('HaltProduct', 21, 1, PRODUCT_ONLY_FIELDS);
export const ResumeProduct = defineMessage('ResumeProduct', 22, 1, PRODUCT_ONLY_FIELDS);
export const DelistProduct = defineMessage('DelistProduct', 23, 1, PRODUCT_ONLY_FIELDS);

const TRADING_DAY_FIELDS = [['tradingDay', 'u32']] as const; // yyyymmdd
export const TradingDayOpen = defineMessage('TradingDayOpen', 24, 1, TRADING_DAY_FIELDS);
export const TradingDayClose = defineMessage('TradingDayClose', 25, 1, TRADING_DAY_FIELDS);

export const AccountOpened = defineMessage('AccountOpened', 26, 1, [
  ['accountId', 'u32'],
  ['outletId', 'u32'],
  ['role', 'u8'],
]);

export const AccountSuspended = defineMessage('AccountSuspended', 27, 1, [['accountId', 'u32']]);

/**
 * An administrator changed an account's role (from the accounts outbox). outletId is the account's
 * outlet under the new role: the outlet it trades for when the role is colleague, 0 for staff roles.
 * It does not change whether the account is active or suspended. Type id 34 follows the admin block.
 */
export const AccountRoleChanged = defineMessage('AccountRoleChanged', 34, 1, [
  ['accountId', 'u32'],
  ['outletId', 'u32'],
  ['role', 'u8'],
]);

const CASH_MOVEMENT_FIELDS = [
  ['amount', 'i64'],
  /** External reference (payment id) so a movement is applied once and can be reconciled. */
  ['reference', 'i64'],
  ['accountId', 'u32'],
] as const;
export const Deposit = defineMessage('Deposit', 28, 1, CASH_MOVEMENT_FIELDS);
export const Withdraw = defineMessage('Withdraw', 29, 1, CASH_MOVEMENT_FIELDS);

const INVENTORY_MOVEMENT_FIELDS = [
  ['quantity', 'i64'],
  ['reference', 'i64'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
] as const;
export const InventoryReceipt = defineMessage('InventoryReceipt', 30, 1, INVENTORY_MOVEMENT_FIELDS);
export const InventoryDispatch = defineMessage('InventoryDispatch', 31, 1, INVENTORY_MOVEMENT_FIELDS);

export const SetRiskRule = defineMessage('SetRiskRule', 32, 1, [
  ['limit', 'i64'],
  ['accountId', 'u32'], // 0 = every account
  ['brandId', 'u32'], // 0 = every brand
  ['ruleKind', 'u8'],
]);

export const SnapshotRequest = defineMessage('SnapshotRequest', 33, 1, [['reason', 'u8']]);

// ---------------------------------------------------------------------------------------------
// Engine outputs. Each carries inSeq (the journal seq of the command that caused it), epoch (the
// engine's fencing epoch) and outIndex (its index among that command's outputs, from 0): a
// warm engine taking over can tell exactly which outputs of which command were already published.
// Replies to a specific request (reject, cancel, amend) echo the command's gatewayId/requestId so
// the product manager routes them without keeping a table of in-flight cancels and amends; 0 when
// the engine acted on its own (IOC remainder, self-trade, delisting).

export const OrderAccepted = defineMessage('OrderAccepted', 50, 1, [
  ['orderId', 'i64'],
  ['price', 'i64'],
  ['quantity', 'i64'],
  ['leavesQuantity', 'i64'],
  ['inSeq', 'i64'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['epoch', 'u32'],
  ['outIndex', 'u32'],
  ['side', 'u8'],
]);

export const OrderRejected = defineMessage('OrderRejected', 51, 1, [
  ['orderId', 'i64'],
  ['inSeq', 'i64'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['epoch', 'u32'],
  ['outIndex', 'u32'],
  ['requestId', 'u32'],
  ['reason', 'u16'], // RejectReason
  ['commandType', 'u16'], // type id of the rejected command
  ['gatewayId', 'u16'],
]);

/** One match = both executions; the price is always the maker's (resting order's). */
export const Fill = defineMessage('Fill', 52, 1, [
  ['execId', 'i64'],
  ['price', 'i64'],
  ['quantity', 'i64'],
  ['makerOrderId', 'i64'],
  ['makerLeaves', 'i64'],
  ['makerCumQuantity', 'i64'],
  ['takerOrderId', 'i64'],
  ['takerLeaves', 'i64'],
  ['takerCumQuantity', 'i64'],
  ['inSeq', 'i64'],
  ['productId', 'u32'],
  ['makerAccountId', 'u32'],
  ['takerAccountId', 'u32'],
  ['epoch', 'u32'],
  ['outIndex', 'u32'],
  ['takerSide', 'u8'],
]);

export const OrderCanceled = defineMessage('OrderCanceled', 53, 1, [
  ['orderId', 'i64'],
  ['price', 'i64'],
  ['canceledQuantity', 'i64'],
  /** What is left resting after the cancel: 0, except a decrement-and-cancel self-trade. */
  ['leavesQuantity', 'i64'],
  ['inSeq', 'i64'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['epoch', 'u32'],
  ['outIndex', 'u32'],
  ['requestId', 'u32'],
  ['gatewayId', 'u16'],
  ['side', 'u8'],
  ['reason', 'u8'], // CancelReason
]);

export const OrderAmended = defineMessage('OrderAmended', 54, 1, [
  ['orderId', 'i64'],
  ['oldPrice', 'i64'],
  ['newPrice', 'i64'],
  ['newQuantity', 'i64'],
  ['leavesQuantity', 'i64'],
  ['inSeq', 'i64'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['epoch', 'u32'],
  ['outIndex', 'u32'],
  ['requestId', 'u32'],
  ['gatewayId', 'u16'],
  ['side', 'u8'],
  ['lostPriority', 'u8'], // 1 when the amend moved the order to the back of its level
]);

export const OrderExpired = defineMessage('OrderExpired', 55, 1, [
  ['orderId', 'i64'],
  ['price', 'i64'],
  ['expiredQuantity', 'i64'],
  ['inSeq', 'i64'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['epoch', 'u32'],
  ['outIndex', 'u32'],
  ['side', 'u8'],
]);

/** L2 delta: the new aggregate of one price level; quantity 0 means the level is gone. */
export const BookLevelChanged = defineMessage('BookLevelChanged', 56, 1, [
  ['price', 'i64'],
  ['quantity', 'i64'],
  ['inSeq', 'i64'],
  ['productId', 'u32'],
  ['orderCount', 'u32'],
  ['epoch', 'u32'],
  ['outIndex', 'u32'],
  ['side', 'u8'],
]);

/** Hot and warm publish/compare these; replay must reproduce the same hash at the same inSeq. */
export const EngineCheckpoint = defineMessage('EngineCheckpoint', 57, 1, [
  ['inSeq', 'i64'],
  ['stateHashHi', 'u32'],
  ['stateHashLo', 'u32'],
  ['ordersResting', 'u32'],
  ['epoch', 'u32'],
  ['outIndex', 'u32'],
]);

// ---------------------------------------------------------------------------------------------
// Market data.

export const TradeTick = defineMessage('TradeTick', 70, 1, [
  ['execId', 'i64'],
  ['price', 'i64'],
  ['quantity', 'i64'],
  ['timestampUs', 'i64'],
  ['productId', 'u32'],
  ['takerSide', 'u8'],
]);

export const Candle = defineMessage('Candle', 71, 1, [
  ['bucketStartUs', 'i64'],
  ['open', 'i64'],
  ['high', 'i64'],
  ['low', 'i64'],
  ['close', 'i64'],
  ['volume', 'i64'],
  ['productId', 'u32'],
  ['resolutionS', 'u32'],
  ['trades', 'u32'],
]);

// ---------------------------------------------------------------------------------------------
// System.

export const Heartbeat = defineMessage('Heartbeat', 90, 1, [
  ['timestampUs', 'i64'],
  /** The sender's progress (journal seq processed, or ring position), to spot a stalled peer. */
  ['position', 'i64'],
  ['epoch', 'u32'],
  ['sourceId', 'u16'],
  ['role', 'u8'],
]);

/** Product manager -> gateway; one per order event per side. */
export const ExecutionReport = defineMessage('ExecutionReport', 91, 1, [
  ['orderId', 'i64'],
  ['price', 'i64'],
  ['quantity', 'i64'],
  ['filledQuantity', 'i64'],
  ['remainingQuantity', 'i64'],
  ['lastPrice', 'i64'],
  ['lastQuantity', 'i64'],
  ['execId', 'i64'],
  ['creationTimeUs', 'i64'],
  ['eventTimeUs', 'i64'],
  /**
   * Journal seq of the event this report describes. With orderId it is the report's identity: the
   * gateway drops duplicates re-emitted by a product manager that restarted and replayed, and a
   * reconnecting client resumes after the last eventSeq it saw.
   */
  ['eventSeq', 'i64'],
  ['requestId', 'u32'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['gatewayId', 'u16'],
  ['reason', 'u16'], // RejectReason when status = REJECTED, CancelReason when CANCELED/EXPIRED
  ['side', 'u8'],
  ['status', 'u8'], // OrderStatus
  ['timeInForce', 'u8'],
  ['clientOrderId', 'char', 24],
]);

// ---------------------------------------------------------------------------------------------
// Wallet reads (gateway -> hot product manager -> gateway). A read changes nothing, so it is never
// sequenced: the product manager answers it from its live state (journal-derived balances plus the
// holds of commands in flight) and forwards nothing. On the gateway's command ring the query sits
// behind an InputHeader like every record there, with sourceSeq 0: it takes no number from the
// command sequence, so the product manager's (epoch, sourceSeq) repeat check never sees it.

/** WalletReport.kind: what one record of a wallet answer describes. */
export const WalletItem = {
  /** total = cash balance, used = reserved (open inflows + holds in flight), free = available; minor units. */
  CASH: 1,
  /** itemId = productId; total = units held, used = reserved (open outflows + holds), free = available. */
  POSITION: 2,
  /** The daily notional limit (account-wide, minor units): total = limit, used = used today, free = left. */
  NOTIONAL_DAILY: 3,
  /** itemId = brandId; the daily brand limit in units: total = limit, used = units updated today, free = left. */
  BRAND_DAILY_UNITS: 4,
} as const;
export type WalletItem = (typeof WalletItem)[keyof typeof WalletItem];

/** WalletReport.status (the same on every record of one answer). */
export const WalletStatus = {
  OK: 0,
  /** The product manager knows no such account: the answer is one CASH record of zeros. */
  UNKNOWN_ACCOUNT: 1,
  /** More items than one answer carries (MAX_WALLET_RECORDS): the rest were left out. */
  TRUNCATED: 2,
} as const;
export type WalletStatus = (typeof WalletStatus)[keyof typeof WalletStatus];

/** Gateway -> product manager: read one account's wallet; answered by WalletReport records. */
export const WalletQuery = defineMessage('WalletQuery', 92, 1, [
  ['accountId', 'u32'],
  ['requestId', 'u32'],
  ['gatewayId', 'u16'],
]);

/**
 * Product manager -> gateway (a bare body, like ExecutionReport): one item of a wallet answer. An
 * answer is a CASH record, then POSITION, NOTIONAL_DAILY and BRAND_DAILY_UNITS records, all with
 * the query's requestId, published together; `more` is 1 on every record but the last.
 */
export const WalletReport = defineMessage('WalletReport', 93, 1, [
  ['total', 'i64'],
  ['used', 'i64'],
  ['free', 'i64'],
  /** The last journal seq the state had applied: the wallet includes every event up to it. */
  ['asOfSeq', 'i64'],
  /** The product manager's realtime clock when it answered, µs. */
  ['timeUs', 'i64'],
  ['requestId', 'u32'],
  ['accountId', 'u32'],
  /** productId (POSITION), brandId (BRAND_DAILY_UNITS), else 0. */
  ['itemId', 'u32'],
  ['outletId', 'u32'],
  ['gatewayId', 'u16'],
  ['kind', 'u8'], // WalletItem
  ['status', 'u8'], // WalletStatus
  ['more', 'u8'],
]);

/** Records in one wallet answer, at most: bounds the answer (64 B each) well under a ring batch. */
export const MAX_WALLET_RECORDS = 2048;

// ---------------------------------------------------------------------------------------------
// Order and risk-rule reads: the same path as wallet reads (gateway -> hot product manager ->
// gateway, sourceSeq 0 behind the InputHeader, never sequenced). Every answer record carries the
// query's requestId, accountId and gatewayId and `more` (1 on every record but the last), so the
// gateway collects the answers of every read kind with one mechanism.

/** OrdersQuery.scope: which of the account's orders. */
export const OrdersScope = {
  /** Open orders (journaled, not finished). */
  OPEN: 1,
  /** Open orders, then the finished orders the product manager still remembers (today's), newest first. */
  ALL: 2,
  /** One order (orderId), answered only when it is the account's. */
  ONE: 3,
} as const;
export type OrdersScope = (typeof OrdersScope)[keyof typeof OrdersScope];

/** OrderRecord.answerStatus and RiskRuleRecord.answerStatus (the same on every record of one answer). */
export const ReadStatus = {
  OK: 0,
  /** Nothing matches (no such order, another account's order, no open order): one record that carries nothing. */
  NONE: 1,
  /** More matches than the query's bound: the rest were left out. */
  TRUNCATED: 2,
} as const;
export type ReadStatus = (typeof ReadStatus)[keyof typeof ReadStatus];

/** Gateway -> product manager: read the caller's orders; answered by OrderRecord records. */
export const OrdersQuery = defineMessage('OrdersQuery', 94, 1, [
  /** ONE: the order; else 0. */
  ['orderId', 'i64'],
  /** Whose orders: the caller's own account (an order of another account answers NONE). */
  ['accountId', 'u32'],
  ['requestId', 'u32'],
  /** At most this many records (1..MAX_ORDER_RECORDS); more matches answer TRUNCATED. */
  ['maxOrders', 'u32'],
  ['gatewayId', 'u16'],
  ['scope', 'u8'], // OrdersScope
]);

/** Product manager -> gateway (a bare body): one order of an OrdersQuery answer, as the product manager holds it now. */
export const OrderRecord = defineMessage('OrderRecord', 95, 1, [
  ['orderId', 'i64'],
  ['price', 'i64'],
  ['quantity', 'i64'],
  ['filledQuantity', 'i64'],
  ['remainingQuantity', 'i64'],
  ['lastPrice', 'i64'],
  ['lastQuantity', 'i64'],
  ['creationTimeUs', 'i64'],
  ['requestId', 'u32'],
  ['accountId', 'u32'],
  ['productId', 'u32'],
  ['gatewayId', 'u16'],
  ['reason', 'u16'], // as ExecutionReport.reason for the order's status
  ['side', 'u8'],
  ['status', 'u8'], // OrderStatus
  ['timeInForce', 'u8'],
  ['flags', 'u8'], // OrderFlags bits
  ['answerStatus', 'u8'], // ReadStatus
  ['more', 'u8'],
  ['clientOrderId', 'char', 24],
]);

/** Orders in one answer, at most (also the gateway's page bound): 112 B each, well under a ring batch. */
export const MAX_ORDER_RECORDS = 1000;

/** Gateway -> product manager: read the risk rules in force; answered by RiskRuleRecord records. */
export const RiskRulesQuery = defineMessage('RiskRulesQuery', 96, 1, [
  /** The caller (staff) account: routes the answer, filters nothing. */
  ['accountId', 'u32'],
  ['requestId', 'u32'],
  /** 0: every rule; N: the rules that can apply to account N (its own and the every-account ones). */
  ['forAccountId', 'u32'],
  ['gatewayId', 'u16'],
]);

/**
 * Product manager -> gateway (a bare body): one rule of a RiskRulesQuery answer. The answer lists
 * the built-in default of every kind first (isDefault = 1, every account, every brand), then the
 * rules set by SetRiskRule.
 */
export const RiskRuleRecord = defineMessage('RiskRuleRecord', 97, 1, [
  /** In the kind's unit: units, minor currency units (NOTIONAL_DAILY), basis points, orders. */
  ['limit', 'i64'],
  /** The last journal seq the state had applied. */
  ['asOfSeq', 'i64'],
  ['requestId', 'u32'],
  ['accountId', 'u32'],
  /** The rule's scope: 0 = every account. */
  ['ruleAccountId', 'u32'],
  /** The rule's scope: 0 = every brand. */
  ['brandId', 'u32'],
  ['gatewayId', 'u16'],
  ['kind', 'u8'], // RiskRuleKind
  ['isDefault', 'u8'],
  ['answerStatus', 'u8'], // ReadStatus
  ['more', 'u8'],
]);

/** Rules in one answer, at most (the defaults included). */
export const MAX_RISK_RULE_RECORDS = 2048;

// ---------------------------------------------------------------------------------------------
// Market-data feed (publisher -> gateways on marketdata.ring, gateways -> publisher on their
// request rings): bare bodies after the ring record header, like ExecutionReport. Layout of the
// feed and who reads what: processes/market-data/market-data-feed-layout.ts.

/** One L2 change of one product, with the product's book sequence (gap-free per product, from 1). */
export const BookDelta = defineMessage('BookDelta', 72, 1, [
  ['sequence', 'i64'],
  ['price', 'i64'],
  ['quantity', 'i64'],
  ['timestampUs', 'i64'],
  ['productId', 'u32'],
  ['orderCount', 'u32'],
  ['side', 'u8'],
]);

/**
 * The whole L2 book of one product at `sequence`. The body is followed by bidCount then askCount
 * BookSnapshotLevel entries (best first), so the record's payload is size + levels * level size.
 */
export const BookSnapshot = defineMessage('BookSnapshot', 73, 1, [
  ['sequence', 'i64'],
  ['timestampUs', 'i64'],
  ['productId', 'u32'],
  ['bidCount', 'u32'],
  ['askCount', 'u32'],
  /** 1 when the book had more levels than one record carries: the worst levels were left out. */
  ['truncated', 'u8'],
]);

/** One level of a BookSnapshot's tail. */
export const BookSnapshotLevel = defineLayout('BookSnapshotLevel', [
  ['price', 'i64'],
  ['quantity', 'i64'],
  ['orderCount', 'u32'],
]);

/** Gateway -> publisher: a query (kind: MarketDataQueryKind) answered by a MarketDataReply. */
export const MarketDataQuery = defineMessage('MarketDataQuery', 74, 1, [
  ['timeUs', 'i64'],
  ['startUs', 'i64'],
  ['endUs', 'i64'],
  ['requestId', 'u32'],
  ['productId', 'u32'],
  ['depth', 'u32'],
  ['resolutionS', 'u32'],
  ['gatewayId', 'u16'],
  ['kind', 'u8'],
]);

/** Publisher -> gateways: the answer to a MarketDataQuery; followed by jsonBytes of UTF-8 JSON. */
export const MarketDataReply = defineMessage('MarketDataReply', 75, 1, [
  ['requestId', 'u32'],
  ['jsonBytes', 'u32'],
  ['gatewayId', 'u16'],
  /** An HTTP status: 200, or the 4xx/503 the gateway answers with the JSON error inside. */
  ['status', 'u16'],
]);

/** The open (not yet closed) candle of a product at a live resolution, after it changed. */
export const CandleUpdate = defineMessage('CandleUpdate', 76, 1, [
  ['bucketStartUs', 'i64'],
  ['open', 'i64'],
  ['high', 'i64'],
  ['low', 'i64'],
  ['close', 'i64'],
  ['volume', 'i64'],
  ['productId', 'u32'],
  ['resolutionS', 'u32'],
  ['trades', 'u32'],
]);

/** ProductStatus.state: a product's trading state as the journal left it. */
export const ProductState = {
  TRADING: 1,
  HALTED: 2,
  /** Delisted: orders on it are refused; a later ListProduct of the same id lists it afresh. */
  DELISTED: 3,
} as const;
export type ProductState = (typeof ProductState)[keyof typeof ProductState];

/** ProductStatus.cause: what made the publisher send the record. */
export const ProductStatusCause = {
  LISTED: 1,
  HALTED: 2,
  RESUMED: 3,
  DELISTED: 4,
  /** Part of a product snapshot (a gateway's PRODUCTS query, or the periodic refresh). */
  SNAPSHOT: 5,
} as const;
export type ProductStatusCause = (typeof ProductStatusCause)[keyof typeof ProductStatusCause];

/**
 * Publisher -> gateways: one product's listing and state after a journaled ListProduct,
 * HaltProduct, ResumeProduct or DelistProduct, or as part of a product snapshot. Every record
 * carries the whole listing, so a gateway that missed earlier records is made whole by any later
 * one. `seq` is the journal seq of the entry that last changed the product: a gateway applies a
 * record only when it is newer than what it holds (a publisher replaying after a restart re-sends
 * old records, which are then ignored).
 */
export const ProductStatus = defineMessage('ProductStatus', 77, 1, [
  ['tickSize', 'i64'],
  ['lotSize', 'i64'],
  ['referencePrice', 'i64'],
  ['seq', 'i64'],
  ['productId', 'u32'],
  ['brandId', 'u32'],
  ['state', 'u8'], // ProductState
  ['cause', 'u8'], // ProductStatusCause
  ['symbol', 'char', 16],
  ['brand', 'char', 16],
]);

// ---------------------------------------------------------------------------------------------
// Registry.

const MESSAGE_LIST = [
  NewOrder,
  CancelOrder,
  AmendOrder,
  ListProduct,
  HaltProduct,
  ResumeProduct,
  DelistProduct,
  TradingDayOpen,
  TradingDayClose,
  AccountOpened,
  AccountSuspended,
  AccountRoleChanged,
  Deposit,
  Withdraw,
  InventoryReceipt,
  InventoryDispatch,
  SetRiskRule,
  SnapshotRequest,
  OrderAccepted,
  OrderRejected,
  Fill,
  OrderCanceled,
  OrderAmended,
  OrderExpired,
  BookLevelChanged,
  EngineCheckpoint,
  TradeTick,
  Candle,
  Heartbeat,
  ExecutionReport,
  WalletQuery,
  WalletReport,
  OrdersQuery,
  OrderRecord,
  RiskRulesQuery,
  RiskRuleRecord,
  BookDelta,
  BookSnapshot,
  MarketDataQuery,
  MarketDataReply,
  CandleUpdate,
  ProductStatus,
] as const;

/** Every message descriptor, in type-id order. */
export const MESSAGES: readonly AnyMessage[] = Object.freeze([...MESSAGE_LIST].sort((a, b) => a.typeId - b.typeId));

export type KnownMessage = (typeof MESSAGE_LIST)[number];
export type MessageName = KnownMessage['name'];

/** Type id per message name, with literal types: `TypeId.NewOrder` is `1`, usable in a switch. */
export const TypeId: { readonly [M in KnownMessage as M['name']]: M['typeId'] } = Object.freeze(
  Object.fromEntries(MESSAGE_LIST.map((m) => [m.name, m.typeId])),
) as { readonly [M in KnownMessage as M['name']]: M['typeId'] };

/** The largest body, for sizing ring slots and scratch buffers at start-up. */
export const MAX_BODY_BYTES = MESSAGES.reduce((max, m) => Math.max(max, m.size), 0);

/**
 * Builds the type-id table of a message list, asserting that no two messages share a type id or a
 * name: they would decode each other's bytes. Run once at start-up on MESSAGES (exported so the
 * assertion itself can be tested).
 */
export function indexMessagesByTypeId(messages: readonly AnyMessage[]): readonly (AnyMessage | undefined)[] {
  const maxTypeId = messages.reduce((max, m) => Math.max(max, m.typeId), 0);
  const table = new Array<AnyMessage | undefined>(maxTypeId + 1).fill(undefined);
  const names = new Set<string>();
  for (const m of messages) {
    assert(table[m.typeId] === undefined, `type id ${m.typeId} is used by both ${table[m.typeId]?.name} and ${m.name}`);
    assert(!names.has(m.name), `message name ${m.name} is declared twice`);
    assert(m.size % LAYOUT_ALIGNMENT_BYTES === 0, `${m.name} size ${m.size} is not a multiple of ${LAYOUT_ALIGNMENT_BYTES}`);
    table[m.typeId] = m;
    names.add(m.name);
  }
  return Object.freeze(table);
}

const byTypeId = indexMessagesByTypeId(MESSAGES);
const byName = new Map<string, AnyMessage>(MESSAGES.map((m) => [m.name, m]));

/** The descriptor for a ring header's type id, or undefined for an unknown id. Allocation-free. */
export function messageByTypeId(typeId: number): AnyMessage | undefined {
  return typeId >= 0 && typeId < byTypeId.length ? byTypeId[typeId] : undefined;
}

/** The descriptor for a message name (CLI, tools), or undefined. */
export function messageByName(name: string): AnyMessage | undefined {
  return byName.get(name);
}
