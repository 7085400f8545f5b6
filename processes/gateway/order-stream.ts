// WebSocket /v1/stream: one authenticated connection per kiosk or program, carrying order entry
// (the same order bodies as REST, answered with the same bodies and correlated by the client's
// requestId) and pushing the account's execution reports the moment they arrive.
//
// Authentication happens at the upgrade, before the socket exists: "Authorization: Bearer <cred>"
// (programs) or the subprotocols "ims.v1, ims-token.<cred>" (browsers cannot set headers; the
// server answers with "ims.v1", never echoing the credential). Query strings and cookies are not
// accepted: URLs end up in logs, and a cookie would need CSRF protection (the portal issue).
//
// Client -> server (text frames, JSON):
//   {"type":"place","requestId":"c1","order":{...POST /v1/transact body...}}
//   {"type":"update","requestId":"c2","id":"42","changes":{"price":"10.10"}}
//   {"type":"remove","requestId":"c3","id":"42"}
//   {"type":"ping","requestId":"c4"}
//   {"type":"wallet","requestId":"c5"[,"accountId":"7" (staff)]}     (GET /v1/wallet's rules)
//   {"type":"orders","requestId":"c6"[,"status":"open"|"all"]}       (GET /v1/transact's rules)
// Server -> client:
//   {"type":"result","requestId":"c1","status":200,"order":{...}}
//   {"type":"error","requestId":"c1"|null,"status":4xx|503,"error":code,"detail":text[,"retryAfterSeconds":n]}
//   {"type":"execution","eventSeq":n,"execId":"...","eventTime":ms,"order":{...}}   (unsolicited)
//   {"type":"pong","requestId":"c4"}
//   {"type":"wallet","requestId":"c5","wallet":{...GET /v1/wallet body...}}
//   {"type":"orders","requestId":"c6","orders":[...],"truncated":false}   (from the product manager)
//
// Backpressure: see stream-registry.ts (maxBackpressure, closed when the client cannot keep up).

import * as uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocketBehavior } from 'uWebSockets.js';
import type { Principal } from '../accounts/principal';
import { ApiFailure, failure, STATUS_LINE, failureBody, UNAUTHENTICATED } from './api-failure';
import { StreamEnvelope, StreamOrders, StreamPlace, StreamRemove, StreamUpdate, StreamWallet } from './api-schemas';
import { bearerOf, credentialFromProtocols, WS_PROTOCOL } from './authentication';
import { WS_MAX_PAYLOAD_BYTES } from './gateway-limits';
import { gatewayCounters } from './gateway-counters';
import type { GatewayServices } from './gateway-services';
import { copyHeaders, remoteIp } from './http-exchange';
import { replyOutcome, submitAmend, submitPlace, submitRemove } from './order-entry';
import type { PendingWaiter } from './pending-requests';
import type { ExecutionReportValue } from './pm-link';
import { parseJsonBody, Validator } from './schema-validation';
import { CLOSE_POLICY, type Stream, type StreamUserData } from './stream-registry';
import { MarketDataSubscriptions } from './market-data-subscriptions';
import { submitWalletQuery, walletAccountOf, WalletRequest } from './wallet-routes';
import { submitOrderList } from './order-reads';
import type { ReadSink } from './read-requests';

const envelope = new Validator(StreamEnvelope, 'message');
const placeMessage = new Validator(StreamPlace, 'place message');
const updateMessage = new Validator(StreamUpdate, 'update message');
const removeMessage = new Validator(StreamRemove, 'remove message');
const walletMessage = new Validator(StreamWallet, 'wallet message');
const ordersMessage = new Validator(StreamOrders, 'orders message');
const BINARY = failure(400, 'binary_not_supported', 'send JSON text frames');

function errorJson(requestId: string | null, f: ApiFailure): string {
  gatewayCounters().rejected(f.code);
  return JSON.stringify({ type: 'error', requestId, status: f.status, error: f.code, detail: f.detail, retryAfterSeconds: f.retryAfterS, fields: f.fields });
}

function answerError(s: GatewayServices, stats: StreamStats, ws: Stream, requestId: string | null, f: ApiFailure): void {
  stats.invalidMessages++;
  s.streams.send(ws, errorJson(requestId, f));
}

