// Every bound of the market-data library, in one place. Structures are sized from these at start-up
// (or when a product is first seen, at most MAX_PRODUCTS times per process) and grow only by
// doubling up to a MAX_* value; nothing here allocates per journal event.

/** Products one market-data state tracks (≈100 are listed). A product's structures are allocated once. */
export const MAX_PRODUCTS = 256;

/**
 * Closed candles kept in memory per product, by native resolution; older candles are left to
 * storage (the publisher stores every closed candle it is handed). One minute: one day; five
 * minutes: two days; one hour: thirty days; one week: two years; one month: five years.
 */
export const CANDLE_HISTORY_1M = 1_440;
export const CANDLE_HISTORY_5M = 576;
export const CANDLE_HISTORY_1H = 720;
export const CANDLE_HISTORY_1W = 104;
export const CANDLE_HISTORY_1MO = 60;

/** Most candles one query returns (the data service answers with a clear error past it). */
export const MAX_CANDLES_PER_QUERY = 5_000;

/** Price levels per book side allocated when a product is first seen (grows by doubling). */
export const INITIAL_LEVELS_PER_SIDE = 64;
/** Hard cap on price levels per side: a book past it is a runaway, asserted. */
export const MAX_LEVELS_PER_SIDE = 1 << 20;

/** Levels a depth query returns at most. */
export const MAX_DEPTH_LEVELS = 1_000;

/** Trades kept per product in the in-memory tape; older trades are left to storage. */
export const TRADE_TAPE_CAPACITY = 1_024;

/**
 * Book changes kept per product for `bookAt(time)`. Older times are answered from storage and the
 * journal on disk. At 29 bytes a change this is ≈ 240 KB per product, plus the checkpoints.
 */
export const BOOK_HISTORY_CHANGES = 8_192;

/**
 * A checkpoint of the whole L2 book is taken every BOOK_CHECKPOINT_INTERVAL changes of a product,
 * so `bookAt(time)` costs one checkpoint copy (the levels of the book at that point) plus at most
 * BOOK_CHECKPOINT_INTERVAL - 1 delta applications. Taking a checkpoint costs one copy of the book,
 * i.e. (levels / 256) level copies per change amortised.
 */
export const BOOK_CHECKPOINT_INTERVAL = 256;

/**
 * Deltas a subscriber-side mirror buffers while it waits for a snapshot; past it the buffer is
 * dropped and the mirror asks for a newer snapshot instead of growing without bound.
 */
export const MAX_PENDING_DELTAS = 4_096;

/** Subscribers one fan-out order can shuffle (the gateway's connection limit is below this). */
export const MAX_FANOUT_SUBSCRIBERS = 1 << 16;

/** UTC days whose zone offsets are cached (direct-mapped, ≈11 years). */
export const ZONE_DAY_CACHE_SLOTS = 4_096;
