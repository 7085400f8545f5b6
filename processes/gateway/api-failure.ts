// The one shape of every error answer: HTTP status, a machine code and a sentence telling the user
// what to do, `{"error":"price_not_on_tick","detail":"price 10.005 is not a multiple of tick 0.01
// for APPL-128"}`. Expected conditions (bad input, no permission, a full queue) are values of this
// type, returned, never thrown; a thrown exception in a handler is a bug and becomes a 500.

export class ApiFailure {
  constructor(
    readonly status: FailureStatus,
    readonly code: string,
    readonly detail: string,
    /** Seconds, sent as Retry-After on 429 and 503 (and in the body as retryAfterSeconds). */
    readonly retryAfterS?: number,
    /** Every field problem found, for forms that mark all wrong fields at once. */
    readonly fields?: readonly FieldProblem[],
  ) {}
}

export interface FieldProblem {
  readonly field: string;
  readonly code: string;
  readonly detail: string;
}

/** The statuses an error answer may carry. 500 is reserved for bugs. */
export type FailureStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 429 | 500 | 503;

export const STATUS_LINE: Readonly<Record<number, string>> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  408: '408 Request Timeout',
  409: '409 Conflict',
  413: '413 Content Too Large',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export function failure(status: FailureStatus, code: string, detail: string, retryAfterS?: number): ApiFailure {
  return new ApiFailure(status, code, detail, retryAfterS);
}

export function failureBody(f: ApiFailure): string {
  return JSON.stringify({ error: f.code, detail: f.detail, retryAfterSeconds: f.retryAfterS, fields: f.fields });
}

// Failures used in more than one place, built once.
export const UNAUTHENTICATED = failure(401, 'unauthenticated', 'send "Authorization: Bearer <credential>": a session token (log in with POST /v1/sessions) or an API key');
export const NOT_FOUND = failure(404, 'not_found', 'no such endpoint; GET /openapi.json lists every endpoint');
export const ORDER_NOT_FOUND = failure(404, 'unknown_order', 'no order with this id belongs to your account');
export const INTERNAL = failure(500, 'internal_error', 'the gateway hit a bug and logged it; if you were placing an order, check GET /v1/transact?status=open or retry with the same clientOrderId (safe)');
