// Every bound and timing rule of the accounts module, in one place. Accounts are off the hot path,
// but every queue, list, string and retry still has a named limit so a misbehaving client or a
// flood of logins cannot grow memory or hold the database without bound.

// --- login lockout -------------------------------------------------------------------------------

/** Consecutive failed logins that lock an account. */
export const MAX_FAILED_LOGINS = 5;
/** How long a locked account stays locked; a correct password does not unlock it earlier. */
export const LOCKOUT_DURATION_MS = 15 * 60 * 1000;

// --- sessions ------------------------------------------------------------------------------------

/** A session unused for this long expires (measured with SESSION_TOUCH_INTERVAL_MS of slack). */
export const SESSION_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
/** A session expires this long after login however active it is (one trading day plus margin). */
export const SESSION_ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000;
/**
 * A session's last-seen time is written at most this often. Writing it on every request would turn
 * every authenticated read into a database write; the price is that the idle timeout is exact only
 * to within this interval.
 */
export const SESSION_TOUCH_INTERVAL_MS = 60 * 1000;
/** Ended sessions are kept this long after their absolute expiry (for investigations), then purged. */
export const SESSION_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Sessions one purge call deletes, so housekeeping never holds the write lock for long. */
export const MAX_SESSIONS_PURGED_PER_CALL = 1_000;
/** Live sessions per account; a login beyond it revokes the oldest (kiosks re-login, tabs pile up). */
export const MAX_SESSIONS_PER_ACCOUNT = 20;

// --- API keys ------------------------------------------------------------------------------------

/** Live (unrevoked) API keys per account. */
export const MAX_API_KEYS_PER_ACCOUNT = 10;
export const MAX_API_KEY_LABEL_CHARS = 64;

// --- password hashing ----------------------------------------------------------------------------

/**
 * Password hashes computed at once. Each scrypt at the OWASP parameters holds 128 MiB and a libuv
 * threadpool thread for ~100+ ms; two at a time bounds memory to ~256 MiB and leaves the other
 * threadpool threads to file and DNS work of the same process.
 */
export const MAX_CONCURRENT_PASSWORD_HASHES = 2;
/** Hash requests allowed to wait for a slot; beyond it a login answers server_busy at once. */
export const MAX_QUEUED_PASSWORD_HASHES = 64;

// --- passwords and usernames ---------------------------------------------------------------------

export const MIN_PASSWORD_CHARS = 12;
/** scrypt accepts any length, but a bound keeps a megabyte "password" from reaching it. */
export const MAX_PASSWORD_CHARS = 128;
export const MIN_USERNAME_CHARS = 3;
export const MAX_USERNAME_CHARS = 32;

// --- application fields --------------------------------------------------------------------------

export const MAX_LEGAL_NAME_CHARS = 100;
export const MAX_ADDRESS_LINE_CHARS = 100;
export const MAX_CITY_CHARS = 60;
export const MAX_POSTAL_CODE_CHARS = 12;
/** Oldest accepted applicant; an older date of birth is a typing error, not a person. */
export const MAX_APPLICANT_AGE_YEARS = 130;
/** Age at which an applicant may open an account (checked on the decision date, UTC). */
export const MIN_APPLICANT_AGE_YEARS = 18;
export const MAX_REVIEW_NOTE_CHARS = 500;
export const MAX_SUSPENSION_REASON_CHARS = 500;
/** Largest outlet id (it travels as a u32 in AccountOpened; 0 means "no outlet", for staff). */
export const MAX_OUTLET_ID = 0xffff_ffff;
/** Largest account id (a u32 on the bus; 0 is reserved for "every account" in SetRiskRule). */
export const MAX_ACCOUNT_ID = 0xffff_ffff;

// --- sanctions screening -------------------------------------------------------------------------

/** Default Jaro-Winkler score at or above which a name goes to manual review. */
export const DEFAULT_SANCTIONS_REVIEW_THRESHOLD = 0.9;
/** Entries (names plus aliases) a sanctions list file may hold. */
export const MAX_SANCTIONS_NAMES = 200_000;
/** Size of a sanctions list file read at start. */
export const MAX_SANCTIONS_FILE_BYTES = 32 * 1024 * 1024;
/** Possible matches kept per screening (the best first), shown to the reviewer. */
export const MAX_SCREENING_MATCHES = 5;

// --- queries and outbox --------------------------------------------------------------------------

/** Rows one review-queue, audit-trail or API-key page returns. */
export const MAX_PAGE_ROWS = 200;
/** Outbox events read per forwarding batch. */
export const MAX_OUTBOX_BATCH = 256;
/** How long a forwarder's outbox lease lasts unless renewed. */
export const DEFAULT_OUTBOX_LEASE_MS = 10_000;

// --- database ------------------------------------------------------------------------------------

/**
 * How long SQLite waits for another process's write lock before giving up. better-sqlite3 waits
 * synchronously, so this also bounds how long a gateway's event loop can stall on a busy file;
 * account writes are a few hundred microseconds, so a wait this long means something is wrong.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 2_000;
/** Operations waiting for this process's SQLite connection (it runs one transaction at a time). */
export const MAX_QUEUED_SQLITE_OPERATIONS = 1_024;
/** PostgreSQL connections per process. */
export const POSTGRES_POOL_SIZE = 4;
export const POSTGRES_CONNECT_TIMEOUT_MS = 3_000;
/** Statement timeout on every PostgreSQL connection, so a stuck lock fails a request, not a process. */
export const POSTGRES_STATEMENT_TIMEOUT_MS = 5_000;
