// The steady order load the live drills (sequencer-restart, full-restart) run against a real
// gateway, as real colleagues would: each logs in over REST and places small crossing orders, every
// one with its own clientOrderId, at a fixed overall rate. A request that ends without an answer the
// client can act on — 503 (the exchange is not answering), 429, a refused or reset connection, a
// timeout — is sent again with the same clientOrderId after `retryAfterMs`, as the gateway's 503
// tells clients to; the exchange must create the order once whatever happens. Every client order's
// history is kept so the audit (drill-audit.ts) can hold each acknowledgement against the journal.
//
//   const load = await OrderLoad.connect({ gatewayUrl: 'http://127.0.0.1:8080', ordersPerSecond: 200 });
//   load.start(); … kill something … await load.stop(); await load.settle(15_000);
//   load.orders  // every client order: acknowledged (order id), rejected (error code) or pending
//
// Orders pair colleagues: in each round one colleague of a pair posts an inflow and the other an
// outflow at the same price, and the roles swap every round, so the orders fill each other, cash and
// stock move both ways, and no colleague's inventory drains. The default product is the demo's
// cheapest one at its reference price: every update counts against the colleague's daily notional
// limit (the seed's $1M a day), which is what bounds how many drills a demo instance can run a day.
//
// Times are performance.now() milliseconds of this process (monotonic), the clock the drills use
// for their kill moment too.

import { performance } from 'node:perf_hooks';
import { DEMO_PEOPLE } from '../accounts/demo-accounts';
import { DEMO_PRODUCTS } from '../control/demo-products';

export interface DrillColleague {
  readonly username: string;
  readonly password: string;
}

/** The demo profile's colleagues (their passwords are public in the demo only). */
export const DEMO_DRILL_COLLEAGUES: readonly DrillColleague[] = DEMO_PEOPLE.filter((p) => p.role === 'colleague').map((p) => ({ username: p.username, password: p.password }));

const cheapest = [...DEMO_PRODUCTS].filter((p) => p.lotSize === 1).sort((a, b) => a.referencePrice - b.referencePrice)[0]!;
/** The demo product with the lowest price: the most updates per day within the notional limit. */
export const DEMO_DRILL_SYMBOL = cheapest.symbol;
/** Its reference price as the API writes prices (2 decimals in the demo). */
export const DEMO_DRILL_PRICE = (cheapest.referencePrice / 100).toFixed(2);

/** Most client orders one load creates (a bound on memory, far above any drill's need). */
export const MAX_CLIENT_ORDERS = 1_000_000;
/** Requests in flight at once; beyond it the load waits (a client does not pile up sockets). */
export const DEFAULT_MAX_IN_FLIGHT = 512;
/** Client orders without a final answer at once; beyond it no new order is created until some are answered. */
export const DEFAULT_MAX_UNANSWERED = 512;
/** How often the load's loop wakes to create due orders and resend retryable ones. */
const LOAD_TICK_MS = 5;
/** Orders a stalled loop may make up for at once: a tenth of a second of the rate (then it drops them). */
const BURST_SECONDS = 0.1;
/** The wait before a retry doubles with each failure of the same order, up to this. */
const MAX_RETRY_DELAY_MS = 2_000;
/** A request with no answer by then is abandoned and sent again (the gateway answers within ~3 s). */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
/** Login attempts per colleague at connect() (the gateway may still be starting). */
const LOGIN_RETRY_MS = 250;
/** One login may take long on a busy machine: the password hash is deliberately slow. */
const LOGIN_TIMEOUT_MS = 30_000;
/** At most one re-login per colleague per this many ms after a 401. */
const RELOGIN_INTERVAL_MS = 1_000;

/** The status the gateway shows for an order the product manager has forwarded but not seen journaled. */
const IN_FLIGHT_STATUS = 'unknown';

export const nowMs = (): number => performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface OrderLoadOptions {
  /** The gateway's trading listener, e.g. http://127.0.0.1:8080. */
  readonly gatewayUrl: string;
  readonly colleagues?: readonly DrillColleague[];
  readonly symbol?: string;
  /** Limit price as the API writes it ("249.00"). */
  readonly price?: string;
  /** New client orders per second over all colleagues. Default 200. */
  readonly ordersPerSecond?: number;
  /** A 503, 429 or failed request is sent again (same clientOrderId) this long after its answer. Default 250 ms. */
  readonly retryAfterMs?: number;
  readonly attemptTimeoutMs?: number;
  readonly maxInFlight?: number;
  readonly maxUnanswered?: number;
  /** Prefix of every clientOrderId (unique per run; clientOrderIds are at most 24 characters). */
  readonly label?: string;
  /** How long connect() keeps trying to log in. Default 60,000 ms. */
  readonly connectTimeoutMs?: number;
}

