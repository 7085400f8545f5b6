// One HTTP request on the uWS trading or market-data listener, from its headers to its one answer.
//
// uWS rules this class keeps (see the uWebSockets.js examples): onAborted is registered before
// anything can wait; everything needed from HttpRequest is copied in the handler's synchronous
// part (the request object is gone after it returns); body chunks are copied (uWS neuters them);
// every write happens inside res.cork so status, headers and body leave in one syscall; and after
// an abort or an answer the response object is never touched again.

import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { ApiFailure, failureBody, STATUS_LINE, type FailureStatus } from './api-failure';
import { gatewayCounters } from './gateway-counters';
import type { ExecutionReportValue } from './pm-link';
import type { PendingWaiter } from './pending-requests';

const TEXT_DECODER = new TextDecoder();

/** Headers the gateway reads; everything else only counts towards the header size limit. */
export interface CopiedHeaders {
  authorization: string;
  contentType: string;
  contentLength: string;
  origin: string;
  /** Sum of the lengths of every header name and value. */
  headerBytes: number;
}

export function copyHeaders(req: HttpRequest): CopiedHeaders {
  const h: CopiedHeaders = { authorization: '', contentType: '', contentLength: '', origin: '', headerBytes: 0 };
  req.forEach((key, value) => {
    h.headerBytes += key.length + value.length + 4;
    switch (key) {
      case 'authorization':
        h.authorization = value;
        break;
      case 'content-type':
        h.contentType = value;
        break;
      case 'content-length':
        h.contentLength = value;
        break;
      case 'origin':
        h.origin = value;
        break;
      default:
        break;
    }
  });
  return h;
}

/** The client address as text (IPv4 dotted, IPv6 hex; IPv4-mapped IPv6 shown as IPv4). */
export function remoteIp(res: HttpResponse): string {
  const bytes = new Uint8Array(res.getRemoteAddress());
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length === 16) {
    let mapped = true;
    for (let i = 0; i < 10; i++) if (bytes[i] !== 0) mapped = false;
    if (mapped && bytes[10] === 0xff && bytes[11] === 0xff) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  return TEXT_DECODER.decode(res.getRemoteAddressAsText());
}

export type ReplyHandler = (ex: HttpExchange, report: ExecutionReportValue) => void;

