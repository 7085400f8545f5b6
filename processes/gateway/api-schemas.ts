// Every JSON body, query and answer of the gateway's API, declared once with TypeBox. The same
// objects feed the validators (compiled once at start-up, schema-validation.ts) and the OpenAPI
// document (openapi.ts), so the documentation cannot drift from what is enforced. Every object
// rejects unknown fields (additionalProperties: false), every number has a range, every string a
// length bound and, where it has a grammar, a pattern.

import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MAX_ORDER_QUANTITY } from '../matching-engine/engine-limits';
import {
  MAX_ADDRESS_LINE_CHARS,
  MAX_API_KEY_LABEL_CHARS,
  MAX_CITY_CHARS,
  MAX_LEGAL_NAME_CHARS,
  MAX_OUTLET_ID,
  MAX_PASSWORD_CHARS,
  MAX_POSTAL_CODE_CHARS,
  MAX_REVIEW_NOTE_CHARS,
  MAX_SUSPENSION_REASON_CHARS,
  MAX_USERNAME_CHARS,
  MIN_USERNAME_CHARS,
} from '../accounts/account-limits';
import { DECIMAL_PRICE_PATTERN } from './decimal-price';

const strict = { additionalProperties: false } as const;

/** Largest decimal text accepted for a price or amount (15 integer digits, a dot, 12 decimals). */
const MAX_DECIMAL_CHARS = 28;
const ACCOUNT_ID_MAX = 0xffff_ffff;
/** Movement references are i64 on the bus; the API keeps them in the exactly representable range. */
const REFERENCE_MAX = Number.MAX_SAFE_INTEGER;

export const SymbolText = Type.String({ minLength: 1, maxLength: 16, pattern: '^[A-Za-z0-9][A-Za-z0-9.-]{0,15}$', description: 'product symbol, any letter case (e.g. APPL-128)' });
export const SideText = Type.Union([Type.Literal('inflow'), Type.Literal('outflow'), Type.Literal('buy'), Type.Literal('sell')], {
  description: 'inflow (alias buy) adds stock and pays; outflow (alias sell) removes stock and receives',
});
export const PriceText = Type.String({ minLength: 1, maxLength: MAX_DECIMAL_CHARS, pattern: DECIMAL_PRICE_PATTERN, description: 'decimal string in currency units, e.g. "10.05"; must be a multiple of the product tick' });
export const Quantity = Type.Integer({ minimum: 1, maximum: MAX_ORDER_QUANTITY, description: 'units; a multiple of the product lot' });
export const ClientOrderId = Type.String({ minLength: 1, maxLength: 24, pattern: '^[A-Za-z0-9._:-]{1,24}$', description: 'your id for the order; a retry with the same id never creates a second order' });
export const TimeInForceText = Type.Union([Type.Literal('GTC'), Type.Literal('DAY'), Type.Literal('IOC'), Type.Literal('FOK')], { description: 'default GTC' });
export const OrderIdText = Type.String({ minLength: 1, maxLength: 16, pattern: '^[1-9][0-9]{0,15}$', description: 'order id as returned by POST /v1/transact' });

export const PlaceOrderBody = Type.Object(
  {
    symbol: SymbolText,
    side: SideText,
    price: PriceText,
    quantity: Quantity,
    clientOrderId: Type.Optional(ClientOrderId),
    timeInForce: Type.Optional(TimeInForceText),
    postOnly: Type.Optional(Type.Boolean({ description: 'never take liquidity; not with IOC or FOK' })),
  },
  { ...strict, title: 'PlaceOrder' },
);
export type PlaceOrderBody = Static<typeof PlaceOrderBody>;

export const AmendOrderBody = Type.Object(
  { price: Type.Optional(PriceText), quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ORDER_QUANTITY, description: 'new total quantity (filled included)' })) },
  { ...strict, minProperties: 1, title: 'AmendOrder' },
);
export type AmendOrderBody = Static<typeof AmendOrderBody>;

export const OrderIdParams = Type.Object({ id: OrderIdText }, { ...strict, title: 'OrderIdParams' });
export const ListOrdersQuery = Type.Object(
  { status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')], { description: "open (default): resting orders; all: resting orders and the finished ones the exchange still remembers (today's)" })) },
  { ...strict, title: 'ListOrdersQuery' },
);
export type ListOrdersQuery = Static<typeof ListOrdersQuery>;
export const EmptyQuery = Type.Object({}, { ...strict, title: 'NoQuery' });

