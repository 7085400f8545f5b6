// Every bound and every default of the product-manager state, in one place. Tables are allocated
// at start-up from these numbers (accounts and products at their maximum, orders and the sparse
// tables at an initial size that doubles up to a cap), so the hot path never allocates.

/** Accounts the product manager can hold (the mission: ≥ 10,000 colleagues, up to 100,000 accounts). */
export const MAX_ACCOUNTS = 1 << 17;

/** Products ever listed (≈100 in the seed; 10,000 planned for). A relisted product reuses its row. */
export const MAX_PRODUCTS = 1 << 14;

/** Distinct brand ids (from listings and risk rules). */
export const MAX_BRANDS = 1 << 12;

/** Order slots at start-up; the table doubles up to MAX_ORDER_SLOTS. */
export const INITIAL_ORDER_SLOTS = 1 << 14;

/**
 * Hard cap on the orders the product manager tracks at once: open orders, in-flight orders, and the
 * finished orders it still remembers for client-order-id idempotency. When it is reached a new
 * order is refused with risk_max_open_orders (an exchange-wide open-order limit).
 */
export const MAX_ORDER_SLOTS = 1 << 23;

/**
 * Idempotency window, part 1: finished orders (filled, canceled, expired, rejected) are remembered
 * — with their client order ids — until the next sequenced TradingDayOpen. Open orders are always
 * remembered.
 */
export const CLIENT_ORDER_ID_WINDOW = 'trading day' as const;

/**
 * Idempotency window, part 2 (the memory bound): at most this many finished orders are remembered
 * per account; beyond it the oldest finished order of that account is forgotten first.
 */
export const MAX_FINISHED_ORDERS_PER_ACCOUNT = 1 << 16;

/**
 * Idempotency window, part 3: at most this many finished orders are remembered exchange-wide;
 * beyond it the oldest finished order (of any account) is forgotten first. Eviction follows the
 * order in which orders finished in the journal, so live and replayed states forget the same ids.
 */
export const MAX_FINISHED_ORDERS = 1 << 22;

/** Commands checked and reserved but not yet seen back in the journal (a full queue back-pressures). */
export const MAX_IN_FLIGHT_COMMANDS = 1 << 16;

/** Initial slots of the sparse (account, product) and (account, brand) tables; they double as needed. */
export const INITIAL_POSITION_SLOTS = 1 << 12;
export const INITIAL_BRAND_COUNTER_SLOTS = 1 << 12;
export const INITIAL_RISK_RULE_SLOTS = 1 << 8;

/** Upper bound of a sparse table (positions, brand counters, rules), so growth is bounded too. */
export const MAX_SPARSE_TABLE_SLOTS = 1 << 26;

/** The engine's largest accepted order quantity (processes/matching-engine/engine-limits.ts). */
export const ENGINE_MAX_ORDER_QUANTITY = 2 ** 30;

/** Basis points in one (a price collar is |price − reference| ≤ bps / BPS_PER_UNIT × reference). */
export const BPS_PER_UNIT = 10_000;

// ---------------------------------------------------------------------------------------------
// Risk defaults: what applies when no SetRiskRule says otherwise.

/** The seed's rule: a colleague may update at most 1,000,000 units of one brand per day. */
export const DEFAULT_BRAND_DAILY_UNITS = 1_000_000;

/** The seed's "$1M a day": 1,000,000.00 in minor units. Counts price × quantity of every update. */
export const DEFAULT_NOTIONAL_DAILY_MINOR = 100_000_000;

/** Largest quantity of one order. */
export const DEFAULT_MAX_ORDER_QUANTITY = 1_000_000;

/** A limit price may be at most 10 % away from the last trade (or the reference price). */
export const DEFAULT_PRICE_COLLAR_BPS = 1_000;

/** Open orders per account (journaled and not finished, plus in flight). */
export const DEFAULT_MAX_OPEN_ORDERS = 1_000;

/** A SetRiskRule with a negative limit removes that rule (the next, broader rule applies again). */
export const RISK_RULE_REMOVE = -1;
