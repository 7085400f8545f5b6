// Sessions, applications (KYC onboarding) and API keys: thin adapters from HTTP to the accounts
// module (processes/accounts/accounts.ts), which owns every rule; this file maps its results to
// answers and adds the gateway's login protection (gatekeeper.ts).

import { Type } from '@sinclair/typebox';
import type { Principal as AccountPrincipal } from '../accounts/principal';
import { ApiFailure, failure } from './api-failure';
import {
  ApiKeyCreateBody,
  ApiKeyCreated,
  ApiKeyIdParams,
  ApiKeyList,
  ApplicationBody,
  ApplicationOutcome,
  EmptyQuery,
  LoginBody,
  Principal,
  SessionCreated,
} from './api-schemas';
import { accountsFailure } from './authentication';
import type { GatewayServices } from './gateway-services';
import type { HttpExchange } from './http-exchange';
import { declare, type RouteDeclaration } from './route-spec';

const NoParams = Type.Object({}, { additionalProperties: false });
export const LoggedOut = Type.Object({ status: Type.Literal('logged_out') }, { additionalProperties: false, title: 'LoggedOut' });
export const KeyRevoked = Type.Object({ status: Type.Literal('revoked'), keyId: Type.String() }, { additionalProperties: false, title: 'KeyRevoked' });

export function principalJson(p: AccountPrincipal): { accountId: number; username: string; role: string; outletId: number } {
  return { accountId: p.accountId, username: p.username, role: p.role, outletId: p.outletId };
}

function ok(ex: HttpExchange, status: number, value: unknown): void {
  ex.reply(status, JSON.stringify(value));
}

export function accountRoutes(s: GatewayServices): RouteDeclaration[] {
  return [
    declare({
      method: 'post',
      path: '/v1/sessions',
      summary: 'Log in: a session token for the Authorization header and the WebSocket',
      tag: 'sessions',
      access: 'public',
      params: NoParams,
      query: EmptyQuery,
      body: LoginBody,
      credentialRoute: true,
      success: { status: 201, schema: SessionCreated, description: 'the session (the token is shown once)' },
      errors: [400, 401, 403, 413, 429, 503],
      handle: async (ex, { body }) => {
        const blocked = await s.gatekeeper.loginAllowed(body.username, ex.ip);
        if (blocked !== null) return ex.fail(blocked);
        const r = await s.accounts.login(body.username, body.password, `gateway-${s.config.gatewayId} ${ex.ip}`);
        if (!r.ok) {
          if (r.error.code === 'invalid_credentials') await s.gatekeeper.loginFailed(body.username, ex.ip);
          return ex.fail(accountsFailure(r.error));
        }
        await s.gatekeeper.loginSucceeded(body.username, ex.ip);
        ok(ex, 201, { token: r.value.token, expiresAt: r.value.expiresAtMs, account: principalJson(r.value.principal) });
      },
    }),
    declare({
      method: 'get',
      path: '/v1/sessions/current',
      summary: 'Who you are logged in as',
      tag: 'sessions',
      access: 'authenticated',
      params: NoParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: Principal, description: 'the account behind the credential' },
      errors: [401, 429],
      handle: (ex, { principal }) => ok(ex, 200, principalJson(principal!)),
    }),
    declare({
      method: 'delete',
      path: '/v1/sessions/current',
      summary: 'Log out: revokes the session token (and closes its WebSocket streams on this gateway)',
      tag: 'sessions',
      access: 'authenticated',
      params: NoParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: LoggedOut, description: 'the token no longer works' },
      errors: [400, 401, 429],
      handle: async (ex, { principal, credential }) => {
        if (principal!.via !== 'session') return ex.fail(failure(400, 'not_a_session', 'this request used an API key; revoke keys with DELETE /v1/api-keys/{keyId}'));
        const r = await s.accounts.logout(credential);
        s.auth.forget(credential);
        s.streams.closeCredential(principal!.accountId, credential);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        ok(ex, 200, { status: 'logged_out' });
      },
    }),
    declare({
      method: 'post',
      path: '/v1/applications',
      summary: 'Apply for a colleague account; KYC runs at once (approved, rejected with reasons, or pending review)',
      tag: 'accounts',
      access: 'public',
      params: NoParams,
      query: EmptyQuery,
      body: ApplicationBody,
      credentialRoute: true,
      success: { status: 201, schema: ApplicationOutcome, description: 'the decision' },
      errors: [400, 403, 409, 413, 429, 503],
      handle: async (ex, { body }) => {
        const r = await s.accounts.apply(body);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        ok(ex, 201, r.value);
      },
    }),
    declare({
      method: 'post',
      path: '/v1/api-keys',
      summary: 'Create an API key for programmatic clients (from a logged-in session; the key is shown once)',
      tag: 'accounts',
      access: 'authenticated',
      params: NoParams,
      query: EmptyQuery,
      body: ApiKeyCreateBody,
      credentialRoute: true,
      success: { status: 201, schema: ApiKeyCreated, description: 'the key, shown once' },
      errors: [400, 401, 403, 409, 413, 429],
      handle: async (ex, { principal, body }) => {
        const r = await s.accounts.createApiKey(principal!, body.label);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        const k = r.value;
        ok(ex, 201, { keyId: String(k.keyId), prefix: k.prefix, label: k.label, createdAt: k.createdAtMs, key: k.key });
      },
    }),
    declare({
      method: 'get',
      path: '/v1/api-keys',
      summary: 'Your API keys (never the keys themselves)',
      tag: 'accounts',
      access: 'authenticated',
      params: NoParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: ApiKeyList, description: 'live and revoked keys' },
      errors: [401, 429],
      handle: async (ex, { principal }) => {
        const r = await s.accounts.listApiKeys(principal!);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        ok(ex, 200, {
          keys: r.value.map((k) => ({
            keyId: String(k.keyId),
            prefix: k.prefix,
            label: k.label,
            createdAt: k.createdAtMs,
            lastUsedAt: k.lastUsedAtMs ?? undefined,
            revokedAt: k.revokedAtMs ?? undefined,
          })),
        });
      },
    }),
    declare({
      method: 'delete',
      path: '/v1/api-keys/{keyId}',
      summary: 'Revoke one of your API keys',
      tag: 'accounts',
      access: 'authenticated',
      params: ApiKeyIdParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: KeyRevoked, description: 'the key no longer works' },
      errors: [400, 401, 404, 429],
      handle: async (ex, { principal, params }) => {
        const keyId = Number(params.keyId);
        if (!Number.isSafeInteger(keyId) || keyId <= 0) return ex.fail(new ApiFailure(404, 'not_found', `you have no API key ${params.keyId}`));
        const r = await s.accounts.revokeApiKey(principal!, keyId);
        if (!r.ok) return ex.fail(accountsFailure(r.error));
        ok(ex, 200, { status: 'revoked', keyId: String(keyId) });
      },
    }),
  ];
}