export type OrderOutcome = 'pending' | 'acknowledged' | 'rejected';

export interface ClientOrder {
  readonly clientOrderId: string;
  /** Index into the load's colleagues. */
  readonly colleague: number;
  readonly accountId: number;
  readonly side: 'inflow' | 'outflow';
  readonly createdAtMs: number;
  lastSentAtMs: number;
  /** When the last attempt ended (answer or failure). */
  lastEndedAtMs: number;
  attempts: number;
  inFlight: boolean;
  outcome: OrderOutcome;
  /** The exchange's order id once acknowledged. */
  orderId: string | null;
  /** The order's status text in the acknowledgement ('added', 'filled', …). */
  status: string | null;
  /** The error code of a final rejection (409 insufficient_funds, …). */
  rejectedWith: string | null;
  rejectedHttp: number;
  answeredAtMs: number;
  /** 503 answers (the exchange did not answer within the gateway's bound, or was overloaded). */
  unavailableAnswers: number;
  /** Requests that ended without an HTTP answer (connection refused or reset, timeout). */
  networkErrors: number;
  rateLimited: number;
  /** 5xx other than 503: a bug in the gateway. */
  serverErrors: number;
  /** 200 answers naming the order but with status 'unknown': still on its way to the journal; asked again. */
  inFlightAnswers: number;
  /** Failed attempts in a row (503, 429, no answer): the next retry waits longer. */
  failuresInARow: number;
}

export interface LoadStats {
  clientOrders: number;
  requests: number;
  retries: number;
  acknowledged: number;
  rejected: number;
  pending: number;
  rejectedByReason: Record<string, number>;
  unavailableAnswers: number;
  networkErrors: number;
  rateLimited: number;
  serverErrors: number;
  inFlightAnswers: number;
  /** Orders acknowledged after at least one 503 or failed request: the retry with the same clientOrderId. */
  acknowledgedAfterRetry: number;
  /** Acknowledgements per second over the load's life. */
  acknowledgedPerSecond: number;
  maxInFlight: number;
}

interface Session {
  readonly username: string;
  readonly password: string;
  token: string;
  accountId: number;
  lastLoginMs: number;
}

export class OrderLoad {
  readonly orders: ClientOrder[] = [];
  readonly symbol: string;
  readonly price: string;
  readonly gatewayUrl: string;
  private readonly sessions: Session[];
  private readonly rate: number;
  private readonly retryAfterMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly maxUnanswered: number;
  private readonly label: string;
  /** Orders whose last attempt failed in a retryable way, waiting for their retry. */
  private readonly waiting = new Set<ClientOrder>();
  private inFlight = 0;
  private peakInFlight = 0;
  private requests = 0;
  private running = false;
  private loop: Promise<void> | null = null;
  private startedAtMs = 0;
  private stoppedAtMs = 0;
  private created = 0;
  private unanswered = 0;
  /** Orders the rate allows now (a token bucket of BURST_SECONDS). */
  private allowance = 0;
  private lastTickMs = 0;

  private constructor(options: OrderLoadOptions, sessions: Session[]) {
    this.gatewayUrl = options.gatewayUrl.replace(/\/+$/, '');
    this.sessions = sessions;
    this.symbol = options.symbol ?? DEMO_DRILL_SYMBOL;
    this.price = options.price ?? DEMO_DRILL_PRICE;
    this.rate = options.ordersPerSecond ?? 200;
    this.retryAfterMs = options.retryAfterMs ?? 250;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.maxUnanswered = options.maxUnanswered ?? DEFAULT_MAX_UNANSWERED;
    this.label = options.label ?? `d${Date.now().toString(36)}`;
    if (!(this.rate > 0)) throw new RangeError(`orders per second must be > 0, got ${this.rate}`);
    // clientOrderId: label + '-' + up to 7 digits must fit the 24 characters the bus carries.
    if (this.label.length > 16) throw new RangeError(`the load label '${this.label}' is longer than 16 characters (clientOrderIds hold 24)`);
  }