export const OrderStatusText = Type.Union(
  ['added', 'partially_filled', 'filled', 'updated', 'removed', 'rejected', 'expired'].map((s) => Type.Literal(s)),
  { description: 'the seed vocabulary' },
);
export const Order = Type.Object(
  {
    id: OrderIdText,
    clientOrderId: Type.Optional(ClientOrderId),
    symbol: Type.String(),
    side: Type.Union([Type.Literal('inflow'), Type.Literal('outflow')]),
    price: Type.String({ description: 'limit price, decimal string' }),
    quantity: Type.Integer({ description: 'total quantity (filled included)' }),
    timeInForce: TimeInForceText,
    postOnly: Type.Optional(Type.Boolean()),
    creationTime: Type.Integer({ description: 'epoch milliseconds' }),
    filledQuantity: Type.Integer(),
    remainingQuantity: Type.Integer(),
    status: OrderStatusText,
    lastPrice: Type.Optional(Type.String({ description: 'price of the latest fill' })),
    lastQuantity: Type.Optional(Type.Integer({ description: 'quantity of the latest fill' })),
    reason: Type.Optional(Type.String({ description: 'why the order was removed, expired or rejected' })),
  },
  { ...strict, title: 'Order' },
);
export const OrderList = Type.Object({ orders: Type.Array(Order), truncated: Type.Boolean() }, { ...strict, title: 'OrderList' });

// --- sessions, applications, API keys -------------------------------------------------------------

const UsernameText = Type.String({ minLength: MIN_USERNAME_CHARS, maxLength: MAX_USERNAME_CHARS });
const PasswordText = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_CHARS });
const RoleText = Type.Union(['colleague', 'risk_admin', 'admin', 'analyst', 'operator'].map((r) => Type.Literal(r)));
const DateText = Type.String({ minLength: 10, maxLength: 10, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD' });

export const LoginBody = Type.Object({ username: UsernameText, password: PasswordText }, { ...strict, title: 'Login' });
export type LoginBody = Static<typeof LoginBody>;
export const Principal = Type.Object(
  { accountId: Type.Integer(), username: Type.String(), role: RoleText, outletId: Type.Integer({ description: '0 for staff' }) },
  { ...strict, title: 'Principal' },
);
export const SessionCreated = Type.Object(
  { token: Type.String({ description: 'send as "Authorization: Bearer <token>"; on the WebSocket as the subprotocol "ims-token.<token>"' }), expiresAt: Type.Integer({ description: 'epoch ms; idle sessions expire earlier' }), account: Principal },
  { ...strict, title: 'SessionCreated' },
);

export const ApplicationBody = Type.Object(
  {
    legalName: Type.String({ minLength: 1, maxLength: MAX_LEGAL_NAME_CHARS }),
    dateOfBirth: DateText,
    outletId: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OUTLET_ID, description: 'the outlet a colleague trades for; staff leave it out' })),
    document: Type.Object(
      {
        type: Type.Union([Type.Literal('passport'), Type.Literal('national_id'), Type.Literal('driving_licence')]),
        number: Type.String({ minLength: 1, maxLength: 64, description: 'passport: number with its check digit, or the whole MRZ line 2' }),
        expiryDate: DateText,
      },
      strict,
    ),
    address: Type.Object(
      {
        line1: Type.String({ minLength: 1, maxLength: MAX_ADDRESS_LINE_CHARS }),
        line2: Type.Optional(Type.String({ maxLength: MAX_ADDRESS_LINE_CHARS })),
        city: Type.String({ minLength: 1, maxLength: MAX_CITY_CHARS }),
        postalCode: Type.String({ minLength: 1, maxLength: MAX_POSTAL_CODE_CHARS }),
        country: Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2' }),
      },
      strict,
    ),
    username: UsernameText,
    password: PasswordText,
    role: Type.Optional(RoleText),
  },
  { ...strict, title: 'Application' },
);
export type ApplicationBody = Static<typeof ApplicationBody>;
export const ApplicationOutcome = Type.Object(
  {
    applicationId: Type.Integer(),
    username: Type.String(),
    status: Type.Union([Type.Literal('approved'), Type.Literal('rejected'), Type.Literal('pending_review')]),
    accountId: Type.Union([Type.Integer(), Type.Null()], { description: 'the trading account id once approved' }),
    reasons: Type.Array(Type.Object({ code: Type.String(), detail: Type.String() }, strict)),
  },
  { ...strict, title: 'ApplicationOutcome' },
);