export class HttpExchange implements PendingWaiter {
  aborted = false;
  answered = false;
  /** Status of the answer (0 until answered), for logs and tests. */
  status = 0;
  readonly method: string;
  readonly url: string;
  readonly query: string;
  readonly params: string[];
  readonly headers: CopiedHeaders;
  readonly ip: string;
  readonly startedMs: number;
  body: Uint8Array | null = null;
  /** Set by an order handler before the command is written: how the PM's reply is answered. */
  replyHandler: ReplyHandler | null = null;
  /** Per-request data for the reply handler (e.g. the postOnly flag the report does not carry). */
  postOnly: boolean | undefined = undefined;
  private bodyTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly res: HttpResponse,
    req: HttpRequest,
    paramCount: number,
    /** Called once when the client goes away before the answer. */
    private readonly onAbort: (ex: HttpExchange) => void,
  ) {
    // First, before any possible wait: uWS terminates the process if a response that is not
    // answered synchronously has no abort handler.
    res.onAborted(() => {
      this.aborted = true;
      if (!this.answered) gatewayCounters().httpEnded();
      this.clearBodyTimer();
      this.onAbort(this);
    });
    this.method = req.getMethod();
    this.url = req.getUrl();
    this.query = req.getQuery() ?? '';
    this.params = [];
    for (let i = 0; i < paramCount; i++) this.params.push(req.getParameter(i));
    this.headers = copyHeaders(req);
    this.ip = remoteIp(res);
    this.startedMs = Date.now();
    gatewayCounters().httpStarted();
  }

  get open(): boolean {
    return !this.aborted && !this.answered;
  }

  get gone(): boolean {
    return this.aborted;
  }

  /**
   * Reads the body (at most limitBytes, within timeoutMs) and calls `then` once with it, or answers
   * 413 / 408 itself (closing the connection, since the rest of the body is still on the wire).
   */
  readBody(limitBytes: number, timeoutMs: number, then: (ex: HttpExchange) => void): void {
    const declared = this.headers.contentLength === '' ? -1 : Number(this.headers.contentLength);
    if (declared > limitBytes) {
      this.failAndClose(new ApiFailure(413, 'body_too_large', `the body is ${declared} bytes; the limit is ${limitBytes} bytes`));
      return;
    }
    let buffer = new Uint8Array(declared > 0 ? declared : Math.min(limitBytes, 1024));
    let length = 0;
    this.bodyTimer = setTimeout(() => {
      this.bodyTimer = null;
      this.failAndClose(new ApiFailure(408, 'request_timeout', `the body did not arrive within ${timeoutMs} ms; send it at once`));
    }, timeoutMs);
    this.res.onData((chunk, isLast) => {
      if (!this.open) return;
      const bytes = new Uint8Array(chunk);
      if (length + bytes.length > limitBytes) {
        this.clearBodyTimer();
        this.failAndClose(new ApiFailure(413, 'body_too_large', `the body exceeds the limit of ${limitBytes} bytes`));
        return;
      }
      if (length + bytes.length > buffer.length) {
        const bigger = new Uint8Array(Math.min(limitBytes, Math.max(buffer.length * 2, length + bytes.length)));
        bigger.set(buffer.subarray(0, length));
        buffer = bigger;
      }
      buffer.set(bytes, length); // a copy: uWS neuters `chunk` when this callback returns
      length += bytes.length;
      if (isLast) {
        this.clearBodyTimer();
        this.body = buffer.subarray(0, length);
        then(this);
      }
    });
  }

  /** Answers with a JSON body (already serialised). */
  reply(status: number, json: string, extraHeaders?: readonly (readonly [string, string])[]): void {
    if (!this.open) return;
    this.answered = true;
    this.status = status;
    gatewayCounters().httpEnded();
    const res = this.res;
    res.cork(() => {
      res.writeStatus(STATUS_LINE[status] ?? `${status} Status`);
      res.writeHeader('content-type', 'application/json');
      res.writeHeader('cache-control', 'no-store');
      res.writeHeader('x-content-type-options', 'nosniff');
      if (extraHeaders !== undefined) for (const [k, v] of extraHeaders) res.writeHeader(k, v);
      res.end(json);
    });
  }

  fail(f: ApiFailure): void {
    this.answerFailure(f, false);
  }

  /** Answers and closes the connection (413/408: the unread rest of the body is still coming). */
  failAndClose(f: ApiFailure): void {
    this.answerFailure(f, true);
  }

  onReply(report: ExecutionReportValue): void {
    if (this.replyHandler !== null) this.replyHandler(this, report);
  }

  onTimeout(): void {
    this.fail(PM_TIMEOUT);
  }

  private answerFailure(f: ApiFailure, close: boolean): void {
    if (!this.open) return;
    this.answered = true;
    this.status = f.status;
    const counters = gatewayCounters();
    counters.httpEnded();
    counters.rejected(f.code);
    this.clearBodyTimer();
    const res = this.res;
    const body = failureBody(f);
    res.cork(() => {
      res.writeStatus(STATUS_LINE[f.status] ?? `${f.status as FailureStatus} Error`);
      res.writeHeader('content-type', 'application/json');
      res.writeHeader('cache-control', 'no-store');
      res.writeHeader('x-content-type-options', 'nosniff');
      if (f.retryAfterS !== undefined) res.writeHeader('retry-after', String(f.retryAfterS));
      res.end(body, close);
    });
  }

  private clearBodyTimer(): void {
    if (this.bodyTimer !== null) {
      clearTimeout(this.bodyTimer);
      this.bodyTimer = null;
    }
  }
}

export const PM_TIMEOUT = new ApiFailure(
  503,
  'engine_unavailable',
  'the exchange did not answer in time (it may be failing over); the order may or may not have been placed — retry with the same clientOrderId (safe) or check GET /v1/transact?status=open',
  1,
);