  /** Logs every colleague in (retrying while the gateway starts). */
  static async connect(options: OrderLoadOptions): Promise<OrderLoad> {
    const colleagues = options.colleagues ?? DEMO_DRILL_COLLEAGUES;
    if (colleagues.length < 2) throw new Error('the drill load needs at least two colleagues (their orders fill each other)');
    const deadline = nowMs() + (options.connectTimeoutMs ?? 60_000);
    const sessions: Session[] = [];
    const url = options.gatewayUrl.replace(/\/+$/, '');
    for (const c of colleagues) {
      const session: Session = { username: c.username, password: c.password, token: '', accountId: 0, lastLoginMs: 0 };
      for (;;) {
        const problem = await login(url, session);
        if (problem === null) break;
        if (nowMs() > deadline) throw new Error(`could not log ${c.username} in at ${url}: ${problem}`);
        await sleep(LOGIN_RETRY_MS);
      }
      sessions.push(session);
    }
    // Pairs need an even number; an odd last colleague sits out.
    return new OrderLoad(options, sessions.slice(0, sessions.length - (sessions.length % 2)));
  }

  /** The account ids of the colleagues placing orders. */
  get accountIds(): number[] {
    return this.sessions.map((s) => s.accountId);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAtMs = nowMs();
    this.loop = this.run();
  }

  /** Stops creating orders; requests in flight and retries go on until settle(). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stoppedAtMs = nowMs();
    await this.loop;
  }

  /**
   * Keeps resending retryable orders until every client order has a final answer or `timeoutMs`
   * passes. Returns how many are still pending.
   */
  async settle(timeoutMs: number): Promise<number> {
    const deadline = nowMs() + timeoutMs;
    for (;;) {
      const pending = this.orders.reduce((n, o) => n + (o.outcome === 'pending' ? 1 : 0), 0);
      if (pending === 0 || nowMs() > deadline) return pending;
      this.resendDue(nowMs());
      await sleep(LOAD_TICK_MS);
    }
  }

  /** First acknowledgement of an order created at or after `fromMs` (null: none yet). */
  firstAcknowledgedCreatedAfter(fromMs: number): ClientOrder | null {
    let first: ClientOrder | null = null;
    for (let i = this.orders.length - 1; i >= 0; i--) {
      const o = this.orders[i]!;
      if (o.createdAtMs < fromMs) break;
      if (o.outcome === 'acknowledged' && (first === null || o.answeredAtMs < first.answeredAtMs)) first = o;
    }
    return first;
  }

  /** Acknowledgements whose answer arrived in [fromMs, toMs). */
  acknowledgedBetween(fromMs: number, toMs: number): number {
    let n = 0;
    for (const o of this.orders) if (o.outcome === 'acknowledged' && o.answeredAtMs >= fromMs && o.answeredAtMs < toMs) n++;
    return n;
  }

  stats(): LoadStats {
    const s: LoadStats = {
      clientOrders: this.orders.length,
      requests: this.requests,
      retries: 0,
      acknowledged: 0,
      rejected: 0,
      pending: 0,
      rejectedByReason: {},
      unavailableAnswers: 0,
      networkErrors: 0,
      rateLimited: 0,
      serverErrors: 0,
      inFlightAnswers: 0,
      acknowledgedAfterRetry: 0,
      acknowledgedPerSecond: 0,
      maxInFlight: this.peakInFlight,
    };
    for (const o of this.orders) {
      s.retries += Math.max(0, o.attempts - 1);
      s.unavailableAnswers += o.unavailableAnswers;
      s.networkErrors += o.networkErrors;
      s.rateLimited += o.rateLimited;
      s.serverErrors += o.serverErrors;
      s.inFlightAnswers += o.inFlightAnswers;
      if (o.outcome === 'acknowledged') {
        s.acknowledged++;
        if (o.unavailableAnswers + o.networkErrors > 0) s.acknowledgedAfterRetry++;
      } else if (o.outcome === 'rejected') {
        s.rejected++;
        const key = `${o.rejectedHttp} ${o.rejectedWith ?? '?'}`;
        s.rejectedByReason[key] = (s.rejectedByReason[key] ?? 0) + 1;
      } else {
        s.pending++;
      }
    }
    const seconds = ((this.stoppedAtMs || nowMs()) - this.startedAtMs) / 1000;
    s.acknowledgedPerSecond = seconds > 0 ? Math.round(s.acknowledged / seconds) : 0;
    return s;
  }

