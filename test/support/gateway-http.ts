// The REST side of a real gateway as the tests that start a whole system talk to it: one JSON call
// (status and parsed body, never throwing on an error status, since the tests assert on those),
// a login that gives the session token and account id, and the wait until a freshly started
// instance is ready to trade. A client is bound to one port, or to a getter for tests that learn
// the port in t.before after the client was made.
import { until, type ImsInstance } from './ims-instance';

export interface Reply {
  status: number;
  json: any;
}

export interface Session {
  token: string;
  accountId: number;
}

/** One request to the gateway on `port`; `json` is null when the body is not JSON. */
export async function gatewayCall(port: number, method: string, url: string, body?: unknown, token?: string): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

/** POST /v1/sessions; throws with the answer when the login is refused (a test cannot go on without it). */
export async function gatewayLogin(port: number, username: string, password: string): Promise<Session> {
  const r = await gatewayCall(port, 'POST', '/v1/sessions', { username, password });
  if (r.status !== 201) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.json)}`);
  return { token: r.json.token as string, accountId: r.json.account.accountId as number };
}

export interface GatewayHttp {
  call(method: string, url: string, body?: unknown, token?: string): Promise<Reply>;
  get(url: string, token?: string): Promise<Reply>;
  login(username: string, password: string): Promise<Session>;
}

/** A client of the gateway on `port` (a number, or read at each call). */
export function gatewayHttp(port: number | (() => number)): GatewayHttp {
  const portNow = typeof port === 'number' ? () => port : port;
  return {
    call: (method, url, body, token) => gatewayCall(portNow(), method, url, body, token),
    get: (url, token) => gatewayCall(portNow(), 'GET', url, undefined, token),
    login: (username, password) => gatewayLogin(portNow(), username, password),
  };
}

/**
 * Waits until the started instance's first gateway listens, the demo trading day is open and an
 * engine is hot (it claims the lease at start: orders before that are refused), and returns the
 * gateway's trading port. Each wait may take `timeoutMs` (the machine is shared: be generous).
 */
export async function tradingPortWhenReady(inst: ImsInstance, timeoutMs: number): Promise<number> {
  const ready = await until('the gateway to listen', () => /"event":"gateway-ready".*?"tradingPort":(\d+)/.exec(inst.log()), timeoutMs);
  await until('the demo day to open', () => /"event":"trading-day-open"/.test(inst.log()), timeoutMs);
  await until('a hot engine', () => /"event":"engine-hot"/.test(inst.log()), timeoutMs);
  return Number(ready[1]);
}
