// A steady order load through the gateways' WebSocket streams, behaving as a careful client does
// when a gateway dies: its clients notice the close, reconnect to another gateway, send again
// every order they have no answer for, with the SAME clientOrderId (the product manager answers a
// repeated id with the original order and creates nothing), and carry on. Orders waiting for a 503
// (the exchange failing over) or a 429 are sent again the same way. The gateway-kill and
// reporter-crash drills run it; what it records (every order, attempt and connection) is what
// their audits check against the journal.
//
//   const load = await WsOrderLoad.start({ endpoints, credentials, clients: 4, ordersPerSecond: 200,
//                                           symbol: 'BOSE-64', price: '249.00', tag: 'gkx1y2z3' });
//   ...  load.stop(); await load.drain(15_000); load.close();
//
// Client i logs in as credentials[i % n] and first connects to endpoints[i % m], so the load is
// spread over every gateway. Times are performance.now() milliseconds of this process, the same
// clock the drills take their kill moments on.

import { performance } from 'node:perf_hooks';
import { DEMO_PEOPLE } from '../accounts/demo-accounts';
import { DrillWebSocket, type WebSocketEnd } from './drill-websocket';
import { connectionOwner, type GatewayEndpoint } from './gateway-endpoints';

export interface LoadCredential {
  readonly username: string;
  readonly password: string;
}

/** The demo profile's colleagues (funded with cash and stock of every demo product). */
export const DEMO_LOAD_CREDENTIALS: readonly LoadCredential[] = DEMO_PEOPLE.filter((p) => p.role === 'colleague').map((p) => ({ username: p.username, password: p.password }));
/** The demo product the load trades by default: the cheapest (BOSE-64, 249.00, tick 0.01). */
export const DEMO_LOAD_SYMBOL = 'BOSE-64';
export const DEMO_LOAD_PRICE = '249.00';

/** The load's clock tick: orders due are created and retries sent every tick. */
const TICK_MS = 10;
/** Orders created per tick at most (a stalled event loop does not turn into one huge burst). */
const MAX_ORDERS_PER_TICK = 200;
/** A client with this many orders unanswered creates no new ones until some are answered. */
export const MAX_UNANSWERED_PER_CLIENT = 2_000;
/** Resend an order whose attempt got no answer this long on a live connection. */
const DEFAULT_RESEND_AFTER_MS = 5_000;
/** Wait after a 503 or 429 before sending again, at least and at most (whatever Retry-After says). */
const MIN_RETRY_WAIT_MS = 100;
const MAX_RETRY_WAIT_MS = 1_000;
/** One connection attempt; a killed gateway refuses at once, a stalled one is given this long. */
const CONNECT_TIMEOUT_MS = 2_000;
/** Pause after a round of failed connection attempts to every endpoint. */
const RECONNECT_PAUSE_MS = 50;
/** Reconnections made to spread the clients over gateways that share one port, at most. */
const MAX_SPREAD_ATTEMPTS = 32;
/** Client order ids are at most 24 characters (the gateway's schema). */
const MAX_CLIENT_ORDER_ID_CHARS = 24;

export interface WsOrderLoadOptions {
  readonly endpoints: readonly GatewayEndpoint[];
  readonly credentials: readonly LoadCredential[];
  readonly clients: number;
  readonly ordersPerSecond: number;
  readonly symbol: string;
  /** Limit price as the API takes it ("249.00"). */
  readonly price: string;
  readonly quantity?: number;
  /** Prefix of every clientOrderId (unique per run: a second run must not collide with the first). */
  readonly tag: string;
  readonly resendAfterMs?: number;
}

interface Attempt {
  readonly requestId: string;
  readonly connection: ConnectionRecord;
  readonly sentAtMs: number;
}

export interface LoadOrder {
  /** `${accountId}/${clientOrderId}`, the journal audit's key. */
  readonly key: string;
  readonly clientOrderId: string;
  readonly client: number;
  readonly side: 'inflow' | 'outflow';
  readonly createdAtMs: number;
  attempts: number;
  inFlight: Attempt | null;
  /** Every order id an answer named (more than one distinct id would be a doubled order). */
  ackOrderIds: number[];
  firstAckAtMs: number | null;
  /** The gateway that gave the first acknowledgement. */
  ackGatewayId: number | null;
  /** A final refusal (error code), e.g. a risk limit: answered, not an order. */
  rejection: string | null;
  /** An attempt was in flight on a connection that died: its answer was lost with the gateway. */
  answerLost: boolean;
  retryAtMs: number;
}

