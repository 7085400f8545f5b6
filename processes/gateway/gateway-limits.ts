// Every bound of the gateway, named once. main.ts lets an operator override most of them (see
// gateway-config.ts); tests shrink a few (timeouts, rates) to stay fast. A bound without a name is
// a bound nobody can find when it bites.

/** Requests waiting for the product manager at once; beyond it new requests get 503. */
export const DEFAULT_MAX_IN_FLIGHT = 4096;
/** Hard ceiling for --max-in-flight: requestId keeps the slot in its low bits (see pending-requests.ts). */
export const MAX_IN_FLIGHT_LIMIT = 1 << 16;
/** A request the product manager has not answered within this bound gets 503 (never hangs). */
export const DEFAULT_REPLY_TIMEOUT_MS = 3_000;

/** Largest request body accepted; larger gets 413 before the body is read (Content-Length) or while it streams. */
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024;
/** Sum of header names and values accepted; more gets 413. uWS resets far larger header blocks itself. */
export const DEFAULT_HEADER_LIMIT_BYTES = 8 * 1024;
/** A body that has not fully arrived this long after its headers: 408 and the connection is closed. */
export const DEFAULT_BODY_TIMEOUT_MS = 5_000;

/** Orders (place, update, remove) per second per account, with a burst of the same size. */
export const DEFAULT_ORDERS_PER_SECOND = 200;
/** Requests (REST calls, WS upgrades) per second per client IP, with a burst of the same size. */
export const DEFAULT_IP_REQUESTS_PER_SECOND = 2_000;
/** Open WebSocket connections per client IP. */
export const DEFAULT_IP_WS_CONNECTIONS = 64;
/** Failed logins per IP per window, and per username per window (rate-limiter-flexible). */
export const DEFAULT_LOGIN_FAILURES_PER_IP = 20;
export const DEFAULT_LOGIN_FAILURES_PER_USERNAME = 5;
export const DEFAULT_LOGIN_WINDOW_S = 15 * 60;
/** Login and apply attempts (successful or not) per IP per minute: password hashing is expensive. */
export const DEFAULT_CREDENTIAL_CALLS_PER_IP_PER_MINUTE = 60;

/** Distinct keys (accounts, IPs) each token-bucket table tracks; the least recently refilled is reused. */
export const RATE_LIMIT_TABLE_ENTRIES = 1 << 16;

/** Bytes a WebSocket may have buffered before uWS drops a send; we close such a client. */
export const DEFAULT_WS_MAX_BACKPRESSURE_BYTES = 256 * 1024;
/** Largest WebSocket message accepted; uWS closes the connection beyond it. */
export const WS_MAX_PAYLOAD_BYTES = 16 * 1024;
/** Seconds without traffic before a WebSocket is closed (uWS pings automatically before that). */
export const DEFAULT_WS_IDLE_TIMEOUT_S = 60;
/** WebSocket connections per account (kiosk tabs, bots). */
export const MAX_STREAMS_PER_ACCOUNT = 16;
/** Total WebSocket connections per gateway process. */
export const MAX_STREAMS = 20_000;

/** Orders this gateway remembers for GET and routing (see order-view.ts). */
export const MAX_TRACKED_ORDERS = 1 << 18;
/** Open orders listed by GET /v1/transact?status=open at most. */
export const MAX_LISTED_ORDERS = 1_000;

/** Execution reports handled per poll of the product-manager ring (then the event loop breathes). */
export const REPLY_POLL_BATCH = 256;
/** Poll cadence while requests are in flight and the last reply was recent: every event-loop turn. */
export const BUSY_SPIN_WINDOW_MS = 5;
/** Poll period while requests are in flight but replies are slow (the PM is busy or failing over). */
export const IN_FLIGHT_POLL_MS = 1;
/** Poll period with nothing in flight: the delay before an unsolicited fill reaches its colleague. */
export const DEFAULT_IDLE_POLL_MS = 5;