export const ApiKeyCreateBody = Type.Object({ label: Type.String({ minLength: 1, maxLength: MAX_API_KEY_LABEL_CHARS }) }, { ...strict, title: 'ApiKeyCreate' });
export type ApiKeyCreateBody = Static<typeof ApiKeyCreateBody>;
export const ApiKeyIdParams = Type.Object({ keyId: Type.String({ minLength: 1, maxLength: 16, pattern: '^[1-9][0-9]{0,15}$' }) }, { ...strict, title: 'ApiKeyIdParams' });
export const ApiKeyInfo = Type.Object(
  { keyId: Type.String(), prefix: Type.String(), label: Type.String(), createdAt: Type.Integer(), lastUsedAt: Type.Optional(Type.Integer()), revokedAt: Type.Optional(Type.Integer()) },
  { ...strict, title: 'ApiKeyInfo' },
);
export const ApiKeyCreated = Type.Object(
  { keyId: Type.String(), prefix: Type.String(), label: Type.String(), createdAt: Type.Integer(), key: Type.String({ description: 'shown once; send as "Authorization: ApiKey <key>"' }) },
  { ...strict, title: 'ApiKeyCreated' },
);
export const ApiKeyList = Type.Object({ keys: Type.Array(ApiKeyInfo) }, { ...strict, title: 'ApiKeyList' });

// --- admin ----------------------------------------------------------------------------------------

export const ApplicationIdParams = Type.Object({ applicationId: Type.String({ pattern: '^[1-9][0-9]{0,15}$', maxLength: 16 }) }, { ...strict, title: 'ApplicationIdParams' });
export const KycDecisionBody = Type.Object(
  { decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]), note: Type.String({ minLength: 1, maxLength: MAX_REVIEW_NOTE_CHARS, description: 'why; kept in the audit trail' }) },
  { ...strict, title: 'KycDecision' },
);
export type KycDecisionBody = Static<typeof KycDecisionBody>;
export const ReviewQueueQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', maxLength: 15, description: 'the last applicationId of the previous page' })),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', maxLength: 3, description: 'rows per page, at most 200' })),
  },
  { ...strict, title: 'ReviewQueueQuery' },
);
export const AccountIdParams = Type.Object({ accountId: Type.String({ pattern: '^[1-9][0-9]{0,9}$', maxLength: 10 }) }, { ...strict, title: 'AccountIdParams' });
export const SuspensionBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: MAX_SUSPENSION_REASON_CHARS }) }, { ...strict, title: 'Suspension' });
export const ReviewQueue = Type.Object({ applications: Type.Array(Type.Unknown({ description: 'an application awaiting review, with its screening matches' })) }, { ...strict, title: 'ReviewQueue' });

const AccountIdNumber = Type.Integer({ minimum: 1, maximum: ACCOUNT_ID_MAX });
const ReferenceNumber = Type.Integer({ minimum: 1, maximum: REFERENCE_MAX, description: 'your unique reference (payment id, delivery note); a repeat is applied once' });
export const CashMovementBody = Type.Object(
  { accountId: AccountIdNumber, amount: Type.String({ minLength: 1, maxLength: MAX_DECIMAL_CHARS, pattern: DECIMAL_PRICE_PATTERN, description: 'decimal currency amount' }), reference: ReferenceNumber },
  { ...strict, title: 'CashMovement' },
);
export type CashMovementBody = Static<typeof CashMovementBody>;
export const InventoryMovementBody = Type.Object(
  { accountId: AccountIdNumber, symbol: SymbolText, quantity: Type.Integer({ minimum: 1, maximum: MAX_ORDER_QUANTITY }), reference: ReferenceNumber },
  { ...strict, title: 'InventoryMovement' },
);
export type InventoryMovementBody = Static<typeof InventoryMovementBody>;

