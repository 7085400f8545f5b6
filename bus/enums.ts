// Domain codes carried inside binary messages. One source of truth: the codecs, the engine, the
// product manager and the gateway all import these; the numbers are part of the wire format, so
// a value is never reused or renumbered (add new ones at the end).

/** Order side. Inflow adds stock to the outlet and pays (buy); outflow removes stock and receives (sell). */
export const Side = { INFLOW: 1, OUTFLOW: 2 } as const;
export type Side = (typeof Side)[keyof typeof Side];

export const TimeInForce = { GTC: 1, DAY: 2, IOC: 3, FOK: 4 } as const;
export type TimeInForce = (typeof TimeInForce)[keyof typeof TimeInForce];

/** Bit flags of a new order. */
export const OrderFlags = { POST_ONLY: 1 } as const;

/** Self-trade prevention policy, configured per engine (and per product when listed). */
export const SelfTradePolicy = {
  CANCEL_NEWEST: 1,
  CANCEL_OLDEST: 2,
  CANCEL_BOTH: 3,
  DECREMENT_AND_CANCEL: 4,
} as const;
export type SelfTradePolicy = (typeof SelfTradePolicy)[keyof typeof SelfTradePolicy];

/** Why the engine (or the product manager before it) rejected a command. */
export const RejectReason = {
  NONE: 0,
  UNKNOWN_PRODUCT: 1,
  PRODUCT_HALTED: 2,
  UNKNOWN_ORDER: 3,
  ALREADY_FILLED: 4,
  ALREADY_CANCELED: 5,
  DUPLICATE_ORDER_ID: 6,
  INVALID_PRICE: 7,
  INVALID_QUANTITY: 8,
  POST_ONLY_WOULD_TAKE: 9,
  FOK_NOT_FILLABLE: 10,
  NOT_OWNER: 11,
  PRODUCT_ALREADY_LISTED: 12,
  INSUFFICIENT_FUNDS: 13,
  INSUFFICIENT_INVENTORY: 14,
  RISK_BRAND_DAILY_LIMIT: 15,
  RISK_NOTIONAL_DAILY_LIMIT: 16,
  RISK_MAX_ORDER_QUANTITY: 17,
  RISK_PRICE_COLLAR: 18,
  RISK_MAX_OPEN_ORDERS: 19,
  MARKET_CLOSED: 20,
  ACCOUNT_NOT_ACTIVE: 21,
  AMEND_NO_CHANGE: 22,
  ALREADY_EXPIRED: 23,
  INVALID_COMMAND: 24,
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

/** Why a resting or incoming order left the book without filling completely. */
export const CancelReason = {
  USER: 1,
  IOC_REMAINDER: 2,
  FOK_NOT_FILLABLE: 3,
  SELF_TRADE: 4,
  EXPIRED: 5,
  DELISTED: 6,
  ADMIN: 7,
} as const;
export type CancelReason = (typeof CancelReason)[keyof typeof CancelReason];

/** Lowercase snake-case names for API errors and logs, indexed by code. */
export const REJECT_REASON_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(RejectReason).map(([k, v]) => [v, k.toLowerCase()])),
);
export const CANCEL_REASON_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(CancelReason).map(([k, v]) => [v, k.toLowerCase()])),
);

/** SetRiskRule.ruleKind: which limit a sequenced risk rule sets. */
export const RiskRuleKind = {
  BRAND_DAILY_UNITS: 1,
  NOTIONAL_DAILY: 2,
  MAX_ORDER_QUANTITY: 3,
  PRICE_COLLAR_BPS: 4,
  MAX_OPEN_ORDERS: 5,
} as const;
export type RiskRuleKind = (typeof RiskRuleKind)[keyof typeof RiskRuleKind];

/** AccountOpened.role. */
export const AccountRole = { COLLEAGUE: 1, RISK_ADMIN: 2, ADMIN: 3, ANALYST: 4, OPERATOR: 5 } as const;
export type AccountRole = (typeof AccountRole)[keyof typeof AccountRole];

/** Heartbeat.role: what the sending process is doing now. */
export const ProcessRole = { SEQUENCER: 1, ENGINE_HOT: 2, ENGINE_WARM: 3, PRODUCT_MANAGER_HOT: 4, PRODUCT_MANAGER_WARM: 5, GATEWAY: 6, MARKET_DATA: 7, REPORTER: 8 } as const;
export type ProcessRole = (typeof ProcessRole)[keyof typeof ProcessRole];

/** SnapshotRequest.reason. */
export const SnapshotReason = { SCHEDULE: 1, OPERATOR: 2, END_OF_DAY: 3 } as const;

/** InputHeader.flags bits. */
export const InputFlags = {
  /** The producer is replaying what it may already have sent (after its own restart). */
  RETRANSMIT: 1,
} as const;