  private async run(): Promise<void> {
    const pairs = this.sessions.length / 2;
    this.lastTickMs = nowMs();
    while (this.running) {
      const now = nowMs();
      this.allowance = Math.min(this.allowance + ((now - this.lastTickMs) * this.rate) / 1000, Math.max(1, this.rate * BURST_SECONDS));
      this.lastTickMs = now;
      // An unresponsive exchange holds requests until the gateway's bound: the load then waits
      // rather than open sockets or owe answers without limit, and does not make up for the pause.
      while (this.allowance >= 1 && this.created < MAX_CLIENT_ORDERS && this.inFlight < this.maxInFlight && this.unanswered < this.maxUnanswered) {
        this.allowance--;
        this.unanswered++;
        const n = this.created++;
        const round = Math.floor(n / (2 * pairs));
        const pair = Math.floor(n / 2) % pairs;
        // Even rounds: the pair's first colleague buys and the second sells; odd rounds swap.
        const buyer = 2 * pair + (round % 2);
        const colleague = n % 2 === 0 ? buyer : 2 * pair + 1 - (round % 2);
        const o: ClientOrder = {
          clientOrderId: `${this.label}-${n}`,
          colleague,
          accountId: this.sessions[colleague]!.accountId,
          side: colleague === buyer ? 'inflow' : 'outflow',
          createdAtMs: now,
          lastSentAtMs: 0,
          lastEndedAtMs: 0,
          attempts: 0,
          inFlight: false,
          outcome: 'pending',
          orderId: null,
          status: null,
          rejectedWith: null,
          rejectedHttp: 0,
          answeredAtMs: 0,
          unavailableAnswers: 0,
          networkErrors: 0,
          rateLimited: 0,
          serverErrors: 0,
          inFlightAnswers: 0,
          failuresInARow: 0,
        };
        this.orders.push(o);
        void this.attempt(o);
      }
      this.resendDue(now);
      await sleep(LOAD_TICK_MS);
    }
  }

  private resendDue(now: number): void {
    for (const o of this.waiting) {
      if (this.inFlight >= this.maxInFlight) return;
      const wait = Math.min(MAX_RETRY_DELAY_MS, this.retryAfterMs * 2 ** Math.min(10, Math.max(0, o.failuresInARow - 1)));
      if (now - o.lastEndedAtMs < wait) continue;
      this.waiting.delete(o);
      void this.attempt(o);
    }
  }

  private async attempt(o: ClientOrder): Promise<void> {
    const session = this.sessions[o.colleague]!;
    o.inFlight = true;
    o.attempts++;
    o.lastSentAtMs = nowMs();
    this.requests++;
    this.inFlight++;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    let retry = false;
    try {
      const res = await fetch(`${this.gatewayUrl}/v1/transact`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
        body: JSON.stringify({ symbol: this.symbol, side: o.side, price: this.price, quantity: 1, clientOrderId: o.clientOrderId }),
        signal: AbortSignal.timeout(this.attemptTimeoutMs),
      });
      const body = (await res.json().catch(() => null)) as { id?: string; status?: string; error?: string } | null;
      const at = nowMs();
      if (res.status === 200 && body !== null && typeof body.id === 'string' && body.status === IN_FLIGHT_STATUS) {
        // A retry answered with the original order while it is still on its way to the journal
        // (status unknown, no event yet): not an acknowledgement; ask again until it has a state.
        o.inFlightAnswers++;
        retry = true;
      } else if (res.status === 200 && body !== null && typeof body.id === 'string') {
        o.outcome = 'acknowledged';
        o.orderId = body.id;
        o.status = body.status ?? null;
        o.answeredAtMs = at;
      } else if (res.status === 503) {
        o.unavailableAnswers++;
        retry = true;
      } else if (res.status === 429) {
        o.rateLimited++;
        retry = true;
      } else if (res.status === 401) {
        // A session the gateway no longer knows (e.g. the accounts store was restored): log in again.
        if (at - session.lastLoginMs > RELOGIN_INTERVAL_MS) await login(this.gatewayUrl, session);
        retry = true;
      } else if (res.status >= 500) {
        o.serverErrors++;
        retry = true;
      } else {
        o.outcome = 'rejected';
        o.rejectedHttp = res.status;
        o.rejectedWith = body?.error ?? `http_${res.status}`;
        o.answeredAtMs = at;
      }
    } catch {
      // Refused, reset or timed out: the exchange may or may not have taken the order; only a
      // retry with the same clientOrderId can tell, and it must not create a second one.
      o.networkErrors++;
      retry = true;
    } finally {
      o.inFlight = false;
      o.lastEndedAtMs = nowMs();
      this.inFlight--;
    }
    if (retry) {
      o.failuresInARow++;
      this.waiting.add(o);
    } else {
      this.unanswered--;
    }
  }
}

/** Logs a session in; returns null or what went wrong. */
async function login(url: string, session: Session): Promise<string | null> {
  session.lastLoginMs = nowMs();
  try {
    const res = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: session.username, password: session.password }),
      signal: AbortSignal.timeout(LOGIN_TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => null)) as { token?: string; account?: { accountId?: number }; error?: string } | null;
    if (res.status !== 201 || typeof body?.token !== 'string' || typeof body.account?.accountId !== 'number') return `${res.status} ${body?.error ?? ''}`;
    session.token = body.token;
    session.accountId = body.account.accountId;
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
