// The outcome of every accounts operation a user can get wrong. Expected conditions (a taken
// username, a wrong password, a locked account) are return values with a machine code and a
// human detail that says what to do; exceptions are left for bugs and for a database that is down.
// The gateway turns a code into its HTTP status with httpStatusOf.

export type AccountsErrorCode =
  | 'validation_failed'
  | 'username_taken'
  | 'password_too_weak'
  | 'invalid_credentials'
  | 'account_locked'
  | 'account_pending_review'
  | 'account_rejected'
  | 'account_suspended'
  | 'session_invalid'
  | 'session_expired'
  | 'api_key_invalid'
  | 'forbidden'
  | 'not_found'
  | 'not_pending_review'
  | 'already_suspended'
  | 'not_suspended'
  | 'role_unchanged'
  | 'self_demotion'
  | 'api_key_limit_reached'
  | 'server_busy';

/** One problem with one field of a request body (a JSON path like `document.expiryDate`). */
export interface FieldError {
  readonly field: string;
  readonly code: string;
  readonly detail: string;
}

export interface AccountsError {
  readonly code: AccountsErrorCode;
  readonly detail: string;
  /** For validation_failed (and password_too_weak): every field that is wrong, not just the first. */
  readonly fields?: readonly FieldError[];
  /** For account_locked: when a login may be tried again (epoch ms). */
  readonly unlockAtMs?: number;
  /** For server_busy: how long to wait before retrying. */
  readonly retryAfterMs?: number;
}

export type AccountsResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AccountsError };

export function ok<T>(value: T): AccountsResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: AccountsErrorCode, detail: string, extra: Omit<AccountsError, 'code' | 'detail'> = {}): AccountsResult<T> {
  return { ok: false, error: { code, detail, ...extra } };
}

const HTTP_STATUS: Readonly<Record<AccountsErrorCode, number>> = Object.freeze({
  validation_failed: 400,
  password_too_weak: 400,
  username_taken: 409,
  invalid_credentials: 401,
  // 423 Locked would be exact, but clients and proxies know 429 + Retry-After better; the body says when.
  account_locked: 429,
  account_pending_review: 403,
  account_rejected: 403,
  account_suspended: 403,
  session_invalid: 401,
  session_expired: 401,
  api_key_invalid: 401,
  forbidden: 403,
  not_found: 404,
  not_pending_review: 409,
  already_suspended: 409,
  not_suspended: 409,
  role_unchanged: 409,
  self_demotion: 409,
  api_key_limit_reached: 409,
  server_busy: 503,
});

/** The HTTP status the gateway answers for an accounts error. */
export function httpStatusOf(code: AccountsErrorCode): number {
  return HTTP_STATUS[code];
}
