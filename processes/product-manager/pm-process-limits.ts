// Every bound and timing of the product-manager PROCESS (the loop, the rings, failover), in one
// place. The state library's own bounds are in pm-limits.ts.

/** Journal entries one loop iteration applies while hot (then the gateways get their turn). */
export const HOT_JOURNAL_BATCH = 512;
/** Journal entries one iteration applies while warm or replaying (no gateway to be fair to). */
export const WARM_JOURNAL_BATCH = 4096;
/**
 * Commands taken from ONE gateway ring per iteration; the ring to start with rotates, so a flooding
 * gateway cannot starve the others (the sequencer's fairness rule, one hop earlier).
 */
export const GATEWAY_BATCH = 64;

/** Default bound after which a silent leader is presumed dead (bus/leader-lease.ts). */
export { DEFAULT_LEASE_TIMEOUT_MS } from '../../bus/leader-lease';

/**
 * Longest sleep of an idle HOT loop. The hot sleeps on the journal ring's futex (a journal entry
 * wakes it at once); a gateway command waits at most this long to be noticed. 100 µs keeps the
 * round trip in the millisecond budget at ~10,000 timed wake-ups/s when idle (a few % of a core);
 * `--idle spin|yield` removes the wait on machines with a core per process.
 */
export const HOT_MAX_PARK_NS = 100_000;
/** Longest sleep of an idle WARM loop: also how often it looks at the leader's heartbeat. */
export const WARM_MAX_PARK_NS = 1_000_000;

/** How often the status file's counters are rewritten. */
export const STATUS_INTERVAL_MS = 50;
/** Default interval of the state hash in the status file (it walks the whole state: not per entry). */
export const DEFAULT_HASH_INTERVAL_MS = 1_000;
/**
 * The most a periodic state hash may stall the HOT loop. Past it (a large state) the hot hashes only
 * on SIGUSR2 and the warm, which serves nobody, publishes the periodic hash.
 */
export const HOT_HASH_BUDGET_MS = 5;

/** How long a takeover waits for a killed leader to be reaped before it says so (and keeps waiting). */
export const LEADER_EXIT_WAIT_MS = 2_000;
/** How often a takeover blocked on the sequencer (input rings not drained) logs that it waits. */
export const TAKEOVER_WAIT_LOG_INTERVAL_MS = 1_000;

/**
 * Execution reports a warm remembers, newest first, so that on takeover it can resend what the old
 * leader computed but may not have published (everything after the old leader's reportedSeq).
 * 32,768 reports ≈ 4.5 MiB: far more than a leader can fall behind between two heartbeats.
 */
export const REPORT_HISTORY_CAPACITY = 1 << 15;

/** Invalid gateway records logged in full per gateway (then every 10,000th): bad input never floods the log. */
export const LOGGED_INVALID_RECORDS_PER_GATEWAY = 20;
/** Admin commands rejected by the checks, logged in full (then every 10,000th). */
export const LOGGED_ADMIN_REJECTS = 100;