/** One order request made over a stream, waiting for the product manager's reply. */
class StreamRequest implements PendingWaiter {
  postOnly: boolean | undefined = undefined;
  constructor(
    private readonly s: GatewayServices,
    private readonly ws: Stream,
    private readonly requestId: string,
  ) {}

  get gone(): boolean {
    return this.ws.getUserData().closed;
  }

  onReply(report: ExecutionReportValue): void {
    if (this.gone) return;
    const out = replyOutcome(this.s, report, this.postOnly);
    const text = out instanceof ApiFailure ? errorJson(this.requestId, out) : JSON.stringify({ type: 'result', requestId: this.requestId, status: 200, order: out });
    this.s.streams.send(this.ws, text);
  }

  onTimeout(): void {
    if (this.ws.getUserData().closed) return;
    this.s.streams.send(this.ws, errorJson(this.requestId, TIMEOUT));
  }
}

/**
 * Where a read made over a stream answers: {"type":type,"requestId":…,[field]: value}, or with
 * `field` null the value's own fields beside type and requestId.
 */
class StreamReadSink implements ReadSink {
  constructor(
    private readonly s: GatewayServices,
    private readonly ws: Stream,
    private readonly requestId: string,
    private readonly type: string,
    private readonly field: string | null,
  ) {}

  get gone(): boolean {
    return this.ws.getUserData().closed;
  }

  answer(value: object): void {
    if (this.gone) return;
    const body = this.field === null ? { type: this.type, requestId: this.requestId, ...value } : { type: this.type, requestId: this.requestId, [this.field]: value };
    this.s.streams.send(this.ws, JSON.stringify(body));
  }

  deny(f: ApiFailure): void {
    if (!this.gone) this.s.streams.send(this.ws, errorJson(this.requestId, f));
  }
}

const TIMEOUT = failure(503, 'engine_unavailable', 'the exchange did not answer in time (it may be failing over); retry with the same clientOrderId (safe)', 1);

export interface StreamStats {
  upgrades: number;
  refused: number;
  messages: number;
  invalidMessages: number;
}

