// Market-data subscriptions of WebSocket clients: on the private /v1/stream (beside order entry)
// and on the public listener's /v1/market-data/stream (no credential; per-IP limits).
//
// Client -> server (JSON text frames):
//   {"type":"subscribe","requestId":"r1","channel":"book:APPL-128"}       also trades:SYMBOL,
//   {"type":"unsubscribe","requestId":"r2","channel":"book:APPL-128"}      candles:SYMBOL:SECONDS
//   {"type":"resync","requestId":"r3","channel":"book:APPL-128"}          (60, 300, 3600, 604800, 2592000)
// Server -> client:
//   {"type":"subscribed"|"unsubscribed","requestId":"r1","channel":"book:APPL-128"}
//   {"type":"book","channel":"book:S","snapshot":true,"sequence":n,"time":ms,"bids":[["10.05",40],…],"asks":[…]}
//   {"type":"book","channel":"book:S","sequence":n,"time":ms,"side":"bid"|"ask","price":"10.05","size":40,"orders":2}
//        size 0 removes the level. Deltas carry the book's sequence, consecutive from the snapshot's;
//        a client that sees a gap sends "resync" (or resubscribes) and gets a fresh snapshot. A
//        snapshot is also pushed whenever the gateway itself had to resynchronise.
//   {"type":"trade","channel":"trades:S","id":"42","price":"10.05","size":5,"takerSide":"inflow"|"outflow","time":ms}
//        (the last trades kept are sent right after "subscribed")
//   {"type":"candle","channel":"candles:S:60","closed":false,"time":ms,"open":"10.00","high":…,"low":…,"close":…,"volume":n,"trades":n}
//   {"type":"error","requestId":"r1"|null,"status":400,"error":code,"detail":text}
// Prices are decimal strings, as everywhere in the API; times are epoch milliseconds.
//
// Fan-out: each message goes to a topic's subscribers in a fresh random order (FanoutOrder,
// seeded per gateway, one permutation per message), so no subscriber is always served first. A
// subscriber whose buffered output exceeds the backpressure bound, or whose send uWS drops, is
// closed with 1013 instead of buffered: memory per connection is bounded by maxBackpressure.

import * as uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import { Side } from '../../bus/enums';
import { LIVE_RESOLUTIONS_S } from '../market-data/candle-resolution';
import type { CandleRecord } from '../market-data/candle-rollup';
import { FanoutOrder } from '../market-data/fanout-order';
import { ApiFailure, failure, failureBody, STATUS_LINE } from './api-failure';
import { formatDecimalPrice } from './decimal-price';
import type { GatewayServices } from './gateway-services';
import { copyHeaders, remoteIp } from './http-exchange';
import { sideName, type FeedListener, type MarketDataFeed } from './market-data-feed';
import { parseJsonBody } from './schema-validation';

/** Subscribers of one channel on this gateway; more are refused. */
export const MAX_SUBSCRIBERS_PER_CHANNEL = 16_384;
/** Channels one connection may subscribe to. */
export const MAX_CHANNELS_PER_CONNECTION = 64;
/** Public market-data connections this gateway holds at once. */
export const MAX_PUBLIC_STREAMS = 10_000;
/** Trades sent to a new trades: subscriber. */
export const RECENT_TRADES_ON_SUBSCRIBE = 50;
const MAX_MESSAGE_BYTES = 1_024;
const CLOSE_SLOW_CONSUMER = 1013;
const SEND_DROPPED = 2;

type AnySocket = WebSocket<unknown>;

interface PublicUserData {
  readonly ip: string;
}

const CHANNEL_RE = /^(book|trades|candles):([A-Za-z0-9][A-Za-z0-9.-]{0,15})(?::([0-9]{1,8}))?$/;

export class MarketDataSubscriptions implements FeedListener {
  /** Subscribers per channel; arrays are replaced, never mutated, so a fan-out can close sockets safely. */
  private readonly channels = new Map<string, AnySocket[]>();
  private readonly channelsOf = new WeakMap<AnySocket, Set<string>>();
  private readonly closed = new WeakSet<AnySocket>();
  private readonly fanout = new FanoutOrder(MAX_SUBSCRIBERS_PER_CHANNEL, Date.now() & 0x7fffffff);
  private messageSeq = 0;
  publicStreams = 0;
  sent = 0;
  slowClosed = 0;

  constructor(
    private readonly s: GatewayServices,
    private readonly feed: MarketDataFeed,
    private readonly maxBackpressureBytes: number,
  ) {
    feed.listener = this;
  }

