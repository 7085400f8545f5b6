// Every bound of the matching engine, in one place. Pools are sized at start-up from the INITIAL_*
// values and grow only by doubling, up to the MAX_* values; the engine never allocates per order.

/** Order slots (resting orders plus the one incoming taker) allocated at start-up. */
export const INITIAL_ORDER_CAPACITY = 1 << 16;

/**
 * Hard cap on order slots across all products. With MAX_ORDER_QUANTITY = 2^30, the aggregate
 * quantity of one price level stays below 2^23 * 2^30 = 2^53, so level sums are always exact
 * safe integers. The product manager's open-order risk limit keeps real books far below this.
 */
export const MAX_ORDER_CAPACITY = 1 << 23;

/** Largest accepted order quantity (units). See MAX_ORDER_CAPACITY for why it is bounded. */
export const MAX_ORDER_QUANTITY = 2 ** 30;

/** Price-level slots across all books allocated at start-up. */
export const INITIAL_LEVEL_CAPACITY = 1 << 12;

/** Active price levels per side of one book allocated at listing (grows by doubling). */
export const INITIAL_LEVELS_PER_SIDE = 64;

/** Slots of the order-id → order-slot hash at start-up (kept at most half full). */
export const INITIAL_ORDER_INDEX_CAPACITY = 1 << 17;

/**
 * Entries of the memory of finished (filled, canceled, expired) orders, a power of two. It lets an
 * amend or cancel of a recently finished order be rejected with already_filled / already_canceled /
 * already_expired and a reused id with duplicate_order_id. A finished order is forgotten when a
 * later one maps to its entry (terminal-order-memory.ts); with increasing ids that is exactly
 * `capacity` ids later, then it answers unknown_order. 2^18 is more than a second of the 215,000
 * orders/s peak, far longer than a cancel can race a fill; the product manager's order state
 * covers the long tail. 4.25 MB.
 */
export const TERMINAL_ORDER_MEMORY_CAPACITY = 1 << 18;

/** Books that can ever be listed in one engine lifetime (a delisted book's index is not reused). */
export const MAX_LISTINGS = 1 << 16;