/** `marketData`: when market data is served, subscribe/unsubscribe/resync messages go there. */
export function streamBehavior(s: GatewayServices, stats: StreamStats, marketData: MarketDataSubscriptions | null = null): WebSocketBehavior<StreamUserData> {
  const refuse = (res: HttpResponse, f: ApiFailure): void => {
    stats.refused++;
    res.cork(() => {
      res.writeStatus(STATUS_LINE[f.status] ?? `${f.status} Error`).writeHeader('content-type', 'application/json');
      if (f.retryAfterS !== undefined) res.writeHeader('retry-after', String(f.retryAfterS));
      res.end(failureBody(f));
    });
  };

  return {
    compression: uWS.DISABLED,
    maxPayloadLength: WS_MAX_PAYLOAD_BYTES,
    maxBackpressure: s.config.wsMaxBackpressureBytes,
    closeOnBackpressureLimit: 1,
    idleTimeout: s.config.wsIdleTimeoutS,
    sendPingsAutomatically: true,

    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const headers = copyHeaders(req);
      const key = req.getHeader('sec-websocket-key');
      const protocols = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const ip = remoteIp(res);
      const nowMs = Date.now();
      stats.upgrades++;
      if (headers.headerBytes > s.config.headerLimitBytes) return refuse(res, failure(413, 'headers_too_large', `the upgrade headers take ${headers.headerBytes} bytes; the limit is ${s.config.headerLimitBytes}`));
      const limited = s.gatekeeper.ipRequest(ip, nowMs);
      if (limited !== null) return refuse(res, limited);
      const offered = credentialFromProtocols(protocols);
      if (protocols !== '' && !offered.offersProtocol) return refuse(res, failure(400, 'unsupported_subprotocol', `offer the subprotocol "${WS_PROTOCOL}" (and "ims-token.<credential>" from a browser)`));
      let credential = offered.credential;
      if (credential === '') {
        const fromHeader = bearerOf(headers.authorization);
        if (fromHeader === null) return refuse(res, failure(401, 'invalid_token', 'the Authorization header must be "Bearer <session token or API key>"'));
        credential = fromHeader;
      }
      if (credential === '') return refuse(res, UNAUTHENTICATED);
      const tooMany = s.gatekeeper.openStream(ip);
      if (tooMany !== null) return refuse(res, tooMany);
      const finish = (got: Principal | ApiFailure): void => {
        if (aborted) {
          s.gatekeeper.closeStream(ip);
          return;
        }
        if (got instanceof ApiFailure) {
          s.gatekeeper.closeStream(ip);
          return refuse(res, got);
        }
        const userData: StreamUserData = { principal: got, ip, credential, closed: false };
        res.cork(() => res.upgrade(userData, key, offered.offersProtocol ? WS_PROTOCOL : '', extensions, context));
      };
      const got = s.auth.authenticate(credential, nowMs);
      if (got instanceof Promise) {
        got.then(finish, (err: unknown) => {
          s.log.error({ event: 'upgrade-bug', err }, 'authentication threw during a WebSocket upgrade');
          if (!aborted) refuse(res, failure(500, 'internal_error', 'the gateway hit a bug and logged it'));
          s.gatekeeper.closeStream(ip);
        });
      } else {
        finish(got);
      }
    },

    open: (ws: Stream): void => {
      if (!s.streams.add(ws)) {
        ws.end(CLOSE_POLICY, 'too many streams for this account or gateway');
        return;
      }
      s.log.debug({ event: 'stream-open', accountId: ws.getUserData().principal.accountId }, 'stream opened');
    },

    message: (ws: Stream, message: ArrayBuffer, isBinary: boolean): void => {
      stats.messages++;
      const ud = ws.getUserData();
      if (isBinary) return answerError(s, stats, ws, null, BINARY);
      const limited = s.gatekeeper.ipRequest(ud.ip, Date.now());
      if (limited !== null) return answerError(s, stats, ws, null, limited);
      // parseJsonBody decodes (a copy) before this callback returns: uWS neuters `message` after it.
      const parsed = parseJsonBody(new Uint8Array(message));
      if (parsed instanceof ApiFailure) return answerError(s, stats, ws, null, parsed);
      if (marketData !== null && MarketDataSubscriptions.handles(parsed)) return marketData.handleMessage(ws as never, parsed);
      const head = envelope.validate(parsed);
      if (head instanceof ApiFailure) {
        const rid = typeof parsed === 'object' && parsed !== null && typeof (parsed as { requestId?: unknown }).requestId === 'string' ? ((parsed as { requestId: string }).requestId.slice(0, 64)) : null;
        return answerError(s, stats, ws, rid, head);
      }
      const requestId = head.requestId;
      let f: ApiFailure | null = null;
      switch (head.type) {
        case 'ping':
          s.streams.send(ws, JSON.stringify({ type: 'pong', requestId }));
          return;
        case 'place': {
          const m = placeMessage.validate(parsed);
          f = m instanceof ApiFailure ? m : submitPlace(s, ud.principal, m.order, new StreamRequest(s, ws, requestId));
          break;
        }
        case 'update': {
          const m = updateMessage.validate(parsed);
          f = m instanceof ApiFailure ? m : submitAmend(s, ud.principal, m.id, m.changes, new StreamRequest(s, ws, requestId));
          break;
        }
        case 'remove': {
          const m = removeMessage.validate(parsed);
          f = m instanceof ApiFailure ? m : submitRemove(s, ud.principal, m.id, new StreamRequest(s, ws, requestId));
          break;
        }
        case 'wallet': {
          const m = walletMessage.validate(parsed);
          if (m instanceof ApiFailure) {
            f = m;
            break;
          }
          const accountId = walletAccountOf(ud.principal, m.accountId);
          f = accountId instanceof ApiFailure ? accountId : submitWalletQuery(s, accountId, new WalletRequest(new StreamReadSink(s, ws, requestId, 'wallet', 'wallet')));
          break;
        }
        case 'orders': {
          const m = ordersMessage.validate(parsed);
          f = m instanceof ApiFailure ? m : submitOrderList(s, ud.principal.accountId, m.status ?? 'open', new StreamReadSink(s, ws, requestId, 'orders', null));
          break;
        }
      }
      if (f !== null) answerError(s, stats, ws, requestId, f);
    },

    drain: (): void => {
      // Nothing is queued in the gateway: sends went to uWS's buffer (bounded by maxBackpressure).
    },

    close: (ws: Stream): void => {
      const ud = ws.getUserData();
      ud.closed = true;
      marketData?.removeAll(ws as never);
      s.streams.remove(ws);
      s.gatekeeper.closeStream(ud.ip);
    },
  };
}