  /** Subscribers over all channels. */
  get subscriptions(): number {
    let n = 0;
    for (const subs of this.channels.values()) n += subs.length;
    return n;
  }

  /** True for the message types this module handles (so /v1/stream can hand them over). */
  static handles(parsed: unknown): boolean {
    if (typeof parsed !== 'object' || parsed === null) return false;
    const type = (parsed as { type?: unknown }).type;
    return type === 'subscribe' || type === 'unsubscribe' || type === 'resync';
  }

  /** Handles one client message (already JSON-parsed). */
  handleMessage(ws: AnySocket, parsed: unknown): void {
    const m = parsed as { type?: unknown; requestId?: unknown; channel?: unknown };
    const requestId = typeof m.requestId === 'string' ? m.requestId.slice(0, 64) : null;
    for (const key of Object.keys(m)) {
      if (key !== 'type' && key !== 'requestId' && key !== 'channel') return this.error(ws, requestId, failure(400, 'unknown_field', `field '${key.slice(0, 40)}' is not accepted; send type, requestId and channel`));
    }
    if (typeof m.channel !== 'string') return this.error(ws, requestId, failure(400, 'missing_field', 'channel is required: book:SYMBOL, trades:SYMBOL or candles:SYMBOL:SECONDS'));
    const parsedChannel = this.parseChannel(m.channel);
    if (typeof parsedChannel !== 'string') return this.error(ws, requestId, parsedChannel);
    const channel = parsedChannel;
    if (m.type === 'subscribe') {
      let mine = this.channelsOf.get(ws);
      if (mine === undefined) {
        mine = new Set();
        this.channelsOf.set(ws, mine);
      }
      if (!mine.has(channel)) {
        if (mine.size >= MAX_CHANNELS_PER_CONNECTION) return this.error(ws, requestId, failure(429, 'too_many_channels', `a connection may subscribe to at most ${MAX_CHANNELS_PER_CONNECTION} channels`));
        const subs = this.channels.get(channel) ?? [];
        if (subs.length >= MAX_SUBSCRIBERS_PER_CHANNEL) return this.error(ws, requestId, failure(503, 'channel_full', `channel ${channel} has ${MAX_SUBSCRIBERS_PER_CHANNEL} subscribers on this gateway; try another gateway`));
        mine.add(channel);
        this.channels.set(channel, [...subs, ws]);
      }
      this.send(ws, JSON.stringify({ type: 'subscribed', requestId, channel }));
      this.sendInitial(ws, channel);
      return;
    }
    if (m.type === 'unsubscribe') {
      this.unsubscribe(ws, channel);
      this.send(ws, JSON.stringify({ type: 'unsubscribed', requestId, channel }));
      return;
    }
    // resync
    if (!channel.startsWith('book:')) return this.error(ws, requestId, failure(400, 'invalid_channel', 'resync applies to book: channels'));
    if (this.channelsOf.get(ws)?.has(channel) !== true) return this.error(ws, requestId, failure(400, 'not_subscribed', `subscribe to ${channel} first`));
    this.sendInitial(ws, channel);
  }

  /** Forgets every subscription of a closed connection. */
  removeAll(ws: AnySocket): void {
    this.closed.add(ws);
    const mine = this.channelsOf.get(ws);
    if (mine === undefined) return;
    for (const channel of mine) this.dropFromChannel(ws, channel);
    this.channelsOf.delete(ws);
  }

  // --- FeedListener ----------------------------------------------------------------------------

  onBookDelta(productId: number, sequence: number, side: number, price: number, quantity: number, orderCount: number, timestampUs: number): void {
    const product = this.s.catalog.byProductId(productId);
    if (product === undefined) return;
    const channel = `book:${product.symbol}`;
    const subs = this.channels.get(channel);
    if (subs === undefined || subs.length === 0) return;
    this.fanOut(subs, JSON.stringify({ type: 'book', channel, sequence, time: Math.floor(timestampUs / 1000), side: sideName(side), price: this.price(price), size: quantity, orders: orderCount }));
  }

  onBookSynced(productId: number): void {
    const product = this.s.catalog.byProductId(productId);
    if (product === undefined) return;
    const channel = `book:${product.symbol}`;
    const subs = this.channels.get(channel);
    if (subs === undefined || subs.length === 0) return;
    const text = this.snapshotText(productId, channel);
    if (text !== null) this.fanOut(subs, text);
  }

