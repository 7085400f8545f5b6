// Who may come in how often. Four limits, each answering 429 with Retry-After:
//   - requests per second per client IP (every REST call and WebSocket upgrade), token bucket;
//   - orders per second per account (place, update, remove, over REST and WebSocket), token bucket;
//   - open WebSocket connections per client IP, a counter;
//   - login, application and password routes per IP per minute, and failed logins per
//     username+IP and per IP per window (rate-limiter-flexible's memory limiter: the library's
//     login-protection pattern; these routes hash passwords, so a Promise per call is nothing).
// The accounts module adds its own lockout (MAX_FAILED_LOGINS) per account on top.

import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiFailure } from './api-failure';
import { RATE_LIMIT_TABLE_ENTRIES } from './gateway-limits';
import { TokenBucketTable } from './token-bucket';

export interface GatekeeperLimits {
  readonly ordersPerSecond: number;
  readonly ipRequestsPerSecond: number;
  readonly ipWsConnections: number;
  readonly credentialCallsPerIpPerMinute: number;
  readonly loginFailuresPerUsername: number;
  readonly loginFailuresPerIp: number;
  readonly loginWindowS: number;
}

function retryFailure(code: string, detail: string, waitMs: number): ApiFailure {
  return new ApiFailure(429, code, detail, Math.max(1, Math.ceil(waitMs / 1000)));
}

export class Gatekeeper {
  private readonly ipRequests: TokenBucketTable<string>;
  private readonly accountOrders: TokenBucketTable<number>;
  private readonly wsByIp = new Map<string, number>();
  private readonly credentialCalls: RateLimiterMemory;
  private readonly failuresByUserIp: RateLimiterMemory;
  private readonly failuresByIp: RateLimiterMemory;
  rejected = { ip: 0, orders: 0, wsConnections: 0, credentials: 0 };

  constructor(readonly limits: GatekeeperLimits) {
    this.ipRequests = new TokenBucketTable(limits.ipRequestsPerSecond, limits.ipRequestsPerSecond, RATE_LIMIT_TABLE_ENTRIES);
    this.accountOrders = new TokenBucketTable(limits.ordersPerSecond, limits.ordersPerSecond, RATE_LIMIT_TABLE_ENTRIES);
    this.credentialCalls = new RateLimiterMemory({ keyPrefix: 'cred', points: limits.credentialCallsPerIpPerMinute, duration: 60 });
    this.failuresByUserIp = new RateLimiterMemory({ keyPrefix: 'fail_user_ip', points: limits.loginFailuresPerUsername, duration: limits.loginWindowS });
    this.failuresByIp = new RateLimiterMemory({ keyPrefix: 'fail_ip', points: limits.loginFailuresPerIp, duration: limits.loginWindowS });
  }

  /** One REST request or WebSocket upgrade from `ip`. */
  ipRequest(ip: string, nowMs: number): ApiFailure | null {
    const wait = this.ipRequests.take(ip, nowMs);
    if (wait === 0) return null;
    this.rejected.ip++;
    return retryFailure('rate_limited', `more than ${this.limits.ipRequestsPerSecond} requests per second from your address; slow down`, wait);
  }

  /** One order command (place, update, remove) of `accountId`. */
  order(accountId: number, nowMs: number): ApiFailure | null {
    const wait = this.accountOrders.take(accountId, nowMs);
    if (wait === 0) return null;
    this.rejected.orders++;
    return retryFailure('order_rate_limited', `more than ${this.limits.ordersPerSecond} orders per second from your account; slow down`, wait);
  }

  /** Counts a WebSocket connection of `ip`; refuses when the IP has too many open. */
  openStream(ip: string): ApiFailure | null {
    const n = this.wsByIp.get(ip) ?? 0;
    if (n >= this.limits.ipWsConnections) {
      this.rejected.wsConnections++;
      return retryFailure('too_many_connections', `your address has ${n} WebSocket connections open; the limit is ${this.limits.ipWsConnections}`, 5_000);
    }
    this.wsByIp.set(ip, n + 1);
    return null;
  }

  closeStream(ip: string): void {
    const n = this.wsByIp.get(ip) ?? 0;
    if (n <= 1) this.wsByIp.delete(ip);
    else this.wsByIp.set(ip, n - 1);
  }

  /** A call of a route that checks a password or creates credentials (login, apply, API keys). */
  async credentialCall(ip: string): Promise<ApiFailure | null> {
    try {
      await this.credentialCalls.consume(ip);
      return null;
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      this.rejected.credentials++;
      return retryFailure('rate_limited', `more than ${this.limits.credentialCallsPerIpPerMinute} login and account calls per minute from your address; wait`, e.msBeforeNext);
    }
  }

  /** Before checking a password: refuses while this username+IP or this IP failed too often. */
  async loginAllowed(username: string, ip: string): Promise<ApiFailure | null> {
    const [byUser, byIp] = await Promise.all([this.failuresByUserIp.get(userIpKey(username, ip)), this.failuresByIp.get(ip)]);
    const blocked: RateLimiterRes[] = [];
    if (byUser !== null && byUser.consumedPoints >= this.limits.loginFailuresPerUsername) blocked.push(byUser);
    if (byIp !== null && byIp.consumedPoints >= this.limits.loginFailuresPerIp) blocked.push(byIp);
    if (blocked.length === 0) return null;
    this.rejected.credentials++;
    const waitMs = Math.max(...blocked.map((r) => r.msBeforeNext));
    return retryFailure('too_many_failed_logins', 'too many failed logins from your address; wait before trying again', waitMs);
  }

  async loginFailed(username: string, ip: string): Promise<void> {
    // A fixed window from the first failure: after the allowance, loginAllowed refuses until it ends.
    await Promise.all([this.failuresByUserIp.penalty(userIpKey(username, ip)), this.failuresByIp.penalty(ip)]);
  }

  async loginSucceeded(username: string, ip: string): Promise<void> {
    await this.failuresByUserIp.delete(userIpKey(username, ip));
  }
}

function userIpKey(username: string, ip: string): string {
  return `${username.toLowerCase().slice(0, 64)}_${ip}`;
}
