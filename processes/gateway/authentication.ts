// Who is calling: the bearer credential (session token `imss_…` or API key `imsk_…`) resolved to
// an accounts Principal, and the errors for every way that fails (absent, malformed, unknown,
// expired, revoked, suspended). REST sends "Authorization: Bearer <credential>"; the WebSocket
// upgrade also accepts the credential as the subprotocol "ims-token.<credential>" next to "ims.v1",
// because browsers cannot set headers on a WebSocket.
//
// Each resolved credential is cached for AUTH_CACHE_TTL_MS so an order burst does not query the
// account store per request. The price: a session revoked or an account suspended through another
// gateway process is still accepted here for up to that long. A logout through this process drops
// its cache entry at once.

import type { Principal } from '../accounts/principal';
import type { AccountsResult, AccountsError } from '../accounts/errors';
import { httpStatusOf } from '../accounts/errors';
import { ApiFailure, UNAUTHENTICATED, type FailureStatus } from './api-failure';

/** What of the accounts module authentication needs. */
export interface CredentialResolver {
  authenticate(bearer: string): Promise<AccountsResult<Principal>>;
}

export const AUTH_CACHE_TTL_MS = 1_000;
export const AUTH_CACHE_ENTRIES = 50_000;
/** Longest credential text looked at; longer is malformed without a database query. */
const MAX_CREDENTIAL_CHARS = 128;
const CREDENTIAL_RE = /^ims[sk]_[A-Za-z0-9_-]{1,120}$/;

export const WS_PROTOCOL = 'ims.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'ims-token.';

/** The credential of an Authorization header: '' when absent, null when malformed. */
export function bearerOf(authorization: string): string | null {
  if (authorization === '') return '';
  const m = /^Bearer +(\S+)$/i.exec(authorization);
  if (m === null) return null;
  const credential = m[1]!;
  return credential.length <= MAX_CREDENTIAL_CHARS && CREDENTIAL_RE.test(credential) ? credential : null;
}

/** The credential offered as a WebSocket subprotocol ('' when none), and whether ims.v1 was offered. */
export function credentialFromProtocols(header: string): { credential: string; offersProtocol: boolean } {
  let credential = '';
  let offersProtocol = false;
  for (const raw of header.split(',', 8)) {
    const p = raw.trim();
    if (p === WS_PROTOCOL) offersProtocol = true;
    else if (p.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) credential = p.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
  }
  return { credential, offersProtocol };
}

/** An accounts error as an API failure (status from the accounts module's own table). */
export function accountsFailure(e: AccountsError): ApiFailure {
  let retryAfterS: number | undefined;
  if (e.unlockAtMs !== undefined) retryAfterS = Math.max(1, Math.ceil((e.unlockAtMs - Date.now()) / 1000));
  if (e.retryAfterMs !== undefined) retryAfterS = Math.max(1, Math.ceil(e.retryAfterMs / 1000));
  const status = httpStatusOf(e.code) as FailureStatus;
  const fields = e.fields !== undefined && e.fields.length > 0 ? e.fields : undefined;
  return new ApiFailure(status, e.code, e.detail, status === 429 || status === 503 ? retryAfterS ?? 1 : undefined, fields);
}

const ACCOUNTS_UNAVAILABLE = new ApiFailure(503, 'accounts_unavailable', 'credentials cannot be checked right now (the account store is busy or unreachable); retry shortly', 1);

interface CacheEntry {
  principal: Principal;
  expiresMs: number;
}

export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  hits = 0;
  misses = 0;

  constructor(private readonly resolver: CredentialResolver, private readonly ttlMs = AUTH_CACHE_TTL_MS) {}

  /** The principal behind an Authorization header value, or the 401 (403 for suspended) to answer. */
  authenticateHeader(authorization: string, nowMs: number): Promise<Principal | ApiFailure> | Principal | ApiFailure {
    const credential = bearerOf(authorization);
    if (credential === '') return UNAUTHENTICATED;
    if (credential === null) return new ApiFailure(401, 'invalid_token', 'the Authorization header must be "Bearer <session token or API key>"; log in with POST /v1/sessions');
    return this.authenticate(credential, nowMs);
  }

  authenticate(credential: string, nowMs: number): Promise<Principal | ApiFailure> | Principal | ApiFailure {
    if (credential.length > MAX_CREDENTIAL_CHARS || !CREDENTIAL_RE.test(credential)) {
      return new ApiFailure(401, 'invalid_token', 'the credential is malformed; log in again (POST /v1/sessions)');
    }
    const hit = this.cache.get(credential);
    if (hit !== undefined && hit.expiresMs > nowMs) {
      this.hits++;
      return hit.principal;
    }
    this.misses++;
    return this.resolve(credential, nowMs);
  }

  forget(credential: string): void {
    this.cache.delete(credential);
  }

  /** Drops every cached credential of an account (suspended through this gateway). */
  forgetAccount(accountId: number): void {
    for (const [credential, entry] of this.cache) if (entry.principal.accountId === accountId) this.cache.delete(credential);
  }

  private async resolve(credential: string, nowMs: number): Promise<Principal | ApiFailure> {
    let r: AccountsResult<Principal>;
    try {
      r = await this.resolver.authenticate(credential);
    } catch {
      // The account store is busy or unreachable: not the client's fault, and not a gateway bug.
      return ACCOUNTS_UNAVAILABLE;
    }
    if (!r.ok) {
      this.cache.delete(credential);
      return accountsFailure(r.error);
    }
    if (this.cache.size >= AUTH_CACHE_ENTRIES) {
      // Drop the oldest insertion (Map order): the cache only saves queries, losing one is harmless.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(credential, { principal: r.value, expiresMs: nowMs + this.ttlMs });
    return r.value;
  }
}