export const RiskRuleKindText = Type.Union(['brand_daily_units', 'notional_daily', 'max_order_quantity', 'price_collar_bps', 'max_open_orders'].map((k) => Type.Literal(k)));
export const RiskRuleBody = Type.Object(
  {
    kind: RiskRuleKindText,
    limit: Type.Union(
      [Type.String({ minLength: 1, maxLength: MAX_DECIMAL_CHARS, pattern: DECIMAL_PRICE_PATTERN }), Type.Null()],
      { description: 'units, basis points or a count (whole numbers); a decimal currency amount for notional_daily; null removes the rule' },
    ),
    accountId: Type.Optional(Type.Integer({ minimum: 0, maximum: ACCOUNT_ID_MAX, description: '0 or absent: every account' })),
    brand: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: 'absent: every brand' })),
  },
  { ...strict, title: 'RiskRule' },
);
export type RiskRuleBody = Static<typeof RiskRuleBody>;

export const RiskRulesQueryText = Type.Object(
  { accountId: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,9}$', maxLength: 10, description: "only the rules that can apply to this account: its own and the every-account ones (default: every rule)" })) },
  { ...strict, title: 'RiskRulesQuery' },
);
export type RiskRulesQueryText = Static<typeof RiskRulesQueryText>;
export const RiskRuleInForce = Type.Object(
  {
    kind: RiskRuleKindText,
    limit: Type.String({ description: 'as PUT takes it: whole units, basis points or orders; a decimal currency amount for notional_daily' }),
    unit: Type.Union(['units', 'currency', 'basis_points', 'orders'].map((u) => Type.Literal(u))),
    accountId: Type.Union([Type.Integer(), Type.Null()], { description: 'null: every account' }),
    brand: Type.Union([Type.String(), Type.Null()], { description: 'null: every brand (or a brand this gateway lists no product of: see brandId)' }),
    brandId: Type.Union([Type.Integer(), Type.Null()], { description: 'null: every brand' }),
    default: Type.Boolean({ description: 'true: the built-in default, in force wherever no rule of its kind applies' }),
  },
  { ...strict, title: 'RiskRuleInForce' },
);
export const RiskRuleList = Type.Object(
  {
    rules: Type.Array(RiskRuleInForce, { description: 'the defaults first (one per kind), then the rules set, by kind, account, brand; the most specific rule for an (account, brand) wins' }),
    asOfSeq: Type.Integer({ description: 'the last journal entry the list includes' }),
    truncated: Type.Boolean(),
  },
  { ...strict, title: 'RiskRuleList' },
);

export const ProductListingBody = Type.Object(
  {
    productId: Type.Integer({ minimum: 1, maximum: 0xffff_ffff, description: 'the new product id (the product manager refuses one already listed)' }),
    brandId: Type.Optional(Type.Integer({ minimum: 1, maximum: 0xffff_ffff, description: 'needed only for a brand not listed yet' })),
    symbol: SymbolText,
    brand: Type.String({ minLength: 1, maxLength: 16, pattern: '^[\\x20-\\x7e]{1,16}$' }),
    tickSize: PriceText,
    lotSize: Type.Integer({ minimum: 1, maximum: MAX_ORDER_QUANTITY }),
    referencePrice: PriceText,
  },
  { ...strict, title: 'ProductListing' },
);
export type ProductListingBody = Static<typeof ProductListingBody>;
export const SymbolParams = Type.Object({ symbol: SymbolText }, { ...strict, title: 'SymbolParams' });

export const CommandSubmitted = Type.Object(
  {
    command: Type.String({ description: 'the bus message written for the product manager' }),
    sourceSeq: Type.Integer({ description: 'its sequence number from this gateway' }),
    status: Type.Literal('submitted', { description: 'written to the product manager, which sequences it; effects appear in the journal' }),
  },
  { ...strict, title: 'CommandSubmitted' },
);

export const ProductInfo = Type.Object(
  { productId: Type.Integer(), symbol: Type.String(), brand: Type.String(), tickSize: Type.String(), lotSize: Type.Integer(), halted: Type.Boolean() },
  { ...strict, title: 'Product' },
);
export const ProductList = Type.Object({ products: Type.Array(ProductInfo) }, { ...strict, title: 'ProductList' });

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'machine code, e.g. price_not_on_tick' }),
    detail: Type.String({ description: 'what went wrong and what to do' }),
    retryAfterSeconds: Type.Optional(Type.Integer()),
    fields: Type.Optional(Type.Array(Type.Object({ field: Type.String(), code: Type.String(), detail: Type.String() }, strict))),
  },
  { ...strict, title: 'Error' },
);

