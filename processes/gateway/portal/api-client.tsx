// The portal's only door to the gateway: REST calls with the session token as a Bearer header.
//
// Session rule (issue 8): the token lives in this module's memory only — never localStorage,
// sessionStorage or a cookie — so a reload logs the kiosk out and no script on another page can
// read it. The gateway accepts credentials only in the Authorization header (and, for the
// WebSocket, as the "ims-token.<token>" subprotocol); it refuses cookies, so there is no ambient
// credential a cross-site request could ride on and no CSRF token is needed.

export interface FieldProblem {
  readonly field: string;
  readonly code: string;
  readonly detail: string;
}

export interface Account {
  readonly accountId: number;
  readonly username: string;
  readonly role: string;
  readonly outletId: number;
}

/** A non-2xx answer in the gateway's shape {"error","detail","fields"}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly fields: readonly FieldProblem[],
  ) {
    super(`${status} ${code}: ${detail}`);
  }
}

/** Longest a portal request waits before it is shown as failed (the gateway answers 503 sooner). */
const REQUEST_TIMEOUT_MS = 10_000;

let sessionToken = '';
let sessionAccount: Account | null = null;

export function currentAccount(): Account | null {
  return sessionAccount;
}

export function currentToken(): string {
  return sessionToken;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (sessionToken !== '') headers['authorization'] = `Bearer ${sessionToken}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: abort.signal, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network_error', `the gateway did not answer (${(e as Error).message}); check the connection and retry`, []);
  } finally {
    clearTimeout(timer);
  }
  const text = await res.text();
  let json: any = undefined;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const code = typeof json?.error === 'string' ? json.error : `http_${res.status}`;
    const detail = typeof json?.detail === 'string' ? json.detail : res.statusText;
    const fields = Array.isArray(json?.fields) ? (json.fields as FieldProblem[]) : [];
    throw new ApiError(res.status, code, detail, fields);
  }
  return json as T;
}

export async function logIn(username: string, password: string): Promise<Account> {
  const r = await api<{ token: string; expiresAt: number; account: Account }>('POST', '/v1/sessions', { username, password });
  sessionToken = r.token;
  sessionAccount = r.account;
  return r.account;
}

export async function logOut(): Promise<void> {
  try {
    if (sessionToken !== '') await api('DELETE', '/v1/sessions/current');
  } finally {
    sessionToken = '';
    sessionAccount = null;
  }
}