export interface ConnectionRecord {
  readonly client: number;
  /** The gateway serving it (0: unknown, /proc could not tell among gateways sharing a port). */
  readonly gatewayId: number;
  readonly port: number;
  readonly openedAtMs: number;
  closedAtMs: number | null;
  closeCode: number | null;
  firstAckAtMs: number | null;
  acks: number;
}

interface LoadClient {
  readonly index: number;
  readonly accountId: number;
  readonly username: string;
  readonly token: string;
  ws: DrillWebSocket | null;
  connection: ConnectionRecord | null;
  /** Index into the endpoint list of the current (or last) connection. */
  endpointIndex: number;
  connecting: boolean;
  /** Orders to send (new, or again after a lost answer or a 503), oldest first. */
  queue: LoadOrder[];
  readonly inFlight: Map<string, LoadOrder>;
  unanswered: number;
  created: number;
}

/** Logs in over REST and returns the session token and account id. */
export async function loginForLoad(endpoint: GatewayEndpoint, credential: LoadCredential): Promise<{ token: string; accountId: number }> {
  const res = await fetch(`http://${endpoint.host}:${endpoint.port}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: credential.username, password: credential.password }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json().catch(() => null)) as { token?: string; account?: { accountId?: number }; error?: string; detail?: string } | null;
  if (res.status !== 201 || typeof body?.token !== 'string' || typeof body.account?.accountId !== 'number') {
    throw new Error(`login as ${credential.username} at gateway ${endpoint.gatewayId} (port ${endpoint.port}) answered ${res.status} ${body?.error ?? ''} ${body?.detail ?? ''}: give working --user name:password credentials (the demo colleagues exist only in the demo profile)`);
  }
  return { token: body.token, accountId: body.account.accountId };
}

export class WsOrderLoad {
  readonly orders: LoadOrder[] = [];
  readonly connections: ConnectionRecord[] = [];
  readonly clients: LoadClient[] = [];
  /** Orders not created because their client had MAX_UNANSWERED_PER_CLIENT waiting. */
  throttled = 0;
  /** Answers to an attempt that had been given up on and sent again (they still count). */
  lateAnswers = 0;
  /** Answers naming a request id this load never sent. */
  unknownAnswers = 0;
  /** Messages whose JSON could not be read. */
  unreadable = 0;
  private endpoints: GatewayEndpoint[];
  private timer: NodeJS.Timeout | null = null;
  private creating = true;
  private closed = false;
  private startedAtMs = 0;
  private due = 0;
  private requestSeq = 0;
  private readonly resendAfterMs: number;
  /** Every attempt's request id → its order (bounded by the orders made: rate × duration). */
  private readonly requests = new Map<string, LoadOrder>();

  private constructor(private readonly o: WsOrderLoadOptions) {
    this.endpoints = [...o.endpoints];
    this.resendAfterMs = o.resendAfterMs ?? DEFAULT_RESEND_AFTER_MS;
  }

  /** Logs every client in, connects them (spread over the endpoints) and starts the load. */
  static async start(o: WsOrderLoadOptions): Promise<WsOrderLoad> {
    if (o.endpoints.length === 0) throw new Error('no gateway serves: start the instance (ims start) and wait until its gateways are ready');
    if (o.credentials.length === 0) throw new Error('the load needs at least one login (--user name:password)');
    if (!(o.clients >= 1) || !(o.ordersPerSecond > 0)) throw new Error('the load needs at least one client and a positive rate');
    if (`${o.tag}-${o.clients - 1}-999999`.length > MAX_CLIENT_ORDER_ID_CHARS) throw new Error(`the clientOrderId tag '${o.tag}' is too long for ${MAX_CLIENT_ORDER_ID_CHARS}-character ids`);
    const load = new WsOrderLoad(o);
    const sessions = new Map<string, { token: string; accountId: number }>();
    for (const c of o.credentials) sessions.set(c.username, await loginForLoad(o.endpoints[0]!, c));
    for (let i = 0; i < o.clients; i++) {
      const credential = o.credentials[i % o.credentials.length]!;
      const session = sessions.get(credential.username)!;
      load.clients.push({ index: i, accountId: session.accountId, username: credential.username, token: session.token, ws: null, connection: null, endpointIndex: i % o.endpoints.length, connecting: false, queue: [], inFlight: new Map(), unanswered: 0, created: 0 });
    }
    await Promise.all(load.clients.map((c) => load.connect(c, c.endpointIndex, false)));
    const missing = load.clients.filter((c) => c.ws === null);
    if (missing.length > 0) {
      load.close();
      throw new Error(`${missing.length} of ${o.clients} clients could not open a stream (first: ${missing[0]!.username} at port ${o.endpoints[missing[0]!.endpointIndex]!.port})`);
    }
    await load.spread();
    load.startedAtMs = performance.now();
    load.timer = setInterval(() => load.tick(), TICK_MS);
    return load;
  }

  /** Replaces the endpoints clients reconnect to (a restarted gateway may have a new port). */
  setEndpoints(endpoints: readonly GatewayEndpoint[]): void {
    if (endpoints.length > 0) this.endpoints = [...endpoints];
  }

  /**
   * One more client, with the first client's login, connected to gateway `endpoint` (e.g. a
   * restarted one; where gateways share its port, connections are made until one reaches it); it
   * takes its share of the orders from now on. Throws when it cannot connect there.
   */
  async addClient(endpoint: GatewayEndpoint): Promise<number> {
    const model = this.clients[0]!;
    const c: LoadClient = { index: this.clients.length, accountId: model.accountId, username: model.username, token: model.token, ws: null, connection: null, endpointIndex: 0, connecting: false, queue: [], inFlight: new Map(), unanswered: 0, created: 0 };
    const index = Math.max(0, this.endpoints.findIndex((e) => e.gatewayId === endpoint.gatewayId));
    for (let attempt = 0; attempt < MAX_SPREAD_ATTEMPTS; attempt++) {
      const ws = await DrillWebSocket.connect({ host: endpoint.host, port: endpoint.port, token: c.token, timeoutMs: CONNECT_TIMEOUT_MS });
      if (this.gatewayOf(endpoint, ws) !== endpoint.gatewayId) {
        ws.destroy();
        continue;
      }
      this.clients.push(c);
      if (this.closed) {
        ws.destroy();
        return c.index;
      }
      this.attach(c, ws, endpoint, index);
      return c.index;
    }
    throw new Error(`${MAX_SPREAD_ATTEMPTS} connections to port ${endpoint.port} all reached another gateway than ${endpoint.gatewayId}`);
  }

  /**
   * Where gateways share a port the kernel, not the client, picks the gateway of a connection:
   * while one gateway has no client, a client of the busiest is reconnected (new source port, new
   * pick), up to MAX_SPREAD_ATTEMPTS times, so that every gateway carries load.
   */
  private async spread(): Promise<void> {
    const ids = [...new Set(this.endpoints.map((e) => e.gatewayId))];
    for (let attempt = 0; attempt < MAX_SPREAD_ATTEMPTS; attempt++) {
      const count = new Map<number, LoadClient[]>(ids.map((id) => [id, []]));
      for (const c of this.clients) if (c.connection !== null) count.get(c.connection.gatewayId)?.push(c);
      const lists = [...count.values()].sort((a, b) => a.length - b.length);
      if (lists[0]!.length > 0 || lists[lists.length - 1]!.length <= 1) return;
      const c = lists[lists.length - 1]![0]!;
      const e = this.endpoints[c.endpointIndex]!;
      const old = c.ws!;
      const ws = await DrillWebSocket.connect({ host: e.host, port: e.port, token: c.token, timeoutMs: CONNECT_TIMEOUT_MS }).catch(() => null);
      if (ws === null) return;
      // Detach the old connection first: its close must not send this client to reconnect.
      c.ws = null;
      c.connection = null;
      old.close();
      this.attach(c, ws, e, c.endpointIndex);
    }
  }

  /** The gateway serving `ws`, which connected to endpoint `e`. */
  private gatewayOf(e: GatewayEndpoint, ws: DrillWebSocket): number {
    const shared = this.endpoints.filter((x) => x.port === e.port);
    if (shared.length <= 1) return e.gatewayId;
    return connectionOwner(e.port, ws.localPort, shared)?.gatewayId ?? 0;
  }

  /** Orders of client `index` acknowledged so far. */
  acknowledgedBy(index: number): number {
    let n = 0;
    for (const o of this.orders) if (o.client === index && o.firstAckAtMs !== null) n++;
    return n;
  }

  /** Stops creating orders; unanswered ones keep being retried until drain() or close(). */
  stop(): void {
    this.creating = false;
  }

  get unansweredOrders(): number {
    return this.clients.reduce((n, c) => n + c.unanswered, 0);
  }

  /** Waits until every order has its answer (or the time is up); true when all are answered. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stop();
    const until = performance.now() + timeoutMs;
    while (this.unansweredOrders > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.unansweredOrders === 0;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const c of this.clients) c.ws?.close();
  }

  /** Acknowledged orders so far, optionally only those acknowledged by gateway `gatewayId`. */
  acknowledged(gatewayId?: number): number {
    let n = 0;
    for (const o of this.orders) if (o.firstAckAtMs !== null && (gatewayId === undefined || o.ackGatewayId === gatewayId)) n++;
    return n;
  }

  private tick(): void {
    if (this.closed) return;
    const now = performance.now();
    if (this.creating) {
      const target = Math.floor(((now - this.startedAtMs) * this.o.ordersPerSecond) / 1000);
      let made = 0;
      while (this.due < target && made < MAX_ORDERS_PER_TICK) {
        const c = this.clients[this.due % this.clients.length]!;
        this.due++;
        made++;
        if (c.unanswered >= MAX_UNANSWERED_PER_CLIENT) {
          this.throttled++;
          continue;
        }
        this.create(c, now);
      }
      // Behind by more than a tick's worth: the machine stalled; do not make up for it in a burst.
      if (this.due < target) this.due = target;
    }
    for (const c of this.clients) {
      if (c.ws === null) {
        if (!c.connecting) void this.connect(c, c.endpointIndex + 1, true);
        continue;
      }
      for (const o of c.inFlight.values()) {
        if (o.inFlight !== null && now - o.inFlight.sentAtMs > this.resendAfterMs) {
          c.inFlight.delete(o.inFlight.requestId);
          o.inFlight = null;
          c.queue.push(o);
        }
      }
      this.flush(c, now);
    }
  }

  private create(c: LoadClient, now: number): void {
    const n = c.created++;
    const clientOrderId = `${this.o.tag}-${c.index}-${n}`;
    const o: LoadOrder = {
      key: `${c.accountId}/${clientOrderId}`,
      clientOrderId,
      client: c.index,
      // Each client alternates sides, and neighbouring clients are out of step, so the orders cross
      // one another and every account's cash and stock stay level over the run.
      side: (n + c.index) % 2 === 0 ? 'inflow' : 'outflow',
      createdAtMs: now,
      attempts: 0,
      inFlight: null,
      ackOrderIds: [],
      firstAckAtMs: null,
      ackGatewayId: null,
      rejection: null,
      answerLost: false,
      retryAtMs: 0,
    };
    this.orders.push(o);
    c.unanswered++;
    c.queue.push(o);
  }

  /** Sends what the client has queued and may send now. */
  private flush(c: LoadClient, now: number): void {
    if (c.ws === null || c.connection === null || c.queue.length === 0) return;
    const later: LoadOrder[] = [];
    for (const o of c.queue) {
      if (o.firstAckAtMs !== null || o.rejection !== null || o.inFlight !== null) continue;
      if (o.retryAtMs > now) {
        later.push(o);
        continue;
      }
      const requestId = `${o.clientOrderId}.${o.attempts}.${this.requestSeq++}`;
      const sent = c.ws.send(JSON.stringify({ type: 'place', requestId, order: { symbol: this.o.symbol, side: o.side, price: this.o.price, quantity: this.o.quantity ?? 1, clientOrderId: o.clientOrderId, timeInForce: 'GTC' } }));
      if (!sent) {
        later.push(o);
        continue;
      }
      o.attempts++;
      o.inFlight = { requestId, connection: c.connection, sentAtMs: now };
      c.inFlight.set(requestId, o);
      this.requests.set(requestId, o);
    }
    c.queue = later;
  }

  /** Connects client `c` to the first endpoint that takes it, starting at `from` (wrapping around). */
  private async connect(c: LoadClient, from: number, reconnecting: boolean): Promise<void> {
    if (c.connecting || this.closed) return;
    c.connecting = true;
    try {
      for (;;) {
        const endpoints = this.endpoints;
        for (let k = 0; k < endpoints.length; k++) {
          if (this.closed) return;
          const index = (from + k) % endpoints.length;
          const e = endpoints[index]!;
          let ws: DrillWebSocket;
          try {
            ws = await DrillWebSocket.connect({ host: e.host, port: e.port, token: c.token, timeoutMs: CONNECT_TIMEOUT_MS });
          } catch {
            continue;
          }
          if (this.closed) {
            ws.destroy();
            return;
          }
          this.attach(c, ws, e, index);
          return;
        }
        if (!reconnecting) return;
        await new Promise((r) => setTimeout(r, RECONNECT_PAUSE_MS));
      }
    } finally {
      c.connecting = false;
    }
  }

  private attach(c: LoadClient, ws: DrillWebSocket, e: GatewayEndpoint, index: number): void {
    const connection: ConnectionRecord = { client: c.index, gatewayId: this.gatewayOf(e, ws), port: e.port, openedAtMs: performance.now(), closedAtMs: null, closeCode: null, firstAckAtMs: null, acks: 0 };
    this.connections.push(connection);
    c.ws = ws;
    c.connection = connection;
    c.endpointIndex = index;
    ws.onMessage = (text) => this.onMessage(c, connection, text);
    ws.onClose = (end) => this.onClose(c, ws, connection, end);
    // Whatever waited for this connection (orders made while disconnected, answers lost) goes now.
    this.flush(c, performance.now());
  }

  private onClose(c: LoadClient, ws: DrillWebSocket, connection: ConnectionRecord, end: WebSocketEnd): void {
    connection.closedAtMs = performance.now();
    connection.closeCode = end.code;
    if (c.ws !== ws) return;
    c.ws = null;
    c.connection = null;
    // Every request in flight on it lost its answer with the gateway: send it again elsewhere.
    const lost: LoadOrder[] = [];
    for (const o of c.inFlight.values()) {
      o.answerLost = true;
      o.inFlight = null;
      lost.push(o);
    }
    c.inFlight.clear();
    c.queue = [...lost.sort((a, b) => a.createdAtMs - b.createdAtMs), ...c.queue];
    if (!this.closed) void this.connect(c, c.endpointIndex + 1, true);
  }

  private onMessage(c: LoadClient, connection: ConnectionRecord, text: string): void {
    let m: { type?: string; requestId?: string | null; status?: number; order?: { id?: string }; error?: string; retryAfterSeconds?: number };
    try {
      m = JSON.parse(text);
    } catch {
      this.unreadable++;
      return;
    }
    if ((m.type !== 'result' && m.type !== 'error') || typeof m.requestId !== 'string') return;
    const o = this.requests.get(m.requestId);
    if (o === undefined) {
      this.unknownAnswers++;
      return;
    }
    // An answer to an earlier attempt (sent again after a long silence) still counts: if it named a
    // different order than the later one, the clientOrderId would have created two orders.
    const current = o.inFlight !== null && o.inFlight.requestId === m.requestId;
    if (current) {
      c.inFlight.delete(m.requestId);
      o.inFlight = null;
    } else {
      this.lateAnswers++;
    }
    const now = performance.now();
    if (m.type === 'result' && m.status === 200 && typeof m.order?.id === 'string') {
      const id = Number(m.order.id);
      if (!o.ackOrderIds.includes(id)) o.ackOrderIds.push(id);
      if (o.firstAckAtMs === null) {
        o.firstAckAtMs = now;
        o.ackGatewayId = connection.gatewayId;
        if (o.rejection === null) c.unanswered--;
      }
      connection.acks++;
      if (connection.firstAckAtMs === null) connection.firstAckAtMs = now;
      return;
    }
    if (!current) return;
    if (m.status === 503 || m.status === 429) {
      // Not taken (the exchange is failing over, or we were too fast): the same clientOrderId again.
      o.retryAtMs = now + Math.min(MAX_RETRY_WAIT_MS, Math.max(MIN_RETRY_WAIT_MS, (m.retryAfterSeconds ?? 0) * 1000));
      c.queue.push(o);
      return;
    }
    if (o.firstAckAtMs === null && o.rejection === null) {
      o.rejection = `${m.status ?? '?'} ${m.error ?? 'unknown'}`;
      c.unanswered--;
    }
  }
}
