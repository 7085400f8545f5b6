// Registers declared routes on a uWS app and runs every request through the same gate, in this
// order (cheap and synchronous checks first, so abuse costs the gateway as little as possible):
//
//   header size (413) -> requests/s of the client IP (429) -> body, bounded in size (413) and
//   time (408) -> path parameters and query (400) -> credential (401) -> role (403) ->
//   credential-route limit (429) -> content type and JSON (400) -> body schema (400) -> handler
//
// A handler answers through its HttpExchange, now or when the product manager replies. An
// exception escaping a handler is a bug: it is logged with its stack and answered 500.

import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Principal } from '../accounts/principal';
import { ApiFailure, failure, INTERNAL, NOT_FOUND } from './api-failure';
import type { Authenticator } from './authentication';
import type { Gatekeeper } from './gatekeeper';
import { HttpExchange } from './http-exchange';
import { compileRoute, type Route, type RouteDeclaration } from './route-spec';
import { parseJsonBody } from './schema-validation';

export interface RouterLimits {
  readonly headerLimitBytes: number;
  readonly bodyLimitBytes: number;
  readonly bodyTimeoutMs: number;
}

export interface RouterDeps {
  readonly log: Logger;
  readonly gatekeeper: Gatekeeper;
  /** Absent on a listener that serves only public routes. */
  readonly auth: Authenticator | null;
  readonly limits: RouterLimits;
}

export class HttpRouter {
  readonly routes: Route[] = [];
  answered = 0;
  aborted = 0;
  bugs = 0;
  private readonly onAbort = (): void => {
    this.aborted++;
  };

  constructor(private readonly deps: RouterDeps) {}

  /** Compiles and registers every declaration, then a catch-all 404. */
  mount(app: TemplatedApp, decls: readonly RouteDeclaration[]): void {
    for (const decl of decls) {
      const route = compileRoute(decl);
      this.routes.push(route);
      const handler = (res: HttpResponse, req: HttpRequest): void => this.serve(route, res, req);
      switch (decl.method) {
        case 'get':
          app.get(route.uwsPattern, handler);
          break;
        case 'post':
          app.post(route.uwsPattern, handler);
          break;
        case 'put':
          app.put(route.uwsPattern, handler);
          break;
        case 'patch':
          app.patch(route.uwsPattern, handler);
          break;
        case 'delete':
          app.del(route.uwsPattern, handler);
          break;
      }
    }
    app.any('/*', (res, req) => {
      const ex = new HttpExchange(res, req, 0, this.onAbort);
      const limited = this.deps.gatekeeper.ipRequest(ex.ip, ex.startedMs);
      ex.fail(limited ?? notFoundFor(ex.method, ex.url));
    });
  }

  private serve(route: Route, res: HttpResponse, req: HttpRequest): void {
    const ex = new HttpExchange(res, req, route.paramNames.length, this.onAbort);
    if (ex.headers.headerBytes > this.deps.limits.headerLimitBytes) {
      ex.failAndClose(failure(413, 'headers_too_large', `the request headers take ${ex.headers.headerBytes} bytes; the limit is ${this.deps.limits.headerLimitBytes}`));
      return;
    }
    const limited = this.deps.gatekeeper.ipRequest(ex.ip, ex.startedMs);
    if (limited !== null) {
      ex.fail(limited);
      return;
    }
    if (route.body !== null) ex.readBody(this.deps.limits.bodyLimitBytes, this.deps.limits.bodyTimeoutMs, (e) => this.run(route, e));
    else this.run(route, ex);
  }

  private run(route: Route, ex: HttpExchange): void {
    this.process(route, ex).catch((err: unknown) => {
      this.bugs++;
      this.deps.log.error({ event: 'handler-bug', route: `${route.decl.method} ${route.decl.path}`, err }, 'a handler threw');
      ex.fail(INTERNAL);
    });
  }

  private async process(route: Route, ex: HttpExchange): Promise<void> {
    const decl = route.decl;
    const rawParams: Record<string, string> = {};
    for (let i = 0; i < route.paramNames.length; i++) rawParams[route.paramNames[i]!] = decodePathSegment(ex.params[i]!);
    const params = route.params.validate(rawParams);
    if (params instanceof ApiFailure) return ex.fail(params);
    const rawQuery = parseQuery(ex.query);
    if (rawQuery instanceof ApiFailure) return ex.fail(rawQuery);
    const query = route.query.validate(rawQuery);
    if (query instanceof ApiFailure) return ex.fail(query);

    let principal: Principal | null = null;
    let credential = '';
    if (decl.access !== 'public') {
      const auth = this.deps.auth;
      if (auth === null) throw new Error(`route ${decl.path} needs authentication on a listener without it`);
      const got = await auth.authenticateHeader(ex.headers.authorization, ex.startedMs);
      if (got instanceof ApiFailure) return ex.fail(got);
      principal = got;
      credential = ex.headers.authorization.replace(/^Bearer +/i, '');
      if (decl.access !== 'authenticated' && !decl.access.includes(principal.role)) {
        return ex.fail(failure(403, 'forbidden', `this endpoint is for ${decl.access.join(' or ')} accounts; yours is ${principal.role}`));
      }
    }
    if (decl.credentialRoute === true) {
      const limitedCredential = await this.deps.gatekeeper.credentialCall(ex.ip);
      if (limitedCredential !== null) return ex.fail(limitedCredential);
    }
    let body: unknown = undefined;
    if (route.body !== null) {
      const type = ex.headers.contentType.toLowerCase();
      if (type !== '' && !type.startsWith('application/json')) {
        return ex.fail(failure(400, 'unsupported_content_type', `send the body as application/json (got ${type.slice(0, 60)})`));
      }
      const parsed = parseJsonBody(ex.body ?? new Uint8Array(0));
      if (parsed instanceof ApiFailure) return ex.fail(parsed);
      const valid = route.body.validate(parsed);
      if (valid instanceof ApiFailure) return ex.fail(valid);
      body = valid;
    }
    if (!ex.open) return;
    await decl.handle(ex, { principal, credential, params, query, body } as never);
  }
}

function notFoundFor(method: string, url: string): ApiFailure {
  return method === 'get' || method === 'head' ? NOT_FOUND : failure(404, 'not_found', `no ${method.toUpperCase()} ${url.slice(0, 80)} endpoint; GET /openapi.json lists every endpoint`);
}

/** Path segments arrive percent-encoded; an undecodable one is kept as is (and fails its pattern). */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The query string as an object of strings; a repeated key is refused (ambiguous). */
function parseQuery(query: string): Record<string, string> | ApiFailure {
  // No prototype: a key named __proto__ stays an ordinary (and then unknown) field.
  const out = Object.create(null) as Record<string, string>;
  if (query === '') return out;
  if (query.length > 2048) return failure(400, 'invalid_query', 'the query string is longer than 2048 characters');
  for (const [key, value] of new URLSearchParams(query)) {
    if (Object.prototype.hasOwnProperty.call(out, key)) return failure(400, 'duplicate_query_field', `query field '${key.slice(0, 40)}' is given twice`);
    out[key] = value;
  }
  return out;
}