export const Health = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    listener: Type.Union([Type.Literal('trading'), Type.Literal('market-data')]),
    gatewayId: Type.Integer(),
    uptimeSeconds: Type.Integer(),
    productManager: Type.Optional(Type.Unknown({ description: 'ring positions, requests in flight, last reply' })),
    streams: Type.Integer({ description: 'open WebSocket order streams on this gateway' }),
    counters: Type.Optional(Type.Unknown({ description: 'report routing, stream and rejection counters; bugs = handler exceptions (500s)' })),
    marketData: Type.Union([Type.String(), Type.Object({}, { additionalProperties: true })], { description: 'market data on this gateway: a sentence while none is served, else {"status":"served", feed, cache and subscription figures}' }),
  },
  { ...strict, title: 'Health' },
);

// --- WebSocket messages (/v1/stream) --------------------------------------------------------------

const StreamRequestId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]{1,64}$', description: 'your correlation id, echoed in the answer' });
export const StreamPlace = Type.Object({ type: Type.Literal('place'), requestId: StreamRequestId, order: PlaceOrderBody }, { ...strict, title: 'StreamPlace' });
export const StreamUpdate = Type.Object({ type: Type.Literal('update'), requestId: StreamRequestId, id: OrderIdText, changes: AmendOrderBody }, { ...strict, title: 'StreamUpdate' });
export const StreamRemove = Type.Object({ type: Type.Literal('remove'), requestId: StreamRequestId, id: OrderIdText }, { ...strict, title: 'StreamRemove' });
export const StreamPing = Type.Object({ type: Type.Literal('ping'), requestId: StreamRequestId }, { ...strict, title: 'StreamPing' });
/** Read a wallet (GET /v1/wallet's rules); answered {"type":"wallet","requestId":…,"wallet":{…}}. */
export const StreamWallet = Type.Object(
  { type: Type.Literal('wallet'), requestId: StreamRequestId, accountId: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,9}$', maxLength: 10, description: 'staff: whose wallet (default your own)' })) },
  { ...strict, title: 'StreamWallet' },
);
/** List your orders (GET /v1/transact's rules); answered {"type":"orders","requestId":…,"orders":[…],"truncated":false}. */
export const StreamOrders = Type.Object(
  { type: Type.Literal('orders'), requestId: StreamRequestId, status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')], { description: 'open (default) or all, as GET /v1/transact' })) },
  { ...strict, title: 'StreamOrders' },
);
/** The envelope checked first, so a message with a bad type gets a precise answer. */
export const StreamEnvelope = Type.Object(
  { type: Type.Union([Type.Literal('place'), Type.Literal('update'), Type.Literal('remove'), Type.Literal('ping'), Type.Literal('wallet'), Type.Literal('orders')]), requestId: StreamRequestId },
  { additionalProperties: true, title: 'StreamEnvelope' },
);
export type StreamPlace = Static<typeof StreamPlace>;
export type StreamUpdate = Static<typeof StreamUpdate>;
export type StreamRemove = Static<typeof StreamRemove>;
export type StreamWallet = Static<typeof StreamWallet>;
export type StreamOrders = Static<typeof StreamOrders>;

/** Every named schema, for the OpenAPI components section. */
export const NAMED_SCHEMAS: readonly TSchema[] = [
  PlaceOrderBody, AmendOrderBody, Order, OrderList, LoginBody, Principal, SessionCreated, ApplicationBody, ApplicationOutcome,
  ApiKeyCreateBody, ApiKeyInfo, ApiKeyCreated, ApiKeyList, KycDecisionBody, ReviewQueue, CashMovementBody, InventoryMovementBody,
  RiskRuleBody, ProductListingBody, CommandSubmitted, ProductInfo, ProductList, ErrorBody, Health, StreamPlace, StreamUpdate, StreamRemove, StreamPing, StreamWallet, StreamOrders,
  RiskRuleList,
];