  onTrade(productId: number, execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): void {
    const product = this.s.catalog.byProductId(productId);
    if (product === undefined) return;
    const channel = `trades:${product.symbol}`;
    const subs = this.channels.get(channel);
    if (subs === undefined || subs.length === 0) return;
    this.fanOut(subs, this.tradeText(channel, execId, price, quantity, takerSide, timestampUs));
  }

  onCandle(productId: number, resolutionS: number, closed: boolean, candle: CandleRecord): void {
    const product = this.s.catalog.byProductId(productId);
    if (product === undefined) return;
    const channel = `candles:${product.symbol}:${resolutionS}`;
    const subs = this.channels.get(channel);
    if (subs === undefined || subs.length === 0) return;
    this.fanOut(subs, this.candleText(channel, closed, candle));
  }

  // --- public listener ---------------------------------------------------------------------------

  /** The public /v1/market-data/stream: no credential, per-IP request and connection limits. */
  publicBehavior(): WebSocketBehavior<PublicUserData> {
    const s = this.s;
    const refuse = (res: HttpResponse, f: ApiFailure): void => {
      res.cork(() => {
        res.writeStatus(STATUS_LINE[f.status] ?? `${f.status} Error`).writeHeader('content-type', 'application/json');
        if (f.retryAfterS !== undefined) res.writeHeader('retry-after', String(f.retryAfterS));
        res.end(failureBody(f));
      });
    };
    return {
      compression: uWS.DISABLED,
      maxPayloadLength: MAX_MESSAGE_BYTES,
      maxBackpressure: this.maxBackpressureBytes,
      closeOnBackpressureLimit: 1,
      idleTimeout: s.config.wsIdleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
        const headers = copyHeaders(req);
        const key = req.getHeader('sec-websocket-key');
        const protocols = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const ip = remoteIp(res);
        if (headers.headerBytes > s.config.headerLimitBytes) return refuse(res, failure(413, 'headers_too_large', `the upgrade headers take ${headers.headerBytes} bytes; the limit is ${s.config.headerLimitBytes}`));
        const limited = s.gatekeeper.ipRequest(ip, Date.now());
        if (limited !== null) return refuse(res, limited);
        if (this.publicStreams >= MAX_PUBLIC_STREAMS) return refuse(res, failure(503, 'overloaded', `this gateway holds ${MAX_PUBLIC_STREAMS} market-data streams; try again later`, 5));
        const tooMany = s.gatekeeper.openStream(ip);
        if (tooMany !== null) return refuse(res, tooMany);
        this.publicStreams++;
        res.upgrade<PublicUserData>({ ip }, key, protocols === '' ? '' : (protocols.split(',')[0] ?? '').trim(), extensions, context);
      },
      message: (ws: WebSocket<PublicUserData>, message: ArrayBuffer, isBinary: boolean): void => {
        const sock = ws as unknown as AnySocket;
        if (isBinary) return this.error(sock, null, failure(400, 'binary_not_supported', 'send JSON text frames'));
        const limited = s.gatekeeper.ipRequest(ws.getUserData().ip, Date.now());
        if (limited !== null) return this.error(sock, null, limited);
        const parsed = parseJsonBody(new Uint8Array(message));
        if (parsed instanceof ApiFailure) return this.error(sock, null, parsed);
        if (!MarketDataSubscriptions.handles(parsed)) return this.error(sock, null, failure(400, 'invalid_type', 'type must be subscribe, unsubscribe or resync'));
        this.handleMessage(sock, parsed);
      },
      close: (ws: WebSocket<PublicUserData>): void => {
        this.publicStreams--;
        this.removeAll(ws as unknown as AnySocket);
        s.gatekeeper.closeStream(ws.getUserData().ip);
      },
    };
  }

  // --- internals ---------------------------------------------------------------------------------

  private parseChannel(text: string): string | ApiFailure {
    const m = CHANNEL_RE.exec(text);
    if (m === null) return failure(400, 'invalid_channel', 'channel must be book:SYMBOL, trades:SYMBOL or candles:SYMBOL:SECONDS');
    const [, kind, rawSymbol, resolution] = m;
    const product = this.s.catalog.bySymbolAnyCase(rawSymbol!);
    if (product === undefined) return failure(400, 'unknown_symbol', `no listed product has the symbol ${rawSymbol}; GET /v1/products lists them`);
    if (kind === 'candles') {
      const r = Number(resolution);
      if (resolution === undefined || !LIVE_RESOLUTIONS_S.includes(r)) return failure(400, 'invalid_resolution', `live candles are streamed at ${LIVE_RESOLUTIONS_S.join(', ')} seconds; other resolutions: GET /marketdata/snapshot`);
      return `candles:${product.symbol}:${r}`;
    }
    if (resolution !== undefined) return failure(400, 'invalid_channel', `${kind}: channels take no resolution`);
    return `${kind}:${product.symbol}`;
  }

  private unsubscribe(ws: AnySocket, channel: string): void {
    const mine = this.channelsOf.get(ws);
    if (mine === undefined || !mine.delete(channel)) return;
    this.dropFromChannel(ws, channel);
  }

  private dropFromChannel(ws: AnySocket, channel: string): void {
    const subs = this.channels.get(channel);
    if (subs === undefined) return;
    const rest = subs.filter((x) => x !== ws);
    if (rest.length === 0) this.channels.delete(channel);
    else this.channels.set(channel, rest);
  }

  private sendInitial(ws: AnySocket, channel: string): void {
    const [kind, symbol, resolution] = channel.split(':');
    const product = this.s.catalog.bySymbolAnyCase(symbol!)!;
    if (kind === 'book') {
      // Not in sync yet: the snapshot follows as soon as the mirror is (onBookSynced).
      const text = this.snapshotText(product.productId, channel);
      if (text !== null) this.send(ws, text);
    } else if (kind === 'trades') {
      for (const t of this.feed.tapes.get(product.productId)?.recent(RECENT_TRADES_ON_SUBSCRIBE) ?? []) {
        this.send(ws, this.tradeText(channel, t.execId, t.price, t.quantity, t.takerSide, t.timestampUs));
      }
    } else {
      const open = this.feed.openCandles.get(`${product.productId}:${resolution}`);
      if (open !== undefined) this.send(ws, this.candleText(channel, false, open));
    }
  }

  private snapshotText(productId: number, channel: string): string | null {
    const snap = this.feed.snapshotOf(productId);
    if (snap === undefined) return null;
    return JSON.stringify({
      type: 'book',
      channel,
      snapshot: true,
      sequence: snap.sequence,
      time: Math.floor(snap.timeUs / 1000),
      bids: snap.bids.map(([p, q]) => [this.price(p), q]),
      asks: snap.asks.map(([p, q]) => [this.price(p), q]),
    });
  }

  private tradeText(channel: string, execId: number, price: number, quantity: number, takerSide: number, timestampUs: number): string {
    return JSON.stringify({ type: 'trade', channel, id: String(execId), price: this.price(price), size: quantity, takerSide: takerSide === Side.INFLOW ? 'inflow' : 'outflow', time: Math.floor(timestampUs / 1000) });
  }

  private candleText(channel: string, closed: boolean, c: CandleRecord): string {
    return JSON.stringify({ type: 'candle', channel, closed, time: Math.floor(c.bucketStartUs / 1000), open: this.price(c.open), high: this.price(c.high), low: this.price(c.low), close: this.price(c.close), volume: c.volume, trades: c.trades });
  }

  private price(minorUnits: number): string {
    return formatDecimalPrice(minorUnits, this.s.catalog.priceDecimals);
  }

  private fanOut(subs: readonly AnySocket[], text: string): void {
    const order = this.fanout.shuffle(subs.length, this.messageSeq++);
    for (let i = 0; i < subs.length; i++) this.send(subs[order[i]!]!, text);
  }

  private error(ws: AnySocket, requestId: string | null, f: ApiFailure): void {
    this.send(ws, JSON.stringify({ type: 'error', requestId, status: f.status, error: f.code, detail: f.detail, retryAfterSeconds: f.retryAfterS }));
  }

  private send(ws: AnySocket, text: string): boolean {
    if (this.closed.has(ws)) return false;
    if (ws.getBufferedAmount() > this.maxBackpressureBytes) {
      this.closeSlow(ws);
      return false;
    }
    let result = 0;
    ws.cork(() => {
      result = ws.send(text, false, false);
    });
    if (result === SEND_DROPPED) {
      this.closeSlow(ws);
      return false;
    }
    this.sent++;
    return true;
  }

  private closeSlow(ws: AnySocket): void {
    this.slowClosed++;
    this.removeAll(ws);
    ws.end(CLOSE_SLOW_CONSUMER, 'cannot keep up with the market-data feed; reconnect, subscribe again and start from the snapshot');
  }
}
